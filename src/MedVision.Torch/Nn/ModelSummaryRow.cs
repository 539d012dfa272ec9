namespace MedVision.Torch.Nn;

/// <summary>One module call in a <see cref="ModelSummary"/> (or one submodule of a TorchScript module, see <paramref name="Called"/>).</summary>
/// <param name="Depth">Nesting depth (0 for the model itself).</param>
/// <param name="Name">The module's dotted name in the model ("" for the model).</param>
/// <param name="TypeName">The module type.</param>
/// <param name="OutputShape">The shape of its output (of the first element for tuple outputs).</param>
/// <param name="Parameters">Parameter elements the module owns directly (not its children's).</param>
/// <param name="MultiplyAccumulates">
/// Multiply-accumulate operations of this call when the module is a convolution, transposed convolution, linear layer or multi-head attention (its projections and attention products; its output projection is a linear row of its own)
/// (bias additions not counted; 0 for every other module, containers included). See
/// <see cref="ModelSummary.TotalMultiplyAccumulates"/>.
/// </param>
/// <param name="Called">
/// True for a module call the summary recorded. False for a submodule of a TorchScript module: its forward runs inside
/// libtorch, so the summary lists it (under its parent, for its parameters) with no output shape and no mult-adds.
/// </param>
public sealed record ModelSummaryRow(int Depth, string Name, string TypeName, IReadOnlyList<long> OutputShape, long Parameters, long MultiplyAccumulates = 0, bool Called = true)
{
    /// <summary>The module's dotted name in the model ("" for the model).</summary>
    public string Name { get; init; } = Name ?? throw new ArgumentNullException(nameof(Name));

    /// <summary>The module type.</summary>
    public string TypeName { get; init; } = TypeName ?? throw new ArgumentNullException(nameof(TypeName));

    /// <summary>The shape of its output (of the first element for tuple outputs).</summary>
    public IReadOnlyList<long> OutputShape { get; init; } = OutputShape ?? throw new ArgumentNullException(nameof(OutputShape));
}
