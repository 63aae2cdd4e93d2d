using System.Diagnostics;
using FineTuning.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SkiaSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace FineTuning.Tests.Models;

public class MlNetResNet18Tests(ITestOutputHelper output)
{
    [Fact]
    public void Converted_features_match_onnx_runtime_on_the_same_input()
    {
        var (rgb, source) = TestImage();
        var preset = Preset.MlNetResNet18;

        // The converted model takes RGB normalized with the preset; the ONNX file takes the same values in BGR.
        var normalized = new float[3 * 224 * 224];
        for (var c = 0; c < 3; c++)
        {
            for (var i = 0; i < 224 * 224; i++)
            {
                var value = rgb[c * 224 * 224 + i] * preset.Scale;
                normalized[c * 224 * 224 + i] = (value - preset.Mean[c]) / preset.Std[c];
            }
        }

        var bgr = new float[normalized.Length];
        for (var c = 0; c < 3; c++)
        {
            Array.Copy(normalized, (2 - c) * 224 * 224, bgr, c * 224 * 224, 224 * 224);
        }

        float[] expected;
        using (var session = new InferenceSession(MlNetResNet18.OnnxPath()))
        {
            var input = NamedOnnxValue.CreateFromTensor("Input247", new DenseTensor<float>(bgr, [1, 3, 224, 224]));
            using var results = session.Run([input]);
            expected = results.Single().AsEnumerable<float>().ToArray();
        }

        var folder = TestFiles.NewFolder("mlnet");
        var watch = Stopwatch.StartNew();
        using (var scope = NewDisposeScope())
        {
            WeightsFile.Write(Path.Combine(folder, "backbone.dat"), MlNetResNet18.Convert(MlNetResNet18.OnnxPath()));
        }

        var conversion = watch.Elapsed;
        using var model = MlNetResNet18.Create();
        WeightsFile.Load(model, Path.Combine(folder, "backbone.dat"), includeHead: false);
        model.eval();
        float[] actual;
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            actual = model.Features(tensor(normalized, [1, 3, 224, 224])).data<float>().ToArray();
        }

        Assert.Equal(512, expected.Length);
        Assert.Equal(512, actual.Length);
        var largest = expected.Max(Math.Abs);
        var maxDifference = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        output.WriteLine(
            $"input: {source}; conversion + .dat write {conversion.TotalSeconds:F2} s; largest feature {largest:G5}; " +
            $"max abs difference {maxDifference:G3} ({maxDifference / largest:G3} of the largest)");
        Assert.True(largest > 0.1f, $"features look degenerate (largest {largest})");
        Assert.True(maxDifference < 1e-3f * largest, $"max abs difference {maxDifference} vs largest {largest}");
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public void Conversion_maps_every_key_of_a_two_two_two_three_resnet()
    {
        using var scope = NewDisposeScope();
        var entries = MlNetResNet18.Convert(MlNetResNet18.OnnxPath());
        using var model = MlNetResNet18.Create();
        var expected = model.state_dict().Keys.Where(k => !k.StartsWith("fc.", StringComparison.Ordinal)).ToList();

        Assert.Equal(expected.OrderBy(k => k), entries.Keys.OrderBy(k => k));
        Assert.Contains("layer4.2.bn2.running_var", entries.Keys);
        Assert.Contains("layer2.0.downsample.1.weight", entries.Keys);
        Assert.Equal([64L, 3, 7, 7], entries["conv1.weight"].shape);
    }

    [Fact]
    public void Load_uses_the_cache_and_gives_a_fresh_head_of_the_requested_size()
    {
        var first = MlNetResNet18.EnsureCache();
        var written = File.GetLastWriteTimeUtc(first);

        using var model = MlNetResNet18.Load(classes: 7);
        Assert.Equal(written, File.GetLastWriteTimeUtc(MlNetResNet18.EnsureCache()));
        Assert.Equal([7L, 512], model.state_dict()["fc.weight"].shape);
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(first)!, "*.tmp"));
    }

    [Fact]
    public void A_missing_onnx_file_names_the_file_and_the_fix()
    {
        var missing = Path.Combine(TestFiles.NewFolder("mlnet-missing"), "ResNet18.onnx");

        var error = Assert.Throws<ModelLoadException>(() => MlNetResNet18.Convert(missing));

        Assert.Contains(missing, error.Message);
        Assert.Contains(MlNetResNet18.OnnxEnvironmentVariable, error.Message);
    }

    // A real dog photo as RGB [3, 224, 224] in [0, 1] when the sample exists, else a fixed random image.
    private static (float[] Rgb, string Source) TestImage()
    {
        var rgb = new float[3 * 224 * 224];
        var sample = DogsSample.Folder();
        var photo = sample is null
            ? null
            : Directory.EnumerateFiles(sample, "*.jpg", SearchOption.AllDirectories).Order().FirstOrDefault();
        if (photo is null)
        {
            var random = new Random(1234);
            for (var i = 0; i < rgb.Length; i++)
            {
                rgb[i] = (float)random.NextDouble();
            }

            return (rgb, "deterministic random image");
        }

        using var decoded = SKBitmap.Decode(photo);
        using var resized = decoded.Resize(new SKImageInfo(224, 224), new SKSamplingOptions(SKFilterMode.Linear));
        for (var y = 0; y < 224; y++)
        {
            for (var x = 0; x < 224; x++)
            {
                var pixel = resized.GetPixel(x, y);
                rgb[0 * 224 * 224 + y * 224 + x] = pixel.Red / 255f;
                rgb[1 * 224 * 224 + y * 224 + x] = pixel.Green / 255f;
                rgb[2 * 224 * 224 + y * 224 + x] = pixel.Blue / 255f;
            }
        }

        return (rgb, photo);
    }
}
