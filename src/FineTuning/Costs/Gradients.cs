using static TorchSharp.torch;

namespace FineTuning.Costs;

/// <summary>Counts the gradient tensors a model's parameters hold right now, and their bytes.</summary>
public static class Gradients
{
    /// <summary>
    /// The number of parameters whose <c>grad</c> is set, and the bytes of those gradients (element count times
    /// element size): exact, not estimated.
    /// </summary>
    /// <param name="model">The model to inspect.</param>
    public static (int Tensors, long Bytes) Of(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);

        // Reading .grad wraps the native gradient in a new managed tensor; the scope releases those wrappers.
        using var scope = NewDisposeScope();
        var tensors = 0;
        long bytes = 0;
        foreach (var parameter in model.parameters())
        {
            if (parameter.grad is { } gradient)
            {
                tensors++;
                bytes += gradient.numel() * gradient.element_size();
            }
        }

        return (tensors, bytes);
    }
}
