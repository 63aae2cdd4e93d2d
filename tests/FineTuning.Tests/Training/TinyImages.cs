using FineTuning.Data;
using FineTuning.Models;
using SkiaSharp;
using static TorchSharp.torch;

namespace FineTuning.Tests.Training;

/// <summary>Small PNG files per class (a colored square on noise) and a tiny conv net with a head called fc.</summary>
internal static class TinyImages
{
    public static readonly Preset Preset = new("tiny", 32, 32, 1f, [0.5f, 0.5f, 0.5f], [0.25f, 0.25f, 0.25f]);

    public static LabeledImageSet Write(string folder, int classes, int perClass, int seed)
    {
        var random = new Random(seed);
        var names = Enumerable.Range(0, classes).Select(c => $"class{c}").ToList();
        var samples = new List<ImageSample>();
        for (var c = 0; c < classes; c++)
        {
            Directory.CreateDirectory(Path.Combine(folder, names[c]));
            for (var i = 0; i < perClass; i++)
            {
                using var bitmap = new SKBitmap(40, 40);
                for (var y = 0; y < 40; y++)
                {
                    for (var x = 0; x < 40; x++)
                    {
                        var v = (byte)random.Next(0, 256);
                        bitmap.SetPixel(x, y, new SKColor(v, v, v));
                    }
                }

                using (var canvas = new SKCanvas(bitmap))
                using (var paint = new SKPaint { Color = new SKColor((byte)(80 * c), (byte)(255 - (80 * c)), 128) })
                {
                    canvas.DrawRect(8 + random.Next(0, 6), 8 + random.Next(0, 6), 20, 20, paint);
                }

                var path = Path.Combine(folder, names[c], $"{i:D3}.png");
                using (var data = bitmap.Encode(SKEncodedImageFormat.Png, 100))
                using (var file = File.Create(path))
                {
                    data.SaveTo(file);
                }

                samples.Add(new ImageSample(path, c));
            }
        }

        return new LabeledImageSet(names, samples);
    }

    public static nn.Module<Tensor, Tensor> Model(int classes, int seed)
    {
        manual_seed(seed);
        return nn.Sequential(
            ("conv1", nn.Conv2d(3, 8, 3, stride: 2)),
            ("bn1", nn.BatchNorm2d(8)),
            ("relu", nn.ReLU()),
            ("pool", nn.AdaptiveAvgPool2d(1)),
            ("flatten", nn.Flatten()),
            ("fc", nn.Linear(8, classes)));
    }
}
