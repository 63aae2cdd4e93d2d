using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FineTuning.Costs;

// Interim freezing for the probe until FineTuning.Inspection.Freezer is on main; then this file goes.
internal static class ProbeFreezing
{
    public static void FreezeAllBut(nn.Module model, string head)
    {
        foreach (var (name, parameter) in model.named_parameters())
        {
            parameter.requires_grad = name == head || name.StartsWith(head + ".", StringComparison.Ordinal);
        }
    }

    public static void UnfreezeAll(nn.Module model)
    {
        foreach (var parameter in model.parameters())
        {
            parameter.requires_grad = true;
        }
    }

    public static void KeepFrozenBatchNormInEval(nn.Module model)
    {
        foreach (var (_, module) in model.named_modules())
        {
            if (module is BatchNorm2d && module.parameters().All(p => !p.requires_grad))
            {
                module.eval();
            }
        }
    }
}
