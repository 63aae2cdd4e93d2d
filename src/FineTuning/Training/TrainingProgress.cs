namespace FineTuning.Training;

/// <summary>Which part of an epoch a progress report comes from.</summary>
public enum TrainingPhase
{
    /// <summary>Optimizer steps over the training batches.</summary>
    Train,

    /// <summary>Loss and accuracy over the validation batches, no gradients.</summary>
    Validate,

    /// <summary>Computing backbone features once for the feature cache.</summary>
    Features,
}

/// <summary>A progress report, sent after every batch.</summary>
/// <param name="Phase">Training, validation or feature extraction.</param>
/// <param name="Epoch">The epoch, 1-based.</param>
/// <param name="Epochs">Total epochs of the run.</param>
/// <param name="Batch">Batches done in this phase, 1-based.</param>
/// <param name="Batches">Expected batches in this phase (0 when unknown).</param>
/// <param name="Loss">Mean loss over the phase so far (cross-entropy, nats); NaN where not computed.</param>
/// <param name="Elapsed">Time since the run (this call to Fit) started.</param>
/// <param name="Eta">Estimated time until the last epoch ends, from the mean time per training batch so far.</param>
public sealed record TrainingProgress(
    TrainingPhase Phase, int Epoch, int Epochs, int Batch, int Batches, double Loss, TimeSpan Elapsed, TimeSpan? Eta);

/// <summary>What one epoch measured.</summary>
/// <param name="Epoch">The epoch, 1-based.</param>
/// <param name="Stage">The stage index, 0-based.</param>
/// <param name="TrainLoss">Mean training cross-entropy (nats per image) while the weights changed.</param>
/// <param name="TrainAccuracy">Training accuracy (0..1) over the epoch.</param>
/// <param name="ValLoss">Mean validation cross-entropy after the epoch; null without validation data.</param>
/// <param name="ValAccuracy">Validation accuracy (0..1) after the epoch; null without validation data.</param>
/// <param name="LearningRate">The first group's learning rate at the epoch's last step.</param>
/// <param name="Seconds">Wall-clock seconds of the epoch, validation included.</param>
public sealed record EpochMetrics(
    int Epoch, int Stage, double TrainLoss, double TrainAccuracy, double? ValLoss, double? ValAccuracy,
    double LearningRate, double Seconds);
