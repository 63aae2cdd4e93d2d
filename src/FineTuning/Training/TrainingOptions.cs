namespace FineTuning.Training;

/// <summary>
/// One stage of fine-tuning: which parts of the model train, at which rates, for how many epochs. A classic
/// two-stage run trains the new head alone, then unfreezes the last stages with smaller rates.
/// </summary>
/// <param name="Epochs">Number of epochs of this stage.</param>
/// <param name="Groups">The trainable parameter groups; every other parameter is frozen during the stage.</param>
public sealed record TrainingStage(int Epochs, IReadOnlyList<LearningRateGroup> Groups)
{
    /// <summary>A stage that trains only the head (module path <paramref name="head"/>) at rate
    /// <paramref name="learningRate"/>.</summary>
    public static TrainingStage HeadOnly(int epochs, double learningRate, string head = "fc") =>
        new(epochs, [new LearningRateGroup(head, learningRate)]);

    /// <summary>
    /// A discriminative stage: the head at <paramref name="learningRate"/>, then each stage of
    /// <paramref name="stagesFromTop"/> (for example <c>layer4</c>, <c>layer3</c>) at a rate ten times smaller than
    /// the one before it.
    /// </summary>
    public static TrainingStage Discriminative(
        int epochs, double learningRate, IEnumerable<string> stagesFromTop, string head = "fc")
    {
        var groups = new List<LearningRateGroup> { new(head, learningRate) };
        var rate = learningRate;
        foreach (var stage in stagesFromTop)
        {
            rate /= 10;
            groups.Add(new LearningRateGroup(stage, rate));
        }

        return new TrainingStage(epochs, groups);
    }
}

/// <summary>How <see cref="Trainer"/> trains: stages, optimizer, schedule, early stopping.</summary>
public sealed record TrainingOptions
{
    /// <summary>The stages, run in order; the total number of epochs is the sum of theirs.</summary>
    public required IReadOnlyList<TrainingStage> Stages { get; init; }

    /// <summary>SGD with momentum (default) or AdamW. A new optimizer is built at the start of each stage.</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Sgd;

    /// <summary>SGD momentum.</summary>
    public double Momentum { get; init; } = 0.9;

    /// <summary>Weight decay (L2 for SGD, decoupled for AdamW).</summary>
    public double WeightDecay { get; init; }

    /// <summary>The learning-rate schedule, restarted at each stage.</summary>
    public ScheduleKind Schedule { get; init; } = ScheduleKind.Cosine;

    /// <summary>For <see cref="ScheduleKind.Step"/>: decay the rate tenfold every this many epochs.</summary>
    public int StepEpochs { get; init; } = 5;

    /// <summary>
    /// Stop when the validation loss has not improved for this many epochs; null never stops early. Needs
    /// validation data.
    /// </summary>
    public int? EarlyStoppingPatience { get; init; }

    /// <summary>Total number of epochs over all stages.</summary>
    public int TotalEpochs => Stages.Sum(s => s.Epochs);

    /// <summary>The index of the stage that epoch <paramref name="epoch"/> (0-based) belongs to.</summary>
    public int StageOf(int epoch)
    {
        var end = 0;
        for (var i = 0; i < Stages.Count; i++)
        {
            end += Stages[i].Epochs;
            if (epoch < end)
            {
                return i;
            }
        }

        return Stages.Count - 1;
    }

    /// <summary>The first epoch (0-based) of stage <paramref name="stage"/>.</summary>
    public int FirstEpochOf(int stage) => Stages.Take(stage).Sum(s => s.Epochs);
}
