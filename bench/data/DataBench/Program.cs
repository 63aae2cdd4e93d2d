using System.Diagnostics;
using System.Globalization;
using FineTuning.Data;
using FineTuning.Models;
using FineTuning.Platform;
using SkiaSharp;

// Decode + transform throughput of the library's pipeline, one mode per process so run.sh can alternate it with
// torchvision. Prints one line: "<mode> <images> <seconds> <images per second>".
//   generate DIR            writes the benchmark's 500 x 375 JPEGs (drawn by SyntheticDogs, re-encoded at quality 90)
//   eval DIR SECONDS        one thread: decode, resize 256, center crop 224, normalize
//   train DIR SECONDS       one thread: decode, random resized crop 224, flip, normalize
//   loader DIR SECONDS      DataLoader, 2 workers, batch 32, eval transform, tensors included
TorchSharpNativeFix.Apply();
string mode = args[0], dir = args[1];
if (mode == "generate")
{
    string raw = Path.Combine(Path.GetTempPath(), "databench-raw-" + Environment.ProcessId);
    var set = SyntheticDogs.Generate(raw, classes: 4, perClass: 50, size: 500, seed: 1);
    Directory.CreateDirectory(dir);
    foreach (var sample in set.Samples)
    {
        using var square = ImageDecoder.Decode(sample.Path);
        using var photo = new SKBitmap(500, 375);
        using (var canvas = new SKCanvas(photo))
        using (var image = SKImage.FromBitmap(square))
        {
            canvas.DrawImage(image, 0, -62, SKSamplingOptions.Default, null);
        }

        string name = Path.GetFileNameWithoutExtension(sample.Path) + ".jpg";
        string folder = Path.Combine(dir, set.Classes[sample.Label]);
        Directory.CreateDirectory(folder);
        using var data = photo.Encode(SKEncodedImageFormat.Jpeg, 90);
        File.WriteAllBytes(Path.Combine(folder, name), data.ToArray());
    }

    Directory.Delete(raw, recursive: true);
    return;
}

double seconds = double.Parse(args[2], CultureInfo.InvariantCulture);
var files = ImageFolder.Read(dir).Samples;
var transform = mode == "train"
    ? ImageTransform.ForTraining(Preset.TorchVision)
    : ImageTransform.ForEvaluation(Preset.TorchVision);
var buffer = new float[transform.ElementsPerImage];
long images = 0;

// Warm-up: one pass over 20 files (JIT, codec tables, page cache), not timed.
for (int i = 0; i < Math.Min(20, files.Count); i++)
{
    transform.TryLoad(files[i].Path, ImageTransform.RandomFor(0, 0, i), buffer, out _);
}

var clock = Stopwatch.StartNew();
if (mode == "loader")
{
    var loader = new DataLoader(files, transform, new DataLoaderOptions { BatchSize = 32, Workers = 2 });
    while (clock.Elapsed.TotalSeconds < seconds)
    {
        foreach (var batch in loader)
        {
            images += batch.Count;
            batch.Dispose();
        }
    }
}
else
{
    for (int pass = 0; clock.Elapsed.TotalSeconds < seconds; pass++)
    {
        for (int i = 0; i < files.Count; i++)
        {
            var random = transform.IsDeterministic ? null : ImageTransform.RandomFor(0, pass, i);
            if (!transform.TryLoad(files[i].Path, random, buffer, out var error))
            {
                throw new InvalidOperationException(error);
            }

            images++;
        }
    }
}

double elapsed = clock.Elapsed.TotalSeconds;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{mode} {images} {elapsed:F3} {images / elapsed:F1}"));
