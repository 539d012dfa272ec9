namespace MedVision.Torch.Serialization;

/// <summary>
/// A file is not a readable torch.save archive — malformed, truncated, damaged, in PyTorch's legacy format, or holding
/// something other than data (a pickled model object); the message names the file and the problem.
/// </summary>
public sealed class PyTorchFormatException : Exception
{
    /// <summary>Creates the exception with a message.</summary>
    public PyTorchFormatException(string? message) : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the error that caused it.</summary>
    public PyTorchFormatException(string? message, Exception? innerException) : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with no message.</summary>
    public PyTorchFormatException() : base("The data is not a readable torch.save archive.")
    {
    }
}
