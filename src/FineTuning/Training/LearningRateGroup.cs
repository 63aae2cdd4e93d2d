using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace FineTuning.Training;

/// <summary>
/// A trainable part of the model and its learning rate: every parameter whose name starts with
/// <paramref name="Prefix"/> (for example <c>fc</c>, <c>layer4</c>; an empty prefix means every parameter).
/// Discriminative fine-tuning gives the new head the full rate and earlier stages smaller ones.
/// </summary>
/// <param name="Prefix">A module path prefix as in <c>named_parameters()</c>, without the trailing dot.</param>
/// <param name="LearningRate">The base learning rate of this group, before the schedule's factor.</param>
public sealed record LearningRateGroup(string Prefix, double LearningRate)
{
    /// <summary>Whether the parameter called <paramref name="parameterName"/> belongs to this group.</summary>
    public bool Matches(string parameterName) =>
        Prefix.Length == 0
        || parameterName == Prefix
        || parameterName.StartsWith(Prefix + ".", StringComparison.Ordinal);

    /// <summary>
    /// Makes exactly the parameters of <paramref name="groups"/> trainable (every other parameter frozen) and
    /// returns each group's parameters; a parameter matching several groups goes to the first. Frozen BatchNorm
    /// layers must also be kept in eval mode; <see cref="Trainer"/> does that after every <c>train()</c>.
    /// </summary>
    /// <exception cref="ArgumentException">A group matches no parameter of the model (a typo in a prefix).</exception>
    public static IReadOnlyList<(LearningRateGroup Group, IReadOnlyList<Parameter> Parameters)> Apply(
        Module model, IReadOnlyList<LearningRateGroup> groups)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(groups);
        var members = groups.Select(_ => new List<Parameter>()).ToList();
        foreach (var (name, parameter) in model.named_parameters())
        {
            var index = -1;
            for (var i = 0; i < groups.Count && index < 0; i++)
            {
                index = groups[i].Matches(name) ? i : -1;
            }

            parameter.requires_grad = index >= 0;
            if (index >= 0)
            {
                members[index].Add(parameter);
            }
        }

        for (var i = 0; i < groups.Count; i++)
        {
            if (members[i].Count == 0)
            {
                var names = string.Join(", ", model.named_children().Select(c => c.name));
                throw new ArgumentException(
                    $"No parameter of the model is under '{groups[i].Prefix}'. Top-level modules: {names}.",
                    nameof(groups));
            }
        }

        return groups.Select((g, i) => (g, (IReadOnlyList<Parameter>)members[i])).ToList();
    }
}
