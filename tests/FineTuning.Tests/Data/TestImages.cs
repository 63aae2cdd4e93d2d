using SkiaSharp;

namespace FineTuning.Tests.Data;

/// <summary>Fixture files written by the tests themselves: images, broken images, folders of classes.</summary>
internal static class TestImages
{
    public static string Write(string path, SKBitmap bitmap, SKEncodedImageFormat format, int quality = 95)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var data = bitmap.Encode(format, quality)
            ?? throw new InvalidOperationException($"SkiaSharp could not encode {format}.");
        File.WriteAllBytes(path, data.ToArray());
        return path;
    }

    public static SKBitmap Solid(int width, int height, SKColor color)
    {
        var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Premul);
        bitmap.Erase(color);
        return bitmap;
    }

    public static SKBitmap Noise(int width, int height, int seed)
    {
        var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Premul);
        var random = new Random(seed);
        var bytes = new byte[width * height * 4];
        random.NextBytes(bytes);
        for (int i = 3; i < bytes.Length; i += 4)
        {
            bytes[i] = 255;
        }

        System.Runtime.InteropServices.Marshal.Copy(bytes, 0, bitmap.GetPixels(), bytes.Length);
        return bitmap;
    }

    /// <summary>Columns [0, split) get <paramref name="left"/>, the rest <paramref name="right"/>.</summary>
    public static SKBitmap Halves(int width, int height, int split, SKColor left, SKColor right)
    {
        var bitmap = Solid(width, height, right);
        using var canvas = new SKCanvas(bitmap);
        using var paint = new SKPaint { Color = left };
        canvas.DrawRect(0, 0, split, height, paint);
        return bitmap;
    }

    public static string WriteSolid(string path, SKColor color, SKEncodedImageFormat format, int w = 40, int h = 30)
    {
        using var bitmap = Solid(w, h, color);
        return Write(path, bitmap, format);
    }

    /// <summary>
    /// Inserts an EXIF APP1 segment holding only an Orientation tag right after the JPEG's SOI marker. The bytes are
    /// built here: "Exif\0\0", a big-endian TIFF header, and one IFD with tag 0x0112 (SHORT).
    /// </summary>
    public static byte[] WithExifOrientation(byte[] jpeg, ushort orientation)
    {
        if (jpeg[0] != 0xFF || jpeg[1] != 0xD8)
        {
            throw new ArgumentException("Not a JPEG.");
        }

        var exif = new List<byte>();
        exif.AddRange("Exif\0\0"u8.ToArray());
        exif.AddRange(new byte[] { (byte)'M', (byte)'M', 0x00, 0x2A, 0x00, 0x00, 0x00, 0x08 });
        exif.AddRange(new byte[] { 0x00, 0x01 }); // one IFD entry
        exif.AddRange(new byte[] { 0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01 }); // Orientation, SHORT, count 1
        exif.AddRange(new byte[] { (byte)(orientation >> 8), (byte)orientation, 0x00, 0x00 });
        exif.AddRange(new byte[] { 0x00, 0x00, 0x00, 0x00 }); // no next IFD
        int length = exif.Count + 2;
        var result = new List<byte> { 0xFF, 0xD8, 0xFF, 0xE1, (byte)(length >> 8), (byte)length };
        result.AddRange(exif);
        result.AddRange(jpeg.Skip(2));
        return result.ToArray();
    }
}

/// <summary>A temporary folder deleted when the test ends.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "finetune-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string this[string relative] => System.IO.Path.Combine(Path, relative);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }
}

/// <summary>Collects progress reports synchronously (Progress&lt;T&gt; would post them to the thread pool).</summary>
internal sealed class Collector<T> : IProgress<T>
{
    private readonly List<T> _items = [];

    public IReadOnlyList<T> Items
    {
        get
        {
            lock (_items)
            {
                return _items.ToList();
            }
        }
    }

    public void Report(T value)
    {
        lock (_items)
        {
            _items.Add(value);
        }
    }
}
