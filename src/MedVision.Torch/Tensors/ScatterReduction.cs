namespace MedVision.Torch;

/// <summary>How <see cref="Tensor.ScatterReduce"/> combines the values scattered to one position (torch.Tensor.scatter_reduce's reduce).</summary>
public enum ScatterReduction
{
    /// <summary>The sum ("sum").</summary>
    Sum = 0,

    /// <summary>The product ("prod").</summary>
    Prod = 1,

    /// <summary>The mean ("mean"; with includeSelf, the existing value counts as one of the values).</summary>
    Mean = 2,

    /// <summary>The maximum ("amax").</summary>
    Amax = 3,

    /// <summary>The minimum ("amin").</summary>
    Amin = 4,
}
