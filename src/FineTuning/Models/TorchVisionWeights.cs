namespace FineTuning.Models;

/// <summary>
/// One of torchvision's published ImageNet weight files for a ResNet, as served under
/// <c>https://download.pytorch.org/models/</c>.
/// </summary>
/// <param name="Architecture">resnet18 ... resnet152.</param>
/// <param name="Variant">torchvision's enum name, IMAGENET1K_V1 or IMAGENET1K_V2.</param>
/// <param name="FileName">The published file name; the hex digits after the last dash start its SHA-256.</param>
/// <param name="Preset">The evaluation transform the weights were measured with.</param>
public sealed record TorchVisionWeights(string Architecture, string Variant, string FileName, Preset Preset)
{
    /// <summary>
    /// torchvision's V2 recipe evaluates at resize 232, center crop 224 (ImageNet mean and std), not 256.
    /// </summary>
    public static Preset V2Preset { get; } =
        Preset.TorchVision with { Name = "torchvision-imagenet-v2", ResizeShorter = 232 };

    /// <summary>Every known file: V1 for all five depths, V2 for resnet50, resnet101 and resnet152.</summary>
    public static IReadOnlyList<TorchVisionWeights> All { get; } =
    [
        new("resnet18", "IMAGENET1K_V1", "resnet18-f37072fd.pth", Preset.TorchVision),
        new("resnet34", "IMAGENET1K_V1", "resnet34-b627a593.pth", Preset.TorchVision),
        new("resnet50", "IMAGENET1K_V1", "resnet50-0676ba61.pth", Preset.TorchVision),
        new("resnet50", "IMAGENET1K_V2", "resnet50-11ad3fa6.pth", V2Preset),
        new("resnet101", "IMAGENET1K_V1", "resnet101-63fe2227.pth", Preset.TorchVision),
        new("resnet101", "IMAGENET1K_V2", "resnet101-cd907fc2.pth", V2Preset),
        new("resnet152", "IMAGENET1K_V1", "resnet152-394f9c45.pth", Preset.TorchVision),
        new("resnet152", "IMAGENET1K_V2", "resnet152-f82ba261.pth", V2Preset),
    ];

    /// <summary>The start of the file's SHA-256, in lower-case hex, taken from its name.</summary>
    public string HashPrefix => WeightsDownloader.HashPrefixOf(FileName)!;

    /// <summary>
    /// The file a plain <c>--model NAME</c> uses: IMAGENET1K_V1, whose preset is torchvision's classic one.
    /// </summary>
    /// <param name="architecture">resnet18 ... resnet152.</param>
    /// <returns>The entry, or null for an architecture without published weights here.</returns>
    public static TorchVisionWeights? Default(string architecture) =>
        All.FirstOrDefault(w => w.Architecture == architecture && w.Variant == "IMAGENET1K_V1");

    /// <summary>Finds a known file by its name (any folder), to pick its preset.</summary>
    /// <param name="path">A path or file name.</param>
    public static TorchVisionWeights? ForFile(string path) =>
        All.FirstOrDefault(w => string.Equals(w.FileName, Path.GetFileName(path), StringComparison.Ordinal));

    /// <summary>Finds a file by architecture and variant (<c>V1</c>, <c>V2</c> or the full enum name).</summary>
    /// <param name="architecture">resnet18 ... resnet152.</param>
    /// <param name="variant">IMAGENET1K_V1 or IMAGENET1K_V2 (or the short V1, V2).</param>
    public static TorchVisionWeights? Find(string architecture, string variant)
    {
        var full = variant.StartsWith("IMAGENET1K_", StringComparison.OrdinalIgnoreCase)
            ? variant.ToUpperInvariant()
            : "IMAGENET1K_" + variant.ToUpperInvariant();
        return All.FirstOrDefault(w => w.Architecture == architecture && w.Variant == full);
    }
}
