using MedVision.Torch;

namespace MedVision.Nets.Inference;

/// <summary>
/// The network behind a <see cref="Predictor"/> made with <see cref="Predictor.Create"/>: another engine (ONNX Runtime
/// running an exported graph, for one) that turns a preprocessed batch into logits. Implementations must be safe to
/// call from several threads at once, as the predictor is.
/// </summary>
public interface IPredictorNetwork : IDisposable
{
    /// <summary>Where the predictor puts the preprocessed batches it passes to <see cref="Logits"/>.</summary>
    Device Device { get; }

    /// <summary>
    /// The logits (N, classes), float32, of a preprocessed batch (N, C, H, W) or (N, C, D, H, W) on <see cref="Device"/>.
    /// The tensor returned belongs to the caller's dispose scope.
    /// </summary>
    Tensor Logits(Tensor batch);
}
