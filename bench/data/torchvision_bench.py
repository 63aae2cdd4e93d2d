"""torchvision + PIL side of the decoding benchmark (bench/data/run.sh alternates it with DataBench).

Same work as DataBench, one mode per process; prints "<mode> <images> <seconds> <images per second>".
  eval DIR SECONDS    one thread: PIL open + RGB, Resize(256), CenterCrop(224), ToTensor, Normalize
  train DIR SECONDS   one thread: PIL open + RGB, RandomResizedCrop(224), RandomHorizontalFlip, ToTensor, Normalize
  loader DIR SECONDS  torch DataLoader over ImageFolder, 2 worker processes, batch 32, eval transform
"""
import sys
import time

import torch
from torchvision import datasets, transforms

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def main():
    mode, folder, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    torch.set_num_threads(1)
    if mode == "train":
        pipeline = transforms.Compose([
            transforms.RandomResizedCrop(224), transforms.RandomHorizontalFlip(),
            transforms.ToTensor(), transforms.Normalize(MEAN, STD)])
    else:
        pipeline = transforms.Compose([
            transforms.Resize(256), transforms.CenterCrop(224),
            transforms.ToTensor(), transforms.Normalize(MEAN, STD)])
    dataset = datasets.ImageFolder(folder, transform=pipeline)
    for i in range(min(20, len(dataset))):  # warm-up, not timed
        dataset[i]
    images = 0
    start = time.perf_counter()
    if mode == "loader":
        loader = torch.utils.data.DataLoader(dataset, batch_size=32, num_workers=2)
        while time.perf_counter() - start < seconds:
            for batch, _ in loader:
                images += batch.shape[0]
    else:
        while time.perf_counter() - start < seconds:
            for i in range(len(dataset)):
                dataset[i]
                images += 1
    elapsed = time.perf_counter() - start
    print(f"{mode} {images} {elapsed:.3f} {images / elapsed:.1f}")


if __name__ == "__main__":
    main()
