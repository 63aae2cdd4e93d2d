namespace FineTuning.Training;

/// <summary>
/// The training order of each epoch, a pure function of (seed, epoch): a resumed run reshuffles exactly as the
/// uninterrupted one would have, with no random-generator state to save. Uses <see cref="Random"/> with a seed,
/// whose sequence .NET keeps stable across versions for seeded instances.
/// </summary>
public static class SeededOrder
{
    /// <summary>The seed for epoch <paramref name="epoch"/> (0-based) of a run seeded with <paramref
    /// name="seed"/>.</summary>
    public static int EpochSeed(int seed, int epoch) => unchecked((seed * 1_000_003) + (epoch * 7919) + 17);

    /// <summary>A permutation of 0..count-1 for epoch <paramref name="epoch"/> of a run seeded with <paramref
    /// name="seed"/>.</summary>
    public static int[] Permutation(int count, int seed, int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var order = Enumerable.Range(0, count).ToArray();
        new Random(EpochSeed(seed, epoch)).Shuffle(order);
        return order;
    }

    /// <summary>The items of <paramref name="items"/> in the order of <see cref="Permutation"/>.</summary>
    public static IReadOnlyList<T> Shuffle<T>(IReadOnlyList<T> items, int seed, int epoch)
    {
        ArgumentNullException.ThrowIfNull(items);
        return Permutation(items.Count, seed, epoch).Select(i => items[i]).ToList();
    }
}
