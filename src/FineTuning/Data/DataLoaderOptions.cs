using static TorchSharp.torch;

namespace FineTuning.Data;

/// <summary>How a <see cref="DataLoader"/> batches, shuffles and decodes.</summary>
public sealed record DataLoaderOptions
{
    /// <summary>Images per batch. The last batch of an epoch may be smaller.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Reshuffle the samples every epoch (from <see cref="Seed"/> and the epoch number).</summary>
    public bool Shuffle { get; init; }

    /// <summary>Seed of the shuffle and of the training augmentation.</summary>
    public int Seed { get; init; }

    /// <summary>Decoding threads; defaults to the number of processors.</summary>
    public int Workers { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// How many batches may be decoded ahead of the one being consumed. Bounds memory: about
    /// Prefetch x BatchSize x 3 x H x W x 4 bytes (2 x 32 images of 224 x 224 is 38 MiB).
    /// </summary>
    public int Prefetch { get; init; } = 2;

    /// <summary>Where batches are placed; null keeps them on the CPU.</summary>
    public Device? Device { get; init; }

    /// <summary>Receives one warning per file that cannot be decoded (the file is then skipped for good).</summary>
    public IProgress<ImageWarning>? Warnings { get; init; }

    internal void Validate()
    {
        if (BatchSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "The batch size must be at least 1.");
        }

        if (Workers < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Workers), Workers, "At least one worker is needed.");
        }

        if (Prefetch < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Prefetch), Prefetch, "Prefetch must be at least 1 batch.");
        }
    }
}
