namespace FineTuning.Data;

/// <summary>The step a data set download is in.</summary>
public enum DownloadPhase
{
    /// <summary>Receiving the archive; units are bytes.</summary>
    Download,

    /// <summary>Computing the archive's SHA-256; units are bytes.</summary>
    Verify,

    /// <summary>Unpacking the archive; units are bytes of the archive read.</summary>
    Extract,

    /// <summary>Moving images into a folder per class; units are files.</summary>
    Convert,
}

/// <summary>Progress of a data set download, reported through <see cref="IProgress{T}"/>.</summary>
/// <param name="Phase">The current step.</param>
/// <param name="Done">Units done so far in this step (bytes or files, see <see cref="DownloadPhase"/>).</param>
/// <param name="Total">Units in the step, when known.</param>
public sealed record DownloadProgress(DownloadPhase Phase, long Done, long? Total);

/// <summary>What a finished download produced.</summary>
/// <param name="Folder">The folder per class that was written.</param>
/// <param name="Images">Number of images placed in it.</param>
/// <param name="Classes">Number of class folders.</param>
/// <param name="ArchiveSha256">The archive's SHA-256, lower-case hex.</param>
/// <param name="Resumed">True when an earlier partial download was continued.</param>
public sealed record DownloadResult(string Folder, int Images, int Classes, string ArchiveSha256, bool Resumed);
