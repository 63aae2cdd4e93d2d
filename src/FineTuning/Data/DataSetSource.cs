namespace FineTuning.Data;

/// <summary>
/// A downloadable data set: where its archive lives, what layout the archive unpacks to, and how that layout becomes
/// a folder per breed.
/// </summary>
/// <param name="Name">The name used on the command line, for example <c>stanford-dogs</c>.</param>
/// <param name="Url">The archive's published address.</param>
/// <param name="ExpectedSha256">
/// The archive's SHA-256 in lower-case hex when a trustworthy value is known; null when the publisher gives none
/// (then the hash is recorded after the first download and checked whenever the archive is reused).
/// </param>
/// <param name="Layout">The folder layout inside the archive, in words, for messages about unpacking by hand.</param>
/// <param name="Citation">Who made the data set and its terms, shown after a download.</param>
/// <param name="Convert">Moves the unpacked images (source folder) into a folder per class (target folder).</param>
public sealed record DataSetSource(
    string Name,
    string Url,
    string? ExpectedSha256,
    string Layout,
    string Citation,
    Func<string, string, int> Convert)
{
    /// <summary>The archive's file name, taken from the URL (for example <c>images.tar</c>).</summary>
    public string ArchiveName => Path.GetFileName(new Uri(Url).AbsolutePath);

    /// <summary>
    /// Stanford Dogs: 120 breeds, 20,580 images. The site publishes no checksum, so none is pinned here.
    /// </summary>
    public static DataSetSource StanfordDogs { get; } = new(
        "stanford-dogs",
        Data.StanfordDogs.ImagesUrl,
        null,
        "Images/n02085620-Chihuahua/n02085620_10074.jpg (a folder per breed, named after its WordNet synset)",
        "Stanford Dogs: Khosla, Jayadevaprakash, Yao and Fei-Fei, FGVC workshop at CVPR 2011; images from ImageNet, " +
        "for non-commercial research and education.",
        (source, target) => Data.StanfordDogs.ConvertToFolderPerClass(source, target));

    /// <summary>
    /// Oxford-IIIT Pet, dogs only (25 breeds). The site publishes no checksum, so none is pinned here.
    /// </summary>
    public static DataSetSource OxfordPets { get; } = new(
        "oxford-pets",
        Data.OxfordPets.ImagesUrl,
        null,
        "images/beagle_12.jpg, images/Abyssinian_1.jpg (one folder; the breed is the file name before the last '_')",
        "Oxford-IIIT Pet: Parkhi, Vedaldi, Zisserman and Jawahar, CVPR 2012; CC BY-SA 4.0.",
        (source, target) => Data.OxfordPets.ConvertToFolderPerClass(source, target, dogsOnly: true));

    /// <summary>Every data set <c>finetune download</c> knows, by name.</summary>
    public static IReadOnlyList<DataSetSource> All { get; } = [StanfordDogs, OxfordPets];

    /// <summary>The data set called <paramref name="name"/> (case-insensitive).</summary>
    /// <exception cref="ArgumentException">No data set has that name; the message lists the known ones.</exception>
    public static DataSetSource ByName(string name) =>
        All.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException(
            $"Unknown data set '{name}'. Known: {string.Join(", ", All.Select(s => s.Name))}.", nameof(name));
}
