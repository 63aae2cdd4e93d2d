using System.Diagnostics;
using FineTuning.Inspection;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FineTuning.Costs;

/// <summary>
/// Trains a model's head in one <see cref="CostMode"/>, one timed step at a time: it freezes (or unfreezes) the
/// model, builds the SGD optimizer over the parameters the mode gives it, and runs the mode's forward pass.
/// </summary>
/// <remarks>
/// The model must be a network whose top-level children, run in registration order, compute its forward pass
/// (true of torchvision's ResNets: conv1, bn1, relu, maxpool, layer1..layer4, avgpool, flatten, fc), with the head
/// among them. <see cref="CostMode.FrozenNoGrad"/> relies on that order; the tests compare its logits with the
/// model's own forward.
/// </remarks>
public sealed class CostTrainer : IDisposable
{
    private readonly nn.Module<Tensor, Tensor> _model;
    private readonly IReadOnlyList<(string Name, nn.Module<Tensor, Tensor> Module)> _backbone;
    private readonly SGD _optimizer;
    private readonly Device _device;

    /// <summary>Prepares <paramref name="model"/> for <paramref name="mode"/> and puts it in training mode.</summary>
    /// <param name="model">The model, already on its device, with a head named <see
    /// cref="CostProbeOptions.HeadName"/>.</param>
    /// <param name="mode">Which parameters are frozen and which the optimizer updates.</param>
    /// <param name="options">Learning rate, momentum and the head's name.</param>
    public CostTrainer(nn.Module<Tensor, Tensor> model, CostMode mode, CostProbeOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        _model = model;
        Mode = mode;
        HeadName = options.HeadName;

        var children = model.named_children().ToList();
        var head = children.FirstOrDefault(c => c.name == options.HeadName).module
            ?? throw new ArgumentException(
                $"The model has no top-level module named '{options.HeadName}'; its children are " +
                $"{string.Join(", ", children.Select(c => c.name))}.", nameof(options));
        Head = head as nn.Module<Tensor, Tensor>
            ?? throw new ArgumentException($"'{options.HeadName}' is not a tensor-to-tensor module.", nameof(options));
        _backbone = children
            .Where(c => c.name != options.HeadName)
            .Select(c => (c.name, c.module as nn.Module<Tensor, Tensor>
                ?? throw new ArgumentException($"Top-level module '{c.name}' is not a tensor-to-tensor module.")))
            .ToList();

        // The library's freeze: frozen BatchNorm layers stay in eval mode even after model.train().
        if (CostModes.FreezesBackbone(mode))
        {
            Freezer.FreezeAllBut(model, options.HeadName);
        }
        else
        {
            Freezer.UnfreezeAll(model);
        }

        var optimized = mode == CostMode.Unfrozen ? model.parameters() : Head.parameters();
        OptimizedParameters = optimized.Sum(p => p.numel());
        _optimizer = optim.SGD(mode == CostMode.Unfrozen ? model.parameters() : Head.parameters(),
            options.LearningRate, options.Momentum);
        _device = model.parameters().First().device;
        Train();
    }

    /// <summary>The model being trained.</summary>
    public nn.Module<Tensor, Tensor> Model => _model;

    /// <summary>The mode this trainer runs.</summary>
    public CostMode Mode { get; }

    /// <summary>The head's name among the model's top-level children.</summary>
    public string HeadName { get; }

    /// <summary>The head module, the only part the optimizer updates except in <see
    /// cref="CostMode.Unfrozen"/>.</summary>
    public nn.Module<Tensor, Tensor> Head { get; }

    /// <summary>Number of parameter elements the optimizer updates.</summary>
    public long OptimizedParameters { get; }

    /// <summary>The SGD optimizer (momentum buffers are its state).</summary>
    public optim.Optimizer Optimizer => _optimizer;

    /// <summary>
    /// Puts the model in training mode. In the frozen modes <see cref="Freezer"/> keeps the frozen BatchNorm layers
    /// in eval mode, so their running statistics stay as they were.
    /// </summary>
    public void Train() => _model.train();

    /// <summary>
    /// The mode's forward pass: the model's own forward, or in <see cref="CostMode.FrozenNoGrad"/> the backbone
    /// block by block under no_grad, each intermediate disposed once the next block has used it, then the head.
    /// </summary>
    /// <param name="input">A batch [N, 3, H, W] on the model's device; it is not disposed.</param>
    public Tensor Forward(Tensor input)
    {
        if (Mode != CostMode.FrozenNoGrad)
        {
            return _model.call(input);
        }

        var x = input;
        using (no_grad())
        {
            foreach (var (_, block) in _backbone)
            {
                var next = block.call(x);
                if (!ReferenceEquals(x, input))
                {
                    x.Dispose();
                }

                x = next;
            }
        }

        var logits = Head.call(x);
        if (!ReferenceEquals(x, input))
        {
            x.Dispose();
        }

        return logits;
    }

    /// <summary>
    /// One training step: the optimizer's zero_grad, forward, cross-entropy loss, backward, optimizer step. Each
    /// clock read waits for the device (CUDA synchronize) first.
    /// </summary>
    /// <param name="input">The batch [N, 3, H, W].</param>
    /// <param name="labels">Class indices [N], int64.</param>
    public StepTiming Step(Tensor input, Tensor labels)
    {
        Synchronize();
        var start = Stopwatch.GetTimestamp();

        // Inside the scope: the optimizer's zero_grad() leaves a managed wrapper per zeroed gradient behind.
        using var scope = NewDisposeScope();
        _optimizer.zero_grad();
        var logits = Forward(input);
        var loss = nn.functional.cross_entropy(logits, labels);
        Synchronize();
        var forwardEnd = Stopwatch.GetTimestamp();

        loss.backward();
        Synchronize();
        var backwardEnd = Stopwatch.GetTimestamp();

        _optimizer.step();
        Synchronize();
        var end = Stopwatch.GetTimestamp();

        return new StepTiming(
            Stopwatch.GetElapsedTime(start, forwardEnd).TotalMilliseconds,
            Stopwatch.GetElapsedTime(forwardEnd, backwardEnd).TotalMilliseconds,
            Stopwatch.GetElapsedTime(backwardEnd, end).TotalMilliseconds,
            Stopwatch.GetElapsedTime(start, end).TotalMilliseconds,
            loss.item<float>());
    }

    /// <summary>
    /// Calls the optimizer's <c>zero_grad()</c>. In TorchSharp 0.107 it fills the gradients of the parameters it
    /// was given with zeros and keeps them allocated (unlike <c>Module.zero_grad()</c>, which releases them); the
    /// gradients of parameters it was not given keep their values.
    /// </summary>
    public void ZeroOptimizerGradients()
    {
        using var scope = NewDisposeScope();
        _optimizer.zero_grad();
    }

    /// <summary>Bytes of the optimizer's state, read from SGD's momentum buffers (zero before the first
    /// step).</summary>
    public long OptimizerStateBytes()
    {
        using var scope = NewDisposeScope();
        long bytes = 0;
        foreach (var state in _optimizer.state_dict().State.OfType<SGD.State>())
        {
            if (state.momentum_buffer is { } buffer)
            {
                bytes += buffer.numel() * buffer.element_size();
            }
        }

        return bytes;
    }

    /// <summary>Releases the optimizer and its momentum buffers.</summary>
    public void Dispose() => _optimizer.Dispose();

    private void Synchronize()
    {
        if (_device.type == DeviceType.CUDA)
        {
            cuda.synchronize(_device);
        }
    }
}

/// <summary>Milliseconds of the parts of one training step, and its loss.</summary>
/// <param name="ForwardMs">Forward pass and loss.</param>
/// <param name="BackwardMs">Backward pass.</param>
/// <param name="OptimizerMs">Optimizer step.</param>
/// <param name="StepMs">The whole step, zero_grad included.</param>
/// <param name="Loss">The batch's cross-entropy loss.</param>
public sealed record StepTiming(double ForwardMs, double BackwardMs, double OptimizerMs, double StepMs, float Loss);
