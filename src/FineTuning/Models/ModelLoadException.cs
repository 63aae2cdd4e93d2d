namespace FineTuning.Models;

/// <summary>
/// A model or weights file could not be loaded for a reason the user can fix (a missing, truncated or
/// mismatching file, an unknown name). The message names the file or value and says what to do.
/// </summary>
public sealed class ModelLoadException : Exception
{
    /// <summary>Creates the exception with a message meant for the user.</summary>
    /// <param name="message">What was wrong, with which file or value, and what to do.</param>
    public ModelLoadException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with a message meant for the user and the low-level cause.</summary>
    /// <param name="message">What was wrong, with which file or value, and what to do.</param>
    /// <param name="inner">The exception that revealed the problem.</param>
    public ModelLoadException(string message, Exception inner) : base(message, inner)
    {
    }
}
