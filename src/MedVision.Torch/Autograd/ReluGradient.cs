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

    /// <summary>
    /// DeepLIFT's rescale rule (Shrikumar, Greenside and Kundaje, "Learning Important Features Through Propagating
    /// Activation Differences", ICML 2017; Captum's <c>DeepLift</c>): the batch holds the inputs in its first half and
    /// their references in its second, in the same order, and the gradient passed back through each ReLU is multiplied
    /// by (relu(x) − relu(x′)) / (x − x′) of each element and its reference instead of ReLU's derivative (which is kept
    /// where |x − x′| &lt; 1e-10). The other elementwise activations recorded in the scope get the same rule with their
    /// own function (sigmoid, tanh, leaky ReLU, ELU, GELU, SiLU, softplus, hardtanh, ReLU6, log-sigmoid: Captum's
    /// "nonlinear" rule; their derivative where input and reference agree), and max pooling DeepLIFT's rule for it
    /// (Captum's: each window's change from the reference credited to the input's and the reference's maxima, over each
    /// element's own change), so that attributions of networks of linear layers, those activations and max pooling add
    /// up to the output's change. Any of them recorded with an odd batch size is refused.
    /// </summary>
    DeepLiftRescale = 3,
}
