using TorchSharp;
using static TorchSharp.torch;

namespace FineTuning.Platform;

/// <summary>Turns a user's device choice (<c>auto</c>, <c>cpu</c>, <c>cuda</c>) into a TorchSharp device.</summary>
public static class Devices
{
    /// <summary>The accepted device names, for help texts and error messages.</summary>
    public static IReadOnlyList<string> Names { get; } = ["auto", "cpu", "cuda"];

    /// <summary>
    /// Resolves a device name. <c>auto</c> picks CUDA when TorchSharp's CUDA build and a GPU are present, else the
    /// CPU; <c>cuda</c> (or <c>cuda:N</c>) fails with an explanation when CUDA is not available.
    /// </summary>
    /// <param name="name">auto, cpu, cuda or cuda:N (case-insensitive); null or empty means auto.</param>
    /// <exception cref="ArgumentException">The name is unknown, or CUDA was asked for and is not available.</exception>
    public static Device Resolve(string? name)
    {
        var text = string.IsNullOrWhiteSpace(name) ? "auto" : name.Trim().ToLowerInvariant();
        switch (text)
        {
            case "auto":
                return torch.cuda.is_available() ? torch.CUDA : torch.CPU;
            case "cpu":
                return torch.CPU;
        }

        if (text == "cuda" || text.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!torch.cuda.is_available())
            {
                throw new ArgumentException(
                    $"Device '{name}' was asked for, but CUDA is not available: this build uses TorchSharp's CPU " +
                    "package, or no NVIDIA GPU and driver were found. Build with -p:TorchDevice=cuda on a machine " +
                    "with a GPU (see environment.md), or use --device cpu.",
                    nameof(name));
            }

            if (text == "cuda")
            {
                return torch.CUDA;
            }

            if (int.TryParse(text.AsSpan(5), out var index) && index >= 0 && index < torch.cuda.device_count())
            {
                return new Device(DeviceType.CUDA, index);
            }

            throw new ArgumentException(
                $"Device '{name}' does not exist: this machine has {torch.cuda.device_count()} CUDA device(s), " +
                "numbered from 0.",
                nameof(name));
        }

        throw new ArgumentException(
            $"Unknown device '{name}'. Use one of: {string.Join(", ", Names)}.", nameof(name));
    }
}
