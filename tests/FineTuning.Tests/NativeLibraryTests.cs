using FineTuning.Platform;
using static TorchSharp.torch;

namespace FineTuning.Tests;

public class NativeLibraryTests
{
    [Fact]
    public void Torch_native_library_loads_and_computes()
    {
        using var scope = NewDisposeScope();
        var sum = ones(2, 3).sum().item<float>();

        Assert.Equal(6f, sum);
    }

    [Fact]
    public void Fix_is_idempotent_on_every_candidate_copy()
    {
        var files = TorchSharpNativeFix.CandidateFiles().ToList();
        Assert.NotEmpty(files);

        var second = TorchSharpNativeFix.ApplyTo(files);

        Assert.Empty(second.PatchedFiles);
        if (!TorchSharpNativeFix.SystemHasRequiredLibStdCxx() && OperatingSystem.IsLinux())
        {
            Assert.All(files, f => Assert.True(TorchSharpNativeFix.IsRequirementWeak(f) ?? true, f));
        }
    }
}
