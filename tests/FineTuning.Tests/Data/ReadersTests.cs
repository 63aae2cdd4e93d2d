using FineTuning.Data;
using SkiaSharp;

namespace FineTuning.Tests.Data;

public sealed class ImageFolderTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Classes_are_the_sorted_folder_names_and_non_images_are_left_out()
    {
        TestImages.WriteSolid(_dir["pug/b.jpg"], SKColors.Tan, SKEncodedImageFormat.Jpeg);
        TestImages.WriteSolid(_dir["pug/a.png"], SKColors.Tan, SKEncodedImageFormat.Png);
        TestImages.WriteSolid(_dir["beagle/x.webp"], SKColors.Brown, SKEncodedImageFormat.Webp);
        File.WriteAllText(_dir["beagle/notes.txt"], "not an image");
        Directory.CreateDirectory(_dir[".cache"]);
        File.WriteAllText(_dir["pug/broken.jpg"], "renamed text");
        var warnings = new Collector<ImageWarning>();

        var set = ImageFolder.Read(_dir.Path, warnings);

        Assert.Equal(["beagle", "pug"], set.Classes);
        Assert.Equal(["x.webp", "a.png", "b.jpg"], set.Samples.Select(s => Path.GetFileName(s.Path)));
        Assert.Equal([0, 1, 1], set.Samples.Select(s => s.Label));
        var warning = Assert.Single(warnings.Items);
        Assert.EndsWith("broken.jpg", warning.Path);
        Assert.Contains("broken.jpg", warning.Message);
    }

    [Fact]
    public void Fewer_than_two_classes_is_a_clear_error()
    {
        TestImages.WriteSolid(_dir["pug/a.png"], SKColors.Tan, SKEncodedImageFormat.Png);

        var error = Assert.Throws<DataSetException>(() => ImageFolder.Read(_dir.Path));

        Assert.Contains("only one class ('pug')", error.Message);
    }

    [Fact]
    public void A_class_without_a_readable_image_is_named_in_the_error()
    {
        TestImages.WriteSolid(_dir["pug/a.png"], SKColors.Tan, SKEncodedImageFormat.Png);
        Directory.CreateDirectory(_dir["corgi"]);
        File.WriteAllBytes(_dir["corgi/empty.jpg"], []);

        var error = Assert.Throws<DataSetException>(() => ImageFolder.Read(_dir.Path));

        Assert.Contains("'corgi'", error.Message);
        Assert.Contains("no readable image", error.Message);
    }

    [Fact]
    public void A_missing_folder_is_a_clear_error()
    {
        var error = Assert.Throws<DataSetException>(() => ImageFolder.Read(_dir["nope"]));

        Assert.Contains("does not exist", error.Message);
    }
}

public sealed class DataSplitTests
{
    private static LabeledImageSet MakeSet(params int[] perClass)
    {
        var samples = perClass
            .SelectMany((n, label) => Enumerable.Range(0, n).Select(i => new ImageSample($"c{label}/{i}.jpg", label)))
            .ToList();
        return new LabeledImageSet(perClass.Select((_, i) => $"c{i}").ToList(), samples);
    }

    [Fact]
    public void Each_class_gives_the_same_fraction_to_validation()
    {
        var set = MakeSet(30, 10, 5, 2);

        var (train, validation) = DataSplit.Stratified(set, 0.2, seed: 1);

        int[] expected = [6, 2, 1, 1];
        for (int c = 0; c < 4; c++)
        {
            Assert.Equal(expected[c], validation.Samples.Count(s => s.Label == c));
        }

        Assert.Equal(set.Samples.Count, train.Samples.Count + validation.Samples.Count);
        Assert.Empty(train.Samples.Select(s => s.Path).Intersect(validation.Samples.Select(s => s.Path)));
        Assert.Same(set.Classes, train.Classes);
        Assert.Same(set.Classes, validation.Classes);
    }

    [Fact]
    public void The_split_is_deterministic_for_a_seed_and_changes_with_it()
    {
        var set = MakeSet(40, 40);

        var first = DataSplit.Stratified(set, 0.25, seed: 42).Validation.Samples.Select(s => s.Path).ToList();
        var again = DataSplit.Stratified(set, 0.25, seed: 42).Validation.Samples.Select(s => s.Path).ToList();
        var other = DataSplit.Stratified(set, 0.25, seed: 43).Validation.Samples.Select(s => s.Path).ToList();

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
        // Pinned, so that a change of algorithm (which would change every user's split) is noticed.
        Assert.Equal(first, DataSplit.Stratified(set, 0.25, seed: 42).Validation.Samples.Select(s => s.Path));
    }

    [Fact]
    public void A_fraction_outside_zero_to_one_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => DataSplit.Stratified(MakeSet(3, 3), 1.0, 0));
    }
}
