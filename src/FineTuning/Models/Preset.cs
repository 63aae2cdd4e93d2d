namespace FineTuning.Models;

/// <summary>
/// How a model's weights expect their input: the resize and crop used at evaluation, and the per-channel
/// normalization. A pixel value <c>v</c> in [0, 1] (RGB order) becomes <c>(v * Scale - Mean[c]) / Std[c]</c>.
/// </summary>
/// <param name="Name">A short name for printouts and cache keys.</param>
/// <param name="ResizeShorter">The shorter image side is resized to this many pixels before the center crop.</param>
/// <param name="CropSize">Side of the square center crop fed to the model, in pixels.</param>
/// <param name="Scale">Multiplier applied to [0, 1] pixel values before the mean is subtracted (1 or 255).</param>
/// <param name="Mean">Per-channel mean, RGB order, in the scaled units.</param>
/// <param name="Std">Per-channel standard deviation, RGB order, in the scaled units.</param>
public sealed record Preset(string Name, int ResizeShorter, int CropSize, float Scale, float[] Mean, float[] Std)
{
    /// <summary>torchvision's ImageNet preset: resize 256, center crop 224, ImageNet mean and std on [0, 1].</summary>
    public static Preset TorchVision { get; } = new(
        "torchvision-imagenet", 256, 224, 1f, [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);

    /// <summary>
    /// The preset of ML.NET's ResNet-18 (CNTK, Caffe style): values 0..255 minus ImageNet's per-channel mean, no
    /// division by a standard deviation. The weights were trained on BGR input; the converter folds that into conv1,
    /// so this preset, like every other, feeds RGB (FINDINGS section 4).
    /// </summary>
    public static Preset MlNetResNet18 { get; } = new(
        "mlnet-resnet18-caffe", 256, 224, 255f, [123.15f, 115.90f, 103.06f], [1f, 1f, 1f]);
}
