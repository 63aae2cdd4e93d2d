using FineTuning.Training;
using static TorchSharp.torch;

namespace FineTuning.Tests.Training;

/// <summary>Tests that read the process-wide live tensor count, so nothing else may run beside them.</summary>
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

        trainer.Fit(ToyProblem.Epochs(train, validation, 4, 8), epochEnded: (_, _) => counts.Add(Tensor.TotalCount));

        // The first epoch creates the optimizer state; from then on every epoch ends with the same live count.
        Assert.Equal(30, counts.Count);
        Assert.All(counts.Skip(1), c => Assert.Equal(counts[1], c));
    }
}
