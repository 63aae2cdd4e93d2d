using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace FineTuning.Models;

/// <summary>
/// A ResNet built from <see cref="BasicBlock"/>s with any number of blocks per stage and torchvision's state-dict
/// keys (<c>conv1</c>, <c>bn1</c>, <c>layer1</c>..<c>layer4</c>, <c>fc</c>). ML.NET's ResNet-18 needs stages
/// [2, 2, 2, 3], which torchvision's builders cannot make.
/// </summary>
public sealed class BasicResNet : Module<Tensor, Tensor>
{
    /// <summary>Width of the pooled features that feed the head (the last stage's channels).</summary>
    public const int FeatureWidth = 512;

    // Field names are state-dict keys (PyTorch's names), not _camelCase.
    private readonly Module<Tensor, Tensor> conv1;
    private readonly Module<Tensor, Tensor> bn1;
    private readonly Module<Tensor, Tensor> relu;
    private readonly Module<Tensor, Tensor> maxpool;
    private readonly Module<Tensor, Tensor> layer1;
    private readonly Module<Tensor, Tensor> layer2;
    private readonly Module<Tensor, Tensor> layer3;
    private readonly Module<Tensor, Tensor> layer4;
    private readonly Module<Tensor, Tensor> avgpool;
    private readonly Module<Tensor, Tensor> flatten;
    private readonly Module<Tensor, Tensor> fc;

    /// <summary>Creates the network with freshly initialized weights.</summary>
    /// <param name="name">The module's name (shown by printers).</param>
    /// <param name="blocks">Blocks per stage, four numbers, e.g. [2, 2, 2, 3].</param>
    /// <param name="classes">Outputs of the linear head <c>fc</c>.</param>
    public BasicResNet(string name, IReadOnlyList<int> blocks, int classes) : base(name)
    {
        if (blocks.Count != 4 || blocks.Any(b => b < 1))
        {
            throw new ArgumentException(
                $"A ResNet has four stages of at least one block; got [{string.Join(", ", blocks)}].",
                nameof(blocks));
        }

        if (classes < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(classes), classes, "The head needs at least one class.");
        }

        Blocks = [.. blocks];
        Classes = classes;
        conv1 = Conv2d(3, 64, 7, stride: 2, padding: 3, bias: false);
        bn1 = BatchNorm2d(64);
        relu = ReLU(inplace: true);
        maxpool = MaxPool2d(3, stride: 2, padding: 1);
        layer1 = Stage(64, 64, blocks[0], 1);
        layer2 = Stage(64, 128, blocks[1], 2);
        layer3 = Stage(128, 256, blocks[2], 2);
        layer4 = Stage(256, FeatureWidth, blocks[3], 2);
        avgpool = AdaptiveAvgPool2d([1, 1]);
        flatten = Flatten(1);
        fc = Linear(FeatureWidth, classes);
        RegisterComponents();
    }

    /// <summary>Blocks per stage.</summary>
    public IReadOnlyList<int> Blocks { get; }

    /// <summary>Outputs of the head as built (a head replaced later may differ).</summary>
    public int Classes { get; }

    /// <inheritdoc/>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return fc.call(Features(input)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Runs everything but the head: the pooled features, shape [N, 512]. These are what ML.NET's ONNX file
    /// outputs, and what a frozen backbone hands to a new head.
    /// </summary>
    /// <param name="input">Images, [N, 3, H, W], normalized with the model's preset.</param>
    public Tensor Features(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = maxpool.call(relu.call(bn1.call(conv1.call(input))));
        x = layer4.call(layer3.call(layer2.call(layer1.call(x))));
        return flatten.call(avgpool.call(x)).MoveToOuterDisposeScope();
    }

    private static Module<Tensor, Tensor> Stage(long inChannels, long channels, int count, long stride)
    {
        var blocks = new List<Module<Tensor, Tensor>> { new BasicBlock(inChannels, channels, stride) };
        for (var i = 1; i < count; i++)
        {
            blocks.Add(new BasicBlock(channels, channels, 1));
        }

        return Sequential(blocks);
    }
}
