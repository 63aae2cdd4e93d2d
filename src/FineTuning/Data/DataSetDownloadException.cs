namespace FineTuning.Data;

/// <summary>
/// A data set could not be downloaded, verified or unpacked. The message says what happened and what to do (run
/// again to resume, or download by hand and pass the archive).
/// </summary>
public sealed class DataSetDownloadException : Exception
{
    /// <summary>Creates the exception with a message that names the problem and the fix.</summary>
    public DataSetDownloadException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the error that caused it.</summary>
    public DataSetDownloadException(string message, Exception inner)
        : base(message, inner)
    {
    }
}

/// <summary>
/// An archive holds an entry that would be written outside the target folder, or a link, or a device file; nothing
/// of it is kept. Archives from the internet are untrusted input.
/// </summary>
public sealed class UnsafeArchiveException : Exception
{
    /// <summary>Creates the exception naming the archive, the entry and why it was refused.</summary>
    public UnsafeArchiveException(string archive, string entry, string reason)
        : base($"{archive} was not unpacked: its entry '{entry}' {reason}. The archive may be damaged or " +
               "hostile; download it again from the official address.")
    {
        Archive = archive;
        Entry = entry;
    }

    /// <summary>The archive file.</summary>
    public string Archive { get; }

    /// <summary>The refused entry's name as stored in the archive.</summary>
    public string Entry { get; }
}
