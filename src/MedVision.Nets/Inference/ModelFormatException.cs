namespace MedVision.Nets.Inference;

/// <summary>A model file cannot be used: unknown or newer format, unsupported architecture, or weights that do not fit the architecture.</summary>
public sealed class ModelFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ModelFormatException(string? message, Exception? inner = null) : base(message, inner) { }
}
