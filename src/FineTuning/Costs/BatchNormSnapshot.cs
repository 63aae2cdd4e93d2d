using static TorchSharp.torch;

namespace FineTuning.Costs;

/// <summary>
/// A copy of every BatchNorm running mean and variance of a model, to tell afterwards whether training changed
/// them (it does in train mode even when every parameter is frozen).
/// </summary>
public sealed class BatchNormSnapshot : IDisposable
{
    private readonly List<(string Name, Tensor Copy)> _copies;

    private BatchNormSnapshot(List<(string Name, Tensor Copy)> copies) => _copies = copies;

    /// <summary>Number of running-statistics buffers copied (two per BatchNorm layer).</summary>
    public int Count => _copies.Count;

    /// <summary>Copies the running statistics of <paramref name="model"/> now.</summary>
    /// <param name="model">The model.</param>
    public static BatchNormSnapshot Take(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var copies = new List<(string, Tensor)>();
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            foreach (var (name, buffer) in RunningStatistics(model))
            {
                // The copies outlive the scope: this snapshot owns them and disposes them itself.
                copies.Add((name, buffer.detach().clone().DetachFromDisposeScope()));
            }
        }

        return new BatchNormSnapshot(copies);
    }

    /// <summary>Names of the buffers that differ now from the snapshot.</summary>
    /// <param name="model">The same model the snapshot was taken of.</param>
    public IReadOnlyList<string> ChangedBuffers(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var scope = NewDisposeScope();
        var current = RunningStatistics(model).ToDictionary(b => b.Name, b => b.Buffer);
        return _copies
            .Where(c => !current.TryGetValue(c.Name, out var now) || !now.allclose(c.Copy, rtol: 0, atol: 0))
            .Select(c => c.Name)
            .ToList();
    }

    /// <summary>Whether any running statistic differs now from the snapshot.</summary>
    /// <param name="model">The same model the snapshot was taken of.</param>
    public bool Changed(nn.Module model) => ChangedBuffers(model).Count > 0;

    /// <summary>Releases the copies.</summary>
    public void Dispose()
    {
        foreach (var (_, copy) in _copies)
        {
            copy.Dispose();
        }
    }

    private static IEnumerable<(string Name, Tensor Buffer)> RunningStatistics(nn.Module model) =>
        model.named_buffers()
            .Where(b => b.name.EndsWith("running_mean", StringComparison.Ordinal)
                || b.name.EndsWith("running_var", StringComparison.Ordinal));
}
