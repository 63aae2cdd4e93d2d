using static TorchSharp.torch;

namespace FineTuning.Costs;

/// <summary>
/// Measures what training a new head costs in one <see cref="CostMode"/>: gradients, optimizer state, step times,
/// peak memory, BatchNorm drift and activation sizes, on a synthetic batch that every mode shares.
/// </summary>
/// <remarks>
/// Measure each mode on a freshly loaded model, and on CPU in its own process: the process's memory high-water
/// mark can be reset but never lowered below what is already resident, so modes measured one after another in one
/// process would share a peak. <c>finetune costs</c> runs each mode in a child process for that reason.
/// </remarks>
public static class CostProbe
{
    /// <summary>Runs the warm-up and timed steps of <paramref name="mode"/> on <paramref name="model"/>.</summary>
    /// <param name="model">A freshly loaded model on <paramref name="device"/> whose head has the options'
    /// classes.</param>
    /// <param name="mode">The mode to measure; it freezes or unfreezes the model accordingly.</param>
    /// <param name="options">Batch, input size, steps, optimizer settings.</param>
    /// <param name="device">The device the model is on; the batch is created there.</param>
    /// <param name="progress">Told after each step; optional.</param>
    public static ModeCosts Run(
        nn.Module<Tensor, Tensor> model,
        CostMode mode,
        CostProbeOptions options,
        Device device,
        IProgress<CostProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();

        using var batchScope = NewDisposeScope();
        var (input, labels) = SyntheticBatch(options, device);
        using var trainer = new CostTrainer(model, mode, options);
        using var statistics = BatchNormSnapshot.Take(model);
        var trace = new GradientTraceRecorder(model, trainer.HeadName);

        var total = options.WarmupSteps + options.Steps;
        var timings = new List<StepTiming>();
        (long? Peak, string Source) peak;
        long? baseline;
        using (var meter = PeakMemoryMeter.Start(device))
        {
            baseline = meter.Baseline;
            for (var step = 1; step <= total; step++)
            {
                var timing = trainer.Step(input, labels);
                trace.Record();
                if (step > options.WarmupSteps)
                {
                    timings.Add(timing);
                }

                progress?.Report(new CostProgress(mode, step, total));
            }

            peak = meter.Stop();
        }

        var (gradientTensors, gradientBytes) = Gradients.Of(model);
        var optimizerState = trainer.OptimizerStateBytes();
        var bnChanged = statistics.Changed(model);
        trainer.ZeroOptimizerGradients();
        var (_, retainedBytes) = Gradients.Of(model);
        var activations = ActivationSizes(trainer, input);

        return new ModeCosts
        {
            Name = CostModes.Name(mode),
            TrainableParameters = model.parameters().Where(p => p.requires_grad).Sum(p => p.numel()),
            TotalParameters = model.parameters().Sum(p => p.numel()),
            OptimizedParameters = trainer.OptimizedParameters,
            GradientTensors = gradientTensors,
            GradientBytes = gradientBytes,
            RetainedGradientBytes = retainedBytes,
            OptimizerStateBytes = optimizerState,
            OptimizerStateSource = "read from the SGD optimizer's momentum buffers after the last step",
            ForwardMs = Median(timings.Select(t => t.ForwardMs)),
            BackwardMs = Median(timings.Select(t => t.BackwardMs)),
            OptimizerMs = Median(timings.Select(t => t.OptimizerMs)),
            StepMs = Median(timings.Select(t => t.StepMs)),
            StepTimesMs = timings.Select(t => Math.Round(t.StepMs, 2)).ToList(),
            PeakMemoryBytes = peak.Peak,
            BaselineMemoryBytes = baseline,
            PeakMemorySource = peak.Source,
            BnStatsChanged = bnChanged,
            ActivationBytes = activations,
            ActivationBytesTotal = activations.Sum(a => a.Bytes),
            GradientTrace = trace.ToTrace(),
            BatchSize = options.BatchSize,
            ImageSize = options.ImageSize,
            Steps = options.Steps,
        };
    }

    /// <summary>
    /// The batch every mode trains on: standard-normal images [N, 3, S, S] and labels in [0, classes), both drawn
    /// from a generator seeded with <see cref="CostProbeOptions.Seed"/>. The caller owns the two tensors.
    /// </summary>
    /// <param name="options">Batch size, image size, classes and seed.</param>
    /// <param name="device">Where the tensors go.</param>
    public static (Tensor Input, Tensor Labels) SyntheticBatch(CostProbeOptions options, Device device)
    {
        ArgumentNullException.ThrowIfNull(options);
        using var scope = NewDisposeScope();
        var generator = new Generator((ulong)options.Seed);
        var input = randn([options.BatchSize, 3, options.ImageSize, options.ImageSize], generator: generator);
        var labels = randint(options.Classes, [options.BatchSize], dtype: int64, generator: generator);
        return (input.to(device).MoveToOuterDisposeScope(), labels.to(device).MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Runs one forward pass of the trainer's mode with a forward hook on every top-level module and returns the
    /// bytes of each module's output, in the order they ran.
    /// </summary>
    /// <param name="trainer">The trainer whose forward pass to observe.</param>
    /// <param name="input">The batch.</param>
    public static IReadOnlyList<ModuleActivation> ActivationSizes(CostTrainer trainer, Tensor input)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        var records = new List<ModuleActivation>();
        var removers = new List<Action>();
        try
        {
            foreach (var (name, child) in trainer.Model.named_children())
            {
                if (child is not nn.Module<Tensor, Tensor> module)
                {
                    continue;
                }

                var remover = module.register_forward_hook((_, _, output) =>
                {
                    records.Add(new ModuleActivation(name, output.shape, output.numel() * output.element_size()));
                    return output;
                });
                removers.Add(remover.remove);
            }

            using var scope = NewDisposeScope();
            trainer.Forward(input);
        }
        finally
        {
            removers.ForEach(remove => remove());
        }

        return records;
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        var middle = sorted.Length / 2;
        var median = sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
        return Math.Round(median, 2);
    }
}
