using FineTuning.Data;
using static TorchSharp.torch;

namespace FineTuning.Training;

/// <summary>
/// Inputs already in memory (for example cached backbone features) with their labels and source files, served as
/// <see cref="Batch"/>es in any order. The set owns its tensors; each batch owns copies of its rows.
/// </summary>
public sealed class TensorDataSet : IDisposable
{
    /// <summary>Creates a set that takes ownership of <paramref name="inputs"/> [N, ...] and <paramref name="labels"/>
    /// [N].</summary>
    public TensorDataSet(Tensor inputs, Tensor labels, IReadOnlyList<string> paths)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(paths);
        if (inputs.shape[0] != labels.shape[0] || labels.shape[0] != paths.Count)
        {
            throw new ArgumentException(
                $"Inputs ({inputs.shape[0]}), labels ({labels.shape[0]}) and paths ({paths.Count}) differ in length.");
        }

        Inputs = inputs;
        Labels = labels;
        Paths = paths;
    }

    /// <summary>The inputs, [N, ...].</summary>
    public Tensor Inputs { get; }

    /// <summary>The labels, int64 [N].</summary>
    public Tensor Labels { get; }

    /// <summary>Where each row came from.</summary>
    public IReadOnlyList<string> Paths { get; }

    /// <summary>Number of rows.</summary>
    public int Count => Paths.Count;

    /// <summary>Number of batches of <paramref name="batchSize"/> rows (the last one may be smaller).</summary>
    public int BatchCount(int batchSize) => (Count + batchSize - 1) / batchSize;

    /// <summary>
    /// Batches of <paramref name="batchSize"/> rows in the order <paramref name="order"/> (row indices; null for
    /// the stored order). The caller disposes each batch.
    /// </summary>
    public IEnumerable<Batch> Batches(int batchSize, IReadOnlyList<int>? order = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var rows = order ?? Enumerable.Range(0, Count).ToArray();
        for (var start = 0; start < rows.Count; start += batchSize)
        {
            var take = rows.Skip(start).Take(batchSize).Select(i => (long)i).ToArray();
            Batch batch;
            using (var index = tensor(take, dtype: ScalarType.Int64))
            {
                batch = new Batch(
                    Inputs.index_select(0, index).DetachFromDisposeScope(),
                    Labels.index_select(0, index).DetachFromDisposeScope(),
                    take.Select(i => Paths[(int)i]).ToList());
            }

            yield return batch;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Inputs.Dispose();
        Labels.Dispose();
    }
}
