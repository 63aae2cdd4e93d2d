namespace FineTuning.Training;

/// <summary>The learning-rate schedules the trainer offers.</summary>
public enum ScheduleKind
{
    /// <summary>The same rate for every step.</summary>
    Constant,

    /// <summary>The rate is multiplied by a factor (0.1 by default) every few epochs.</summary>
    Step,

    /// <summary>Cosine annealing from the full rate down to a small fraction of it over the stage.</summary>
    Cosine,

    /// <summary>Warm up from a low rate to the full rate, then anneal far below it (Smith's one-cycle
    /// policy).</summary>
    OneCycle,
}

/// <summary>
/// A learning-rate schedule as a pure function of the optimizer step: the factor by which every parameter group's
/// base rate is multiplied. Being a function of the step count alone, it needs no state of its own to resume.
/// </summary>
public abstract class LearningRateSchedule
{
    /// <summary>The multiplier of the base learning rate at optimizer step <paramref name="step"/> (0-based).</summary>
    public abstract double Factor(long step);

    /// <summary>A schedule that keeps the base rate.</summary>
    public static LearningRateSchedule Constant() => new ConstantSchedule();

    /// <summary>Multiplies the rate by <paramref name="gamma"/> after every <paramref name="stepSize"/>
    /// steps.</summary>
    public static LearningRateSchedule Step(long stepSize, double gamma = 0.1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(stepSize, 1);
        return new StepSchedule(stepSize, gamma);
    }

    /// <summary>
    /// Cosine annealing over <paramref name="totalSteps"/> steps, from factor 1 at step 0 towards
    /// <paramref name="minFactor"/>, which it reaches after the last step (as PyTorch's <c>CosineAnnealingLR</c> with
    /// <c>T_max</c> = total steps), so the last step still learns.
    /// </summary>
    public static LearningRateSchedule Cosine(long totalSteps, double minFactor = 0.0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(totalSteps, 1);
        return new CosineSchedule(totalSteps, minFactor);
    }

    /// <summary>
    /// The one-cycle policy over <paramref name="totalSteps"/> steps: the factor rises from
    /// <c>1 / divFactor</c> to 1 during the first <paramref name="warmupFraction"/> of the steps (cosine-shaped),
    /// then falls to <c>1 / (divFactor * finalDivFactor)</c> at the last step. Defaults follow PyTorch's
    /// <c>OneCycleLR</c> (0.3, 25, 10000).
    /// </summary>
    public static LearningRateSchedule OneCycle(
        long totalSteps, double warmupFraction = 0.3, double divFactor = 25, double finalDivFactor = 1e4)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(totalSteps, 2);
        return new OneCycleSchedule(totalSteps, warmupFraction, divFactor, finalDivFactor);
    }

    /// <summary>
    /// Builds a schedule of kind <paramref name="kind"/> for a stage of <paramref name="epochs"/> epochs of
    /// <paramref name="stepsPerEpoch"/> steps; the step schedule decays every <paramref name="stepEpochs"/> epochs.
    /// </summary>
    public static LearningRateSchedule Create(ScheduleKind kind, int epochs, long stepsPerEpoch, int stepEpochs = 5)
    {
        var total = Math.Max(1, epochs * stepsPerEpoch);
        return kind switch
        {
            ScheduleKind.Constant => Constant(),
            ScheduleKind.Step => Step(Math.Max(1, stepEpochs * stepsPerEpoch)),
            ScheduleKind.Cosine => Cosine(total),
            ScheduleKind.OneCycle => OneCycle(Math.Max(2, total)),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown schedule."),
        };
    }

    private sealed class ConstantSchedule : LearningRateSchedule
    {
        public override double Factor(long step) => 1.0;
    }

    private sealed class StepSchedule(long stepSize, double gamma) : LearningRateSchedule
    {
        public override double Factor(long step) => Math.Pow(gamma, Math.Max(0, step) / stepSize);
    }

    private sealed class CosineSchedule(long totalSteps, double minFactor) : LearningRateSchedule
    {
        public override double Factor(long step)
        {
            var t = Math.Clamp(step, 0, totalSteps) / (double)totalSteps;
            return minFactor + ((1 - minFactor) * (1 + Math.Cos(Math.PI * t)) / 2);
        }
    }

    private sealed class OneCycleSchedule(long totalSteps, double warmupFraction, double divFactor,
        double finalDivFactor) : LearningRateSchedule
    {
        public override double Factor(long step)
        {
            var start = 1 / divFactor;
            var end = start / finalDivFactor;
            var peak = Math.Max(1, (long)Math.Round(warmupFraction * totalSteps) - 1);
            var s = Math.Clamp(step, 0, totalSteps - 1);
            if (s <= peak)
            {
                return Anneal(start, 1, s / (double)peak);
            }

            return Anneal(1, end, (s - peak) / (double)Math.Max(1, totalSteps - 1 - peak));
        }

        private static double Anneal(double from, double to, double t) => to + ((from - to) * (1 + Math.Cos(Math.PI * t)) / 2);
    }
}
