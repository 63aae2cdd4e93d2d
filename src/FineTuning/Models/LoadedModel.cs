using static TorchSharp.torch;

namespace FineTuning.Models;

/// <summary>A model ready to run, with what is needed to feed it and to read its outputs.</summary>
/// <param name="Model">
/// The network; input [N, 3, H, W] normalized with <paramref name="Preset"/>, output logits.
/// </param>
/// <param name="Name">The zoo name it was loaded as (<c>mlnet-resnet18</c>, <c>resnet50</c>, ...).</param>
/// <param name="Preset">The resize, crop and normalization the weights expect.</param>
/// <param name="Labels">One name per output: ImageNet's names for a 1000-way head, else <c>class 0</c>, ...</param>
/// <param name="Classes">Number of outputs of the head.</param>
public sealed record LoadedModel(
    nn.Module<Tensor, Tensor> Model, string Name, Preset Preset, IReadOnlyList<string> Labels, int Classes)
{
    /// <summary>
    /// Whether the head's weights came from a file. False for a new head (always for <c>mlnet-resnet18</c> without
    /// a weights file): its outputs are random until it is trained.
    /// </summary>
    public bool HeadIsTrained { get; init; }

    /// <summary>The weights file that was loaded (the converted cache for <c>mlnet-resnet18</c>), if any.</summary>
    public string? WeightsSource { get; init; }
}
