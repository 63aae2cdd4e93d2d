using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using TorchSharp;

namespace FineTuning.Platform;

/// <summary>
/// Loads TorchSharp's native libraries for hosts that reference TorchSharp from the NuGet package cache instead of
/// an application folder: notebooks (VS Code Polyglot Notebooks, Jupyter's .NET kernel), dotnet-repl and scripts.
/// </summary>
/// <remarks>
/// <para>
/// In such a host TorchSharp 0.107 copies libtorch into <c>~/.nuget/packages/torchsharp/0.107.0/lib/net8.0/cpu</c>
/// and loads it from there; on Debian 12 that attempt fails with an undefined <c>c10</c> symbol even after
/// <see cref="TorchSharpNativeFix"/> has patched the library. Loading <c>libtorch.so</c> from its own package and
/// then the patched <c>libLibTorchSharp.so</c>, by full path and in that order, works: TorchSharp then finds
/// its library already loaded.
/// </para>
/// <para>
/// Call <see cref="Load"/> once, before the first use of <c>torch</c>. It applies <see cref="TorchSharpNativeFix"/>
/// first. In an application whose output folder holds the natives (the CLI, the tests) it loads nothing.
/// </para>
/// </remarks>
public static partial class NotebookNatives
{
    private static readonly Lock Gate = new();
    private static string? _outcome;

    /// <summary>
    /// Makes TorchSharp usable in this process and returns one sentence saying how.
    /// </summary>
    /// <param name="device">
    /// <c>"cpu"</c> (the default) loads the CPU libtorch that the <c>TorchSharp-cpu</c> package brought;
    /// <c>"cuda"</c> asks TorchSharp to load its CUDA backend (the notebook must reference a
    /// <c>TorchSharp-cuda-*</c> package instead of <c>TorchSharp-cpu</c>).
    /// </param>
    public static string Load(string device = "cpu")
    {
        lock (Gate)
        {
            return _outcome ??= LoadCore(device);
        }
    }

    private static string LoadCore(string device)
    {
        var fix = TorchSharpNativeFix.Apply();
        var fixNote = $"loader fix: {fix.Detail}";

        if (string.Equals(device, "cuda", StringComparison.OrdinalIgnoreCase))
        {
            torch.InitializeDeviceType(DeviceType.CUDA);
            return $"CUDA backend initialized by TorchSharp; {fixNote}.";
        }

        if (!string.Equals(device, "cpu", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"Unknown device '{device}': use \"cpu\" or \"cuda\".", nameof(device));
        }

        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64)
        {
            return $"nothing to preload on this platform; TorchSharp loads its own natives; {fixNote}.";
        }

        if (File.Exists(Path.Combine(AppContext.BaseDirectory, "libLibTorchSharp.so")))
        {
            return $"the natives sit next to the application; nothing to preload; {fixNote}.";
        }

        var torchSharpFolder = TorchSharpPackageFolder()
            ?? throw new InvalidOperationException(
                "TorchSharp was not loaded from a NuGet package folder; reference it with " +
                "#r \"nuget: TorchSharp-cpu, 0.107.0\" before calling NotebookNatives.Load.");
        var torchSharpVersion = Path.GetFileName(torchSharpFolder);
        var packages = Path.GetDirectoryName(Path.GetDirectoryName(torchSharpFolder))!;
        var libtorchVersion = LibTorchVersion(packages, torchSharpVersion);
        var libtorch = Path.Combine(packages, "libtorch-cpu-linux-x64", libtorchVersion, "runtimes", "linux-x64",
            "native", "libtorch.so");
        var torchSharp = Path.Combine(torchSharpFolder, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        foreach (var file in new[] { libtorch, torchSharp })
        {
            if (!File.Exists(file))
            {
                throw new FileNotFoundException(
                    $"{file} is missing. Run the cell with #r \"nuget: TorchSharp-cpu, {torchSharpVersion}\" first " +
                    "(it restores libtorch), then this one.", file);
            }

            NativeLibrary.Load(file);
        }

        return $"libtorch {libtorchVersion} (CPU) and LibTorchSharp {torchSharpVersion} loaded from {packages}; " +
            $"{fixNote}.";
    }

    // .../torchsharp/0.107.0/lib/net8.0/TorchSharp.dll -> .../torchsharp/0.107.0
    private static string? TorchSharpPackageFolder()
    {
        var assembly = typeof(torch).Assembly.Location;
        if (string.IsNullOrEmpty(assembly))
        {
            return null;
        }

        var folder = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(assembly)!, "..", ".."));
        return File.Exists(Path.Combine(folder, "torchsharp.nuspec")) ? folder : null;
    }

    // The libtorch version that TorchSharp-cpu pins, read from its nuspec in the same package cache.
    private static string LibTorchVersion(string packages, string torchSharpVersion)
    {
        var nuspec = Path.Combine(packages, "torchsharp-cpu", torchSharpVersion, "torchsharp-cpu.nuspec");
        if (File.Exists(nuspec))
        {
            var match = LibTorchDependency().Match(File.ReadAllText(nuspec));
            if (match.Success)
            {
                return match.Groups[1].Value;
            }
        }

        throw new FileNotFoundException(
            $"{nuspec} is missing or names no libtorch-cpu version. Reference " +
            $"#r \"nuget: TorchSharp-cpu, {torchSharpVersion}\" in the notebook's first cell.", nuspec);
    }

    [GeneratedRegex("id=\"libtorch-cpu\"\\s+version=\"([^\"]+)\"")]
    private static partial Regex LibTorchDependency();
}
