using FineTuning.Data;
using FineTuning.Models;
using SkiaSharp;

namespace FineTuning.Tests.Data;

public sealed class ImageTransformTests
{
    private static readonly Preset Small = new("test", 64, 56, 1f, [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);

    [Theory]
    [InlineData("torchvision")]
    [InlineData("mlnet")]
    public void A_solid_colour_normalizes_to_the_preset_formula_exactly(string presetName)
    {
        var preset = presetName == "mlnet" ? Preset.MlNetResNet18 : Preset.TorchVision;
        using var image = TestImages.Solid(300, 200, new SKColor(255, 128, 0));

        var values = ImageTransform.ForEvaluation(preset).Apply(image);

        Assert.Equal(3 * 224 * 224, values.Length);
        float[] rgb = [1f, 128 / 255f, 0f];
        for (int c = 0; c < 3; c++)
        {
            float expected = ((rgb[c] * preset.Scale) - preset.Mean[c]) / preset.Std[c];
            var plane = values.AsSpan(c * 224 * 224, 224 * 224).ToArray();
            Assert.All(plane, v => Assert.Equal(expected, v, 4));
        }
    }

    [Fact]
    public void Evaluation_resizes_the_shorter_side_then_takes_the_center()
    {
        // 100 x 50: red | blue (columns 25..74) | red. Shorter side 50 -> 50 (no scaling), center crop 50 = blue.
        using var image = TestImages.Solid(100, 50, SKColors.Red);
        using (var canvas = new SKCanvas(image))
        using (var paint = new SKPaint { Color = SKColors.Blue })
        {
            canvas.DrawRect(25, 0, 50, 50, paint);
        }

        var raw = new Preset("raw", 50, 50, 1f, [0f, 0f, 0f], [1f, 1f, 1f]);
        var values = ImageTransform.ForEvaluation(raw).Apply(image);

        int plane = 50 * 50;
        Assert.All(values.AsSpan(0, plane).ToArray(), v => Assert.Equal(0f, v, 3)); // no red
        Assert.All(values.AsSpan(2 * plane, plane).ToArray(), v => Assert.Equal(1f, v, 3)); // all blue
    }

    [Fact]
    public void Training_output_is_deterministic_for_seed_epoch_and_index()
    {
        using var image = TestImages.Halves(90, 70, 30, SKColors.Orange, SKColors.Navy);
        var transform = ImageTransform.ForTraining(Small, TrainingAugmentation.Mild);

        var a = transform.Apply(image, ImageTransform.RandomFor(7, 2, 13));
        var b = transform.Apply(image, ImageTransform.RandomFor(7, 2, 13));
        var c = transform.Apply(image, ImageTransform.RandomFor(7, 2, 14));
        var d = transform.Apply(image, ImageTransform.RandomFor(7, 3, 13));

        Assert.Equal(3 * 56 * 56, a.Length);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.NotEqual(a, d);
    }

    [Fact]
    public void The_flip_mirrors_columns_and_happens_about_half_the_time()
    {
        // A full-image crop (scale 1, ratio 1 on a square image) leaves the flip as the only random choice.
        var preset = new Preset("raw", 32, 32, 1f, [0f, 0f, 0f], [1f, 1f, 1f]);
        var fullCrop = new TrainingAugmentation { MinScale = 1, MaxScale = 1, MinRatio = 1, MaxRatio = 1 };
        using var image = TestImages.Halves(32, 32, 8, SKColors.Red, SKColors.Blue);
        var straight = ImageTransform.ForEvaluation(preset).Apply(image);
        var mirrored = Mirror(straight, 32);
        var transform = ImageTransform.ForTraining(preset, fullCrop);

        int flipped = 0;
        for (int i = 0; i < 40; i++)
        {
            var output = transform.Apply(image, ImageTransform.RandomFor(1, 0, i));
            bool isStraight = output.SequenceEqual(straight);
            bool isMirrored = output.SequenceEqual(mirrored);
            Assert.True(isStraight || isMirrored, $"sample {i} is neither the image nor its mirror");
            flipped += isMirrored ? 1 : 0;
        }

        Assert.InRange(flipped, 8, 32);
        Assert.Equal(1f, mirrored[31], 3); // red ends up on the right
    }

    [Fact]
    public void Random_resized_crops_vary_in_content()
    {
        using var image = TestImages.Halves(120, 80, 60, SKColors.White, SKColors.Black);
        var transform = ImageTransform.ForTraining(Small);

        var means = Enumerable.Range(0, 20)
            .Select(i => transform.Apply(image, ImageTransform.RandomFor(3, 0, i)).Average())
            .ToList();

        Assert.True(means.Max() - means.Min() > 0.5, "crops of a half-white image should differ in brightness");
    }

    [Fact]
    public void Color_jitter_changes_values_but_keeps_them_in_range()
    {
        var raw = new Preset("raw", 16, 16, 1f, [0f, 0f, 0f], [1f, 1f, 1f]);
        var jitter = new TrainingAugmentation
        {
            MinScale = 1,
            MaxScale = 1,
            MinRatio = 1,
            MaxRatio = 1,
            HorizontalFlip = false,
            Brightness = 0.4,
            Contrast = 0.4,
            Saturation = 0.4,
        };
        using var image = TestImages.Halves(16, 16, 8, new SKColor(200, 100, 50), new SKColor(20, 160, 220));
        var plain = ImageTransform.ForEvaluation(raw).Apply(image);

        var jittered = ImageTransform.ForTraining(raw, jitter).Apply(image, ImageTransform.RandomFor(5, 0, 0));

        Assert.NotEqual(plain, jittered);
        Assert.All(jittered, v => Assert.InRange(v, 0f, 1f));
    }

    [Fact]
    public void A_training_transform_without_a_random_source_is_a_clear_error()
    {
        using var image = TestImages.Solid(10, 10, SKColors.Gray);

        var error = Assert.Throws<ArgumentNullException>(() => ImageTransform.ForTraining(Small).Apply(image));

        Assert.Contains("RandomFor", error.Message);
    }

    [Fact]
    public void Cache_keys_differ_between_evaluation_training_and_presets()
    {
        var keys = new[]
        {
            ImageTransform.ForEvaluation(Preset.TorchVision).Key,
            ImageTransform.ForEvaluation(Preset.MlNetResNet18).Key,
            ImageTransform.ForTraining(Preset.TorchVision).Key,
        };

        Assert.Equal(3, keys.Distinct().Count());
        Assert.Equal(keys[0], ImageTransform.ForEvaluation(Preset.TorchVision).Key);
    }

    private static float[] Mirror(float[] chw, int size)
    {
        var result = new float[chw.Length];
        for (int c = 0; c < 3; c++)
        {
            for (int y = 0; y < size; y++)
            {
                for (int x = 0; x < size; x++)
                {
                    result[(c * size * size) + (y * size) + x] = chw[(c * size * size) + (y * size) + (size - 1 - x)];
                }
            }
        }

        return result;
    }
}
