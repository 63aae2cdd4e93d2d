namespace FineTuning.Data;

/// <summary>
/// Derives independent, reproducible random generators from a seed and a few integers. <see cref="HashCode"/> is
/// randomized per process, so it cannot be used for this.
/// </summary>
internal static class Seeds
{
    /// <summary>Purposes, so that generators for different uses of the same numbers are unrelated.</summary>
    internal const int Augment = 0x41, Shuffle = 0x53, Split = 0x73, Synthetic = 0x47;

    /// <summary>A generator determined by the purpose, seed and two further numbers only.</summary>
    internal static Random For(int purpose, int seed, int a, int b = 0)
    {
        ulong h = Mix(((ulong)(uint)purpose << 32) ^ (uint)seed);
        h = Mix(h ^ (uint)a);
        h = Mix(h ^ ((ulong)(uint)b << 16));
        return new Random((int)(h & 0x7FFFFFFF));
    }

    // SplitMix64's finalizer: a well-mixed 64-bit hash of a 64-bit input.
    private static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
