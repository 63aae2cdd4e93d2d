using System.Text.Json;
using FineTuning.Cli;
using FineTuning.Data;
using FineTuning.Training;

namespace FineTuning.Tests.Cli;

[Collection(TorchGlobalRandom.Name)]
public sealed class PredictCheckpointTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ft-predict-ckpt-").FullName;

    [Fact]
    public void Predict_with_a_trained_checkpoint_names_the_checkpoint_classes()
    {
        var data = Path.Combine(_folder, "dogs");
        var set = SyntheticDogs.Generate(data, classes: 3, perClass: 6, size: 64, seed: 3);
        var run = TrainingRun.Run(new TrainingRunOptions
        {
            DataDir = data,
            OutDir = Path.Combine(_folder, "run"),
            Epochs = 1,
            BatchSize = 4,
            ImageSize = 64,
            ValidationFraction = 0.34,
            Seed = 3,
            Device = "cpu",
            Workers = 1,
            CacheFeatures = true,
            FeatureCacheDir = Path.Combine(_folder, "features"),
        });
        var image = set.Samples[0].Path;

        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = CliRunner.Run(
            ["predict", "--checkpoint", run.BestCheckpoint, "--top", "3", "--json", image], output, error);

        Assert.True(code == 0, error.ToString());
        using var json = JsonDocument.Parse(output.ToString());
        var prediction = Assert.Single(json.RootElement.GetProperty("predictions").EnumerateArray());
        Assert.Equal(image, prediction.GetProperty("image").GetString());
        var top = prediction.GetProperty("top").EnumerateArray().ToList();
        Assert.Equal(3, top.Count);
        // Every label is one of the checkpoint's classes (the generated breeds), each exactly once.
        Assert.Equal(
            set.Classes.Order(StringComparer.Ordinal),
            top.Select(t => t.GetProperty("label").GetString()!).Order(StringComparer.Ordinal));
        Assert.Equal(1.0, top.Sum(t => t.GetProperty("probability").GetDouble()), 3);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
