using System.Text.Json;
using FineTuning.Data;
using FineTuning.Evaluation;
using FineTuning.Training;
using static TorchSharp.torch;

namespace FineTuning.Tests.Training;

[Collection(TorchGlobalRandom.Name)]
public sealed class TrainingRunTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ft-run-").FullName;

    [Fact]
    public void Run_on_generated_dogs_writes_checkpoints_and_metrics_and_learns()
    {
        var data = Path.Combine(_folder, "dogs");
        SyntheticDogs.Generate(data, classes: 3, perClass: 8, size: 64, seed: 1);
        var options = Options(data, "run") with { Epochs = 4, CacheFeatures = true, LearningRate = 0.001 };

        var result = TrainingRun.Run(options);

        using var metrics = JsonDocument.Parse(File.ReadAllText(result.MetricsPath));
        var root = metrics.RootElement;
        Assert.Equal(3, root.GetProperty("classes").GetArrayLength());
        var epochs = root.GetProperty("epochs");
        Assert.Equal(4, epochs.GetArrayLength());
        foreach (var field in new[] { "train_loss", "val_loss", "val_accuracy" })
        {
            Assert.Equal(JsonValueKind.Number, epochs[3].GetProperty(field).ValueKind);
        }

        Assert.True(File.Exists(root.GetProperty("best_checkpoint").GetString()), "best checkpoint missing");
        Assert.True(File.Exists(Path.Combine(options.OutDir, "curves.png")), "curves.png missing");
        var losses = string.Join(", ", result.History.Select(h => h.TrainLoss));
        // Below chance-level cross-entropy, ln 3, and lower than after the first epoch.
        Assert.True(result.History[^1].TrainLoss < Math.Min(Math.Log(3), result.History[0].TrainLoss),
            $"train losses {losses}");
        Assert.Equal(24, result.FeatureCache!.Computed);

        // The checkpoint evaluates through the evaluate route, with the run's classes and preset.
        var report = EvaluationRun.Run(result.BestCheckpoint, data);
        Assert.Equal(24, report.Images);
        Assert.Equal(result.Classes, report.Classes);
    }

    [Fact]
    public void Interrupted_and_resumed_run_ends_where_an_uninterrupted_run_ends()
    {
        var data = Path.Combine(_folder, "dogs");
        SyntheticDogs.Generate(data, classes: 2, perClass: 6, size: 64, seed: 2);

        // Augmented, uncached, SGD with momentum and a cosine schedule: everything that must resume exactly.
        var straight = TrainingRun.Run(Options(data, "straight"));

        using var cancel = new CancellationTokenSource();
        var interrupted = Options(data, "resumed");
        var stop = new SyncProgress<TrainingProgress>(p =>
        {
            if (p.Phase == TrainingPhase.Train && p.Epoch == 2)
            {
                cancel.Cancel();
            }
        });
        Assert.ThrowsAny<OperationCanceledException>(() => TrainingRun.Run(interrupted, stop, null, cancel.Token));
        Assert.Equal(1, Checkpoint.Load(Path.Combine(interrupted.OutDir, "last.ckpt")).Info.Trainer.CompletedEpochs);
        var resumed = TrainingRun.Run(interrupted with { Resume = true });

        Assert.Equal(
            straight.History.Select(h => (h.TrainLoss, h.TrainAccuracy, h.ValLoss, h.ValAccuracy)),
            resumed.History.Select(h => (h.TrainLoss, h.TrainAccuracy, h.ValLoss, h.ValAccuracy)));
        using var a = ModelOf(straight.LastCheckpoint);
        using var b = ModelOf(resumed.LastCheckpoint);
        var expected = a.state_dict();
        foreach (var (name, value) in b.state_dict())
        {
            Assert.True(value.eq(expected[name]).all().item<bool>(), $"{name} differs after resume");
        }
    }

    [Fact]
    public void Resume_with_other_settings_or_nothing_to_resume_is_a_clear_error()
    {
        var data = Path.Combine(_folder, "dogs");
        SyntheticDogs.Generate(data, classes: 2, perClass: 4, size: 64, seed: 3);
        var options = Options(data, "run") with { Epochs = 1 };

        var nothing = Assert.Throws<DataSetException>(() => TrainingRun.Run(options with { Resume = true }));
        TrainingRun.Run(options);
        var other = Assert.Throws<ArgumentException>(
            () => TrainingRun.Run(options with { Resume = true, BatchSize = 8 }));

        Assert.Contains("last.ckpt", nothing.Message);
        Assert.Contains("batch was '4', now '8'", other.Message);
    }

    [Fact]
    public void Evaluating_on_folders_that_are_not_the_checkpoints_classes_names_them()
    {
        var data = Path.Combine(_folder, "dogs");
        var set = SyntheticDogs.Generate(data, classes: 2, perClass: 4, size: 64, seed: 4);
        var result = TrainingRun.Run(Options(data, "run") with { Epochs = 1 });
        var other = Path.Combine(_folder, "other");
        foreach (var name in new[] { set.Classes[0], "wolf" })
        {
            Directory.CreateDirectory(Path.Combine(other, name));
            foreach (var file in Directory.GetFiles(Path.Combine(data, set.Classes[0])))
            {
                File.Copy(file, Path.Combine(other, name, Path.GetFileName(file)));
            }
        }

        var error = Assert.Throws<DataSetException>(() => EvaluationRun.Run(result.BestCheckpoint, other));

        Assert.Contains("'wolf'", error.Message);
        Assert.Contains(set.Classes[1], error.Message);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private TrainingRunOptions Options(string data, string name) => new()
    {
        DataDir = data,
        OutDir = Path.Combine(_folder, name),
        Epochs = 2,
        BatchSize = 4,
        ImageSize = 64,
        ValidationFraction = 0.34,
        Seed = 5,
        Device = "cpu",
        Workers = 2,
        FeatureCacheDir = Path.Combine(_folder, "features"),
    };

    private static nn.Module<Tensor, Tensor> ModelOf(string checkpoint) => TrainedModel.Load(checkpoint).Model;
}
