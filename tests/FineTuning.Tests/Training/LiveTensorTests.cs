using FineTuning.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTuning.Tests.Training;

/// <summary>Tests that count live tensors, so nothing else may run beside them.</summary>
[CollectionDefinition(nameof(LiveTensorCount), DisableParallelization = true)]
public sealed class LiveTensorCount;

[Collection(nameof(LiveTensorCount))]
public class LiveTensorTests
{
    [Fact]
    public void Many_epochs_keep_the_live_tensor_count_flat()
    {
        using var train = ToyProblem.Data(perClass: 8, seed: 8);
        using var validation = ToyProblem.Data(perClass: 4, seed: 9);
        using var model = ToyProblem.Model(8);
        using var trainer = new Trainer(model, ToyProblem.Options(30, OptimizerKind.AdamW));
        var counts = new List<long>();
        // This thread's count: the process-wide Tensor.TotalCount also drops whenever the finalizer thread releases a
        // tensor that an earlier test left to the garbage collector, which says nothing about this loop.
        var statistics = DisposeScopeManager.Statistics;
        var before = statistics.ThreadTotalLiveCount;
        using (var probe = zeros(1))
        {
            Assert.Equal(before + 1, statistics.ThreadTotalLiveCount);
        }

        trainer.Fit(
            ToyProblem.Epochs(train, validation, 4, 8),
            epochEnded: (_, _) => counts.Add(statistics.ThreadTotalLiveCount));

        // The first epoch creates the optimizer state (on this thread, so the counter sees the training's tensors);
        // from then on every epoch ends with the same live count.
        Assert.Equal(30, counts.Count);
        Assert.True(counts[0] > before, $"AdamW's state should be counted: {before} before, {counts[0]} after");
        Assert.All(counts.Skip(1), c => Assert.Equal(counts[1], c));
    }
}
