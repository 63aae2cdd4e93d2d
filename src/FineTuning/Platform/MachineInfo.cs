using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json.Serialization;
using TorchSharp;

namespace FineTuning.Platform;

/// <summary>
/// The machine a measurement ran on: every figure this project reports is stated together with it, because times
/// and memory peaks mean little without the processor, the core count and the library versions behind them.
/// </summary>
/// <param name="Processor">The processor's model name (from /proc/cpuinfo on Linux), or the architecture.</param>
/// <param name="Cores">Logical processors available to this process.</param>
/// <param name="TorchThreads">Threads libtorch uses for intra-op parallelism (<c>torch.get_num_threads()</c>).</param>
/// <param name="Device">The torch device the measurement used, for example <c>cpu</c> or <c>cuda:0</c>.</param>
/// <param name="OperatingSystem">The operating system's description.</param>
/// <param name="Runtime">The .NET runtime's description.</param>
/// <param name="TorchSharpVersion">The version of the TorchSharp assembly.</param>
/// <param name="LibTorchVersion">The version of the native libtorch that TorchSharp loaded.</param>
/// <param name="MemoryBytes">Physical memory of the machine in bytes, 0 when unknown.</param>
public sealed record MachineInfo(
    string Processor,
    int Cores,
    int TorchThreads,
    string Device,
    string OperatingSystem,
    string Runtime,
    [property: JsonPropertyName("torchsharp_version")] string TorchSharpVersion,
    [property: JsonPropertyName("libtorch_version")] string LibTorchVersion,
    long MemoryBytes)
{
    /// <summary>Describes this machine, for measurements made on <paramref name="device"/>.</summary>
    /// <param name="device">The device the measurement runs on; null means the CPU.</param>
    public static MachineInfo Current(torch.Device? device = null) => new(
        ProcessorName(),
        Environment.ProcessorCount,
        torch.get_num_threads(),
        device?.ToString() ?? "cpu",
        RuntimeInformation.OSDescription,
        RuntimeInformation.FrameworkDescription,
        TorchSharpAssemblyVersion(),
        torch.__version__,
        GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);

    /// <summary>One line for the head of a table or a chart: processor, cores, device and versions.</summary>
    public override string ToString() =>
        $"{Processor}, {Cores} cores ({TorchThreads} torch threads), {Device}, TorchSharp {TorchSharpVersion}, " +
        $"libtorch {LibTorchVersion}, {OperatingSystem}";

    private static string ProcessorName()
    {
        const string cpuInfo = "/proc/cpuinfo";
        if (File.Exists(cpuInfo))
        {
            foreach (var line in File.ReadLines(cpuInfo))
            {
                if (line.StartsWith("model name", StringComparison.Ordinal))
                {
                    var colon = line.IndexOf(':', StringComparison.Ordinal);
                    if (colon >= 0)
                    {
                        return line[(colon + 1)..].Trim();
                    }
                }
            }
        }

        return RuntimeInformation.ProcessArchitecture.ToString();
    }

    private static string TorchSharpAssemblyVersion()
    {
        var assembly = typeof(torch).Assembly;
        var informational = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        if (!string.IsNullOrEmpty(informational))
        {
            // Strip a source-control suffix such as "+abcdef".
            var plus = informational.IndexOf('+', StringComparison.Ordinal);
            return plus < 0 ? informational : informational[..plus];
        }

        return assembly.GetName().Version?.ToString() ?? "unknown";
    }
}
