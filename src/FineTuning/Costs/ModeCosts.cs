namespace FineTuning.Costs;

/// <summary>What training one mode cost, measured on one model, batch and input.</summary>
/// <remarks>Times are medians in milliseconds over the timed steps; sizes are bytes.</remarks>
public sealed record ModeCosts
{
    /// <summary>The mode's name (<see cref="CostModes.Name"/>), for example <c>frozen-no-grad</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Parameters with <c>requires_grad</c> set: what autograd computes gradients for.</summary>
    public required long TrainableParameters { get; init; }

    /// <summary>All parameters of the model, trainable or not.</summary>
    public required long TotalParameters { get; init; }

    /// <summary>Parameters given to the optimizer: what it updates, zeroes and keeps state for.</summary>
    public required long OptimizedParameters { get; init; }

    /// <summary>Parameters holding a gradient tensor right after backward.</summary>
    public required int GradientTensors { get; init; }

    /// <summary>Bytes of those gradient tensors (element count times element size, summed).</summary>
    public required long GradientBytes { get; init; }

    /// <summary>
    /// Bytes of gradients still allocated after the optimizer's <c>zero_grad()</c>, that is between steps.
    /// TorchSharp 0.107's optimizer zeroes its parameters' gradients in place and keeps them; parameters it was not
    /// given keep their gradients and values (see <see cref="GradientTrace"/>).
    /// </summary>
    public required long RetainedGradientBytes { get; init; }

    /// <summary>Bytes of the optimizer's state after a step (SGD: one momentum buffer per optimized
    /// parameter).</summary>
    public required long OptimizerStateBytes { get; init; }

    /// <summary>Where <see cref="OptimizerStateBytes"/> comes from: read from the optimizer's state, or
    /// computed.</summary>
    public required string OptimizerStateSource { get; init; }

    /// <summary>Median milliseconds of the forward pass and the loss.</summary>
    public required double ForwardMs { get; init; }

    /// <summary>Median milliseconds of <c>loss.backward()</c>.</summary>
    public required double BackwardMs { get; init; }

    /// <summary>Median milliseconds of <c>optimizer.step()</c>.</summary>
    public required double OptimizerMs { get; init; }

    /// <summary>Median milliseconds of a whole step: zero_grad, forward, loss, backward and optimizer step.</summary>
    public required double StepMs { get; init; }

    /// <summary>Milliseconds of every timed step, in order, so readers can see the spread behind the median.</summary>
    public required IReadOnlyList<double> StepTimesMs { get; init; }

    /// <summary>
    /// Peak memory while the steps ran, in bytes: on CPU the process's resident high-water mark (VmHWM), on CUDA
    /// the device memory in use as sampled through NVML. Null when the platform offers neither.
    /// </summary>
    public long? PeakMemoryBytes { get; init; }

    /// <summary>Memory in use when the measurement started (the model, the batch, the runtime), in bytes.</summary>
    public long? BaselineMemoryBytes { get; init; }

    /// <summary>How <see cref="PeakMemoryBytes"/> was measured, in words.</summary>
    public required string PeakMemorySource { get; init; }

    /// <summary>Whether any BatchNorm running mean or variance changed during the steps.</summary>
    public required bool BnStatsChanged { get; init; }

    /// <summary>For one forward pass, the bytes of each top-level module's output, in the order they ran.</summary>
    public required IReadOnlyList<ModuleActivation> ActivationBytes { get; init; }

    /// <summary>The sum of <see cref="ActivationBytes"/>.</summary>
    public required long ActivationBytesTotal { get; init; }

    /// <summary>
    /// Gradient norms after each step's backward, one backbone parameter and one head parameter: in
    /// head-only-optimizer mode the backbone's grows as gradients accumulate, the head's does not.
    /// </summary>
    public required GradientTrace GradientTrace { get; init; }

    /// <summary>Images per batch.</summary>
    public required int BatchSize { get; init; }

    /// <summary>Square input size in pixels.</summary>
    public required int ImageSize { get; init; }

    /// <summary>Timed steps behind the medians (warm-up steps excluded).</summary>
    public required int Steps { get; init; }
}

/// <summary>The output of one top-level module during one forward pass.</summary>
/// <param name="Module">The module's name among the model's children, for example <c>layer1</c>.</param>
/// <param name="Shape">The output's shape.</param>
/// <param name="Bytes">The output's element count times its element size.</param>
public sealed record ModuleActivation(string Module, IReadOnlyList<long> Shape, long Bytes);

/// <summary>Gradient norms after each step's backward pass (warm-up steps included), per parameter.</summary>
/// <param name="BackboneParameter">The backbone parameter traced, for example <c>conv1.weight</c>.</param>
/// <param name="BackboneNorms">Its gradient's L2 norm after each backward; null where it had no gradient.</param>
/// <param name="HeadParameter">The head parameter traced, for example <c>fc.weight</c>.</param>
/// <param name="HeadNorms">Its gradient's L2 norm after each backward.</param>
public sealed record GradientTrace(
    string BackboneParameter,
    IReadOnlyList<double?> BackboneNorms,
    string HeadParameter,
    IReadOnlyList<double?> HeadNorms);

/// <summary>Progress of a cost measurement: which mode, and how many of its steps are done.</summary>
/// <param name="Mode">The mode being measured.</param>
/// <param name="Step">Steps done, warm-up included.</param>
/// <param name="TotalSteps">Warm-up plus timed steps.</param>
public sealed record CostProgress(CostMode Mode, int Step, int TotalSteps);
