using System.Runtime.InteropServices;
using TorchSharp;

namespace FineTuning.Inspection;

/// <summary>One call of a module during a traced forward pass.</summary>
/// <param name="Order">Position in the order in which calls started (0 = the model itself).</param>
/// <param name="Path">Dotted module path; empty for the model itself.</param>
/// <param name="Type">The module's class name (<c>Conv2d</c>, <c>Sequential</c>).</param>
/// <param name="Depth">Nesting depth of the call: 0 for the model, 1 for its direct children, and so on.</param>
/// <param name="InputShape">Shape of the tensor the module received.</param>
/// <param name="OutputShape">Shape of the tensor it returned.</param>
/// <param name="Module">The module that ran.</param>
public sealed record ModuleCall(
    int Order, string Path, string Type, int Depth, long[] InputShape, long[] OutputShape, torch.nn.Module Module);

/// <summary>
/// The modules a model ran for one dummy input, in the order they started, found with forward hooks; registration
/// order (what a printout shows) is not always execution order, and some registered modules never run.
/// </summary>
/// <param name="Calls">Every module call in start order, the model itself first.</param>
/// <param name="OutputShape">Shape of the model's output.</param>
public sealed record ModuleTrace(IReadOnlyList<ModuleCall> Calls, long[] OutputShape)
{
    /// <summary>
    /// Runs <paramref name="model"/> once on a random input of <paramref name="inputShape"/>, in evaluation mode
    /// and under <c>no_grad</c>, recording each module call through forward pre- and post-hooks. Afterwards every
    /// hook is removed, every module's training flag is what it was, and every tensor of the run is disposed.
    /// </summary>
    /// <param name="model">The model; only modules taking and returning one tensor can be hooked, others are not
    /// listed (their tensor-to-tensor children still are).</param>
    /// <param name="inputShape">Input shape including the batch dimension, e.g. <c>[1, 3, 224, 224]</c>.</param>
    /// <exception cref="ArgumentException">The shape is empty or has a non-positive dimension, or the model is not a
    /// module from tensor to tensor.</exception>
    /// <exception cref="InvalidOperationException">The forward pass failed for this input; the message says which
    /// input shape and why.</exception>
    public static ModuleTrace Run(torch.nn.Module model, long[] inputShape)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputShape);
        if (inputShape.Length == 0 || inputShape.Any(d => d <= 0))
        {
            throw new ArgumentException(
                $"The input shape [{string.Join(", ", inputShape)}] must list positive sizes, batch first, " +
                "for example [1, 3, 224, 224].", nameof(inputShape));
        }

        if (model is not torch.nn.Module<torch.Tensor, torch.Tensor> root)
        {
            throw new ArgumentException(
                $"{ModulePaths.TypeName(model)} does not take one tensor and return one; it cannot be traced.",
                nameof(model));
        }

        var modules = ModulePaths.DepthFirst(model).ToList();
        var modes = modules.Select(m => m.Module.training).ToList();
        var calls = new List<ModuleCall>();
        var open = new Stack<int>();
        var depthOf = new Dictionary<torch.nn.Module, int>(ReferenceEqualityComparer.Instance);
        var removers = new List<Action>();
        try
        {
            foreach (var (path, module) in modules)
            {
                if (module is not torch.nn.Module<torch.Tensor, torch.Tensor> hookable)
                {
                    continue;
                }

                depthOf.TryAdd(module, path.Length == 0 ? 0 : path.Count(c => c == '.') + 1);
                var modulePath = path;
                var pre = hookable.register_forward_pre_hook((m, input) =>
                {
                    open.Push(calls.Count);
                    calls.Add(new ModuleCall(
                        calls.Count, modulePath, ModulePaths.TypeName(m), depthOf[m], input.shape, [], m));
                    return null!;
                });
                var post = hookable.register_forward_hook((m, input, output) =>
                {
                    var index = open.Pop();
                    calls[index] = calls[index] with { OutputShape = output.shape };
                    return null!;
                });
                removers.Add(pre.remove);
                removers.Add(post.remove);
            }

            model.eval();
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            var first = model.parameters().FirstOrDefault();
            var input = torch.rand(
                inputShape,
                dtype: first is not null && torch.is_floating_point(first.dtype) ? first.dtype : torch.float32,
                device: first?.device);
            torch.Tensor output;
            try
            {
                output = root.call(input);
            }
            catch (Exception e) when (e is ExternalException or ArgumentException or InvalidOperationException)
            {
                throw new InvalidOperationException(
                    $"{ModulePaths.TypeName(model)} failed on an input of shape [{string.Join(", ", inputShape)}]: " +
                    $"{e.Message.Split('\n')[0]} Try the input size the model was designed for.", e);
            }

            return new ModuleTrace(calls, output.shape);
        }
        finally
        {
            foreach (var remove in removers)
            {
                remove();
            }

            for (var i = 0; i < modules.Count; i++)
            {
                if (modules[i].Module.training != modes[i])
                {
                    modules[i].Module.train(modes[i]);
                }
            }
        }
    }

    /// <summary>
    /// Paths of the modules in the order their calls started, each path once (a module that runs twice keeps its
    /// first position), without the model itself.
    /// </summary>
    public IReadOnlyList<string> ExecutionOrder() =>
        Calls.Where(c => c.Path.Length > 0).Select(c => c.Path).Distinct().ToList();
}
