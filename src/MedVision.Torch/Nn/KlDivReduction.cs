namespace MedVision.Torch.Nn;

/// <summary>How <see cref="Functional.KlDiv"/> reduces its pointwise values (PyTorch's reduction argument of kl_div).</summary>
public enum KlDivReduction
{
    /// <summary>No reduction: one value per element.</summary>
    None = 0,

    /// <summary>The mean over all elements (PyTorch's default, which is not the KL divergence of distributions over the last dimension).</summary>
    Mean = 1,

    /// <summary>The sum.</summary>
    Sum = 2,

    /// <summary>The sum divided by the batch size (the first dimension): the KL divergence per sample, as its definition says.</summary>
    BatchMean = 3,
}
