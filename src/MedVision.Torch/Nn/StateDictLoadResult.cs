namespace MedVision.Torch.Nn;

/// <summary>What <see cref="Module.LoadStateDict"/> found: keys missing from the source, unexpected keys, and shape mismatches.</summary>
/// <param name="MissingKeys">Keys of the module that the state dict lacks.</param>
/// <param name="UnexpectedKeys">Keys of the state dict that the module lacks.</param>
/// <param name="ShapeMismatches">"key: expected [..], got [..]" for each key whose shapes differ.</param>
public sealed record StateDictLoadResult(IReadOnlyList<string> MissingKeys, IReadOnlyList<string> UnexpectedKeys, IReadOnlyList<string> ShapeMismatches)
{
    /// <summary>Keys of the module that the state dict lacks.</summary>
    public IReadOnlyList<string> MissingKeys { get; init; } = MissingKeys ?? throw new ArgumentNullException(nameof(MissingKeys));

    /// <summary>Keys of the state dict that the module lacks.</summary>
    public IReadOnlyList<string> UnexpectedKeys { get; init; } = UnexpectedKeys ?? throw new ArgumentNullException(nameof(UnexpectedKeys));

    /// <summary>"key: expected [..], got [..]" for each key whose shapes differ.</summary>
    public IReadOnlyList<string> ShapeMismatches { get; init; } = ShapeMismatches ?? throw new ArgumentNullException(nameof(ShapeMismatches));

    /// <summary>True when every key matched by name and shape.</summary>
    public bool IsExactMatch => MissingKeys.Count == 0 && UnexpectedKeys.Count == 0 && ShapeMismatches.Count == 0;

    /// <inheritdoc />
    public override string ToString()
    {
        if (IsExactMatch) return "all keys matched";
        var parts = new List<string>();
        if (MissingKeys.Count > 0) parts.Add($"missing keys: {string.Join(", ", MissingKeys)}");
        if (UnexpectedKeys.Count > 0) parts.Add($"unexpected keys: {string.Join(", ", UnexpectedKeys)}");
        if (ShapeMismatches.Count > 0) parts.Add($"shape mismatches: {string.Join("; ", ShapeMismatches)}");
        return string.Join(". ", parts);
    }
}
