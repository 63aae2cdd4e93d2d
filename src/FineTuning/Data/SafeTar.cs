using System.Formats.Tar;
using System.IO.Compression;

namespace FineTuning.Data;

/// <summary>
/// Unpacks tar and tar.gz archives refusing anything unsafe: an entry whose path is absolute or leaves the target
/// folder (<c>../</c>), a symbolic or hard link, or a device or pipe. On refusal the target folder is deleted, so a
/// half-unpacked hostile archive leaves nothing behind.
/// </summary>
public static class SafeTar
{
    /// <summary>
    /// Unpacks <paramref name="archive"/> (gzip-compressed when its first bytes say so) into
    /// <paramref name="targetDir"/>, which should be a fresh folder owned by the caller.
    /// </summary>
    /// <returns>The number of files written.</returns>
    /// <exception cref="UnsafeArchiveException">An entry is unsafe; nothing is left in the target folder.</exception>
    /// <exception cref="DataSetDownloadException">The archive is not a valid tar (or tar.gz) file.</exception>
    public static int Extract(
        string archive, string targetDir, IProgress<DownloadProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(targetDir);
        try
        {
            return ExtractEntries(archive, targetDir, progress, cancellationToken);
        }
        catch (Exception e) when (e is UnsafeArchiveException or OperationCanceledException)
        {
            TryDelete(targetDir);
            throw;
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException)
        {
            TryDelete(targetDir);
            throw new DataSetDownloadException(
                $"{archive} is not a readable tar archive ({e.Message}). Delete it and download it again.", e);
        }
    }

    private static int ExtractEntries(
        string archive, string targetDir, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken)
    {
        string root = Path.GetFullPath(targetDir).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        using var file = File.OpenRead(archive);
        bool gzip = file.ReadByte() == 0x1F && file.ReadByte() == 0x8B;
        file.Position = 0;
        using Stream stream = gzip ? new GZipStream(file, CompressionMode.Decompress) : file;
        using var reader = new TarReader(stream);
        int files = 0;
        long lastReport = -1;
        while (reader.GetNextEntry() is { } entry)
        {
            cancellationToken.ThrowIfCancellationRequested();
            switch (entry.EntryType)
            {
                case TarEntryType.Directory:
                    Directory.CreateDirectory(Resolve(archive, root, entry.Name));
                    break;
                case TarEntryType.RegularFile:
                case TarEntryType.V7RegularFile:
                case TarEntryType.ContiguousFile:
                    string path = Resolve(archive, root, entry.Name);
                    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                    using (var output = new FileStream(path, FileMode.Create, FileAccess.Write))
                    {
                        entry.DataStream?.CopyTo(output);
                    }

                    files++;
                    break;
                case TarEntryType.SymbolicLink:
                case TarEntryType.HardLink:
                    string kind = entry.EntryType == TarEntryType.HardLink ? "hard" : "symbolic";
                    throw new UnsafeArchiveException(
                        archive, entry.Name, $"is a {kind} link (to '{entry.LinkName}'), and links are refused");
                case TarEntryType.GlobalExtendedAttributes:
                case TarEntryType.ExtendedAttributes:
                    // Metadata for other entries, not files.
                    break;
                default:
                    throw new UnsafeArchiveException(
                        archive, entry.Name, $"has type {entry.EntryType}; only files and folders are unpacked");
            }

            if (progress is not null && file.Position - lastReport >= 1 << 20)
            {
                lastReport = file.Position;
                progress.Report(new DownloadProgress(DownloadPhase.Extract, file.Position, file.Length));
            }
        }

        progress?.Report(new DownloadProgress(DownloadPhase.Extract, file.Length, file.Length));
        return files;
    }

    private static string Resolve(string archive, string root, string name)
    {
        if (string.IsNullOrEmpty(name) || Path.IsPathRooted(name) || name.StartsWith('/') || name.StartsWith('\\'))
        {
            throw new UnsafeArchiveException(archive, name, "has an absolute path");
        }

        string full = Path.GetFullPath(Path.Combine(root, name));
        if (!full.StartsWith(root, StringComparison.Ordinal) && full + Path.DirectorySeparatorChar != root)
        {
            throw new UnsafeArchiveException(archive, name, "would be written outside the target folder");
        }

        return full;
    }

    private static void TryDelete(string dir)
    {
        try
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
        catch (IOException)
        {
            // Leftovers of a refused archive are inside the caller's staging folder; never fatal.
        }
    }
}
