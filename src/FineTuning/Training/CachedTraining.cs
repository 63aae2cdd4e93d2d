using FineTuning.Data;

namespace FineTuning.Training;

/// <summary>
/// Trains a head on cached features exactly as the whole frozen model would train on images: same batches, same
/// order, same rates. Use with <see cref="FeatureCache"/>; the trainer then runs on the head module alone.
/// </summary>
public static class CachedTraining
{
    /// <summary>
    /// Epoch data over cached features whose epoch order is the image loader's: <paramref name="orderOf"/> gives the
    /// sample indices of epoch <c>e</c> (for example <c>DataLoader.OrderOf</c>), into <paramref name="samples"/>.
    /// </summary>
    public static EpochData Epochs(
        TensorDataSet train, IReadOnlyList<ImageSample> samples, Func<int, int[]> orderOf, int batchSize,
        TensorDataSet? validation)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(orderOf);
        var rowOf = train.Paths.Select((path, row) => (path, row)).ToDictionary(p => p.path, p => p.row);
        return new EpochData(
            epoch => train.Batches(batchSize, orderOf(epoch)
                .Where(i => rowOf.ContainsKey(samples[i].Path))
                .Select(i => rowOf[samples[i].Path]).ToArray()),
            train.BatchCount(batchSize),
            validation is null ? null : () => validation.Batches(batchSize),
            validation?.BatchCount(batchSize) ?? 0);
    }

    /// <summary>
    /// The same options for a trainer that runs on the head module itself: every group's prefix
    /// <paramref name="headPath"/> becomes the empty prefix (all of the head's parameters).
    /// </summary>
    /// <exception cref="ArgumentException">A stage trains something outside the head, so features cannot be
    /// cached.</exception>
    public static TrainingOptions ForHeadModule(TrainingOptions options, string headPath)
    {
        ArgumentNullException.ThrowIfNull(options);
        var stages = options.Stages.Select(stage => stage with
        {
            Groups = stage.Groups.Select(g => g.Prefix == headPath
                ? g with { Prefix = "" }
                : throw new ArgumentException(
                    $"Feature caching needs a frozen backbone, but a stage trains '{g.Prefix}'.", nameof(options)))
                .ToList(),
        }).ToList();
        return options with { Stages = stages };
    }
}
