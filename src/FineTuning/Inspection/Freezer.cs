using System.Runtime.CompilerServices;
using TorchSharp;
using TorchSharp.Modules;

namespace FineTuning.Inspection;

/// <summary>
/// Freezes and unfreezes parameters by dotted path prefix (<c>fc</c>, <c>layer4</c>, <c>classifier.6</c>), and keeps
/// the BatchNorm layers of the frozen part in evaluation mode so that their running statistics stop changing too.
/// Every method returns the model's <see cref="ParameterCounts"/> after the change.
/// </summary>
/// <remarks>
/// <para>
/// Freezing a parameter means <c>requires_grad = false</c>: autograd computes no gradient for it, and no optimizer
/// step changes it. That is not enough for BatchNorm: in training mode its <c>forward</c> updates the buffers
/// <c>running_mean</c>, <c>running_var</c> and <c>num_batches_tracked</c> from each batch, whether or not its
/// parameters are frozen, and <c>model.train()</c> puts every submodule back into training mode.
/// </para>
/// <para>
/// The mechanism: TorchSharp's <c>Module.train(bool)</c> is virtual, but BatchNorm2d is sealed and its parents
/// (ResNet, its private blocks, Sequential) hold it in private readonly fields, so replacing it with a subclass that
/// ignores <c>train()</c> would mean rewriting fields of classes this library does not own. Instead, each BatchNorm
/// whose parameters are all frozen gets a forward pre-hook that calls <c>eval()</c> on that one module before its
/// <c>forward</c> runs. TorchSharp runs pre-hooks in <c>Module.call</c>, and every TorchVision model and Sequential
/// invokes its children through <c>call</c>, so whatever <c>train()</c> did before, the frozen BatchNorm normalizes
/// with its stored statistics and leaves them untouched. The module itself is not replaced: its object identity,
/// parameters, buffers and state-dict keys (<c>weight</c>, <c>bias</c>, <c>running_mean</c>, <c>running_var</c>,
/// <c>num_batches_tracked</c>) stay exactly as they were. Unfreezing a BatchNorm removes its hook.
/// </para>
/// <para>
/// Limitation: code that calls a frozen BatchNorm's <c>forward</c> directly (bypassing <c>call</c>) skips hooks,
/// and after <c>model.train()</c> the module's <c>training</c> property reads <c>true</c> until its next call.
/// A BatchNorm without parameters (<c>affine: false</c>) follows the freeze decision for its own path.
/// </para>
/// </remarks>
public static class Freezer
{
    private static readonly ConditionalWeakTable<BatchNorm, Action> EvalLocks = new();

    /// <summary>
    /// Freezes every parameter except those under one of <paramref name="trainablePrefixes"/>, which become
    /// trainable; the usual first stage of fine-tuning (<c>FreezeAllBut(model, "fc")</c>).
    /// </summary>
    /// <param name="model">The model to change in place.</param>
    /// <param name="trainablePrefixes">Module paths that stay trainable; each must name something in the model.</param>
    /// <exception cref="ArgumentException">A prefix names no module or parameter.</exception>
    public static ParameterCounts FreezeAllBut(torch.nn.Module model, params string[] trainablePrefixes)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(trainablePrefixes);
        foreach (var prefix in trainablePrefixes)
        {
            RequireKnownPrefix(model, prefix);
        }

        return Apply(model, path => trainablePrefixes.Any(prefix => ModulePaths.IsUnder(path, prefix)));
    }

    /// <summary>Freezes every parameter under <paramref name="prefix"/>, leaving the rest as it is.</summary>
    /// <param name="model">The model to change in place.</param>
    /// <param name="prefix">A module path such as <c>layer1</c> or <c>layer4.0.bn1</c>.</param>
    /// <exception cref="ArgumentException">The prefix names no module or parameter.</exception>
    public static ParameterCounts Freeze(torch.nn.Module model, string prefix)
    {
        ArgumentNullException.ThrowIfNull(model);
        RequireKnownPrefix(model, prefix);
        return Apply(model, path => ModulePaths.IsUnder(path, prefix) ? false : null);
    }

    /// <summary>
    /// Makes every parameter under <paramref name="prefix"/> trainable and lets its BatchNorm layers follow
    /// <c>train()</c> again, leaving the rest as it is; the second stage of fine-tuning (<c>Unfreeze(model,
    /// "layer4")</c>, then build a new optimizer over the trainable parameters).
    /// </summary>
    /// <param name="model">The model to change in place.</param>
    /// <param name="prefix">A module path such as <c>layer4</c>.</param>
    /// <exception cref="ArgumentException">The prefix names no module or parameter.</exception>
    public static ParameterCounts Unfreeze(torch.nn.Module model, string prefix)
    {
        ArgumentNullException.ThrowIfNull(model);
        RequireKnownPrefix(model, prefix);
        return Apply(model, path => ModulePaths.IsUnder(path, prefix) ? true : null);
    }

    /// <summary>
    /// Freezes the model's own parameters and every top-level child registered before and including
    /// <paramref name="lastFrozenChild"/>, and makes every later top-level child trainable.
    /// For a ResNet, <c>FreezeUpTo(model, "layer3")</c> leaves <c>layer4</c> and <c>fc</c> trainable.
    /// </summary>
    /// <param name="model">The model to change in place.</param>
    /// <param name="lastFrozenChild">The name of a top-level child (<c>named_children()</c>).</param>
    /// <exception cref="ArgumentException">No top-level child has that name; the message lists them.</exception>
    public static ParameterCounts FreezeUpTo(torch.nn.Module model, string lastFrozenChild)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(lastFrozenChild);
        var names = model.named_children().Select(c => c.name).ToList();
        var index = names.IndexOf(lastFrozenChild);
        if (index < 0)
        {
            throw new ArgumentException(
                $"'{lastFrozenChild}' is not a top-level child of {ModulePaths.TypeName(model)}; " +
                $"its children, in registration order, are: {string.Join(", ", names)}.",
                nameof(lastFrozenChild));
        }

        var frozen = names.Take(index + 1).ToList();
        return Apply(model, path =>
        {
            var dot = path.IndexOf('.', StringComparison.Ordinal);
            var first = dot < 0 ? path : path[..dot];
            return dot >= 0 && !frozen.Contains(first);
        });
    }

    /// <summary>Makes every parameter trainable and removes every BatchNorm evaluation lock.</summary>
    /// <param name="model">The model to change in place.</param>
    public static ParameterCounts UnfreezeAll(torch.nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Apply(model, _ => true);
    }

    /// <summary>
    /// Paths of the BatchNorm layers that this class keeps in evaluation mode (those whose parameters are frozen).
    /// </summary>
    /// <param name="model">The model to look at.</param>
    public static IReadOnlyList<string> EvalLockedBatchNorms(torch.nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return ModulePaths.DepthFirst(model)
            .Where(m => m.Module is BatchNorm bn && EvalLocks.TryGetValue(bn, out _))
            .Select(m => m.Path)
            .ToList();
    }

    /// <summary>True when <paramref name="module"/> is a BatchNorm that this class keeps in evaluation mode.</summary>
    /// <param name="module">Any module.</param>
    public static bool IsEvalLocked(torch.nn.Module module) =>
        module is BatchNorm bn && EvalLocks.TryGetValue(bn, out _);

    // decide(path): true = trainable, false = frozen, null = leave as it is. Paths are parameter paths
    // (layer1.0.bn1.weight) and, for BatchNorm layers without parameters, module paths.
    private static ParameterCounts Apply(torch.nn.Module model, Func<string, bool?> decide)
    {
        foreach (var (path, parameter) in model.named_parameters())
        {
            var trainable = decide(path);
            if (trainable is bool value && parameter.requires_grad != value)
            {
                parameter.requires_grad = value;
            }
        }

        foreach (var (path, module) in ModulePaths.DepthFirst(model))
        {
            if (module is not BatchNorm bn)
            {
                continue;
            }

            var parameters = bn.parameters().ToList();
            var frozen = parameters.Count > 0 ? parameters.All(p => !p.requires_grad) : decide(path) is false;
            var unfrozen = parameters.Count > 0 ? !frozen : decide(path) is true;
            if (frozen)
            {
                Lock(bn);
            }
            else if (unfrozen)
            {
                Unlock(bn, model.training);
            }
        }

        return ParameterCounts.Of(model);
    }

    private static void Lock(BatchNorm bn)
    {
        bn.eval();
        if (EvalLocks.TryGetValue(bn, out _))
        {
            return;
        }

        var remover = bn.register_forward_pre_hook(KeepInEval);
        EvalLocks.Add(bn, remover.remove);
    }

    private static void Unlock(BatchNorm bn, bool training)
    {
        if (EvalLocks.TryGetValue(bn, out var remove))
        {
            remove();
            EvalLocks.Remove(bn);
            bn.train(training);
        }
    }

    private static void KeepInEval(torch.nn.Module module)
    {
        if (module.training)
        {
            module.eval();
        }
    }

    private static void RequireKnownPrefix(torch.nn.Module model, string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        if (prefix.Length == 0)
        {
            throw new ArgumentException("The path prefix is empty; name a module such as 'fc' or 'layer4'.");
        }

        var known = model.named_parameters().Any(p => ModulePaths.IsUnder(p.name, prefix)) ||
                    ModulePaths.DepthFirst(model).Any(m => m.Path.Length > 0 && ModulePaths.IsUnder(m.Path, prefix));
        if (!known)
        {
            var names = string.Join(", ", model.named_children().Select(c => c.name));
            throw new ArgumentException(
                $"No module or parameter of {ModulePaths.TypeName(model)} has the path '{prefix}'. " +
                $"Its top-level children are: {names}.", nameof(prefix));
        }
    }
}
