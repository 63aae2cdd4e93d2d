using System.Diagnostics;
using FineTuning.Data;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FineTuning.Training;

/// <summary>
/// The batches of one run: a fresh, deterministic sequence of training batches for each epoch, and the validation
/// batches. Training batches are asked for by epoch number so that a resumed run sees exactly the order (and
/// augmentation) that the uninterrupted run would have seen.
/// </summary>
/// <param name="Train">Training batches of epoch <c>e</c> (0-based); each call must start a new pass.</param>
/// <param name="TrainBatches">Number of training batches per epoch, for the schedule and the ETA.</param>
/// <param name="Validation">Validation batches, in a fixed order; null trains without validation.</param>
/// <param name="ValidationBatches">Number of validation batches, for progress reports.</param>
public sealed record EpochData(
    Func<int, IEnumerable<Batch>> Train, int TrainBatches, Func<IEnumerable<Batch>>? Validation,
    int ValidationBatches);

/// <summary>
/// Trains a classifier with cross-entropy: per stage, it freezes everything but the stage's groups, builds the
/// optimizer over the trainable parameters only, steps the learning-rate schedule every batch, validates after
/// every epoch, tracks the best validation loss and stops early when asked. Every tensor of a step lives in a
/// dispose scope, so the live tensor count stays flat however long it trains.
/// </summary>
public sealed class Trainer : IDisposable
{
    private readonly nn.Module<Tensor, Tensor> _model;
    private readonly Device _device;
    private readonly List<EpochMetrics> _history = [];
    private optim.Optimizer? _optimizer;
    private int _optimizerStage = -1;
    private IReadOnlyList<LearningRateGroup> _groups = [];

    /// <summary>Creates a trainer for <paramref name="model"/>, which must already be on <paramref
    /// name="device"/>.</summary>
    public Trainer(nn.Module<Tensor, Tensor> model, TrainingOptions options, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Stages.Count == 0 || options.Stages.Any(s => s.Epochs < 0 || s.Groups.Count == 0))
        {
            throw new ArgumentException("Every training stage needs a non-negative epoch count and a group.",
                nameof(options));
        }

        _model = model;
        Options = options;
        _device = device ?? CPU;
    }

    /// <summary>The options this trainer was created with.</summary>
    public TrainingOptions Options { get; }

    /// <summary>Epochs completed so far, counting those of a restored checkpoint.</summary>
    public int CompletedEpochs { get; private set; }

    /// <summary>Metrics of every completed epoch, in order.</summary>
    public IReadOnlyList<EpochMetrics> History => _history;

    /// <summary>The 1-based epoch with the lowest validation loss so far (0 when none).</summary>
    public int BestEpoch { get; private set; }

    /// <summary>The lowest validation loss so far (positive infinity when none).</summary>
    public double BestValidationLoss { get; private set; } = double.PositiveInfinity;

    /// <summary>Epochs since the validation loss last improved.</summary>
    public int EpochsWithoutImprovement { get; private set; }

    /// <summary>Whether early stopping ended the run.</summary>
    public bool StoppedEarly { get; private set; }

    /// <summary>The optimizer of the current stage; null before the first epoch (or restore).</summary>
    public optim.Optimizer? Optimizer => _optimizer;

    /// <summary>
    /// Runs the remaining epochs (all of them, or those after a <see cref="Restore"/>). After every epoch,
    /// <paramref name="epochEnded"/> is called, typically to write a checkpoint and the metrics file.
    /// </summary>
    public IReadOnlyList<EpochMetrics> Fit(
        EpochData data,
        IProgress<TrainingProgress>? progress = null,
        Action<Trainer, EpochMetrics>? epochEnded = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        var clock = Stopwatch.StartNew();
        var total = Options.TotalEpochs;
        var stepsDone = 0L;
        var stepsPlanned = (long)(total - CompletedEpochs) * data.TrainBatches;
        while (CompletedEpochs < total && !StoppedEarly)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var epoch = CompletedEpochs;
            var stage = Options.StageOf(epoch);
            EnsureOptimizer(stage);
            var epochClock = Stopwatch.StartNew();

            var (trainLoss, trainAccuracy, lr) = TrainEpoch(
                data, epoch, stage, progress, clock, stepsDone, stepsPlanned, cancellationToken);
            stepsDone += data.TrainBatches;

            double? valLoss = null;
            double? valAccuracy = null;
            if (data.Validation is not null)
            {
                (valLoss, valAccuracy) = Validate(data, epoch, progress, clock, cancellationToken);
            }

            var metrics = new EpochMetrics(
                epoch + 1, stage, trainLoss, trainAccuracy, valLoss, valAccuracy, lr, epochClock.Elapsed.TotalSeconds);
            _history.Add(metrics);
            CompletedEpochs = epoch + 1;
            UpdateBest(metrics);
            epochEnded?.Invoke(this, metrics);
        }

        return _history;
    }

    /// <summary>
    /// Puts the trainer back where a checkpoint left it: completed epochs, history, best loss, and the optimizer
    /// state of the last completed epoch's stage (from <paramref name="optimizerState"/>, written by
    /// <c>save_state_dict</c>). The model's weights must be loaded separately.
    /// </summary>
    public void Restore(TrainerState state, byte[]? optimizerState)
    {
        ArgumentNullException.ThrowIfNull(state);
        _history.Clear();
        _history.AddRange(state.History);
        CompletedEpochs = state.CompletedEpochs;
        BestEpoch = state.BestEpoch;
        BestValidationLoss = state.BestValidationLoss ?? double.PositiveInfinity;
        EpochsWithoutImprovement = state.EpochsWithoutImprovement;
        StoppedEarly = state.StoppedEarly;
        if (CompletedEpochs > 0 && optimizerState is not null)
        {
            EnsureOptimizer(Options.StageOf(CompletedEpochs - 1));
            using var stream = new MemoryStream(optimizerState);
            using var reader = new BinaryReader(stream);
            ((OptimizerHelper)_optimizer!).load_state_dict(reader);
        }
    }

    /// <summary>The state a checkpoint needs to resume this trainer (everything but weights and optimizer).</summary>
    public TrainerState CaptureState() => new(
        CompletedEpochs, [.. _history], BestEpoch,
        double.IsPositiveInfinity(BestValidationLoss) ? null : BestValidationLoss, EpochsWithoutImprovement,
        StoppedEarly);

    /// <summary>The optimizer's state as bytes (TorchSharp's <c>save_state_dict</c> format); null before
    /// training.</summary>
    public byte[]? SaveOptimizerState()
    {
        if (_optimizer is not OptimizerHelper helper)
        {
            return null;
        }

        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            helper.save_state_dict(writer);
        }

        return stream.ToArray();
    }

    /// <summary>
    /// Puts every BatchNorm layer whose parameters are all frozen into eval mode, so that its running statistics
    /// stop changing (<c>train()</c> alone would let them drift even though nothing else about the layer trains).
    /// </summary>
    public static void KeepFrozenBatchNormInEval(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        foreach (var module in model.modules())
        {
            if (module is BatchNorm norm && norm.parameters().All(p => !p.requires_grad))
            {
                norm.eval();
            }
        }
    }

    /// <summary>Disposes the optimizer (and its state tensors). The model belongs to the caller.</summary>
    public void Dispose()
    {
        _optimizer?.Dispose();
        _optimizer = null;
    }

    private void EnsureOptimizer(int stage)
    {
        if (_optimizer is not null && _optimizerStage == stage)
        {
            return;
        }

        _optimizer?.Dispose();
        _groups = Options.Stages[stage].Groups;
        var applied = LearningRateGroup.Apply(_model, _groups);
        _optimizer = Optimizers.Create(Options.Optimizer, applied, Options.Momentum, Options.WeightDecay);
        _optimizerStage = stage;
    }

    private (double Loss, double Accuracy, double LearningRate) TrainEpoch(
        EpochData data, int epoch, int stage, IProgress<TrainingProgress>? progress, Stopwatch clock,
        long stepsBefore, long stepsPlanned, CancellationToken cancellationToken)
    {
        var optimizer = _optimizer!;
        var schedule = LearningRateSchedule.Create(
            Options.Schedule, Options.Stages[stage].Epochs, Math.Max(1, data.TrainBatches), Options.StepEpochs);
        var step = (long)(epoch - Options.FirstEpochOf(stage)) * data.TrainBatches;
        var groups = optimizer.ParamGroups.ToList();

        _model.train();
        KeepFrozenBatchNormInEval(_model);

        double lossSum = 0;
        long correct = 0;
        long seen = 0;
        var batchIndex = 0;
        var lr = groups[0].LearningRate;
        var trainClock = Stopwatch.StartNew();
        foreach (var batch in data.Train(epoch))
        {
            cancellationToken.ThrowIfCancellationRequested();
            using (batch)
            using (var scope = NewDisposeScope())
            {
                var factor = schedule.Factor(step);
                for (var g = 0; g < groups.Count; g++)
                {
                    groups[g].LearningRate = _groups[g].LearningRate * factor;
                }

                lr = groups[0].LearningRate;
                optimizer.zero_grad();
                var images = batch.Images.to(_device);
                var labels = batch.Labels.to(_device);
                var logits = _model.call(images);
                var loss = nn.functional.cross_entropy(logits, labels);
                loss.backward();
                optimizer.step();

                lossSum += loss.item<float>() * batch.Count;
                correct += logits.argmax(1).eq(labels).sum().item<long>();
                seen += batch.Count;
            }

            step++;
            batchIndex++;
            if (progress is not null)
            {
                var perStep = trainClock.Elapsed / batchIndex;
                var remaining = stepsPlanned - stepsBefore - batchIndex;
                progress.Report(new TrainingProgress(
                    TrainingPhase.Train, epoch + 1, Options.TotalEpochs, batchIndex, data.TrainBatches,
                    lossSum / Math.Max(1, seen), clock.Elapsed, perStep * Math.Max(0, remaining)));
            }
        }

        if (seen == 0)
        {
            throw new InvalidOperationException($"Epoch {epoch + 1} had no training batches.");
        }

        return (lossSum / seen, correct / (double)seen, lr);
    }

    private (double Loss, double Accuracy) Validate(
        EpochData data, int epoch, IProgress<TrainingProgress>? progress, Stopwatch clock,
        CancellationToken cancellationToken)
    {
        _model.eval();
        double lossSum = 0;
        long correct = 0;
        long seen = 0;
        var batchIndex = 0;
        using (no_grad())
        {
            foreach (var batch in data.Validation!())
            {
                cancellationToken.ThrowIfCancellationRequested();
                using (batch)
                using (var scope = NewDisposeScope())
                {
                    var images = batch.Images.to(_device);
                    var labels = batch.Labels.to(_device);
                    var logits = _model.call(images);
                    var loss = nn.functional.cross_entropy(logits, labels, reduction: nn.Reduction.Sum);
                    lossSum += loss.item<float>();
                    correct += logits.argmax(1).eq(labels).sum().item<long>();
                    seen += batch.Count;
                }

                batchIndex++;
                progress?.Report(new TrainingProgress(
                    TrainingPhase.Validate, epoch + 1, Options.TotalEpochs, batchIndex, data.ValidationBatches,
                    lossSum / Math.Max(1, seen), clock.Elapsed, null));
            }
        }

        return seen == 0 ? (double.NaN, double.NaN) : (lossSum / seen, correct / (double)seen);
    }

    private void UpdateBest(EpochMetrics metrics)
    {
        if (metrics.ValLoss is not { } loss || double.IsNaN(loss))
        {
            return;
        }

        if (loss < BestValidationLoss)
        {
            BestValidationLoss = loss;
            BestEpoch = metrics.Epoch;
            EpochsWithoutImprovement = 0;
        }
        else
        {
            EpochsWithoutImprovement++;
            if (Options.EarlyStoppingPatience is { } patience && EpochsWithoutImprovement >= patience)
            {
                StoppedEarly = true;
            }
        }
    }
}

/// <summary>The trainer's bookkeeping that a checkpoint carries so that a run can resume.</summary>
/// <param name="CompletedEpochs">Epochs finished.</param>
/// <param name="History">Metrics of every finished epoch.</param>
/// <param name="BestEpoch">1-based epoch of the lowest validation loss (0 when none).</param>
/// <param name="BestValidationLoss">The lowest validation loss, or null when none.</param>
/// <param name="EpochsWithoutImprovement">Epochs since the validation loss last improved.</param>
/// <param name="StoppedEarly">Whether early stopping ended the run.</param>
public sealed record TrainerState(
    int CompletedEpochs, IReadOnlyList<EpochMetrics> History, int BestEpoch, double? BestValidationLoss,
    int EpochsWithoutImprovement, bool StoppedEarly);
