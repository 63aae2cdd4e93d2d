using FineTuning.Platform;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTuning.Models;

/// <summary>
/// The models this project knows by name, and how to load each with weights: <c>mlnet-resnet18</c> (ImageNet
/// weights that ship offline with ML.NET, converted on first use) and torchvision's <c>resnet18</c> ...
/// <c>resnet152</c> (from a weights file, or from torchvision's published file once it is in the cache).
/// </summary>
public static class ModelZoo
{
    /// <summary>The offline default: ML.NET's ResNet-18, stages [2, 2, 2, 3].</summary>
    public const string MlNetResNet18Name = "mlnet-resnet18";

    /// <summary>Every known model name.</summary>
    public static IReadOnlyList<string> Names { get; } =
        [MlNetResNet18Name, "resnet18", "resnet34", "resnet50", "resnet101", "resnet152"];

    /// <summary>
    /// Builds an architecture with random weights and a head of <paramref name="classes"/> outputs (no file is
    /// read), for measurements that do not depend on the weights' values.
    /// </summary>
    /// <param name="name">A name from <see cref="Names"/>.</param>
    /// <param name="classes">Outputs of the head.</param>
    /// <exception cref="ModelLoadException">The name is unknown.</exception>
    public static nn.Module<Tensor, Tensor> Create(string name, int classes = 1000) => Check(name) switch
    {
        MlNetResNet18Name => MlNetResNet18.Create(classes),
        "resnet18" => torchvision.models.resnet18(num_classes: classes),
        "resnet34" => torchvision.models.resnet34(num_classes: classes),
        "resnet50" => torchvision.models.resnet50(num_classes: classes),
        "resnet101" => torchvision.models.resnet101(num_classes: classes),
        _ => torchvision.models.resnet152(num_classes: classes),
    };

    /// <summary>
    /// Loads a model with pretrained weights, in evaluation mode.
    /// </summary>
    /// <param name="name">A name from <see cref="Names"/>.</param>
    /// <param name="weightsFile">
    /// A state dict (<c>.pth</c>, <c>.pt</c>, <c>.safetensors</c> or <c>.dat</c>) for this architecture. Null
    /// means: for <c>mlnet-resnet18</c> the converted ML.NET weights; for torchvision's architectures their
    /// published IMAGENET1K_V1 file, which must already be in <see cref="CacheFolder"/> (see
    /// <see cref="WeightsDownloader"/>).
    /// </param>
    /// <param name="classes">
    /// Outputs of the head. Null keeps the file's own head (1000 ImageNet classes for published files, a new
    /// untrained one for <c>mlnet-resnet18</c>, whose file has none). A number that differs from the file's head
    /// gives a new, untrained head of that size on the pretrained backbone.
    /// </param>
    /// <param name="device">Where the model lives; null means the CPU.</param>
    /// <param name="progress">Receives a line when the ML.NET conversion runs.</param>
    /// <exception cref="ModelLoadException">Unknown name, missing or unfit weights.</exception>
    public static LoadedModel Load(
        string name,
        string? weightsFile = null,
        int? classes = null,
        Device? device = null,
        IProgress<string>? progress = null)
    {
        Check(name);
        if (classes is < 1)
        {
            throw new ModelLoadException($"--classes must be at least 1; got {classes}.");
        }

        var preset = Preset.TorchVision;
        var source = weightsFile;
        if (weightsFile is null)
        {
            if (name == MlNetResNet18Name)
            {
                source = MlNetResNet18.EnsureCache(progress);
                preset = Preset.MlNetResNet18;
            }
            else
            {
                source = PublishedFile(name);
            }
        }
        else if (name == MlNetResNet18Name)
        {
            preset = Preset.MlNetResNet18;
        }
        else if (TorchVisionWeights.ForFile(weightsFile) is { } known)
        {
            preset = known.Preset;
        }

        // The file's tensors are disposed here; no dispose scope, which would also claim the new model's weights.
        var entries = WeightsFile.Read(source!);
        nn.Module<Tensor, Tensor> model;
        bool loadHead;
        int headClasses;
        try
        {
            var fileClasses = entries.TryGetValue("fc.weight", out var head) ? (int?)head.shape[0] : null;
            headClasses = classes ?? fileClasses ?? 1000;
            loadHead = fileClasses == headClasses;
            model = Create(name, headClasses);
            try
            {
                WeightsFile.LoadEntries(model, entries, source!, includeHead: loadHead, modelName: name);
            }
            catch
            {
                model.Dispose();
                throw;
            }
        }
        finally
        {
            foreach (var tensor in entries.Values)
            {
                tensor.Dispose();
            }
        }

        model.eval();
        if (device is not null && device.type != DeviceType.CPU)
        {
            model.to(device);
        }

        var labels = headClasses == 1000
            ? ImageNetLabels.Names
            : Enumerable.Range(0, headClasses).Select(i => $"class {i}").ToList();
        return new LoadedModel(model, name, preset, labels, headClasses)
        {
            HeadIsTrained = loadHead,
            WeightsSource = source,
        };
    }

    /// <summary>Whether a name is known; the comparison is exact (names are lower case).</summary>
    /// <param name="name">A model name.</param>
    public static bool IsKnown(string name) => Names.Contains(name);

    private static string Check(string name)
    {
        if (!IsKnown(name))
        {
            throw new ModelLoadException(
                $"Unknown model '{name}'. Known models: {string.Join(", ", Names)}.");
        }

        return name;
    }

    private static string PublishedFile(string name)
    {
        var published = TorchVisionWeights.Default(name)!;
        var downloader = new WeightsDownloader();
        if (downloader.IsCached(published.FileName))
        {
            return downloader.PathOf(published.FileName);
        }

        throw new ModelLoadException(
            $"{name} needs weights: pass a weights file (--weights FILE), or fetch torchvision's with " +
            $"'finetune weights {name}', or download {downloader.BaseUrl}{published.FileName} by hand and put it " +
            $"at {downloader.PathOf(published.FileName)}. The offline model is {MlNetResNet18Name}.");
    }
}
