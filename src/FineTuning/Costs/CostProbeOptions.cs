namespace FineTuning.Costs;

/// <summary>What one cost measurement runs: the synthetic batch, how many steps, and the optimizer's
/// settings.</summary>
/// <remarks>
/// The optimizer is SGD with momentum, as in the question this probe answers: its state is one momentum buffer per
/// parameter it updates, the same size as that parameter. Adam would hold two such buffers.
/// </remarks>
public sealed record CostProbeOptions
{
    /// <summary>Images per batch.</summary>
    public int BatchSize { get; init; } = 8;

    /// <summary>Height and width of the square input images in pixels (224 for ImageNet-sized input).</summary>
    public int ImageSize { get; init; } = 224;

    /// <summary>Number of classes of the head; labels are drawn from 0 to Classes - 1.</summary>
    public int Classes { get; init; } = 120;

    /// <summary>Timed training steps; medians are taken over them.</summary>
    public int Steps { get; init; } = 5;

    /// <summary>Untimed steps before the timed ones (first-call allocations, oneDNN primitive creation).</summary>
    public int WarmupSteps { get; init; } = 1;

    /// <summary>SGD learning rate.</summary>
    public double LearningRate { get; init; } = 0.01;

    /// <summary>SGD momentum; 0.9 as in the learner's question.</summary>
    public double Momentum { get; init; } = 0.9;

    /// <summary>Seed of the synthetic batch, so every mode sees the same input and labels.</summary>
    public int Seed { get; init; } = 1234;

    /// <summary>Name of the head module among the model's top-level children (<c>fc</c> for ResNets).</summary>
    public string HeadName { get; init; } = "fc";

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first value out of range.</summary>
    public void Validate()
    {
        Require(BatchSize >= 1, $"batch size {BatchSize} must be at least 1");
        Require(ImageSize >= 32, $"image size {ImageSize} must be at least 32 pixels for a ResNet");
        Require(Classes >= 2, $"classes {Classes} must be at least 2");
        Require(Steps >= 2, $"steps {Steps} must be at least 2 (the accumulation evidence needs two)");
        Require(WarmupSteps >= 0, $"warm-up steps {WarmupSteps} must not be negative");
        Require(LearningRate > 0, $"learning rate {LearningRate} must be positive");
        Require(Momentum is >= 0 and < 1, $"momentum {Momentum} must be in [0, 1)");
        Require(!string.IsNullOrWhiteSpace(HeadName), "the head name must not be empty");
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new ArgumentException(message + ".");
        }
    }
}
