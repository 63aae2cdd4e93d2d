using System.Text.RegularExpressions;

namespace FineTuning.Data;

/// <summary>
/// The Stanford Dogs data set (120 breeds, 20,580 images taken from ImageNet): a folder per breed named after its
/// WordNet synset, <c>Images/n02085620-Chihuahua/n02085620_10074.jpg</c>. The label is the part after the synset id
/// in lower_snake_case: <c>chihuahua</c>, <c>shih_tzu</c>, <c>german_shepherd</c>.
/// </summary>
public static partial class StanfordDogs
{
    /// <summary>Where <c>finetune download stanford-dogs</c> fetches the images (a tar file of about 750 MB).</summary>
    public const string ImagesUrl = "http://vision.stanford.edu/aditya86/ImageNetDogs/images.tar";

    /// <summary>The label of a synset folder name, or null when the name is not <c>n12345678-Name</c>.</summary>
    public static string? LabelOf(string folderName)
    {
        var match = SynsetFolder().Match(folderName);
        return match.Success ? FolderPerClass.ToSnakeCase(match.Groups[1].Value) : null;
    }

    /// <summary>
    /// Reads the layout from <paramref name="dir"/>, which is either the folder holding <c>Images/</c> or the
    /// <c>Images</c> folder itself. Classes are the labels in sorted order; headers are checked as in
    /// <see cref="ImageFolder.Read"/>.
    /// </summary>
    /// <exception cref="DataSetException">No synset folders were found, or a breed has no readable image.</exception>
    public static LabeledImageSet Read(string dir, IProgress<ImageWarning>? warnings = null)
    {
        var (classes, files) = List(dir);
        return ImageFolder.Build(dir, classes, files, warnings);
    }

    /// <summary>
    /// Converts the layout into a folder per breed in <paramref name="targetDir"/> (files moved, or copied when
    /// <paramref name="move"/> is false). Returns the number of images placed.
    /// </summary>
    public static int ConvertToFolderPerClass(string sourceDir, string targetDir, bool move = true)
    {
        var (classes, files) = List(sourceDir);
        var samples = files.SelectMany((list, label) => list.Select(f => new ImageSample(f, label)));
        return FolderPerClass.Write(classes, samples, targetDir, move);
    }

    private static (List<string> Classes, List<List<string>> Files) List(string dir)
    {
        if (!Directory.Exists(dir))
        {
            throw new DataSetException($"The Stanford Dogs folder '{dir}' does not exist.");
        }

        string root = Directory.Exists(Path.Combine(dir, "Images")) ? Path.Combine(dir, "Images") : dir;
        var breeds = Directory.GetDirectories(root)
            .Select(d => (Dir: d, Label: LabelOf(Path.GetFileName(d))))
            .Where(b => b.Label is not null)
            .GroupBy(b => b.Label!, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToList();
        if (breeds.Count == 0)
        {
            throw new DataSetException(
                $"'{dir}' has no Stanford Dogs breed folders. Expected Images/n02085620-Chihuahua/*.jpg and the " +
                "like; unpack images.tar from " + ImagesUrl + " there.");
        }

        var files = breeds.Select(g => g.SelectMany(b => FolderPerClass.ImageFiles(b.Dir)).ToList()).ToList();
        return (breeds.Select(g => g.Key).ToList(), files);
    }

    [GeneratedRegex(@"^n\d{8}-(.+)$")]
    private static partial Regex SynsetFolder();
}
