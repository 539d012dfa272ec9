namespace MedVision.Nets.Metrics;

/// <summary>One confidence bin of a reliability diagram: the predictions whose confidence lies in (Lower, Upper].</summary>
/// <param name="Lower">The bin's lower edge (exclusive; the first bin also holds confidence 0).</param>
/// <param name="Upper">The bin's upper edge (inclusive).</param>
/// <param name="Count">Predictions in the bin.</param>
/// <param name="MeanConfidence">Their mean confidence (NaN for an empty bin).</param>
/// <param name="Accuracy">The share of them that is correct (NaN for an empty bin).</param>
public sealed record ReliabilityBin(double Lower, double Upper, int Count, double MeanConfidence, double Accuracy);
