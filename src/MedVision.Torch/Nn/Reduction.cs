namespace MedVision.Torch.Nn;

/// <summary>How a loss reduces its per-element values (PyTorch's reduction argument).</summary>
public enum Reduction
{
    /// <summary>No reduction: one value per element.</summary>
    None = 0,
    /// <summary>The (weighted) mean.</summary>
    Mean = 1,
    /// <summary>The sum.</summary>
    Sum = 2,
}
