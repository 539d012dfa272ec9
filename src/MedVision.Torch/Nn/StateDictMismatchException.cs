namespace MedVision.Torch.Nn;

/// <summary>Strict state-dict loading found missing keys, unexpected keys or shape mismatches; nothing was changed.</summary>
public sealed class StateDictMismatchException : Exception
{
    /// <summary>Creates the exception from a load result.</summary>
    public StateDictMismatchException(StateDictLoadResult result)
        : base($"The state dict does not match the module: {result ?? throw new ArgumentNullException(nameof(result))}.") => Result = result;

    /// <summary>The details, key by key.</summary>
    public StateDictLoadResult Result { get; }
}
