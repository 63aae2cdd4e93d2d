using System.Text.Json;
using FineTuning.Cli;
using FineTuning.Models;
using FineTuning.Tests.Models;
using SkiaSharp;

namespace FineTuning.Tests.Cli;

public class ModelCommandsTests(ResNet18Files files) : IClassFixture<ResNet18Files>
{
    [Fact]
    public void Inspect_prints_the_tree_the_head_and_the_counts_and_says_the_mlnet_head_is_untrained()
    {
        var (code, output, error) = Run("inspect", "--model", "mlnet-resnet18");

        Assert.True(code == 0, error);
        Assert.Contains(
            "(conv1): Conv2d(3, 64, kernel_size=(7, 7), stride=(2, 2), padding=(3, 3), bias=False)", output);
        Assert.Contains("(fc): Linear(in_features=512, out_features=1000, bias=True)", output);
        Assert.Contains("\nhead: fc Linear(in_features=512, out_features=1000)\n", output.ReplaceLineEndings("\n"));
        Assert.Contains("parameters: 16,410,152 trainable / 16,410,152 total", output);
        Assert.Contains("untrained", output);
    }

    [Fact]
    public void Inspect_with_weights_and_classes_shows_the_new_head()
    {
        var (code, output, error) = Run("inspect", "--model", "resnet18", "--weights", files.Pth, "--classes", "7");

        Assert.True(code == 0, error);
        Assert.Contains("head: fc Linear(in_features=512, out_features=7)", output);
        Assert.Contains("untrained", output);

        var (ownHeadCode, ownHead, _) = Run("inspect", "--model", "resnet18", "--weights", files.Pth);
        Assert.Equal(0, ownHeadCode);
        Assert.Contains("head: fc Linear(in_features=512, out_features=1000)", ownHead);
        Assert.DoesNotContain("untrained", ownHead);
    }

    [Fact]
    public void An_unknown_model_lists_the_known_ones()
    {
        var (code, output, error) = Run("inspect", "--model", "resnet19");

        Assert.Equal(1, code);
        Assert.Empty(output);
        Assert.Contains("Unknown model 'resnet19'", error);
        Assert.Contains(string.Join(", ", ModelZoo.Names), error);
    }

    [Fact]
    public void Predict_with_the_untrained_mlnet_head_refuses_and_says_what_to_do()
    {
        var image = WriteImage(TestFiles.NewFolder("predict"), "a.png", 1);

        var (code, output, error) = Run("predict", "--model", "mlnet-resnet18", image);

        Assert.Equal(1, code);
        Assert.Empty(output);
        Assert.Contains("untrained", error);
        Assert.Contains("--checkpoint", error);
        Assert.Contains("finetune weights resnet18", error);
    }

    [Fact]
    public void Predict_json_writes_exactly_one_object_with_the_top_classes_of_each_image()
    {
        var folder = TestFiles.NewFolder("predict");
        var first = WriteImage(folder, "first.png", 1);
        var second = WriteImage(folder, "second.jpg", 2);

        var (code, output, error) = Run(
            "predict", "--model", "resnet18", "--weights", files.Pth, "--top", "3", "--json", first, second);

        Assert.True(code == 0, error);
        using var json = JsonDocument.Parse(output);
        var predictions = json.RootElement.GetProperty("predictions").EnumerateArray().ToList();
        Assert.Single(json.RootElement.EnumerateObject());
        Assert.Equal([first, second], predictions.Select(p => p.GetProperty("image").GetString()));
        foreach (var prediction in predictions)
        {
            var top = prediction.GetProperty("top").EnumerateArray().ToList();
            Assert.Equal(3, top.Count);
            var probabilities = top.Select(t => t.GetProperty("probability").GetDouble()).ToList();
            Assert.Equal(probabilities.OrderDescending(), probabilities);
            Assert.InRange(probabilities.Sum(), 0.0, 1.0001);
            foreach (var entry in top)
            {
                var index = entry.GetProperty("index").GetInt32();
                Assert.Equal(ImageNetLabels.Names[index], entry.GetProperty("label").GetString());
            }
        }

        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public void Predict_warns_on_stderr_about_an_unreadable_image_and_keeps_stdout_json()
    {
        var folder = TestFiles.NewFolder("predict");
        var good = WriteImage(folder, "good.png", 3);
        var bad = Path.Combine(folder, "bad.jpg");
        File.WriteAllText(bad, "not an image");

        var (code, output, error) = Run("predict", "--model", "resnet18", "--weights", files.Pth, "--json", good, bad);

        Assert.Equal(1, code);
        Assert.Contains(bad, error);
        using var json = JsonDocument.Parse(output);
        Assert.Single(json.RootElement.GetProperty("predictions").EnumerateArray());
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public void Weights_lists_every_published_file_with_its_source()
    {
        var (code, output, error) = Run("weights");

        Assert.True(code == 0, error);
        foreach (var file in TorchVisionWeights.All)
        {
            Assert.Contains(file.FileName, output);
        }

        Assert.Contains(WeightsDownloader.BaseUrlVariable, output);
    }

    private static (int Code, string Output, string Error) Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = CliRunner.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    private static string WriteImage(string folder, string name, int seed)
    {
        var random = new Random(seed);
        using var bitmap = new SKBitmap(320, 240);
        for (var y = 0; y < bitmap.Height; y++)
        {
            for (var x = 0; x < bitmap.Width; x++)
            {
                bitmap.SetPixel(x, y, new SKColor((byte)random.Next(256), (byte)(x % 256), (byte)(y % 256)));
            }
        }

        var path = Path.Combine(folder, name);
        using var data = bitmap.Encode(
            name.EndsWith(".png", StringComparison.Ordinal) ? SKEncodedImageFormat.Png : SKEncodedImageFormat.Jpeg, 90);
        File.WriteAllBytes(path, data.ToArray());
        return path;
    }
}
