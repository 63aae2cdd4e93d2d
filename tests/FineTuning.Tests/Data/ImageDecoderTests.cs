using FineTuning.Data;
using FineTuning.Models;
using SkiaSharp;

namespace FineTuning.Tests.Data;

public sealed class ImageDecoderTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(SKEncodedImageFormat.Png, "a.png")]
    [InlineData(SKEncodedImageFormat.Jpeg, "a.jpg")]
    [InlineData(SKEncodedImageFormat.Webp, "a.webp")]
    public void Decodes_png_jpeg_and_webp(SKEncodedImageFormat format, string name)
    {
        var path = TestImages.WriteSolid(_dir[name], new SKColor(200, 40, 90), format, 48, 32);

        Assert.True(ImageDecoder.TryDecode(path, out var bitmap, out var error), error);
        using (bitmap)
        {
            Assert.Equal(48, bitmap.Width);
            Assert.Equal(32, bitmap.Height);
            var pixel = bitmap.GetPixel(10, 10);
            int tolerance = format == SKEncodedImageFormat.Png ? 0 : 6;
            Assert.InRange(pixel.Red, 200 - tolerance, 200 + tolerance);
            Assert.InRange(pixel.Green, 40 - tolerance, 40 + tolerance);
            Assert.InRange(pixel.Blue, 90 - tolerance, 90 + tolerance);
        }
    }

    [Fact]
    public void An_empty_file_is_refused_with_a_reason()
    {
        var path = _dir["empty.jpg"];
        File.WriteAllBytes(path, []);

        Assert.False(ImageDecoder.TryDecode(path, out _, out var error));
        Assert.Contains("empty", error);
    }

    [Fact]
    public void A_text_file_renamed_jpg_is_refused_as_not_an_image()
    {
        var path = _dir["notes.jpg"];
        File.WriteAllText(path, "These are not the pixels you are looking for.\n");

        Assert.False(ImageDecoder.TryDecode(path, out _, out var error));
        Assert.Contains("is not a JPEG, PNG or WebP image", error);
        Assert.False(ImageDecoder.TryReadHeader(path, out _));
    }

    [Fact]
    public void A_truncated_jpeg_is_refused_as_truncated()
    {
        // Noise, so that pixel data (not headers) makes up most of the file and half of it keeps the header.
        using var noise = TestImages.Noise(200, 150, seed: 3);
        var full = File.ReadAllBytes(TestImages.Write(_dir["full.jpg"], noise, SKEncodedImageFormat.Jpeg));
        var path = _dir["truncated.jpg"];
        File.WriteAllBytes(path, full[..(full.Length / 2)]);

        Assert.True(ImageDecoder.TryReadHeader(path, out _));
        Assert.False(ImageDecoder.TryDecode(path, out _, out var error));
        Assert.Contains("truncated", error);
        var thrown = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(path));
        Assert.Contains(path, thrown.Message);
    }

    [Fact]
    public void A_grayscale_png_becomes_three_equal_channels()
    {
        using var gray = new SKBitmap(new SKImageInfo(20, 10, SKColorType.Gray8, SKAlphaType.Opaque));
        gray.Erase(new SKColor(77, 77, 77));
        var path = TestImages.Write(_dir["gray.png"], gray, SKEncodedImageFormat.Png);
        Assert.Equal(0, File.ReadAllBytes(path)[25]); // IHDR colour type 0: the fixture really is grayscale

        var transform = ImageTransform.ForEvaluation(new Preset("raw", 10, 10, 1f, [0f, 0f, 0f], [1f, 1f, 1f]));
        using var tensor = transform.LoadTensor(path);

        Assert.Equal(new long[] { 1, 3, 10, 10 }, tensor.shape);
        var values = tensor.data<float>().ToArray();
        Assert.All(values, v => Assert.Equal(77 / 255f, v, 5));
    }

    [Fact]
    public void Alpha_is_composited_on_white()
    {
        using var rgba = new SKBitmap(new SKImageInfo(4, 4, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        rgba.Erase(new SKColor(255, 0, 0, 0)); // fully transparent red: must come out white
        var path = TestImages.Write(_dir["rgba.png"], rgba, SKEncodedImageFormat.Png);
        Assert.Equal(6, File.ReadAllBytes(path)[25]); // IHDR colour type 6: RGBA

        var transform = ImageTransform.ForEvaluation(new Preset("raw", 4, 4, 1f, [0f, 0f, 0f], [1f, 1f, 1f]));
        using var tensor = transform.LoadTensor(path);

        Assert.All(tensor.data<float>().ToArray(), v => Assert.Equal(1f, v, 5));
    }

    [Theory]
    [InlineData(6)] // rotate 90 degrees clockwise to display
    [InlineData(8)] // rotate 90 degrees counter-clockwise to display
    [InlineData(3)] // rotate 180 degrees
    public void Exif_orientation_is_applied(int orientation)
    {
        // Stored image: 60 wide, 20 high, red left third, blue elsewhere.
        using var stored = TestImages.Halves(60, 20, 20, SKColors.Red, SKColors.Blue);
        using var encoded = stored.Encode(SKEncodedImageFormat.Jpeg, 95);
        var path = _dir[$"exif{orientation}.jpg"];
        File.WriteAllBytes(path, TestImages.WithExifOrientation(encoded.ToArray(), (ushort)orientation));

        using var upright = ImageDecoder.Decode(path);

        bool quarterTurn = orientation is 6 or 8;
        Assert.Equal(quarterTurn ? 20 : 60, upright.Width);
        Assert.Equal(quarterTurn ? 60 : 20, upright.Height);
        // Where the red band ends up: 6 puts the stored left edge at the top, 8 at the bottom, 3 on the right.
        var (redX, redY, blueX, blueY) = orientation switch
        {
            6 => (10, 5, 10, 55),
            8 => (10, 55, 10, 5),
            _ => (55, 10, 5, 10),
        };
        Assert.True(upright.GetPixel(redX, redY).Red > 200, "red band in the wrong place");
        Assert.True(upright.GetPixel(blueX, blueY).Blue > 200, "blue part in the wrong place");
    }

    [Fact]
    public void A_large_jpeg_may_decode_at_a_reduced_size_that_still_covers_the_request()
    {
        var path = TestImages.WriteSolid(_dir["big.jpg"], SKColors.Olive, SKEncodedImageFormat.Jpeg, 1200, 900);

        using var reduced = ImageDecoder.Decode(path, minShorterSide: 256);

        // Half size keeps the shorter side at 450 >= 256; a quarter (225) would be too small.
        Assert.Equal(600, reduced.Width);
        Assert.Equal(450, reduced.Height);
    }
}
