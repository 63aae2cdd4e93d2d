using static TorchSharp.torch;

namespace FineTuning.Data;

/// <summary>
/// A batch of decoded, transformed images and their labels. The batch owns both tensors: dispose it (or let a
/// dispose scope that was open when it was created do so) once the step that uses it is done.
/// </summary>
public sealed class Batch : IDisposable
{
    /// <summary>Creates a batch that takes ownership of <paramref name="images"/> and <paramref
    /// name="labels"/>.</summary>
    public Batch(Tensor images, Tensor labels, IReadOnlyList<string> paths)
    {
        Images = images;
        Labels = labels;
        Paths = paths;
    }

    /// <summary>Images, float32 [N, 3, H, W], normalized with the model's <see cref="Models.Preset"/>.</summary>
    public Tensor Images { get; }

    /// <summary>Class indices, int64 [N].</summary>
    public Tensor Labels { get; }

    /// <summary>The image files, in batch order.</summary>
    public IReadOnlyList<string> Paths { get; }

    /// <summary>Number of images in the batch.</summary>
    public int Count => Paths.Count;

    /// <inheritdoc />
    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}
