namespace MedVision.Torch.Optim;

/// <summary>How <see cref="OneCycleLR"/> moves between two values within a phase (PyTorch's anneal_strategy).</summary>
public enum AnnealStrategy
{
    /// <summary>Half a cosine period: slow at both ends ("cos", PyTorch's default).</summary>
    Cosine,

    /// <summary>A straight line ("linear").</summary>
    Linear,
}
