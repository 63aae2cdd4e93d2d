namespace FineTuning.Data;

/// <summary>
/// Reads a folder per class (<c>dir/beagle/001.jpg</c>, <c>dir/pug/a.png</c>): the class names are the sorted
/// (ordinal) sub-folder names, the samples are their JPEG, PNG and WebP files in sorted order. This is the layout
/// <c>finetune download</c> writes and <c>finetune train --data</c> reads.
/// </summary>
public static class ImageFolder
{
    /// <summary>
    /// Reads <paramref name="dir"/>. Each file's header is checked (no pixels are decoded); files that are empty or
    /// not images are left out and reported once through <paramref name="warnings"/>. Hidden files and folders
    /// (names starting with a dot) are ignored.
    /// </summary>
    /// <exception cref="DataSetException">
    /// The folder does not exist, has fewer than two class folders, or a class has no readable image.
    /// </exception>
    public static LabeledImageSet Read(string dir, IProgress<ImageWarning>? warnings = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dir);
        if (!Directory.Exists(dir))
        {
            throw new DataSetException(
                $"The data folder '{dir}' does not exist. Point to a folder with one sub-folder per class " +
                "(for example dogs/beagle/*.jpg), or create one with 'finetune download'.");
        }

        var classDirs = Directory.GetDirectories(dir)
            .Where(d => !Path.GetFileName(d).StartsWith('.'))
            .OrderBy(d => Path.GetFileName(d), StringComparer.Ordinal)
            .ToList();
        var files = classDirs
            .Select(d => Directory.EnumerateFiles(d, "*", SearchOption.AllDirectories)
                .Where(f => !Path.GetFileName(f).StartsWith('.') && ImageDecoder.HasImageExtension(f))
                .Order(StringComparer.Ordinal)
                .ToList())
            .ToList();
        return Build(dir, classDirs.Select(d => Path.GetFileName(d)!).ToList(), files, warnings);
    }

    /// <summary>
    /// Builds a labelled set from class names and their candidate files, checking each file's header in parallel and
    /// enforcing at least two classes with at least one readable image each.
    /// </summary>
    internal static LabeledImageSet Build(
        string dir, IReadOnlyList<string> classes, IReadOnlyList<List<string>> files, IProgress<ImageWarning>? warnings)
    {
        if (classes.Count < 2)
        {
            string found = classes.Count == 0 ? "no class folders" : $"only one class ('{classes[0]}')";
            throw new DataSetException(
                $"The data folder '{dir}' has {found}; a classifier needs at least two. Put each class's images in " +
                "its own sub-folder (for example dogs/beagle/*.jpg and dogs/pug/*.jpg).");
        }

        var all = files.SelectMany((list, label) => list.Select(path => (path, label))).ToArray();
        var readable = new bool[all.Length];
        Parallel.For(0, all.Length, i =>
        {
            readable[i] = ImageDecoder.TryReadHeader(all[i].path, out var error);
            if (!readable[i])
            {
                warnings?.Report(new ImageWarning(all[i].path, error!));
            }
        });

        var samples = new List<ImageSample>(all.Length);
        var counts = new int[classes.Count];
        for (int i = 0; i < all.Length; i++)
        {
            if (readable[i])
            {
                samples.Add(new ImageSample(all[i].path, all[i].label));
                counts[all[i].label]++;
            }
        }

        var empty = Enumerable.Range(0, classes.Count).Where(c => counts[c] == 0).Select(c => classes[c]).ToList();
        if (empty.Count > 0)
        {
            throw new DataSetException(
                $"In '{dir}', the class{(empty.Count > 1 ? "es" : string.Empty)} " +
                $"{string.Join(", ", empty.Select(e => $"'{e}'"))} ha{(empty.Count > 1 ? "ve" : "s")} no readable " +
                "image (JPEG, PNG or WebP). Add images to it or remove the folder.");
        }

        return new LabeledImageSet(classes, samples);
    }
}
