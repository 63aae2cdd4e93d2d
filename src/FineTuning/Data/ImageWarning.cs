namespace FineTuning.Data;

/// <summary>
/// An image file that could not be used and was skipped. Reported once per file through
/// <see cref="IProgress{T}"/>, so that the caller decides how to show it; one bad file never stops training.
/// </summary>
/// <param name="Path">The file that was skipped.</param>
/// <param name="Reason">What was wrong with it, in words (for example "is empty (0 bytes)").</param>
public sealed record ImageWarning(string Path, string Reason)
{
    /// <summary>A one-line message naming the file, the problem and the consequence.</summary>
    public string Message => $"{Path} {Reason}; it was skipped.";

    /// <inheritdoc />
    public override string ToString() => Message;
}
