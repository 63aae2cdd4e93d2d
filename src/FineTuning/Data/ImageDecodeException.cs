namespace FineTuning.Data;

/// <summary>
/// Thrown where a single image is required (for example a prediction) and the file cannot be decoded. Data loading
/// for training never throws it: there a bad file becomes an <see cref="ImageWarning"/> and is skipped.
/// </summary>
public sealed class ImageDecodeException : Exception
{
    /// <summary>Creates the exception for <paramref name="path"/> with the reason it could not be decoded.</summary>
    public ImageDecodeException(string path, string reason)
        : base($"{path} {reason}.")
    {
        Path = path;
        Reason = reason;
    }

    /// <summary>The image file that could not be decoded.</summary>
    public string Path { get; }

    /// <summary>What was wrong with the file.</summary>
    public string Reason { get; }
}
