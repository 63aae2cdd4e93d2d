namespace FineTuning.Costs;

/// <summary>
/// The ways of training only a new head that the cost probe compares on the same model, batch and input.
/// </summary>
public enum CostMode
{
    /// <summary>Every parameter but the head is frozen; frozen BatchNorm layers stay in eval mode.</summary>
    Frozen,

    /// <summary>Nothing is frozen and the optimizer updates every parameter: full fine-tuning.</summary>
    Unfrozen,

    /// <summary>
    /// Nothing is frozen, but the optimizer is given only the head: autograd still computes gradients for every
    /// layer, and since the optimizer zeroes only the head's, the backbone's accumulate step after step.
    /// </summary>
    HeadOnlyOptimizer,

    /// <summary>
    /// The frozen backbone runs block by block under <c>torch.no_grad()</c>, each intermediate disposed as soon as
    /// the next block has consumed it; the head trains on its output.
    /// </summary>
    FrozenNoGrad,
}

/// <summary>The command-line and JSON names of <see cref="CostMode"/> values.</summary>
public static class CostModes
{
    /// <summary>Every mode, in the order reports list them.</summary>
    public static IReadOnlyList<CostMode> All { get; } =
        [CostMode.Frozen, CostMode.Unfrozen, CostMode.HeadOnlyOptimizer, CostMode.FrozenNoGrad];

    /// <summary>The kebab-case name used on the command line and in JSON, for example <c>frozen-no-grad</c>.</summary>
    public static string Name(CostMode mode) => mode switch
    {
        CostMode.Frozen => "frozen",
        CostMode.Unfrozen => "unfrozen",
        CostMode.HeadOnlyOptimizer => "head-only-optimizer",
        CostMode.FrozenNoGrad => "frozen-no-grad",
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown cost mode."),
    };

    /// <summary>Parses a name from <see cref="Name"/>; throws a message listing the valid names otherwise.</summary>
    /// <param name="name">A mode name such as <c>frozen</c>.</param>
    public static CostMode Parse(string name)
    {
        foreach (var mode in All)
        {
            if (string.Equals(Name(mode), name, StringComparison.OrdinalIgnoreCase))
            {
                return mode;
            }
        }

        throw new ArgumentException(
            $"'{name}' is not a cost mode; use one of {string.Join(", ", All.Select(Name))}.");
    }

    /// <summary>Whether the mode freezes every parameter but the head.</summary>
    public static bool FreezesBackbone(CostMode mode) => mode is CostMode.Frozen or CostMode.FrozenNoGrad;
}
