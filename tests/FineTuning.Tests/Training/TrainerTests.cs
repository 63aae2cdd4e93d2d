using FineTuning.Training;
using static TorchSharp.torch;

namespace FineTuning.Tests.Training;

[Collection(TorchGlobalRandom.Name)]
public class TrainerTests
{
    [Theory]
    [InlineData(OptimizerKind.Sgd)]
    [InlineData(OptimizerKind.AdamW)]
    public void Training_lowers_the_loss_and_separates_the_classes(OptimizerKind kind)
    {
        using var train = ToyProblem.Data(perClass: 24, seed: 2);
        using var validation = ToyProblem.Data(perClass: 8, seed: 2);
        using var model = ToyProblem.Model(2);
        using var trainer = new Trainer(model, ToyProblem.Options(8, kind));

        var history = trainer.Fit(ToyProblem.Epochs(train, validation, 8, 2));

        Assert.Equal(8, history.Count);
        Assert.True(history[^1].TrainLoss < history[0].TrainLoss / 2, $"{history[0].TrainLoss} -> {history[^1].TrainLoss}");
        Assert.True(history[^1].ValAccuracy > 0.9, $"validation accuracy {history[^1].ValAccuracy}");
        Assert.Equal(trainer.BestEpoch, history.MinBy(h => h.ValLoss)!.Epoch);
    }

    [Fact]
    public void Head_only_stage_leaves_the_body_and_its_batchnorm_statistics_untouched()
    {
        using var train = ToyProblem.Data(perClass: 8, seed: 3);
        using var model = ToyProblem.Model(3);
        var body = model.named_children().Single(c => c.name == "body").module;
        var before = body.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        using var trainer = new Trainer(model, new TrainingOptions { Stages = [TrainingStage.HeadOnly(2, 0.1)] });

        trainer.Fit(ToyProblem.Epochs(train, null, 8, 3));

        foreach (var (name, value) in body.state_dict())
        {
            Assert.True(value.eq(before[name]).all().item<bool>(), $"body.{name} changed while frozen");
        }

        Assert.All(body.parameters(), p => Assert.False(p.requires_grad));
        foreach (var tensor in before.Values)
        {
            tensor.Dispose();
        }
    }

    [Fact]
    public void Two_stage_run_builds_a_new_optimizer_with_smaller_rates_for_unfrozen_stages()
    {
        using var train = ToyProblem.Data(perClass: 8, seed: 4);
        using var model = ToyProblem.Model(4);
        var options = new TrainingOptions
        {
            Stages = [TrainingStage.HeadOnly(1, 0.1), TrainingStage.Discriminative(1, 0.01, ["body"])],
            Schedule = ScheduleKind.Constant,
        };
        using var trainer = new Trainer(model, options);
        optim.Optimizer? first = null;

        trainer.Fit(ToyProblem.Epochs(train, null, 8, 4), epochEnded: (t, m) => first ??= t.Optimizer);

        Assert.NotSame(first, trainer.Optimizer);
        Assert.Equal([0.01, 0.001], trainer.Optimizer!.ParamGroups.Select(g => g.LearningRate).ToArray());
        Assert.All(model.parameters(), p => Assert.True(p.requires_grad));
        Assert.Equal([0, 1], trainer.History.Select(h => h.Stage).ToArray());
    }

    [Fact]
    public void Early_stopping_ends_the_run_after_patience_epochs_without_improvement()
    {
        using var train = ToyProblem.Data(perClass: 8, seed: 5);
        using var model = ToyProblem.Model(5);
        // Labels of the validation set are shuffled, so the validation loss soon stops improving.
        using var noise = ToyProblem.Data(perClass: 8, seed: 6);
        using var shuffledLabels = noise.Labels.index_select(0, tensor(SeededOrder.Permutation(noise.Count, 1, 0)
            .Select(i => (long)i).ToArray()));
        using var validation = new TensorDataSet(noise.Inputs.clone(), shuffledLabels.clone(), noise.Paths);
        var options = ToyProblem.Options(40) with { EarlyStoppingPatience = 2 };
        using var trainer = new Trainer(model, options);

        var history = trainer.Fit(ToyProblem.Epochs(train, validation, 8, 5));

        Assert.True(trainer.StoppedEarly);
        Assert.True(history.Count < 40);
        Assert.Equal(trainer.BestEpoch + 2, history.Count);
    }

    [Fact]
    public void Unknown_group_prefix_is_a_clear_error()
    {
        using var model = ToyProblem.Model(1);

        var error = Assert.Throws<ArgumentException>(
            () => LearningRateGroup.Apply(model, [new LearningRateGroup("layer9", 0.1)]));

        Assert.Contains("layer9", error.Message);
        Assert.Contains("body", error.Message);
    }

    [Fact]
    public void Progress_reports_every_batch_with_an_eta()
    {
        using var train = ToyProblem.Data(perClass: 8, seed: 7);
        using var model = ToyProblem.Model(7);
        using var trainer = new Trainer(model, ToyProblem.Options(2));
        var reports = new List<TrainingProgress>();

        trainer.Fit(ToyProblem.Epochs(train, train, 8, 7), new SyncProgress<TrainingProgress>(reports.Add));

        var trainReports = reports.Where(r => r.Phase == TrainingPhase.Train).ToList();
        Assert.Equal(2 * 4, trainReports.Count);
        Assert.Equal(8, reports.Count(r => r.Phase == TrainingPhase.Validate));
        Assert.All(trainReports, r => Assert.NotNull(r.Eta));
        Assert.Equal(TimeSpan.Zero, trainReports[^1].Eta);
        Assert.Equal(4, trainReports[^1].Batches);
    }
}

/// <summary>An <see cref="IProgress{T}"/> that reports on the calling thread (Progress posts to the thread
/// pool).</summary>
internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
