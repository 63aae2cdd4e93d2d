using TorchSharp;
using TorchSharp.Modules;

namespace FineTuning.Inspection;

/// <summary>The classification head a model runs last, as <see cref="HeadLocator"/> found it.</summary>
/// <param name="Path">Dotted path to pass to <see cref="HeadSurgery"/> and <see cref="Freezer"/>: <c>fc</c>,
/// <c>classifier.6</c>.</param>
/// <param name="Module">The head module itself.</param>
/// <param name="InFeatures">Features (or channels, for a convolution head) the head receives.</param>
/// <param name="OutFeatures">Outputs it produces: the model's number of classes.</param>
/// <param name="IsConvolution">True when the head is a convolution whose channels become the classes after pooling
/// (SqueezeNet style) rather than a layer whose output already is <c>[batch, classes]</c>.</param>
public sealed record HeadInfo(string Path, torch.nn.Module Module, long InFeatures, long OutFeatures, bool IsConvolution)
{
    /// <summary>A line such as <c>fc Linear(in_features=512, out_features=1000)</c>.</summary>
    public override string ToString() =>
        Module is Linear
            ? $"{Path} Linear(in_features={InFeatures}, out_features={OutFeatures})"
            : $"{Path} {ModulePaths.TypeName(Module)}(in={InFeatures}, out={OutFeatures})";
}

/// <summary>
/// Finds a model's classification head by running it, not by trusting a name: <c>fc</c> is only what ResNet calls
/// its head; VGG and AlexNet use <c>classifier.6</c>, MobileNet the last element of <c>classifier</c>.
/// </summary>
/// <remarks>
/// The rule: trace one forward pass with hooks (<see cref="ModuleTrace.Run"/>); the model's output must be
/// <c>[batch, classes]</c>; the head is the last module to run that owns parameters, has no children, and returns
/// exactly <c>[batch, classes]</c>. Modules without parameters that run after it (Dropout, Flatten, Identity) are
/// not heads. When no such module exists because the model ends with a convolution whose channels are the classes,
/// followed by pooling and flatten (SqueezeNet's <c>classifier.1</c>), the head is the last module with parameters
/// whose output is <c>[batch, classes, ...]</c>; <see cref="HeadInfo.IsConvolution"/> then says so. Modules that do
/// not take and return one tensor cannot be hooked and are not considered.
/// </remarks>
public static class HeadLocator
{
    /// <summary>Finds the head of <paramref name="model"/> by tracing it on a random input.</summary>
    /// <param name="model">Any model from an image tensor to class scores; its training flags are left as they
    /// were.</param>
    /// <param name="inputShape">Input shape, batch first: <c>[1, 3, 224, 224]</c>; smaller images are faster and
    /// work for most architectures (64x64; Inception v3 needs at least 75x75).</param>
    /// <exception cref="InvalidOperationException">The output is not <c>[batch, classes]</c>, or no module
    /// qualifies; the message says what was seen.</exception>
    public static HeadInfo Locate(torch.nn.Module model, long[] inputShape)
    {
        var trace = ModuleTrace.Run(model, inputShape);
        return Locate(trace, ModulePaths.TypeName(model));
    }

    /// <summary>Finds the head in an existing trace (see <see cref="ModuleTrace.Run"/>).</summary>
    /// <param name="trace">A trace of the model on a dummy input.</param>
    /// <param name="modelName">The model's name for error messages.</param>
    /// <exception cref="InvalidOperationException">As for <see cref="Locate(torch.nn.Module, long[])"/>.</exception>
    public static HeadInfo Locate(ModuleTrace trace, string modelName = "the model")
    {
        ArgumentNullException.ThrowIfNull(trace);
        var output = trace.OutputShape;
        if (output.Length != 2)
        {
            throw new InvalidOperationException(
                $"{modelName} returns a tensor of shape [{string.Join(", ", output)}], not [batch, classes]; " +
                "it has no classification head to find.");
        }

        var (batch, classes) = (output[0], output[1]);
        var candidates = trace.Calls
            .Where(c => c.Path.Length > 0 && !c.Module.named_children().Any() && c.Module.parameters().Any())
            .ToList();

        var head = candidates.LastOrDefault(c => c.OutputShape.SequenceEqual(output));
        var convolution = false;
        if (head is null)
        {
            head = candidates.LastOrDefault(
                c => c.OutputShape.Length > 2 && c.OutputShape[0] == batch && c.OutputShape[1] == classes);
            convolution = true;
        }

        if (head is null)
        {
            throw new InvalidOperationException(
                $"{modelName} returns [{batch}, {classes}], but no module with parameters returned [{batch}, " +
                $"{classes}] or [{batch}, {classes}, ...]; its head is computed outside any module.");
        }

        var inFeatures = head.Module switch
        {
            Linear linear => linear.in_features,
            Convolution conv => conv.in_channels,
            _ => head.InputShape.Length >= 2 ? head.InputShape[convolution ? 1 : ^1] : 0,
        };
        var outFeatures = head.Module switch
        {
            Linear linear => linear.out_features,
            Convolution conv => conv.out_channels,
            _ => classes,
        };
        return new HeadInfo(head.Path, head.Module, inFeatures, outFeatures, convolution);
    }

    /// <summary>
    /// The paths of the modules in the order they ran on a random input (each once, the model itself left out), to
    /// compare with the registration order that <c>named_modules()</c> and a printout show.
    /// </summary>
    /// <param name="model">The model to trace; its training flags are left as they were.</param>
    /// <param name="inputShape">Input shape, batch first.</param>
    public static IReadOnlyList<string> ExecutionOrder(torch.nn.Module model, long[] inputShape) =>
        ModuleTrace.Run(model, inputShape).ExecutionOrder();
}
