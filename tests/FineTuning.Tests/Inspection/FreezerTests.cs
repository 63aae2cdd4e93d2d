using FineTuning.Inspection;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FineTuning.Tests.Inspection;

[Collection(TorchGlobalRandom.Name)]
public class FreezerTests
{
    // resnet18 with a 10-way head: 11,689,512 parameters with 1000 classes, minus 513 * 990 for the smaller head.
    private const long ResNet18TenClassesParameters = 11_181_642;
    private const long TenWayHeadParameters = (512 * 10) + 10;

    [Fact]
    public void FreezeAllBut_fc_leaves_only_the_head_trainable_and_counts_it()
    {
        using var model = torchvision.models.resnet18(num_classes: 10);

        var counts = Freezer.FreezeAllBut(model, "fc");

        Assert.Equal(TenWayHeadParameters, counts.Trainable);
        Assert.Equal(ResNet18TenClassesParameters, counts.Total);
        Assert.Equal(ResNet18TenClassesParameters - TenWayHeadParameters, counts.Frozen);
        Assert.Equal(TenWayHeadParameters * 4, counts.TrainableBytes);
        Assert.Equal(ResNet18TenClassesParameters * 4, counts.TotalBytes);
        Assert.All(model.named_parameters(), p => Assert.Equal(p.name.StartsWith("fc.", StringComparison.Ordinal),
            p.parameter.requires_grad));
        Assert.Equal(counts, ParameterCounts.Of(model));
        Assert.Equal("trainable 5,130 of 11,181,642 parameters (0.05 %)", counts.ToString());
    }

    [Fact]
    public void Optimizer_steps_change_the_head_but_leave_frozen_weights_and_batchnorm_statistics_bit_identical()
    {
        manual_seed(1);
        using var model = torchvision.models.resnet18(num_classes: 10);
        Freezer.FreezeAllBut(model, "fc");
        var keysBefore = model.state_dict().Keys.ToList();
        var before = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
        var trainable = model.parameters().Where(p => p.requires_grad).ToList();
        using var optimizer = optim.SGD(trainable, learningRate: 0.1);
        using var loss = nn.CrossEntropyLoss();

        model.train();
        for (var step = 0; step < 3; step++)
        {
            using var scope = NewDisposeScope();
            var images = randn(4, 3, 64, 64);
            var labels = randint(0, 10, [4], dtype: int64);
            optimizer.zero_grad();
            loss.call(model.call(images), labels).backward();
            optimizer.step();
        }

        Assert.True(model.training);
        Assert.Equal(keysBefore, model.state_dict().Keys.ToList());
        foreach (var (key, tensor) in model.state_dict())
        {
            var unchanged = TensorAssert.BitIdentical(tensor, before[key]);
            Assert.True(key.StartsWith("fc.", StringComparison.Ordinal) != unchanged, $"{key} unchanged: {unchanged}");
        }

        Assert.Equal(0L, model.state_dict()["bn1.num_batches_tracked"].item<long>());
        Assert.All(model.named_parameters().Where(p => !p.name.StartsWith("fc.", StringComparison.Ordinal)),
            p => Assert.Null(p.parameter.grad));
        Assert.Contains("layer4.1.bn2", Freezer.EvalLockedBatchNorms(model));
        foreach (var tensor in before.Values)
        {
            tensor.Dispose();
        }
    }

    [Fact]
    public void Plain_train_mode_without_freezing_changes_batchnorm_running_statistics()
    {
        manual_seed(2);
        using var model = torchvision.models.resnet18(num_classes: 10);
        using var meanBefore = model.state_dict()["bn1.running_mean"].clone();

        model.train();
        using (no_grad())
        {
            using var scope = NewDisposeScope();
            model.call(randn(2, 3, 64, 64));
        }

        Assert.False(TensorAssert.BitIdentical(model.state_dict()["bn1.running_mean"], meanBefore));
        Assert.Equal(1L, model.state_dict()["bn1.num_batches_tracked"].item<long>());
        Assert.Empty(Freezer.EvalLockedBatchNorms(model));
    }

    [Fact]
    public void Frozen_parameters_alone_do_not_stop_batchnorm_updates_which_is_why_the_lock_exists()
    {
        manual_seed(3);
        using var model = torchvision.models.resnet18(num_classes: 10);
        foreach (var p in model.parameters())
        {
            p.requires_grad = false;
        }

        using var meanBefore = model.state_dict()["bn1.running_mean"].clone();
        model.train();
        using (no_grad())
        {
            using var scope = NewDisposeScope();
            model.call(randn(2, 3, 64, 64));
        }

        Assert.False(TensorAssert.BitIdentical(model.state_dict()["bn1.running_mean"], meanBefore));
    }

    [Fact]
    public void FreezeUpTo_layer3_leaves_layer4_and_fc_trainable_and_locks_only_earlier_batchnorms()
    {
        using var model = torchvision.models.resnet18(num_classes: 10);

        var counts = Freezer.FreezeUpTo(model, "layer3");

        var expected = model.named_parameters()
            .Where(p => p.name.StartsWith("layer4.", StringComparison.Ordinal) ||
                        p.name.StartsWith("fc.", StringComparison.Ordinal))
            .Sum(p => p.parameter.numel());
        Assert.Equal(expected, counts.Trainable);
        var locked = Freezer.EvalLockedBatchNorms(model);
        Assert.Contains("bn1", locked);
        Assert.Contains("layer3.1.bn2", locked);
        Assert.Contains("layer3.0.downsample.1", locked);
        Assert.DoesNotContain(locked, path => path.StartsWith("layer4", StringComparison.Ordinal));
    }

    [Fact]
    public void Unfreeze_layer4_makes_its_batchnorms_follow_train_mode_again()
    {
        manual_seed(4);
        using var model = torchvision.models.resnet18(num_classes: 10);
        Freezer.FreezeAllBut(model, "fc");

        var counts = Freezer.Unfreeze(model, "layer4");

        Assert.DoesNotContain(Freezer.EvalLockedBatchNorms(model),
            path => path.StartsWith("layer4", StringComparison.Ordinal));
        Assert.True(counts.Trainable > TenWayHeadParameters);
        using var layer4Before = model.state_dict()["layer4.0.bn1.running_mean"].clone();
        using var stemBefore = model.state_dict()["bn1.running_mean"].clone();
        model.train();
        using (no_grad())
        {
            using var scope = NewDisposeScope();
            model.call(randn(2, 3, 64, 64));
        }

        Assert.False(TensorAssert.BitIdentical(model.state_dict()["layer4.0.bn1.running_mean"], layer4Before));
        Assert.True(TensorAssert.BitIdentical(model.state_dict()["bn1.running_mean"], stemBefore));
        Assert.False(((BatchNorm2d)ModulePaths.Find(model, "bn1")).training);
        Assert.True(ModulePaths.Find(model, "layer4.0.bn1").training);
    }

    [Fact]
    public void UnfreezeAll_makes_everything_trainable_and_removes_every_lock()
    {
        using var model = torchvision.models.resnet18(num_classes: 10);
        Freezer.FreezeAllBut(model, "fc");

        var counts = Freezer.UnfreezeAll(model);

        Assert.Equal(counts.Total, counts.Trainable);
        Assert.Empty(Freezer.EvalLockedBatchNorms(model));
    }

    [Fact]
    public void Unknown_prefixes_and_children_are_reported_with_the_names_that_exist()
    {
        using var model = torchvision.models.resnet18(num_classes: 10);

        var prefix = Assert.Throws<ArgumentException>(() => Freezer.FreezeAllBut(model, "fcc"));
        var child = Assert.Throws<ArgumentException>(() => Freezer.FreezeUpTo(model, "layer5"));
        Assert.Throws<ArgumentException>(() => Freezer.Unfreeze(model, ""));

        Assert.Contains("'fcc'", prefix.Message, StringComparison.Ordinal);
        Assert.Contains("layer4", prefix.Message, StringComparison.Ordinal);
        Assert.Contains("conv1, bn1, relu, maxpool, layer1, layer2, layer3, layer4, avgpool, flatten, fc",
            child.Message, StringComparison.Ordinal);
        Assert.All(model.parameters(), p => Assert.True(p.requires_grad));
    }

    [Fact]
    public void Prefixes_match_whole_path_segments()
    {
        Assert.True(ModulePaths.IsUnder("fc.weight", "fc"));
        Assert.True(ModulePaths.IsUnder("fc", "fc"));
        Assert.False(ModulePaths.IsUnder("fc2.weight", "fc"));
        Assert.False(ModulePaths.IsUnder("layer1.0", "layer1.0.bn1"));
        Assert.True(ModulePaths.IsUnder("layer1.10.bn1.weight", "layer1.10"));
        Assert.False(ModulePaths.IsUnder("layer1.10.bn1.weight", "layer1.1"));
    }
}
