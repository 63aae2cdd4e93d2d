using FineTuning.Costs;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTuning.Tests.Costs;

// Small inputs (64x64, batch 2) keep these fast: gradient sizes, accumulation and BatchNorm drift do not depend on
// the image size. The architecture is torchvision's ResNet-18 with random weights.
[Collection(TorchGlobalRandom.Name)]
public class CostProbeTests
{
    private const int Classes = 10;

    private static readonly CostProbeOptions Small = new()
    {
        BatchSize = 2,
        ImageSize = 64,
        Classes = Classes,
        Steps = 2,
        WarmupSteps = 0,
    };

    [Fact]
    public void Frozen_gradients_are_exactly_the_heads_weight_and_bias()
    {
        using var model = NewModel();

        var costs = CostProbe.Run(model, CostMode.Frozen, Small, CPU);

        const long headBytes = 4 * ((512 * Classes) + Classes);
        Assert.Equal(2, costs.GradientTensors);
        Assert.Equal(headBytes, costs.GradientBytes);
        Assert.Equal(headBytes, costs.OptimizerStateBytes);
        Assert.Equal((512 * Classes) + Classes, costs.TrainableParameters);
    }

    [Fact]
    public void Unfrozen_gradients_cover_every_trainable_parameter_and_stay_allocated_after_zero_grad()
    {
        using var model = NewModel();
        var all = model.parameters().Sum(p => p.numel());

        var costs = CostProbe.Run(model, CostMode.Unfrozen, Small, CPU);

        Assert.Equal(all, costs.TrainableParameters);
        Assert.Equal(4 * all, costs.GradientBytes);
        Assert.Equal(4 * all, costs.OptimizerStateBytes);

        // TorchSharp 0.107's optimizer zero_grad() fills gradients with zeros; it does not release them.
        Assert.Equal(4 * all, costs.RetainedGradientBytes);
    }

    [Fact]
    public void Head_only_optimizer_computes_and_keeps_every_gradient_but_keeps_state_for_the_head_only()
    {
        using var model = NewModel();
        var all = model.parameters().Sum(p => p.numel());
        const long headBytes = 4 * ((512 * Classes) + Classes);

        var costs = CostProbe.Run(model, CostMode.HeadOnlyOptimizer, Small, CPU);

        Assert.Equal(4 * all, costs.GradientBytes);
        Assert.Equal(headBytes, costs.OptimizerStateBytes);
        Assert.Equal(4 * all, costs.RetainedGradientBytes);
        Assert.Equal(all, costs.TrainableParameters);
        Assert.Equal((512 * Classes) + Classes, costs.OptimizedParameters);
    }

    [Fact]
    public void Head_only_optimizer_accumulates_backbone_gradients_across_steps_but_not_the_heads()
    {
        // Two copies of one model follow the same trajectory: only the head moves, and identically in both.
        // In A the optimizer zeroes the head's gradients only; in B every gradient is cleared before each step,
        // so B yields each step's own gradient.
        using var a = NewModel();
        using var b = NewModel();
        b.load_state_dict(a.state_dict());
        var (input, labels) = CostProbe.SyntheticBatch(Small, CPU);
        using var trainerA = new CostTrainer(a, CostMode.HeadOnlyOptimizer, Small);
        using var trainerB = new CostTrainer(b, CostMode.HeadOnlyOptimizer, Small);
        using var scope = NewDisposeScope();

        var separate = new List<(Tensor Backbone, Tensor Head)>();
        for (var step = 0; step < 2; step++)
        {
            trainerA.Step(input, labels);
            b.zero_grad();
            trainerB.Step(input, labels);
            separate.Add((Grad(b, "conv1.weight"), Grad(b, "fc.weight")));
        }

        var backboneSum = separate[0].Backbone + separate[1].Backbone;
        var accumulated = Grad(a, "conv1.weight");
        Assert.True(accumulated.allclose(backboneSum, rtol: 1e-4, atol: 1e-6),
            $"conv1.weight: max difference to the sum of both steps {MaxDiff(accumulated, backboneSum)}");
        Assert.False(accumulated.allclose(separate[1].Backbone, rtol: 1e-3, atol: 1e-5));

        var head = Grad(a, "fc.weight");
        Assert.True(head.allclose(separate[1].Head, rtol: 1e-4, atol: 1e-6),
            $"fc.weight: max difference to the second step's own gradient {MaxDiff(head, separate[1].Head)}");
        Assert.False(head.allclose(separate[0].Head + separate[1].Head, rtol: 1e-3, atol: 1e-5));
        input.Dispose();
        labels.Dispose();
    }

    [Fact]
    public void Frozen_no_grad_gives_the_same_logits_as_the_frozen_model()
    {
        using var model = NewModel();
        var (input, labels) = CostProbe.SyntheticBatch(Small, CPU);
        using var scope = NewDisposeScope();
        using var frozen = new CostTrainer(model, CostMode.Frozen, Small);
        var expected = frozen.Forward(input);
        using var streamed = new CostTrainer(model, CostMode.FrozenNoGrad, Small);

        var actual = streamed.Forward(input);

        Assert.Equal(expected.shape, actual.shape);
        Assert.True(MaxDiff(expected, actual) <= 1e-5, $"max abs difference {MaxDiff(expected, actual)}");
        Assert.True(actual.requires_grad, "the head's output must still carry gradients");
        input.Dispose();
        labels.Dispose();
    }

    [Fact]
    public void Frozen_modes_leave_batchnorm_statistics_alone_and_a_plain_train_does_not()
    {
        using var frozenModel = NewModel();
        using var noGradModel = NewModel();
        using var unfrozenModel = NewModel();
        using var plainModel = NewModel();

        Assert.False(CostProbe.Run(frozenModel, CostMode.Frozen, Small, CPU).BnStatsChanged);
        Assert.False(CostProbe.Run(noGradModel, CostMode.FrozenNoGrad, Small, CPU).BnStatsChanged);
        Assert.True(CostProbe.Run(unfrozenModel, CostMode.Unfrozen, Small, CPU).BnStatsChanged);

        // Freezing parameters alone, then a plain train(): BatchNorm still updates its running statistics.
        foreach (var parameter in plainModel.parameters())
        {
            parameter.requires_grad = false;
        }

        using var snapshot = BatchNormSnapshot.Take(plainModel);
        var (input, labels) = CostProbe.SyntheticBatch(Small, CPU);
        plainModel.train();
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            plainModel.call(input);
        }

        Assert.True(snapshot.Changed(plainModel));
        Assert.Equal(40, snapshot.Count);
        input.Dispose();
        labels.Dispose();
    }

    [Fact]
    public void Activation_sizes_list_every_top_level_module_with_exact_bytes()
    {
        using var model = NewModel();

        var costs = CostProbe.Run(model, CostMode.Frozen, Small, CPU);

        Assert.Equal(
            ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "flatten", "fc"],
            costs.ActivationBytes.Select(a => a.Module));
        Assert.Equal(4L * 2 * 64 * 32 * 32, costs.ActivationBytes[0].Bytes);
        Assert.Equal(4L * 2 * Classes, costs.ActivationBytes[^1].Bytes);
        Assert.Equal(costs.ActivationBytes.Sum(a => a.Bytes), costs.ActivationBytesTotal);
    }

    [Theory]
    [InlineData(CostMode.Frozen)]
    [InlineData(CostMode.Unfrozen)]
    [InlineData(CostMode.HeadOnlyOptimizer)]
    [InlineData(CostMode.FrozenNoGrad)]
    public void Fifty_steps_keep_the_live_tensor_count_flat(CostMode mode)
    {
        var tiny = Small with { ImageSize = 32 };
        using var model = NewModel();
        var (input, labels) = CostProbe.SyntheticBatch(tiny, CPU);
        using var trainer = new CostTrainer(model, mode, tiny);
        var statistics = DisposeScopeManager.Statistics;

        // The counter is live: one undisposed tensor shows up in it.
        var before = statistics.ThreadTotalLiveCount;
        var probe = zeros(1);
        Assert.Equal(before + 1, statistics.ThreadTotalLiveCount);
        probe.Dispose();

        // Five steps first: the optimizer's momentum buffers appear on its first step.
        for (var step = 0; step < 5; step++)
        {
            trainer.Step(input, labels);
        }

        var afterWarmup = statistics.ThreadTotalLiveCount;
        for (var step = 0; step < 50; step++)
        {
            trainer.Step(input, labels);
            Gradients.Of(model);
            trainer.OptimizerStateBytes();
        }

        Assert.Equal(afterWarmup, statistics.ThreadTotalLiveCount);
        input.Dispose();
        labels.Dispose();
    }

    private static nn.Module<Tensor, Tensor> NewModel()
    {
        manual_seed(7);
        return torchvision.models.resnet18(num_classes: Classes);
    }

    private static Tensor Grad(nn.Module model, string name) =>
        model.named_parameters().Single(p => p.name == name).parameter.grad!.clone();

    private static double MaxDiff(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        return (a - b).abs().max().item<float>();
    }
}
