namespace FineTuning.Data;

/// <summary>
/// A data set folder cannot be used as it is: it is missing, has fewer than two classes, or a class has no readable
/// image. The message names the folder or class and says what to do.
/// </summary>
public sealed class DataSetException : Exception
{
    /// <summary>Creates the exception with a message that names the problem and the fix.</summary>
    public DataSetException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the error that caused it.</summary>
    public DataSetException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
