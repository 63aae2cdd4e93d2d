using System.Reflection;
using FineTuning.Inspection;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FineTuning.Tests.Inspection;

public class HeadLocatorTests
{
    private const int Classes = 5;

    // Every model factory in TorchVision 0.107's torchvision.models, the input side used to trace it, and the head
    // path read from its TorchSharp source (src/TorchVision/models/*.cs). mobilenet_v3_* take no num_classes and
    // always build 1000 classes. Inception v3 needs at least 75x75; 64x64 is enough for the others.
    public static TheoryData<string, int, string> Architectures => new()
    {
        { "alexnet", 64, "classifier.6" },
        { "googlenet", 64, "fc" },
        { "inception_v3", 75, "fc" },
        { "mobilenet_v2", 64, "classifier.1" },
        { "mobilenet_v3_large", 64, "classifier.3" },
        { "mobilenet_v3_small", 64, "classifier.3" },
        { "resnet18", 64, "fc" },
        { "resnet34", 64, "fc" },
        { "resnet50", 64, "fc" },
        { "resnet101", 64, "fc" },
        { "resnet152", 64, "fc" },
        { "resnext50_32x4d", 64, "fc" },
        { "resnext101_32x8d", 64, "fc" },
        { "resnext101_64x4d", 64, "fc" },
        { "wide_resnet50_2", 64, "fc" },
        { "wide_resnet101_2", 64, "fc" },
        { "vgg11", 32, "classifier.6" },
        { "vgg11_bn", 32, "classifier.6" },
        { "vgg13", 32, "classifier.6" },
        { "vgg13_bn", 32, "classifier.6" },
        { "vgg16", 32, "classifier.6" },
        { "vgg16_bn", 32, "classifier.6" },
        { "vgg19", 32, "classifier.6" },
        { "vgg19_bn", 32, "classifier.6" },
    };

    [Fact]
    public void The_theory_covers_every_model_factory_that_TorchVision_ships()
    {
        var shipped = Factories().Select(m => m.Name).Order(StringComparer.Ordinal).ToList();
        var covered = Architectures.Select(row => (string)row[0]).Order(StringComparer.Ordinal).ToList();

        Assert.Equal(shipped, covered);
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Locates_the_head_of_every_TorchVision_architecture(string name, int side, string expectedPath)
    {
        using var model = Build(name, out var classes);
        model.train();

        var trace = ModuleTrace.Run(model, [2, 3, side, side]);
        var head = HeadLocator.Locate(trace, name);

        Assert.Equal([2L, classes], trace.OutputShape);
        Assert.Equal(expectedPath, head.Path);
        var linear = Assert.IsType<Linear>(ModulePaths.Find(model, expectedPath));
        Assert.Same(linear, head.Module);
        Assert.Equal(classes, head.OutFeatures);
        Assert.Equal(linear.in_features, head.InFeatures);
        Assert.False(head.IsConvolution);
        Assert.Equal(head.Path, trace.Calls.Last(c => c.Module is Linear).Path);
        Assert.True(model.training);
        Assert.All(ModulePaths.DepthFirst(model), m => Assert.Equal(0, HookCount(m.Module)));
        if (name == "inception_v3")
        {
            // Registered between Mixed_6e and Mixed_7a, but TorchSharp's forward never calls the auxiliary head.
            Assert.Contains("AuxLogits", model.named_children().Select(c => c.name));
            Assert.DoesNotContain(trace.ExecutionOrder(), p => ModulePaths.IsUnder(p, "AuxLogits"));
        }
    }

    [Fact]
    public void A_convolution_head_followed_by_pooling_and_flatten_is_found_SqueezeNet_style()
    {
        // TorchVision 0.107 ships no SqueezeNet; this model ends like one: 1x1 conv to the classes, ReLU, pool.
        using var model = nn.Sequential(
            ("features", nn.Sequential(nn.Conv2d(3, 8, 3, stride: 2), nn.ReLU(inplace: true))),
            ("classifier", nn.Sequential(
                nn.Dropout(0.5), nn.Conv2d(8, Classes, 1), nn.ReLU(inplace: true), nn.AdaptiveAvgPool2d(1))),
            ("flatten", nn.Flatten()));

        var head = HeadLocator.Locate(model, [2, 3, 32, 32]);

        Assert.Equal("classifier.1", head.Path);
        Assert.True(head.IsConvolution);
        Assert.Equal(8L, head.InFeatures);
        Assert.Equal((long)Classes, head.OutFeatures);
    }

    [Fact]
    public void Execution_order_can_differ_from_registration_order()
    {
        using var model = new ReversedRegistration();

        var order = HeadLocator.ExecutionOrder(model, [2, 6]);
        var head = HeadLocator.Locate(model, [2, 6]);

        Assert.Equal(["fc", "hidden"], model.named_children().Select(c => c.name));
        Assert.Equal(["hidden", "fc"], order);
        Assert.Equal("fc", head.Path);
        Assert.Equal("fc Linear(in_features=4, out_features=3)", head.ToString());
    }

    [Fact]
    public void A_model_without_a_classes_output_and_a_bad_input_give_clear_errors()
    {
        using var features = nn.Sequential(nn.Conv2d(3, 4, 3));
        using var model = torchvision.models.resnet18(num_classes: Classes);

        var notClasses = Assert.Throws<InvalidOperationException>(() => HeadLocator.Locate(features, [1, 3, 8, 8]));
        var badInput = Assert.Throws<InvalidOperationException>(() => HeadLocator.Locate(model, [1, 3, 8]));
        Assert.Throws<ArgumentException>(() => HeadLocator.Locate(model, [1, 0, 8, 8]));

        Assert.Contains("[1, 4, 6, 6], not [batch, classes]", notClasses.Message, StringComparison.Ordinal);
        Assert.Contains("[1, 3, 8]", badInput.Message, StringComparison.Ordinal);
        Assert.All(ModulePaths.DepthFirst(model), m => Assert.Equal(0, HookCount(m.Module)));
    }

    private static IEnumerable<MethodInfo> Factories() =>
        typeof(torchvision.models).GetMethods(BindingFlags.Public | BindingFlags.Static)
            .Where(m => typeof(nn.Module).IsAssignableFrom(m.ReturnType));

    private static nn.Module Build(string name, out long classes)
    {
        var factory = Factories().Single(m => m.Name == name);
        var takesClasses = false;
        var arguments = factory.GetParameters().Select(p =>
        {
            if (p.Name == "num_classes")
            {
                takesClasses = true;
                return Convert.ChangeType(Classes, p.ParameterType, System.Globalization.CultureInfo.InvariantCulture);
            }

            return p.HasDefaultValue ? p.DefaultValue : Type.Missing;
        }).ToArray();
        classes = takesClasses ? Classes : 1000;
        return (nn.Module)factory.Invoke(null, arguments)!;
    }

    private static int HookCount(nn.Module module)
    {
        var count = 0;
        for (var type = module.GetType(); type is not null; type = type.BaseType)
        {
            foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                if (field.Name.EndsWith("hooks", StringComparison.Ordinal) &&
                    field.GetValue(module) is System.Collections.ICollection hooks)
                {
                    count += hooks.Count;
                }
            }
        }

        return count;
    }

    private sealed class ReversedRegistration : nn.Module<Tensor, Tensor>
    {
        // Registered in field order (fc first), run in the opposite order.
        private readonly Linear fc = nn.Linear(4, 3);
        private readonly Linear hidden = nn.Linear(6, 4);

        public ReversedRegistration() : base(nameof(ReversedRegistration)) => RegisterComponents();

        public override Tensor forward(Tensor input) => fc.call(hidden.call(input).relu());
    }
}
