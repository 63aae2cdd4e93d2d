namespace FineTuning.Models;

/// <summary>
/// ImageNet's 1000 class names (ILSVRC-2012) in the index order of every ImageNet-trained classifier head, e.g.
/// index 207 is <c>golden retriever</c>. Each name lists the class's synonyms separated by commas, as WordNet does.
/// </summary>
/// <remarks>
/// The list ships as an embedded resource converted from <c>dist/imagenet_classes.js</c> of the npm package
/// <c>@tensorflow-models/mobilenet</c> 2.1.1; class names are facts, not creative content.
/// </remarks>
public static class ImageNetLabels
{
    private static readonly Lazy<IReadOnlyList<string>> Lazy = new(ReadNames);

    /// <summary>The 1000 names, index <c>i</c> for output <c>i</c> of a 1000-way ImageNet head.</summary>
    public static IReadOnlyList<string> Names => Lazy.Value;

    /// <summary>The first synonym of a class, e.g. <c>tench</c> for <c>tench, Tinca tinca</c>.</summary>
    /// <param name="index">A class index from 0 to 999.</param>
    public static string ShortName(int index)
    {
        var name = Names[index];
        var comma = name.IndexOf(',', StringComparison.Ordinal);
        return comma < 0 ? name : name[..comma];
    }

    private static IReadOnlyList<string> ReadNames()
    {
        const string Resource = "FineTuning.Models.imagenet_classes.txt";
        using var stream = typeof(ImageNetLabels).Assembly.GetManifestResourceStream(Resource)
            ?? throw new InvalidOperationException($"The embedded resource {Resource} is missing from the build.");
        using var reader = new StreamReader(stream);
        var names = new List<string>(1000);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length > 0)
            {
                names.Add(line);
            }
        }

        if (names.Count != 1000)
        {
            throw new InvalidOperationException($"{Resource} has {names.Count} names instead of 1000.");
        }

        return names.AsReadOnly();
    }
}
