using static TorchSharp.torch;

namespace FineTuning.Tests.Inspection;

internal static class TensorAssert
{
    // Same shape, element type and bytes: bit-identical (torch's Tensor.equal is elementwise in TorchSharp).
    public static bool BitIdentical(Tensor a, Tensor b)
    {
        if (a.dtype != b.dtype || !a.shape.SequenceEqual(b.shape))
        {
            return false;
        }

        using var ca = a.detach().cpu().contiguous();
        using var cb = b.detach().cpu().contiguous();
        return ca.bytes.SequenceEqual(cb.bytes);
    }
}
