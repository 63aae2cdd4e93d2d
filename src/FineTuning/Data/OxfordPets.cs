namespace FineTuning.Data;

/// <summary>
/// The Oxford-IIIT Pet data set (37 breeds: 25 dogs, 12 cats; about 200 images each; CC BY-SA 4.0): one folder
/// <c>images/</c> whose file names carry the breed, <c>beagle_12.jpg</c>, <c>Abyssinian_1.jpg</c>. The class is
/// the name before the last underscore, in lower case; cat breeds are the capitalised ones.
/// </summary>
public static class OxfordPets
{
    /// <summary>Where <c>finetune download oxford-pets</c> fetches the images (a tar.gz of about 750 MB).</summary>
    public const string ImagesUrl = "https://www.robots.ox.ac.uk/~vgg/data/pets/data/images.tar.gz";

    /// <summary>The 25 dog breeds of the data set, as class names.</summary>
    public static IReadOnlyList<string> DogBreeds { get; } =
    [
        "american_bulldog", "american_pit_bull_terrier", "basset_hound", "beagle", "boxer", "chihuahua",
        "english_cocker_spaniel", "english_setter", "german_shorthaired", "great_pyrenees", "havanese",
        "japanese_chin", "keeshond", "leonberger", "miniature_pinscher", "newfoundland", "pomeranian", "pug",
        "saint_bernard", "samoyed", "scottish_terrier", "shiba_inu", "staffordshire_bull_terrier", "wheaten_terrier",
        "yorkshire_terrier",
    ];

    /// <summary>The 12 cat breeds of the data set, as class names.</summary>
    public static IReadOnlyList<string> CatBreeds { get; } =
    [
        "abyssinian", "bengal", "birman", "bombay", "british_shorthair", "egyptian_mau", "maine_coon", "persian",
        "ragdoll", "russian_blue", "siamese", "sphynx",
    ];

    /// <summary>The class of a file name (<c>great_pyrenees_101.jpg</c>: <c>great_pyrenees</c>), or null.</summary>
    public static string? LabelOf(string fileName)
    {
        string stem = Path.GetFileNameWithoutExtension(fileName);
        int cut = stem.LastIndexOf('_');
        return cut <= 0 ? null : stem[..cut].ToLowerInvariant();
    }

    /// <summary>
    /// True for a dog: a known dog breed, or an unknown breed written in lower case (the data set capitalises cats).
    /// </summary>
    public static bool IsDog(string fileName)
    {
        string? label = LabelOf(fileName);
        if (label is null)
        {
            return false;
        }

        return DogBreeds.Contains(label)
            || (!CatBreeds.Contains(label) && char.IsLower(Path.GetFileName(fileName)[0]));
    }

    /// <summary>
    /// Reads the layout from <paramref name="dir"/> (the folder holding <c>images/</c>, or <c>images</c> itself).
    /// With <paramref name="dogsOnly"/> (the default) the 12 cat breeds are left out.
    /// </summary>
    /// <exception cref="DataSetException">No pet images were found, or fewer than two breeds.</exception>
    public static LabeledImageSet Read(string dir, bool dogsOnly = true, IProgress<ImageWarning>? warnings = null)
    {
        var (classes, files) = List(dir, dogsOnly);
        return ImageFolder.Build(dir, classes, files, warnings);
    }

    /// <summary>
    /// Converts the layout into a folder per breed in <paramref name="targetDir"/> (files moved, or copied when
    /// <paramref name="move"/> is false). Returns the number of images placed.
    /// </summary>
    public static int ConvertToFolderPerClass(
        string sourceDir, string targetDir, bool dogsOnly = true, bool move = true)
    {
        var (classes, files) = List(sourceDir, dogsOnly);
        var samples = files.SelectMany((list, label) => list.Select(f => new ImageSample(f, label)));
        return FolderPerClass.Write(classes, samples, targetDir, move);
    }

    private static (List<string> Classes, List<List<string>> Files) List(string dir, bool dogsOnly)
    {
        if (!Directory.Exists(dir))
        {
            throw new DataSetException($"The Oxford-IIIT Pet folder '{dir}' does not exist.");
        }

        string root = Directory.Exists(Path.Combine(dir, "images")) ? Path.Combine(dir, "images") : dir;
        var groups = FolderPerClass.ImageFiles(root)
            .Where(f => LabelOf(Path.GetFileName(f)) is not null && (!dogsOnly || IsDog(Path.GetFileName(f))))
            .GroupBy(f => LabelOf(Path.GetFileName(f))!, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToList();
        if (groups.Count == 0)
        {
            throw new DataSetException(
                $"'{dir}' has no Oxford-IIIT Pet images{(dogsOnly ? " of dogs" : string.Empty)}. Expected " +
                "images/beagle_12.jpg and the like; unpack images.tar.gz from " + ImagesUrl + " there.");
        }

        return (groups.Select(g => g.Key).ToList(), groups.Select(g => g.ToList()).ToList());
    }
}
