using System.IO.Compression;
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

    [Fact]
    public void Patch_marks_only_the_missing_version_weak_in_the_shipped_library()
    {
        var package = Path.Combine(TorchSharpNativeFix.NuGetPackagesFolder(), "torchsharp", "0.107.0",
            "torchsharp.0.107.0.nupkg");
        Assert.True(File.Exists(package), $"{package} should exist after restore");
        var folder = Directory.CreateTempSubdirectory("native-fix-");
        try
        {
            // The pristine copy inside the package, never touched by the fix.
            var original = Path.Combine(folder.FullName, "libLibTorchSharp.so");
            using (var zip = ZipFile.OpenRead(package))
            {
                zip.GetEntry("runtimes/linux-x64/native/libLibTorchSharp.so")!.ExtractToFile(original);
            }

            var before = File.ReadAllBytes(original);
            Assert.False(TorchSharpNativeFix.IsRequirementWeak(original));

            Assert.True(TorchSharpNativeFix.PatchFile(original));
            Assert.False(TorchSharpNativeFix.PatchFile(original));

            var after = File.ReadAllBytes(original);
            Assert.Equal(before.Length, after.Length);
            var changed = Enumerable.Range(0, before.Length).Where(i => before[i] != after[i]).ToList();
            Assert.Single(changed);
            Assert.Equal(before[changed[0]] | 0x2, after[changed[0]]);
            Assert.True(TorchSharpNativeFix.IsRequirementWeak(original));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void Patch_refuses_a_file_that_is_not_elf_with_a_clear_message()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "not a library");
            var error = Assert.Throws<InvalidDataException>(() => TorchSharpNativeFix.PatchFile(path));
            Assert.Contains(path, error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
