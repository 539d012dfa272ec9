namespace MedVision.Torch.Nn;

/// <summary>
/// A layer that can draw its parameters again as its constructor did (PyTorch's <c>reset_parameters()</c>):
/// convolutions and linear layers get a new Kaiming-uniform weight and uniform bias from the global generator
/// (<see cref="Tensors.ManualSeed"/> makes it reproducible), normalisation layers ones and zeros (and, for batch
/// and instance norm, fresh running statistics), PReLU its initial slope. The tensors are changed in place, so
/// optimizers and references to them stay valid.
/// </summary>
/// <remarks>
/// Used to re-initialise part of a model (a new head for fine-tuning) and by the model-randomisation sanity check of
/// explanations, which, as Quantus does, resets every module that has this method.
/// </remarks>
public interface IResettable
{
    /// <summary>Draws the layer's parameters (and resets its buffers) as a newly constructed layer has them.</summary>
    void ResetParameters();
}
