using FineTuning.Inspection;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTuning.Tests.Inspection;

public class ModelPrinterTests
{
    [Fact]
    public void ResNet18_prints_like_PyTorch()
    {
        using var model = torchvision.models.resnet18();

        var lines = ModelPrinter.Print(model).Split('\n');

        string[] expectedStart =
        [
            "ResNet(",
            "  (conv1): Conv2d(3, 64, kernel_size=(7, 7), stride=(2, 2), padding=(3, 3), bias=False)",
            "  (bn1): BatchNorm2d(64, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)",
            "  (relu): ReLU(inplace=True)",
            "  (maxpool): MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=False)",
            "  (layer1): Sequential(",
            "    (0): BasicBlock(",
            "      (conv1): Conv2d(64, 64, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False)",
            "      (bn1): BatchNorm2d(64, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)",
        ];
        string[] expectedEnd =
        [
            "  (avgpool): AdaptiveAvgPool2d(output_size=(1, 1))",
            "  (flatten): Flatten(start_dim=1, end_dim=-1)",
            "  (fc): Linear(in_features=512, out_features=1000, bias=True)",
            ")",
        ];
        Assert.Equal(expectedStart, lines[..expectedStart.Length]);
        Assert.Equal(expectedEnd, lines[^expectedEnd.Length..]);
        Assert.Contains("        (0): Conv2d(64, 128, kernel_size=(1, 1), stride=(2, 2), bias=False)", lines);
        Assert.Equal(model.named_modules().Count() + 1, lines.Count(l => !l.Trim().StartsWith(')')));
    }

    [Fact]
    public void Common_layers_print_their_configuration_in_PyTorch_words()
    {
        using var model = nn.Sequential(
            ("conv", nn.Conv2d(16, 32, 3, stride: 1, padding: 1, dilation: 2, groups: 4)),
            ("bn", nn.BatchNorm2d(32, eps: 0.001, momentum: 0.01)),
            ("act", nn.ReLU6()),
            ("pool", nn.AdaptiveAvgPool2d(new long[] { 1, 1 })),
            ("avg", nn.AvgPool2d(2)),
            ("flat", nn.Flatten()),
            ("drop", nn.Dropout(0.2f)),
            ("id", nn.Identity()),
            ("fc", nn.Linear(32, 10, hasBias: false)));

        var text = ModelPrinter.Print(model);

        Assert.Equal(
            """
            Sequential(
              (conv): Conv2d(16, 32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), dilation=(2, 2), groups=4)
              (bn): BatchNorm2d(32, eps=0.001, momentum=0.01, affine=True, track_running_stats=True)
              (act): ReLU6()
              (pool): AdaptiveAvgPool2d(output_size=(1, 1))
              (avg): AvgPool2d(kernel_size=2, stride=2, padding=0)
              (flat): Flatten(start_dim=1, end_dim=-1)
              (drop): Dropout(p=0.2, inplace=False)
              (id): Identity()
              (fc): Linear(in_features=32, out_features=10, bias=False)
            )
            """.ReplaceLineEndings("\n"),
            text);
    }

    [Fact]
    public void Describe_gives_one_modules_own_line()
    {
        using var model = torchvision.models.resnet18(num_classes: 10);

        Assert.Equal("Linear(in_features=512, out_features=10, bias=True)",
            ModelPrinter.Describe(ModulePaths.Find(model, "fc")));
        Assert.Equal("Sequential", ModelPrinter.Describe(ModulePaths.Find(model, "layer1")));
    }

    [Fact]
    public void Unknown_leaf_modules_fall_back_to_their_settings_or_parameter_shapes()
    {
        using var norm = nn.LayerNorm(new long[] { 8 });
        using var custom = new Scale();

        var normText = ModelPrinter.Print(norm);
        var customText = ModelPrinter.Print(custom);

        Assert.StartsWith("LayerNorm(", normText, StringComparison.Ordinal);
        Assert.Equal("Scale(factor=[4])", customText);
    }

    private sealed class Scale : nn.Module<Tensor, Tensor>
    {
        private readonly TorchSharp.Modules.Parameter factor = nn.Parameter(ones(4));

        public Scale() : base(nameof(Scale)) => RegisterComponents();

        public override Tensor forward(Tensor input) => input * factor;
    }
}
