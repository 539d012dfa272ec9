namespace MedVision.Nets.Plotting;

/// <summary>One named line of a <see cref="LineChart"/>.</summary>
/// <param name="Name">Legend text.</param>
/// <param name="X">X values.</param>
/// <param name="Y">Y values (NaN points are skipped, breaking the line).</param>
/// <param name="Dashed">Draw dashed.</param>
public sealed record PlotSeries(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y, bool Dashed = false);
