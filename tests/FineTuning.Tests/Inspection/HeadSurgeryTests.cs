using FineTuning.Inspection;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FineTuning.Tests.Inspection;

[Collection(TorchGlobalRandom.Name)]
public class HeadSurgeryTests
{
    [Fact]
    public void ResNet_head_is_replaced_in_forward_parameters_and_state_dict_and_the_old_one_is_disposed()
    {
        manual_seed(5);
        using var model = torchvision.models.resnet18(num_classes: 10);
        model.eval();
        var keysBefore = model.state_dict().Keys.ToList();
        var namesBefore = model.named_parameters().Select(p => p.name).ToList();
        var oldWeight = ((Linear)ModulePaths.Find(model, "fc")).weight;

        var head = HeadSurgery.ReplaceLinearHead(model, 7);

        Assert.True(oldWeight.IsInvalid);
        Assert.Same(head, ModulePaths.Find(model, "fc"));
        Assert.Equal(512L, head.in_features);
        Assert.Equal(7L, head.out_features);
        Assert.Equal(keysBefore, model.state_dict().Keys.ToList());
        Assert.Equal(namesBefore, model.named_parameters().Select(p => p.name).ToList());
        Assert.Equal([7L, 512L], model.state_dict()["fc.weight"].shape);
        Assert.Same(head.weight, model.named_parameters().Single(p => p.name == "fc.weight").parameter);
        Assert.False(head.training);

        // Forward runs the new head: with a zero weight, every row of the output is the new bias.
        using (no_grad())
        {
            head.weight.zero_();
            head.bias!.copy_(arange(7, dtype: float32));
        }

        using var scope = NewDisposeScope();
        var output = model.call(randn(2, 3, 64, 64));
        Assert.Equal([2L, 7L], output.shape);
        Assert.True(TensorAssert.BitIdentical(output, arange(7, dtype: float32).expand(2, 7)));
    }

    [Fact]
    public void Gradient_flows_to_the_new_head_of_a_frozen_backbone()
    {
        manual_seed(6);
        using var model = torchvision.models.resnet18(num_classes: 10);
        Freezer.FreezeAllBut(model, "fc");

        var head = HeadSurgery.ReplaceLinearHead(model, 3);

        Assert.Equal((512L * 3) + 3, ParameterCounts.Of(model).Trainable);
        model.train();
        using var scope = NewDisposeScope();
        var loss = nn.functional.cross_entropy(model.call(randn(2, 3, 64, 64)), tensor(new long[] { 0, 2 }));
        loss.backward();
        Assert.NotNull(head.weight.grad);
        Assert.True(head.weight.grad!.abs().sum().item<float>() > 0);
        Assert.Null(((Conv2d)ModulePaths.Find(model, "conv1")).weight!.grad);
    }

    [Fact]
    public void Heads_inside_a_Sequential_are_replaced_in_place_MobileNetV2_classifier_1()
    {
        manual_seed(7);
        using var model = torchvision.models.mobilenet_v2(num_classes: 10);
        model.eval();
        var keysBefore = model.state_dict().Keys.ToList();
        var oldWeight = ((Linear)ModulePaths.Find(model, "classifier.1")).weight;

        var head = HeadSurgery.ReplaceLinearHead(model, 4, "classifier.1");

        Assert.True(oldWeight.IsInvalid);
        Assert.Equal(keysBefore, model.state_dict().Keys.ToList());
        Assert.Equal([4L, 1280L], model.state_dict()["classifier.1.weight"].shape);
        Assert.Equal(["0", "1"], ModulePaths.Find(model, "classifier").named_children().Select(c => c.name));
        using var scope = NewDisposeScope();
        var output = model.call(randn(2, 3, 32, 32));
        Assert.Equal([2L, 4L], output.shape);
        Assert.Same(head, ModulePaths.Find(model, "classifier.1"));
    }

    [Fact]
    public void AlexNet_classifier_6_is_replaced_and_forward_uses_it()
    {
        manual_seed(8);
        using var model = torchvision.models.alexnet(num_classes: 10);
        model.eval();

        var head = HeadSurgery.ReplaceLinearHead(model, 5, "classifier.6");

        using (no_grad())
        {
            head.weight.zero_();
            head.bias!.fill_(3f);
        }

        Assert.Equal([5L, 4096L], model.state_dict()["classifier.6.weight"].shape);
        Assert.Equal("classifier.6.bias", model.named_parameters().Last().name);
        using var scope = NewDisposeScope();
        var output = model.call(randn(1, 3, 64, 64));
        Assert.True(TensorAssert.BitIdentical(output, full(1, 5, 3f)));
    }

    [Fact]
    public void GoogLeNet_declares_fc_as_Linear_so_only_a_Linear_can_replace_it()
    {
        using var model = torchvision.models.googlenet(num_classes: 10);
        using var wrongKind = nn.Sequential(nn.Linear(1024, 5));

        var error = Assert.Throws<ArgumentException>(() => HeadSurgery.Replace(model, "fc", wrongKind));
        var head = HeadSurgery.ReplaceLinearHead(model, 5);

        Assert.Contains("declared as Linear", error.Message, StringComparison.Ordinal);
        Assert.Equal([5L, 1024L], model.state_dict()["fc.weight"].shape);
        model.eval();
        using var scope = NewDisposeScope();
        Assert.Equal([1L, 5L], model.call(randn(1, 3, 64, 64)).shape);
        Assert.Same(head, ModulePaths.Find(model, "fc"));
    }

    [Fact]
    public void Inception_v3_auxiliary_head_is_replaced_under_its_own_key()
    {
        using var model = torchvision.models.inception_v3(num_classes: 10);

        HeadSurgery.ReplaceLinearHead(model, 5, "AuxLogits.fc");
        HeadSurgery.ReplaceLinearHead(model, 5, "fc");

        var state = model.state_dict();
        Assert.Equal([5L, 768L], state["AuxLogits.fc.weight"].shape);
        Assert.Equal([5L, 2048L], state["fc.weight"].shape);
    }

    [Fact]
    public void A_custom_head_module_can_replace_the_ResNet_fc()
    {
        manual_seed(9);
        using var model = torchvision.models.resnet18(num_classes: 10);
        var head = nn.Sequential(("drop", nn.Dropout(0.2)), ("out", nn.Linear(512, 6)));

        HeadSurgery.Replace(model, "fc", head);

        Assert.Contains("fc.out.weight", model.state_dict().Keys);
        Assert.DoesNotContain("fc.weight", model.state_dict().Keys);
        Assert.Equal("fc.out.bias", model.named_parameters().Last().name);
        model.eval();
        using var scope = NewDisposeScope();
        Assert.Equal([2L, 6L], model.call(randn(2, 3, 64, 64)).shape);
    }

    [Fact]
    public void The_MlNet_ResNet18_architecture_is_located_frozen_and_reheaded_like_torchvisions()
    {
        manual_seed(11);
        using var model = new FineTuning.Models.BasicResNet("mlnet-resnet18", [2, 2, 2, 3], 1000);

        Assert.Equal("fc", HeadLocator.Locate(model, [1, 3, 64, 64]).Path);
        Freezer.FreezeAllBut(model, "fc");
        var head = HeadSurgery.ReplaceLinearHead(model, 6);

        Assert.Equal((512L * 6) + 6, ParameterCounts.Of(model).Trainable);
        Assert.Contains("layer4.2.bn2", Freezer.EvalLockedBatchNorms(model));
        Assert.Equal([6L, 512L], model.state_dict()["fc.weight"].shape);
        model.eval();
        using var scope = NewDisposeScope();
        Assert.Equal([2L, 6L], model.call(randn(2, 3, 64, 64)).shape);
        Assert.Same(head, ModulePaths.Find(model, "fc"));
    }

    [Fact]
    public void Bad_paths_and_non_linear_heads_give_clear_errors()
    {
        using var model = torchvision.models.resnet18(num_classes: 10);

        var missing = Assert.Throws<ArgumentException>(() => HeadSurgery.ReplaceLinearHead(model, 3, "head"));
        var notLinear = Assert.Throws<ArgumentException>(() => HeadSurgery.ReplaceLinearHead(model, 3, "layer4"));
        var nested = Assert.Throws<ArgumentException>(() => HeadSurgery.ReplaceLinearHead(model, 3, "layer4.7"));

        Assert.Contains("no child 'head'", missing.Message, StringComparison.Ordinal);
        Assert.Contains("avgpool, flatten, fc", missing.Message, StringComparison.Ordinal);
        Assert.Contains("is a Sequential, not a Linear", notLinear.Message, StringComparison.Ordinal);
        Assert.Contains("'layer4' has no child '7'", nested.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => HeadSurgery.ReplaceLinearHead(model, 0));
    }

    [Fact]
    public void Idiomatic_route_builds_the_new_head_at_construction_and_skipfc_keeps_it_out_of_loading()
    {
        manual_seed(10);
        var file = Path.Combine(Path.GetTempPath(), $"finetune-skipfc-{Guid.NewGuid():N}.dat");
        try
        {
            using (var pretrained = torchvision.models.resnet18())
            {
                pretrained.save(file);
            }

            using var source = torchvision.models.resnet18();
            source.load(file);
            using var model = torchvision.models.resnet18(num_classes: 7, weights_file: file, skipfc: true);

            Assert.Equal([7L, 512L], model.state_dict()["fc.weight"].shape);
            Assert.True(TensorAssert.BitIdentical(
                model.state_dict()["conv1.weight"], source.state_dict()["conv1.weight"]));
            Assert.True(TensorAssert.BitIdentical(
                model.state_dict()["layer4.1.bn2.running_var"], source.state_dict()["layer4.1.bn2.running_var"]));
        }
        finally
        {
            File.Delete(file);
        }
    }
}
