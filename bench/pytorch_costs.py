#!/usr/bin/python3
"""The cost experiment of `finetune costs`, in Python PyTorch, for the side-by-side benchmark (bench/run.py).

Measures one mode per process (so the memory high-water mark belongs to that mode alone) and prints one JSON
object on stdout with the same snake_case keys as the TorchSharp report. Modes: frozen, unfrozen,
head-only-optimizer, frozen-no-grad. Model: torchvision's resnet18 architecture with random weights and a new
head; SGD with momentum 0.9; a synthetic batch drawn from a seeded generator.
Run with Debian's /usr/bin/python3 (python3-torch, python3-torchvision).
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch
import torchvision

MODES = ["frozen", "unfrozen", "head-only-optimizer", "frozen-no-grad"]


def status_kib(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1])
    return None


def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def build(mode, classes):
    model = torchvision.models.resnet18()
    model.fc = torch.nn.Linear(model.fc.in_features, classes)
    frozen = mode in ("frozen", "frozen-no-grad")
    for name, p in model.named_parameters():
        p.requires_grad = (not frozen) or name.startswith("fc.")
    optimized = model.parameters() if mode == "unfrozen" else model.fc.parameters()
    return model, torch.optim.SGD(optimized, lr=0.01, momentum=0.9), frozen


def train_mode(model, frozen):
    model.train()
    if frozen:
        # Frozen BatchNorm layers stay in eval mode, so their running statistics do not change.
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.eval()


def forward(model, mode, x):
    if mode != "frozen-no-grad":
        return model(x)
    with torch.no_grad():
        for name, child in model.named_children():
            if name == "fc":
                break
            x = child(x)
            if name == "avgpool":
                x = torch.flatten(x, 1)
    return model.fc(x)


def gradient_bytes(model):
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    return len(grads), sum(g.numel() * g.element_size() for g in grads)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mode", choices=MODES, required=True)
    parser.add_argument("--classes", type=int, default=120)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="torch.set_num_threads; 0 keeps the default")
    args = parser.parse_args()

    default_threads = torch.get_num_threads()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(7)
    model, optimizer, frozen = build(args.mode, args.classes)
    generator = torch.Generator().manual_seed(1234)
    x = torch.randn(args.batch, 3, args.size, args.size, generator=generator)
    y = torch.randint(args.classes, (args.batch,), generator=generator)
    running = [b.clone() for n, b in model.named_buffers() if n.endswith(("running_mean", "running_var"))]
    train_mode(model, frozen)

    reset_worked = reset_peak()
    baseline = status_kib("VmRSS:") * 1024
    timings = []
    for step in range(1 + args.steps):
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=False)  # as TorchSharp 0.107's optimizer: zero in place
        loss = torch.nn.functional.cross_entropy(forward(model, args.mode, x), y)
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        optimizer.step()
        t3 = time.perf_counter()
        if step > 0:
            timings.append(((t1 - start) * 1e3, (t2 - t1) * 1e3, (t3 - t2) * 1e3, (t3 - start) * 1e3))
        print(f"@progress {step + 1}", file=sys.stderr, flush=True)
    peak = status_kib("VmHWM:") * 1024

    tensors, grad_bytes = gradient_bytes(model)
    state = sum(s["momentum_buffer"].numel() * s["momentum_buffer"].element_size()
                for s in optimizer.state.values() if s.get("momentum_buffer") is not None)
    now = [b for n, b in model.named_buffers() if n.endswith(("running_mean", "running_var"))]
    changed = any(not torch.equal(a, b) for a, b in zip(running, now))
    median = lambda i: round(statistics.median(t[i] for t in timings), 2)
    print(json.dumps({
        "name": args.mode,
        "implementation": "pytorch",
        "torch_version": torch.__version__,
        "torchvision_version": torchvision.__version__,
        "torch_threads": torch.get_num_threads(),
        "torch_default_threads": default_threads,
        "mkldnn_enabled": torch.backends.mkldnn.is_available(),
        "trainable_parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "gradient_tensors": tensors,
        "gradient_bytes": grad_bytes,
        "optimizer_state_bytes": state,
        "forward_ms": median(0),
        "backward_ms": median(1),
        "optimizer_ms": median(2),
        "step_ms": median(3),
        "step_times_ms": [round(t[3], 2) for t in timings],
        "peak_memory_bytes": peak,
        "baseline_memory_bytes": baseline,
        "peak_reset": reset_worked,
        "bn_stats_changed": changed,
    }))


if __name__ == "__main__":
    main()
