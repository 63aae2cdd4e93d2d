using FineTuning.Training;

namespace FineTuning.Tests.Training;

[Collection(TorchGlobalRandom.Name)]
public class LearningRateScheduleTests
{
    [Fact]
    public void Step_schedule_decays_by_gamma_every_step_size()
    {
        var schedule = LearningRateSchedule.Step(3, 0.1);

        var factors = Enumerable.Range(0, 7).Select(s => schedule.Factor(s)).ToArray();

        Assert.Equal([1, 1, 1, 0.1, 0.1, 0.1, 0.01], factors, new ToleranceComparer(1e-12));
    }

    [Fact]
    public void Cosine_schedule_goes_from_one_towards_the_floor_reached_after_the_last_step()
    {
        var schedule = LearningRateSchedule.Cosine(5, minFactor: 0.0);

        var factors = Enumerable.Range(0, 5).Select(s => schedule.Factor(s)).ToArray();

        // t = step / 5: (1 + cos(pi t)) / 2; the floor comes after the last step.
        Assert.Equal([1, 0.9045084971874737, 0.6545084971874737, 0.3454915028125263, 0.09549150281252629], factors,
            new ToleranceComparer(1e-12));
        Assert.Equal(0, schedule.Factor(5), 12);
    }

    [Fact]
    public void One_cycle_warms_up_to_the_peak_then_anneals_far_below_the_start()
    {
        var schedule = LearningRateSchedule.OneCycle(11, warmupFraction: 0.3, divFactor: 25, finalDivFactor: 1e4);

        var factors = Enumerable.Range(0, 11).Select(s => schedule.Factor(s)).ToArray();

        Assert.Equal(1 / 25.0, factors[0], 12);
        Assert.Equal(1.0, factors[2], 12);
        Assert.Equal(1 / 25.0 / 1e4, factors[10], 12);
        Assert.True(factors[1] > factors[0] && factors[1] < factors[2]);
        for (var s = 3; s < 11; s++)
        {
            Assert.True(factors[s] < factors[s - 1], $"step {s} should anneal");
        }
    }

    [Fact]
    public void Trainer_sets_each_groups_rate_to_its_base_times_the_schedule_factor()
    {
        using var train = ToyProblem.Data(perClass: 4, seed: 1);
        using var model = ToyProblem.Model(1);
        var options = new TrainingOptions
        {
            Stages = [new TrainingStage(2, [new LearningRateGroup("fc", 0.1), new LearningRateGroup("body", 0.01)])],
            Schedule = ScheduleKind.Step,
            StepEpochs = 1,
        };
        using var trainer = new Trainer(model, options);

        trainer.Fit(ToyProblem.Epochs(train, null, 16, 1));

        var rates = trainer.Optimizer!.ParamGroups.Select(g => g.LearningRate).ToArray();
        Assert.Equal([0.01, 0.001], rates, new ToleranceComparer(1e-12));
        Assert.Equal(0.01, trainer.History[1].LearningRate, 12);
        Assert.Equal(0.1, trainer.History[0].LearningRate, 12);
    }

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(double obj) => 0;
    }
}
