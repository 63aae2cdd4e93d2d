namespace FineTuning.Tests;

/// <summary>
/// Tests that seed torch's generator (<c>manual_seed</c>, directly or through <c>TrainingRun</c>) and then expect
/// the same numbers. That generator is process-wide, so another test drawing from it on a parallel thread between
/// the seed and the draw would change the result: these classes run one at a time, apart from the rest.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TorchGlobalRandom
{
    public const string Name = "torch global random generator";
}
