using System.Diagnostics.CodeAnalysis;
using SkiaSharp;

namespace FineTuning.Data;

/// <summary>
/// Decodes JPEG, PNG and WebP files with SkiaSharp into upright RGBA bitmaps (8 bits per channel, premultiplied
/// alpha). Grayscale and CMYK images come out as RGB; the EXIF orientation is applied, so a phone photo taken in
/// portrait is portrait. Transparency is kept here and composited on white by <see cref="ImageTransform"/>.
/// </summary>
public static class ImageDecoder
{
    /// <summary>File extensions (lower case, with the dot) that the data set readers treat as images.</summary>
    public static IReadOnlySet<string> Extensions { get; } =
        new HashSet<string>([".jpg", ".jpeg", ".png", ".webp"], StringComparer.OrdinalIgnoreCase);

    /// <summary>True when <paramref name="path"/> has one of the <see cref="Extensions"/>.</summary>
    public static bool HasImageExtension(string path) => Extensions.Contains(Path.GetExtension(path));

    /// <summary>
    /// Reads only the file's header: true when SkiaSharp recognises an image format it can decode. Cheap (no pixel
    /// is decoded), so readers use it to drop renamed or empty files early; a truncated file still passes and is
    /// caught by <see cref="TryDecode"/>.
    /// </summary>
    public static bool TryReadHeader(string path, [NotNullWhen(false)] out string? error)
    {
        error = CheckFile(path);
        if (error is not null)
        {
            return false;
        }

        using var codec = SKCodec.Create(path, out var result);
        if (codec is null)
        {
            error = UnsupportedMessage(result);
            return false;
        }

        return true;
    }

    /// <summary>
    /// Decodes <paramref name="path"/> into an upright, premultiplied RGBA bitmap that the caller disposes.
    /// </summary>
    /// <param name="path">The image file.</param>
    /// <param name="bitmap">The decoded image, when the result is true.</param>
    /// <param name="error">Why the file could not be decoded, when the result is false (e.g. "is empty").</param>
    /// <param name="minShorterSide">
    /// When positive, JPEG files may be decoded at 1/2, 1/4 or 1/8 of their size as long as the shorter side stays at
    /// least this many pixels: much faster for large photos that are resized down anyway. 0 decodes at full size.
    /// </param>
    /// <returns>False for a missing, empty, unsupported, truncated or corrupt file; no throw for bad input.</returns>
    public static bool TryDecode(
        string path,
        [NotNullWhen(true)] out SKBitmap? bitmap,
        [NotNullWhen(false)] out string? error,
        int minShorterSide = 0)
    {
        bitmap = null;
        error = CheckFile(path);
        if (error is not null)
        {
            return false;
        }

        try
        {
            using var codec = SKCodec.Create(path, out var createResult);
            if (codec is null)
            {
                error = UnsupportedMessage(createResult);
                return false;
            }

            var size = codec.Info.Size;
            if (size.Width <= 0 || size.Height <= 0)
            {
                error = "has no pixels (width or height is 0)";
                return false;
            }

            if (minShorterSide > 0)
            {
                size = ScaledSize(codec, size, minShorterSide);
            }

            var info = new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
            var decoded = new SKBitmap(info);
            var result = codec.GetPixels(info, decoded.GetPixels());
            if (result != SKCodecResult.Success)
            {
                decoded.Dispose();
                error = result == SKCodecResult.IncompleteInput
                    ? "is truncated (the image data ends early)"
                    : $"is corrupt (SkiaSharp could not decode it: {result})";
                return false;
            }

            bitmap = Orient(decoded, codec.EncodedOrigin);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = $"could not be read ({e.Message})";
            return false;
        }
    }

    /// <summary>Decodes <paramref name="path"/>, or throws an <see cref="ImageDecodeException"/> naming it.</summary>
    public static SKBitmap Decode(string path, int minShorterSide = 0) =>
        TryDecode(path, out var bitmap, out var error, minShorterSide)
            ? bitmap
            : throw new ImageDecodeException(path, error);

    /// <summary>
    /// Returns <paramref name="source"/> turned upright for an EXIF orientation, disposing the source when a new
    /// bitmap is made. Orientations 5 to 8 swap width and height.
    /// </summary>
    public static SKBitmap Orient(SKBitmap source, SKEncodedOrigin origin)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (origin is SKEncodedOrigin.TopLeft || (int)origin < 1 || (int)origin > 8)
        {
            return source;
        }

        int w = source.Width, h = source.Height;
        bool swap = (int)origin >= 5;
        int ow = swap ? h : w, oh = swap ? w : h;
        var result = new SKBitmap(new SKImageInfo(ow, oh, SKColorType.Rgba8888, SKAlphaType.Premul));
        var src = source.GetPixelSpan();
        var dst = result.GetPixelSpan();
        var srcPixels = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, uint>(src);
        var dstPixels = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, uint>(dst);
        for (int y = 0; y < oh; y++)
        {
            for (int x = 0; x < ow; x++)
            {
                // For each output pixel, where it comes from in the stored (unrotated) image.
                (int sx, int sy) = origin switch
                {
                    SKEncodedOrigin.TopRight => (w - 1 - x, y),
                    SKEncodedOrigin.BottomRight => (w - 1 - x, h - 1 - y),
                    SKEncodedOrigin.BottomLeft => (x, h - 1 - y),
                    SKEncodedOrigin.LeftTop => (y, x),
                    SKEncodedOrigin.RightTop => (y, h - 1 - x),
                    SKEncodedOrigin.RightBottom => (w - 1 - y, h - 1 - x),
                    _ => (w - 1 - y, x), // LeftBottom
                };
                dstPixels[(y * ow) + x] = srcPixels[(sy * w) + sx];
            }
        }

        source.Dispose();
        return result;
    }

    private static string? CheckFile(string path)
    {
        var file = new FileInfo(path);
        if (!file.Exists)
        {
            return "does not exist";
        }

        return file.Length == 0 ? "is empty (0 bytes)" : null;
    }

    private static string UnsupportedMessage(SKCodecResult result) =>
        $"is not a JPEG, PNG or WebP image (SkiaSharp does not recognise its contents: {result})";

    private static SKSizeI ScaledSize(SKCodec codec, SKSizeI full, int minShorterSide)
    {
        int shorter = Math.Min(full.Width, full.Height);
        if (codec.EncodedFormat != SKEncodedImageFormat.Jpeg || shorter < 2 * minShorterSide)
        {
            return full;
        }

        // libjpeg scales by n/8 while decoding; keep the smallest size whose shorter side is still big enough.
        var best = full;
        foreach (float scale in new[] { 0.5f, 0.25f, 0.125f })
        {
            var candidate = codec.GetScaledDimensions(scale);
            if (Math.Min(candidate.Width, candidate.Height) < minShorterSide)
            {
                break;
            }

            best = candidate;
        }

        return best;
    }
}
