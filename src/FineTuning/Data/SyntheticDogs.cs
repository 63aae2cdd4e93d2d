using SkiaSharp;

namespace FineTuning.Data;

/// <summary>
/// A generated stand-in for dog photos, for tests, CI and demos when no photos are at hand. Each class is a shape
/// (circle, square, triangle, star, ring or cross) in a hue of its own, drawn one to three times at a random
/// position, size and rotation over a noisy, tinted background with a couple of gray distractor shapes. A small
/// head on a pretrained backbone learns it well above chance, but not perfectly from a few images.
/// </summary>
public static class SyntheticDogs
{
    /// <summary>Most classes this generator can make distinct (6 shapes x 12 hues).</summary>
    public const int MaxClasses = 72;

    private static readonly string[] Shapes = ["circles", "squares", "triangles", "stars", "rings", "crosses"];

    private static readonly string[] Hues =
        ["red", "orange", "yellow", "lime", "green", "teal", "cyan", "azure", "blue", "violet", "magenta", "rose"];

    /// <summary>The class names <see cref="Generate"/> uses for <paramref name="classes"/> classes, by label.</summary>
    public static IReadOnlyList<string> ClassNames(int classes)
    {
        CheckClasses(classes);
        return Enumerable.Range(0, classes)
            .Select(k => $"{Shapes[ShapeOf(k)]}_{Hues[HueOf(k)]}")
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>
    /// Writes <paramref name="perClass"/> images of <paramref name="size"/> x <paramref name="size"/> pixels for
    /// each of <paramref name="classes"/> classes into <c>dir/{class}/</c> (even-numbered images JPEG, odd ones PNG),
    /// and returns the set as <see cref="ImageFolder.Read"/> would. The same arguments give the same pixels.
    /// </summary>
    public static LabeledImageSet Generate(string dir, int classes, int perClass, int size, int seed)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dir);
        CheckClasses(classes);
        ArgumentOutOfRangeException.ThrowIfLessThan(perClass, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 16);

        var names = ClassNames(classes);
        var work = Enumerable.Range(0, classes)
            .SelectMany(k => Enumerable.Range(0, perClass).Select(i => (k, i)))
            .ToArray();
        var paths = new string[work.Length];
        Parallel.For(0, work.Length, j =>
        {
            var (k, i) = work[j];
            string name = $"{Shapes[ShapeOf(k)]}_{Hues[HueOf(k)]}";
            string folder = Path.Combine(dir, name);
            Directory.CreateDirectory(folder);
            bool jpeg = i % 2 == 0;
            string path = Path.Combine(folder, $"{name}_{i:0000}.{(jpeg ? "jpg" : "png")}");
            using var bitmap = Draw(k, size, Seeds.For(Seeds.Synthetic, seed, k, i));
            using var data = bitmap.Encode(jpeg ? SKEncodedImageFormat.Jpeg : SKEncodedImageFormat.Png, 90);
            string temp = path + ".tmp";
            File.WriteAllBytes(temp, data.ToArray());
            File.Move(temp, path, overwrite: true);
            paths[j] = path;
        });

        var samples = work
            .Select((w, j) => new ImageSample(paths[j], IndexOf(names, $"{Shapes[ShapeOf(w.k)]}_{Hues[HueOf(w.k)]}")))
            .OrderBy(s => s.Label)
            .ThenBy(s => s.Path, StringComparer.Ordinal)
            .ToList();
        return new LabeledImageSet(names, samples);
    }

    private static int ShapeOf(int k) => k % Shapes.Length;

    // 5 is coprime to 12, so the first 12 classes all differ in hue; k / 12 shifts later groups of twelve.
    private static int HueOf(int k) => ((5 * k) + (k / 12)) % Hues.Length;

    private static int IndexOf(IReadOnlyList<string> names, string name)
    {
        for (int i = 0; i < names.Count; i++)
        {
            if (names[i] == name)
            {
                return i;
            }
        }

        throw new InvalidOperationException($"Unknown class {name}.");
    }

    private static void CheckClasses(int classes)
    {
        if (classes < 2 || classes > MaxClasses)
        {
            throw new ArgumentOutOfRangeException(
                nameof(classes), classes, $"The generator makes 2 to {MaxClasses} classes.");
        }
    }

    private static SKBitmap Draw(int k, int size, Random random)
    {
        var bitmap = new SKBitmap(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(bitmap);
        using var paint = new SKPaint { IsAntialias = true };

        // Background: a random soft gradient, then speckle noise.
        var top = SKColor.FromHsv(random.Next(360), random.Next(5, 30), random.Next(55, 95));
        var bottom = SKColor.FromHsv(random.Next(360), random.Next(5, 30), random.Next(40, 90));
        using (var shader = SKShader.CreateLinearGradient(
            new SKPoint(0, 0), new SKPoint(random.Next(size), size), [top, bottom], SKShaderTileMode.Clamp))
        {
            paint.Shader = shader;
            canvas.DrawRect(0, 0, size, size, paint);
            paint.Shader = null;
        }

        for (int n = size * size / 40; n > 0; n--)
        {
            byte v = (byte)random.Next(256);
            paint.Color = new SKColor(v, v, v, (byte)random.Next(20, 70));
            canvas.DrawCircle(random.Next(size), random.Next(size), 0.5f + (float)random.NextDouble(), paint);
        }

        // Distractors: other shapes in low-saturation colours, so shape alone or colour alone is not the whole story.
        for (int n = random.Next(1, 3); n > 0; n--)
        {
            var gray = SKColor.FromHsv(random.Next(360), random.Next(0, 20), random.Next(30, 80));
            DrawShape(canvas, paint, random.Next(Shapes.Length), gray, size, random, 0.10, 0.22);
        }

        // The class: its shape in its hue (plus or minus 12 degrees), one to three times.
        for (int n = random.Next(1, 4); n > 0; n--)
        {
            float hue = ((HueOf(k) * 30) + random.Next(-12, 13) + 360) % 360;
            var color = SKColor.FromHsv(hue, random.Next(55, 100), random.Next(55, 100));
            DrawShape(canvas, paint, ShapeOf(k), color, size, random, 0.14, 0.32);
        }

        return bitmap;
    }

    private static void DrawShape(
        SKCanvas canvas, SKPaint paint, int shape, SKColor color, int size, Random random, double min, double max)
    {
        float radius = (float)(size * (min + (random.NextDouble() * (max - min))) / 2);
        float cx = radius + ((float)random.NextDouble() * (size - (2 * radius)));
        float cy = radius + ((float)random.NextDouble() * (size - (2 * radius)));
        canvas.Save();
        canvas.Translate(cx, cy);
        canvas.RotateDegrees(random.Next(360));
        paint.Color = color;
        paint.Style = SKPaintStyle.Fill;
        switch (shape)
        {
            case 0:
                canvas.DrawCircle(0, 0, radius, paint);
                break;
            case 1:
                canvas.DrawRect(-radius * 0.85f, -radius * 0.85f, radius * 1.7f, radius * 1.7f, paint);
                break;
            case 2:
                using (var triangle = Polygon(3, radius, radius))
                {
                    canvas.DrawPath(triangle, paint);
                }

                break;
            case 3:
                using (var star = Polygon(5, radius, radius * 0.45f))
                {
                    canvas.DrawPath(star, paint);
                }

                break;
            case 4:
                paint.Style = SKPaintStyle.Stroke;
                paint.StrokeWidth = radius * 0.35f;
                canvas.DrawCircle(0, 0, radius * 0.8f, paint);
                break;
            default:
                canvas.DrawRect(-radius, -radius * 0.3f, radius * 2, radius * 0.6f, paint);
                canvas.DrawRect(-radius * 0.3f, -radius, radius * 0.6f, radius * 2, paint);
                break;
        }

        canvas.Restore();
    }

    // A regular polygon (inner == outer) or a star (inner < outer) with the given number of points.
    private static SKPath Polygon(int points, float outer, float inner)
    {
        using var builder = new SKPathBuilder();
        int corners = inner < outer ? points * 2 : points;
        for (int i = 0; i < corners; i++)
        {
            float r = inner < outer && i % 2 == 1 ? inner : outer;
            double angle = (Math.PI * 2 * i / corners) - (Math.PI / 2);
            var point = new SKPoint((float)(r * Math.Cos(angle)), (float)(r * Math.Sin(angle)));
            if (i == 0)
            {
                builder.MoveTo(point);
            }
            else
            {
                builder.LineTo(point);
            }
        }

        builder.Close();
        return builder.Detach();
    }
}
