namespace MedVision.Torch.Serialization;

/// <summary>A safetensors file or buffer is malformed; the message names the source and the problem.</summary>
public sealed class SafeTensorsFormatException : Exception
{
    /// <summary>Creates the exception with a message.</summary>
    public SafeTensorsFormatException(string? message) : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the error that caused it.</summary>
    public SafeTensorsFormatException(string? message, Exception? innerException) : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with no message.</summary>
    public SafeTensorsFormatException() : base("The safetensors data is malformed.")
    {
    }
}
