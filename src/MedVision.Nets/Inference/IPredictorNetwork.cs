using MedVision.Torch;

namespace MedVision.Nets.Inference;

/// <summary>
/// The network behind a <see cref="Predictor"/> made with <see cref="Predictor.Create"/> (or a segmentation predictor
/// made with <see cref="SegmentationPredictor.Create"/> or <see cref="ImageSegmentationPredictor.Create"/>): another
/// engine (ONNX Runtime running an exported graph, for one) that turns a preprocessed batch into logits.
/// Implementations must be safe to call from several threads at once, as the predictors are. The predictor that owns a
/// network disposes it only after its last running call has returned.
/// </summary>
public interface IPredictorNetwork : IDisposable
{
    /// <summary>Where the predictor puts the preprocessed batches it passes to <see cref="Logits"/>.</summary>
    Device Device { get; }

    /// <summary>
    /// The logits, float32, of a preprocessed batch (N, C, H, W) or (N, C, D, H, W) on <see cref="Device"/>: (N, classes)
    /// for a classifier; (N, classes, spatial…) — or (N, 1, spatial…) for a sigmoid network — for a segmentation network.
    /// The tensor returned belongs to the caller's dispose scope.
    /// </summary>
    Tensor Logits(Tensor batch);
}
