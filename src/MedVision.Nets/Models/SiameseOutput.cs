using MedVision.Torch;

namespace MedVision.Nets.Models;

/// <summary>
/// What <see cref="SiameseResNet"/> returns for a pair of batches: both embeddings (N, E) and their distance (N).
/// The caller owns the tensors; disposing the output disposes all three.
/// </summary>
/// <param name="First">Embeddings of the first inputs (N, E).</param>
/// <param name="Second">Embeddings of the second inputs (N, E).</param>
/// <param name="Distance">Distance between each pair (N).</param>
public sealed record SiameseOutput(Tensor First, Tensor Second, Tensor Distance) : IDisposable
{
    /// <summary>Embeddings of the first inputs (N, E).</summary>
    public Tensor First { get; init; } = First ?? throw new ArgumentNullException(nameof(First));

    /// <summary>Embeddings of the second inputs (N, E).</summary>
    public Tensor Second { get; init; } = Second ?? throw new ArgumentNullException(nameof(Second));

    /// <summary>Distance between each pair (N).</summary>
    public Tensor Distance { get; init; } = Distance ?? throw new ArgumentNullException(nameof(Distance));

    /// <summary>Disposes the three tensors.</summary>
    public void Dispose()
    {
        First.Dispose();
        Second.Dispose();
        Distance.Dispose();
    }
}
