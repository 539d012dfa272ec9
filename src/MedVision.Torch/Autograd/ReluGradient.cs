namespace MedVision.Torch.Autograd;

/// <summary>How the backward pass goes through a ReLU recorded inside a <see cref="ReluGradientScope"/>.</summary>
public enum ReluGradient
{
    /// <summary>Autograd's own: the incoming gradient where the ReLU's input was positive, zero elsewhere.</summary>
    Standard = 0,

    /// <summary>
    /// Guided backpropagation (Springenberg et al., "Striving for Simplicity", ICLR 2015 workshop; Captum's
    /// <c>GuidedBackprop</c>): the incoming gradient's negative part is dropped, then ReLU's mask applied.
    /// </summary>
    Guided = 1,

    /// <summary>
    /// The "deconvolution" rule (Zeiler and Fergus, ECCV 2014; Captum's <c>Deconvolution</c>): the incoming gradient's
    /// negative part is dropped and ReLU's mask is not applied, so the gradient does not depend on the forward pass's
    /// signs.
    /// </summary>
    Deconvolution = 2,
}
