using static TorchSharp.torch;

namespace FineTuning.Costs;

// Records, after each backward, the gradient norm of the first backbone parameter and of the head's first
// parameter: the evidence that gradients the optimizer never zeroes keep growing.
internal sealed class GradientTraceRecorder
{
    private readonly string _backboneName;
    private readonly TorchSharp.Modules.Parameter _backbone;
    private readonly string _headName;
    private readonly TorchSharp.Modules.Parameter _head;
    private readonly List<double?> _backboneNorms = [];
    private readonly List<double?> _headNorms = [];

    public GradientTraceRecorder(nn.Module model, string head)
    {
        var parameters = model.named_parameters().ToList();
        (_backboneName, _backbone) = parameters.First(p => !IsHead(p.name, head));
        (_headName, _head) = parameters.First(p => IsHead(p.name, head));
    }

    public void Record()
    {
        _backboneNorms.Add(Norm(_backbone));
        _headNorms.Add(Norm(_head));
    }

    public GradientTrace ToTrace() => new(_backboneName, _backboneNorms, _headName, _headNorms);

    private static bool IsHead(string name, string head) =>
        name == head || name.StartsWith(head + ".", StringComparison.Ordinal);

    private static double? Norm(TorchSharp.Modules.Parameter parameter)
    {
        using var scope = NewDisposeScope();
        return parameter.grad is { } gradient ? Math.Round(gradient.norm().item<float>(), 6) : null;
    }
}
