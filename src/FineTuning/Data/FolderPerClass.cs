namespace FineTuning.Data;

/// <summary>
/// Writes a labelled set as a folder per class (<c>target/beagle/beagle_12.jpg</c>), the layout
/// <see cref="ImageFolder.Read"/> reads. Used to convert the Stanford Dogs and Oxford-IIIT Pet layouts.
/// </summary>
public static class FolderPerClass
{
    /// <summary>
    /// Moves (or copies) every sample into <c>target/{class}/{file name}</c>. A file already there with the same
    /// size is left as it is, so an interrupted conversion can simply be run again.
    /// </summary>
    /// <param name="classes">Class names, indexed by the samples' labels; they become folder names.</param>
    /// <param name="samples">The files to place.</param>
    /// <param name="targetDir">The folder that receives one sub-folder per class.</param>
    /// <param name="move">Move the files (fast, same file system) instead of copying them.</param>
    /// <returns>The number of files placed.</returns>
    public static int Write(
        IReadOnlyList<string> classes, IEnumerable<ImageSample> samples, string targetDir, bool move)
    {
        ArgumentNullException.ThrowIfNull(classes);
        ArgumentNullException.ThrowIfNull(samples);
        int count = 0;
        foreach (var sample in samples)
        {
            string folder = Path.Combine(targetDir, classes[sample.Label]);
            Directory.CreateDirectory(folder);
            string destination = Path.Combine(folder, Path.GetFileName(sample.Path));
            if (File.Exists(destination) && new FileInfo(destination).Length == new FileInfo(sample.Path).Length)
            {
                count++;
                continue;
            }

            if (move)
            {
                File.Move(sample.Path, destination, overwrite: true);
            }
            else
            {
                File.Copy(sample.Path, destination, overwrite: true);
            }

            count++;
        }

        return count;
    }

    /// <summary>Files with an image extension in a folder (not recursive), sorted, hidden files left out.</summary>
    internal static List<string> ImageFiles(string dir) =>
        Directory.EnumerateFiles(dir)
            .Where(f => !Path.GetFileName(f).StartsWith('.') && ImageDecoder.HasImageExtension(f))
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>A name in lower_snake_case: letters and digits kept (lower case), other runs become "_".</summary>
    internal static string ToSnakeCase(string name)
    {
        var chars = new System.Text.StringBuilder(name.Length);
        foreach (char c in name.Trim())
        {
            if (char.IsLetterOrDigit(c))
            {
                chars.Append(char.ToLowerInvariant(c));
            }
            else if (chars.Length > 0 && chars[^1] != '_')
            {
                chars.Append('_');
            }
        }

        return chars.ToString().TrimEnd('_');
    }
}
