using System.Globalization;
using TorchSharp;

namespace FineTuning.Inspection;

/// <summary>
/// How many parameters a model has and how many of them will be trained (<c>requires_grad</c>), as element counts
/// and as bytes of parameter storage (<c>numel * element_size</c>; a gradient of a trainable parameter costs the
/// same bytes again, an Adam optimizer twice that).
/// </summary>
/// <param name="Trainable">Elements in parameters with <c>requires_grad == true</c>.</param>
/// <param name="Total">Elements in all parameters (buffers such as BatchNorm running statistics excluded).</param>
/// <param name="TrainableBytes">Bytes of storage held by the trainable parameters.</param>
/// <param name="TotalBytes">Bytes of storage held by all parameters.</param>
public readonly record struct ParameterCounts(long Trainable, long Total, long TrainableBytes, long TotalBytes)
{
    /// <summary>Elements in frozen parameters (<c>requires_grad == false</c>).</summary>
    public long Frozen => Total - Trainable;

    /// <summary>Share of the parameters that are trainable, from 0 to 1 (0 for a model without parameters).</summary>
    public double TrainableFraction => Total == 0 ? 0 : (double)Trainable / Total;

    /// <summary>Counts the parameters of <paramref name="model"/> (each distinct parameter once).</summary>
    /// <param name="model">Any module.</param>
    public static ParameterCounts Of(torch.nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        long trainable = 0, total = 0, trainableBytes = 0, totalBytes = 0;
        foreach (var (_, p) in model.named_parameters())
        {
            var n = p.numel();
            var bytes = n * p.element_size();
            total += n;
            totalBytes += bytes;
            if (p.requires_grad)
            {
                trainable += n;
                trainableBytes += bytes;
            }
        }

        return new ParameterCounts(trainable, total, trainableBytes, totalBytes);
    }

    /// <summary>A one-line summary such as <c>trainable 5,130 of 11,181,642 parameters (0.05 %)</c>.</summary>
    public override string ToString() =>
        string.Create(
            CultureInfo.InvariantCulture,
            $"trainable {Trainable:N0} of {Total:N0} parameters ({TrainableFraction * 100:0.##} %)");
}
