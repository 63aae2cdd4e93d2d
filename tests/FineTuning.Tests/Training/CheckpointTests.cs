using FineTuning.Models;
using FineTuning.Training;

namespace FineTuning.Tests.Training;

[Collection(TorchGlobalRandom.Name)]
public sealed class CheckpointTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ft-ckpt-").FullName;

    [Fact]
    public void Resumed_run_ends_with_the_same_weights_and_metrics_as_an_uninterrupted_one()
    {
        using var train = ToyProblem.Data(perClass: 12, seed: 11);
        using var validation = ToyProblem.Data(perClass: 4, seed: 12);
        var data = ToyProblem.Epochs(train, validation, 8, 11);
        var options = ToyProblem.Options(3) with { Schedule = ScheduleKind.OneCycle };

        // Uninterrupted: three epochs.
        using var straight = ToyProblem.Model(10);
        List<EpochMetrics> straightHistory;
        using (var trainer = new Trainer(straight, options))
        {
            straightHistory = [.. trainer.Fit(data)];
        }

        // Interrupted after the first epoch, with a checkpoint written at each epoch's end.
        var path = Path.Combine(_folder, "last.ckpt");
        using var cancel = new CancellationTokenSource();
        using (var model = ToyProblem.Model(10))
        using (var trainer = new Trainer(model, options))
        {
            Assert.Throws<OperationCanceledException>(() => trainer.Fit(data, epochEnded: (t, _) =>
            {
                Checkpoint.Save(path, Info(t), model, t.SaveOptimizerState());
                cancel.Cancel();
            }, cancellationToken: cancel.Token));
        }

        // Resumed in a fresh model with other initial weights: everything must come from the checkpoint.
        var checkpoint = Checkpoint.Load(path);
        Assert.Equal(1, checkpoint.Info.Trainer.CompletedEpochs);
        using var resumed = ToyProblem.Model(99);
        checkpoint.LoadModel(resumed);
        using var resumedTrainer = new Trainer(resumed, options);
        resumedTrainer.Restore(checkpoint.Info.Trainer, checkpoint.OptimizerState);
        resumedTrainer.Fit(data);

        var expected = straight.state_dict();
        foreach (var (name, value) in resumed.state_dict())
        {
            Assert.True(value.eq(expected[name]).all().item<bool>(), $"{name} differs after resume");
        }

        Assert.Equal(
            straightHistory.Select(h => (h.TrainLoss, h.TrainAccuracy, h.ValLoss, h.ValAccuracy, h.LearningRate)),
            resumedTrainer.History.Select(h => (h.TrainLoss, h.TrainAccuracy, h.ValLoss, h.ValAccuracy, h.LearningRate)));
    }

    [Fact]
    public void Resume_without_optimizer_state_diverges_which_shows_the_state_matters()
    {
        using var train = ToyProblem.Data(perClass: 12, seed: 13);
        var data = ToyProblem.Epochs(train, null, 8, 13);
        var options = ToyProblem.Options(2) with { Schedule = ScheduleKind.Constant };
        using var straight = ToyProblem.Model(13);
        using (var trainer = new Trainer(straight, options))
        {
            trainer.Fit(data);
        }

        using var model = ToyProblem.Model(13);
        using (var first = new Trainer(model, options with { Stages = [options.Stages[0] with { Epochs = 1 }] }))
        {
            first.Fit(data);
            using var second = new Trainer(model, options);
            second.Restore(first.CaptureState(), optimizerState: null);
            second.Fit(data);
        }

        var same = straight.state_dict().All(kv => kv.Value.eq(model.state_dict()[kv.Key]).all().item<bool>());
        Assert.False(same, "without the momentum buffers the run should not end in the same place");
    }

    [Fact]
    public void Checkpoint_round_trips_its_description()
    {
        using var model = ToyProblem.Model(1);
        var path = Path.Combine(_folder, "a.ckpt");
        var info = Info(new Trainer(model, ToyProblem.Options(1))) with
        {
            Settings = new Dictionary<string, string> { ["batch"] = "8" },
        };

        Checkpoint.Save(path, info, model, null);
        var loaded = Checkpoint.Load(path);

        Assert.Equal(info.Classes, loaded.Info.Classes);
        Assert.Equal(info.Preset.Mean, loaded.Info.Preset.Mean);
        Assert.Equal(info.Preset.Name, loaded.Info.Preset.Name);
        Assert.Equal("toy", loaded.Info.ModelName);
        Assert.Equal("8", loaded.Info.Settings["batch"]);
        Assert.Null(loaded.OptimizerState);
        Assert.NotNull(loaded.RandomState);
        Assert.Single(Directory.GetFiles(_folder));
    }

    [Fact]
    public void A_file_that_is_not_a_checkpoint_or_is_cut_short_is_a_clear_error()
    {
        using var model = ToyProblem.Model(1);
        var path = Path.Combine(_folder, "b.ckpt");
        Checkpoint.Save(path, Info(new Trainer(model, ToyProblem.Options(1))), model, null);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var other = Path.Combine(_folder, "photo.jpg");
        File.WriteAllBytes(other, [0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3, 4, 5, 6]);

        var truncated = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path));
        var foreign = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(other));

        Assert.Contains(path, truncated.Message);
        Assert.Contains("truncated", truncated.Message);
        Assert.Contains("not a finetune checkpoint", foreign.Message);
    }

    [Fact]
    public void A_failed_atomic_write_keeps_the_previous_file_and_leaves_no_temporary()
    {
        var path = Path.Combine(_folder, "metrics.json");
        AtomicFile.WriteAllText(path, "old");

        Assert.Throws<IOException>(() => AtomicFile.Write(path, s =>
        {
            s.Write("new, half"u8);
            throw new IOException("disk full");
        }));

        Assert.Equal("old", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(_folder));
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static CheckpointInfo Info(Trainer trainer) => new()
    {
        ModelName = "toy",
        Classes = ["a", "b", "c", "d"],
        Preset = Preset.TorchVision,
        Seed = 11,
        Trainer = trainer.CaptureState(),
    };
}
