using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using FineTuning.Models;
using SkiaSharp;
using static System.FormattableString;
using static TorchSharp.torch;

namespace FineTuning.Data;

/// <summary>
/// Turns a decoded image into the float32 CHW array a model expects: a crop (center crop after resizing the shorter
/// side for evaluation; a random resized crop for training), an optional horizontal flip and color jitter, then the
/// <see cref="Models.Preset"/>'s normalization <c>(v * Scale - Mean[c]) / Std[c]</c> with <c>v</c> in [0, 1] RGB.
/// Transparent pixels are composited on white. Resizing is one bilinear resample by SkiaSharp, with mipmaps when
/// shrinking by more than half (so large downscales do not alias).
/// </summary>
/// <remarks>
/// Random choices come from the <see cref="Random"/> passed in; <see cref="RandomFor"/> derives one from a seed, an
/// epoch and a sample index, so that parallel decoding gives the same result as sequential decoding. Color jitter
/// is applied in a fixed order (brightness, contrast, saturation), unlike torchvision's random order.
/// </remarks>
public sealed class ImageTransform
{
    private static readonly SKSamplingOptions Mipmapped = new(SKFilterMode.Linear, SKMipmapMode.Linear);
    private static readonly SKSamplingOptions Bilinear = new(SKFilterMode.Linear);

    private readonly float[] _multiply;
    private readonly float[] _add;

    private ImageTransform(Preset preset, TrainingAugmentation? augmentation)
    {
        ArgumentNullException.ThrowIfNull(preset);
        if (preset.CropSize <= 0 || preset.ResizeShorter <= 0)
        {
            throw new ArgumentException(
                $"Preset '{preset.Name}' has crop {preset.CropSize} and resize {preset.ResizeShorter}; both must be " +
                "positive.",
                nameof(preset));
        }

        augmentation?.Validate();
        Preset = preset;
        Augmentation = augmentation;

        // A byte b becomes ((b / 255) * Scale - Mean) / Std = b * multiply + add.
        _multiply = new float[3];
        _add = new float[3];
        for (int c = 0; c < 3; c++)
        {
            _multiply[c] = preset.Scale / 255f / preset.Std[c];
            _add[c] = -preset.Mean[c] / preset.Std[c];
        }
    }

    /// <summary>The normalization and sizes this transform follows.</summary>
    public Preset Preset { get; }

    /// <summary>The training augmentation, or null for the deterministic evaluation transform.</summary>
    public TrainingAugmentation? Augmentation { get; }

    /// <summary>True when the output depends only on the image (no random crop, flip or jitter).</summary>
    public bool IsDeterministic => Augmentation is null;

    /// <summary>Side of the square output, in pixels (the preset's crop size).</summary>
    public int OutputSize => Preset.CropSize;

    /// <summary>Floats per transformed image: 3 * <see cref="OutputSize"/> squared.</summary>
    public int ElementsPerImage => 3 * OutputSize * OutputSize;

    /// <summary>
    /// A short text that changes whenever the output could change (preset values and augmentation), for cache keys.
    /// </summary>
    public string Key
    {
        get
        {
            var a = Augmentation;
            string augmentation = a is null
                ? "eval"
                : Invariant($"train:s{a.MinScale}-{a.MaxScale};r{a.MinRatio}-{a.MaxRatio};f{a.HorizontalFlip};") +
                  Invariant($"j{a.Brightness},{a.Contrast},{a.Saturation}");
            return Invariant($"{Preset.Name};r{Preset.ResizeShorter};c{Preset.CropSize};s{Preset.Scale};") +
                   $"m{Join(Preset.Mean)};d{Join(Preset.Std)};{augmentation}";
        }
    }

    /// <summary>
    /// The evaluation transform: resize the shorter side to <see cref="Preset.ResizeShorter"/>, center crop
    /// <see cref="Preset.CropSize"/>, normalize. Deterministic.
    /// </summary>
    public static ImageTransform ForEvaluation(Preset preset) => new(preset, null);

    /// <summary>
    /// The training transform: random resized crop to <see cref="Preset.CropSize"/>, horizontal flip, optional color
    /// jitter, normalize. <paramref name="augmentation"/> defaults to <see cref="TrainingAugmentation.Default"/>.
    /// </summary>
    public static ImageTransform ForTraining(Preset preset, TrainingAugmentation? augmentation = null) =>
        new(preset, augmentation ?? TrainingAugmentation.Default);

    /// <summary>
    /// A random generator for one sample of one epoch, derived by hashing the three numbers, so the augmentation of
    /// an image does not depend on which thread decodes it or in which order.
    /// </summary>
    public static Random RandomFor(int seed, int epoch, int index) => Seeds.For(Seeds.Augment, seed, epoch, index);

    /// <summary>
    /// Transforms a decoded image into <paramref name="destination"/> (CHW, <see cref="ElementsPerImage"/> floats).
    /// </summary>
    /// <param name="image">An upright RGBA image, as <see cref="ImageDecoder"/> returns it.</param>
    /// <param name="random">Source of the random choices; required for a training transform, ignored otherwise.</param>
    /// <param name="destination">Receives the normalized channels R, G, B, each row-major.</param>
    public void Apply(SKBitmap image, Random? random, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (destination.Length != ElementsPerImage)
        {
            throw new ArgumentException(
                $"The destination holds {destination.Length} floats; this transform writes {ElementsPerImage}.",
                nameof(destination));
        }

        if (Augmentation is not null && random is null)
        {
            throw new ArgumentNullException(nameof(random), "A training transform needs a Random (see RandomFor).");
        }

        int size = OutputSize;
        var (source, flip) = Augmentation is null
            ? (CenterCrop(image.Width, image.Height), false)
            : (RandomResizedCrop(image.Width, image.Height, Augmentation, random!),
                Augmentation.HorizontalFlip && random!.NextDouble() < 0.5);

        using var output = new SKBitmap(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(output))
        using (var pixels = image.PeekPixels())
        using (var skImage = SKImage.FromPixels(pixels))
        {
            canvas.Clear(SKColors.Transparent);
            if (flip)
            {
                canvas.Scale(-1, 1, size / 2f, 0);
            }

            // Mipmaps only where bilinear sampling would alias (shrinking by more than 2); building them costs about
            // as much as the decode, and most resizes shrink less than that.
            bool shrinkMuch = source.Width > 2 * size || source.Height > 2 * size;
            canvas.DrawImage(skImage, source, new SKRect(0, 0, size, size), shrinkMuch ? Mipmapped : Bilinear, null);
        }

        ToFloats(output.GetPixelSpan(), destination, Augmentation, random);
    }

    /// <summary>Transforms a decoded image into a new CHW float array.</summary>
    public float[] Apply(SKBitmap image, Random? random = null)
    {
        var result = new float[ElementsPerImage];
        Apply(image, random, result);
        return result;
    }

    /// <summary>
    /// Decodes and transforms one file into <paramref name="destination"/>; false (with the reason) when the file
    /// cannot be decoded. Never throws for a bad file.
    /// </summary>
    public bool TryLoad(string path, Random? random, Span<float> destination, [NotNullWhen(false)] out string? error)
    {
        // The evaluation transform lets JPEGs decode at a reduced size when they are much larger than needed.
        int minShorter = Augmentation is null ? Preset.ResizeShorter : 0;
        if (!ImageDecoder.TryDecode(path, out var bitmap, out error, minShorter))
        {
            return false;
        }

        using (bitmap)
        {
            Apply(bitmap, random, destination);
        }

        return true;
    }

    /// <summary>
    /// Decodes and transforms one file into a [1, 3, H, W] float32 tensor on the CPU, for prediction. The caller owns
    /// the tensor. Throws <see cref="ImageDecodeException"/> naming the file when it cannot be decoded.
    /// </summary>
    public Tensor LoadTensor(string path, Random? random = null)
    {
        var data = new float[ElementsPerImage];
        if (!TryLoad(path, random, data, out var error))
        {
            throw new ImageDecodeException(path, error);
        }

        return tensor(data, [1, 3, OutputSize, OutputSize]);
    }

    private SKRect CenterCrop(int width, int height)
    {
        // Resize so the shorter side is ResizeShorter (rounded like torchvision), then take the centered square;
        // expressed as the source rectangle, so the resize and the crop are one resample.
        double scale = (double)Preset.ResizeShorter / Math.Min(width, height);
        double resizedW = width <= height ? Preset.ResizeShorter : Math.Floor(width * scale);
        double resizedH = height <= width ? Preset.ResizeShorter : Math.Floor(height * scale);
        double sx = resizedW / width, sy = resizedH / height;
        double left = Math.Round((resizedW - OutputSize) / 2.0, MidpointRounding.ToEven);
        double top = Math.Round((resizedH - OutputSize) / 2.0, MidpointRounding.ToEven);
        return new SKRect(
            (float)(left / sx), (float)(top / sy), (float)((left + OutputSize) / sx), (float)((top + OutputSize) / sy));
    }

    private static SKRect RandomResizedCrop(int width, int height, TrainingAugmentation a, Random random)
    {
        double area = (double)width * height;
        double logMin = Math.Log(a.MinRatio), logMax = Math.Log(a.MaxRatio);
        for (int attempt = 0; attempt < 10; attempt++)
        {
            double target = area * (a.MinScale + (random.NextDouble() * (a.MaxScale - a.MinScale)));
            double ratio = Math.Exp(logMin + (random.NextDouble() * (logMax - logMin)));
            int w = (int)Math.Round(Math.Sqrt(target * ratio));
            int h = (int)Math.Round(Math.Sqrt(target / ratio));
            if (w > 0 && h > 0 && w <= width && h <= height)
            {
                int x = random.Next(width - w + 1);
                int y = random.Next(height - h + 1);
                return new SKRect(x, y, x + w, y + h);
            }
        }

        // Fallback, as torchvision does: the whole image, cropped to the nearest allowed aspect ratio, centered.
        double inRatio = (double)width / height;
        int cw = width, ch = height;
        if (inRatio < a.MinRatio)
        {
            ch = (int)Math.Round(width / a.MinRatio);
        }
        else if (inRatio > a.MaxRatio)
        {
            cw = (int)Math.Round(height * a.MaxRatio);
        }

        int cx = (width - cw) / 2, cy = (height - ch) / 2;
        return new SKRect(cx, cy, cx + cw, cy + ch);
    }

    private void ToFloats(ReadOnlySpan<byte> rgba, Span<float> destination, TrainingAugmentation? a, Random? random)
    {
        int plane = OutputSize * OutputSize;
        var r = destination[..plane];
        var g = destination.Slice(plane, plane);
        var b = destination.Slice(2 * plane, plane);
        bool jitter = a is not null && (a.Brightness > 0 || a.Contrast > 0 || a.Saturation > 0);
        if (!jitter)
        {
            // Premultiplied color plus (255 - alpha) is the pixel composited on white; exact for opaque pixels.
            for (int i = 0, p = 0; i < plane; i++, p += 4)
            {
                int white = 255 - rgba[p + 3];
                r[i] = ((rgba[p] + white) * _multiply[0]) + _add[0];
                g[i] = ((rgba[p + 1] + white) * _multiply[1]) + _add[1];
                b[i] = ((rgba[p + 2] + white) * _multiply[2]) + _add[2];
            }

            return;
        }

        for (int i = 0, p = 0; i < plane; i++, p += 4)
        {
            int white = 255 - rgba[p + 3];
            r[i] = (rgba[p] + white) / 255f;
            g[i] = (rgba[p + 1] + white) / 255f;
            b[i] = (rgba[p + 2] + white) / 255f;
        }

        Jitter(r, g, b, a!, random!);
        for (int c = 0; c < 3; c++)
        {
            var channel = destination.Slice(c * plane, plane);
            float mul = Preset.Scale / Preset.Std[c], add = _add[c];
            for (int i = 0; i < plane; i++)
            {
                channel[i] = (channel[i] * mul) + add;
            }
        }
    }

    private static void Jitter(Span<float> r, Span<float> g, Span<float> b, TrainingAugmentation a, Random random)
    {
        // Factors are drawn in a fixed order whether or not each jitter is on, so turning one on does not change the
        // others' draws.
        float brightness = Factor(a.Brightness, random);
        float contrast = Factor(a.Contrast, random);
        float saturation = Factor(a.Saturation, random);
        int n = r.Length;
        if (brightness != 1f)
        {
            for (int i = 0; i < n; i++)
            {
                r[i] = Math.Clamp(r[i] * brightness, 0f, 1f);
                g[i] = Math.Clamp(g[i] * brightness, 0f, 1f);
                b[i] = Math.Clamp(b[i] * brightness, 0f, 1f);
            }
        }

        if (contrast != 1f)
        {
            double sum = 0;
            for (int i = 0; i < n; i++)
            {
                sum += Gray(r[i], g[i], b[i]);
            }

            float mean = (float)(sum / n);
            for (int i = 0; i < n; i++)
            {
                r[i] = Math.Clamp(mean + ((r[i] - mean) * contrast), 0f, 1f);
                g[i] = Math.Clamp(mean + ((g[i] - mean) * contrast), 0f, 1f);
                b[i] = Math.Clamp(mean + ((b[i] - mean) * contrast), 0f, 1f);
            }
        }

        if (saturation != 1f)
        {
            for (int i = 0; i < n; i++)
            {
                float gray = Gray(r[i], g[i], b[i]);
                r[i] = Math.Clamp(gray + ((r[i] - gray) * saturation), 0f, 1f);
                g[i] = Math.Clamp(gray + ((g[i] - gray) * saturation), 0f, 1f);
                b[i] = Math.Clamp(gray + ((b[i] - gray) * saturation), 0f, 1f);
            }
        }
    }

    private static float Factor(double strength, Random random)
    {
        double u = random.NextDouble();
        return strength <= 0 ? 1f : (float)(1 - strength + (2 * strength * u));
    }

    private static string Join(float[] values) =>
        string.Join(',', values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));

    // ITU-R 601 luma, as PIL and torchvision use for grayscale.
    private static float Gray(float r, float g, float b) => (0.299f * r) + (0.587f * g) + (0.114f * b);
}
