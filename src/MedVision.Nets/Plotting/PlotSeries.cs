namespace MedVision.Nets.Plotting;

/// <summary>One named line of a <see cref="LineChart"/>.</summary>
/// <param name="Name">Legend text.</param>
/// <param name="X">X values.</param>
/// <param name="Y">Y values (NaN points are skipped, breaking the line).</param>
/// <param name="Dashed">Draw dashed.</param>
public sealed record PlotSeries(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y, bool Dashed = false)
{
    /// <summary>Legend text.</summary>
    public string Name { get; init; } = Name ?? throw new ArgumentNullException(nameof(Name));

    /// <summary>X values.</summary>
    public IReadOnlyList<double> X { get; init; } = X ?? throw new ArgumentNullException(nameof(X));

    /// <summary>Y values (NaN points are skipped, breaking the line).</summary>
    public IReadOnlyList<double> Y { get; init; } = Y ?? throw new ArgumentNullException(nameof(Y));
}
