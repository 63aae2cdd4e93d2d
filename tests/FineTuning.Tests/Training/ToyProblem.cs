using FineTuning.Training;
using static TorchSharp.torch;

namespace FineTuning.Tests.Training;

/// <summary>A small separable problem (4 Gaussian clusters in 8 dimensions) and a model with a BatchNorm
/// body.</summary>
internal static class ToyProblem
{
    public const int Classes = 4;

    public static TensorDataSet Data(int perClass, int seed)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator((ulong)seed);
        var centers = randn(new long[] { Classes, 8 }, generator: generator) * 3;
        var labels = arange(Classes, dtype: ScalarType.Int64).repeat_interleave(perClass);
        var inputs = centers.index_select(0, labels) + randn(new long[] { labels.shape[0], 8 }, generator: generator);
        var paths = Enumerable.Range(0, (int)labels.shape[0]).Select(i => $"sample{i}.png").ToList();
        generator.Dispose();
        return new TensorDataSet(scope.MoveToOuter(inputs), scope.MoveToOuter(labels), paths);
    }

    public static nn.Module<Tensor, Tensor> Model(int seed)
    {
        manual_seed(seed);
        return nn.Sequential(
            ("body", nn.Sequential(("lin", nn.Linear(8, 16)), ("bn", nn.BatchNorm1d(16)), ("relu", nn.ReLU()))),
            ("fc", nn.Linear(16, Classes)));
    }

    public static EpochData Epochs(TensorDataSet train, TensorDataSet? validation, int batchSize, int seed) => new(
        epoch => train.Batches(batchSize, SeededOrder.Permutation(train.Count, seed, epoch)),
        train.BatchCount(batchSize),
        validation is null ? null : () => validation.Batches(batchSize),
        validation?.BatchCount(batchSize) ?? 0);

    public static TrainingOptions Options(int epochs, OptimizerKind kind = OptimizerKind.Sgd) => new()
    {
        Stages = [new TrainingStage(epochs, [new LearningRateGroup("", kind == OptimizerKind.Sgd ? 0.1 : 0.01)])],
        Optimizer = kind,
        Schedule = ScheduleKind.Cosine,
    };
}
