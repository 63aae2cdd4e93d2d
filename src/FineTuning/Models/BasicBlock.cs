using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace FineTuning.Models;

/// <summary>
/// ResNet's two-convolution residual block (3x3, 3x3, plus a shortcut), with the submodule names of torchvision's
/// <c>BasicBlock</c> so that state-dict keys read <c>layer1.0.conv1.weight</c>, <c>layer2.0.downsample.0.weight</c>.
/// </summary>
/// <remarks>TorchSharp's own BasicBlock is private to <c>Modules.ResNet</c>, hence this one.</remarks>
public sealed class BasicBlock : Module<Tensor, Tensor>
{
    // Field names are state-dict keys (PyTorch's names), not _camelCase.
    private readonly Module<Tensor, Tensor> conv1;
    private readonly Module<Tensor, Tensor> bn1;
    private readonly Module<Tensor, Tensor> conv2;
    private readonly Module<Tensor, Tensor> bn2;
    private readonly Module<Tensor, Tensor>? downsample;

    /// <summary>Creates a block; a 1x1 convolution shortcut is added when the stride or width changes.</summary>
    /// <param name="inChannels">Channels of the block's input.</param>
    /// <param name="channels">Channels of the block's output.</param>
    /// <param name="stride">Stride of the first 3x3 convolution (2 at the start of stages 2 to 4).</param>
    public BasicBlock(long inChannels, long channels, long stride) : base(nameof(BasicBlock))
    {
        conv1 = Conv2d(inChannels, channels, 3, stride: stride, padding: 1, bias: false);
        bn1 = BatchNorm2d(channels);
        conv2 = Conv2d(channels, channels, 3, stride: 1, padding: 1, bias: false);
        bn2 = BatchNorm2d(channels);
        if (stride != 1 || inChannels != channels)
        {
            downsample = Sequential(
                Conv2d(inChannels, channels, 1, stride: stride, bias: false),
                BatchNorm2d(channels));
        }

        RegisterComponents();
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor input)
    {
        // Intermediates are released when the block returns; autograd keeps what backward needs.
        using var scope = NewDisposeScope();
        var main = functional.relu(bn1.call(conv1.call(input)));
        main = bn2.call(conv2.call(main));
        var shortcut = downsample is null ? input : downsample.call(input);
        return functional.relu(main.add_(shortcut)).MoveToOuterDisposeScope();
    }
}
