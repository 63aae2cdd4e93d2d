using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FineTuning.Training;

/// <summary>The optimizers the trainer offers.</summary>
public enum OptimizerKind
{
    /// <summary>Stochastic gradient descent with momentum (0.9 by default), the classic fine-tuning choice.</summary>
    Sgd,

    /// <summary>Adam with decoupled weight decay; less sensitive to the learning rate.</summary>
    AdamW,
}

/// <summary>Builds TorchSharp optimizers over trainable parameter groups only.</summary>
public static class Optimizers
{
    /// <summary>
    /// Creates an optimizer with one parameter group per entry of <paramref name="groups"/>, each with its own
    /// learning rate. Only these parameters are given to it: TorchSharp's Adam-style optimizers allocate state
    /// for every parameter they are given (FINDINGS 3).
    /// </summary>
    /// <param name="kind">SGD with momentum or AdamW.</param>
    /// <param name="groups">The groups and their parameters, from <see cref="LearningRateGroup.Apply"/>.</param>
    /// <param name="momentum">SGD momentum (ignored by AdamW, which uses betas 0.9 and 0.999).</param>
    /// <param name="weightDecay">L2 penalty for SGD, decoupled decay for AdamW.</param>
    public static optim.Optimizer Create(
        OptimizerKind kind,
        IReadOnlyList<(LearningRateGroup Group, IReadOnlyList<Parameter> Parameters)> groups,
        double momentum = 0.9,
        double weightDecay = 0.0)
    {
        ArgumentNullException.ThrowIfNull(groups);
        if (groups.Count == 0)
        {
            throw new ArgumentException("The optimizer needs at least one trainable parameter group.", nameof(groups));
        }

        var firstRate = groups[0].Group.LearningRate;
        return kind switch
        {
            OptimizerKind.Sgd => optim.SGD(
                groups.Select(g => new SGD.ParamGroup(g.Parameters, g.Group.LearningRate, momentum,
                    weight_decay: weightDecay)).ToList(),
                firstRate, momentum, weight_decay: weightDecay),
            OptimizerKind.AdamW => optim.AdamW(
                groups.Select(g => new AdamW.ParamGroup(g.Parameters, g.Group.LearningRate,
                    weight_decay: weightDecay)).ToList(),
                firstRate, weight_decay: weightDecay),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown optimizer."),
        };
    }
}
