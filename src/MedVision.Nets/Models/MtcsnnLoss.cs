using MedVision.Torch;

namespace MedVision.Nets.Models;

/// <summary>
/// The loss of one <see cref="Mtcsnn"/> training batch, with its terms for logging: <see cref="Total"/> =
/// <see cref="Classification"/> + λ·<see cref="Difference"/>. Call Backward on <see cref="Total"/>; the caller owns
/// the tensors, and disposing this object disposes them.
/// </summary>
/// <param name="Total">Scalar total loss (with gradient).</param>
/// <param name="Classification">Scalar cross-entropy over all images.</param>
/// <param name="Difference">Scalar MSE of the difference task (0 when the batch has fewer than two images).</param>
/// <param name="Logits">Classification logits (N, K) of the batch, for metrics.</param>
/// <param name="PairCount">Number of pairs the difference term averaged over (⌊N / 2⌋).</param>
public sealed record MtcsnnLoss(Tensor Total, Tensor Classification, Tensor Difference, Tensor Logits, long PairCount) : IDisposable
{
    /// <summary>Scalar total loss (with gradient).</summary>
    public Tensor Total { get; init; } = Total ?? throw new ArgumentNullException(nameof(Total));

    /// <summary>Scalar classification loss over all images: the cross-entropy, or a CORAL head's <see cref="Losses.CoralLoss"/>.</summary>
    public Tensor Classification { get; init; } = Classification ?? throw new ArgumentNullException(nameof(Classification));

    /// <summary>Scalar MSE of the difference task (0 when the batch has fewer than two images).</summary>
    public Tensor Difference { get; init; } = Difference ?? throw new ArgumentNullException(nameof(Difference));

    /// <summary>Classification logits (N, K; a CORAL head's cumulative logits, (N, K − 1)) of the batch, for metrics.</summary>
    public Tensor Logits { get; init; } = Logits ?? throw new ArgumentNullException(nameof(Logits));

    /// <summary>Disposes the tensors.</summary>
    public void Dispose()
    {
        Total.Dispose();
        Classification.Dispose();
        Difference.Dispose();
        Logits.Dispose();
    }
}
