namespace MedVision.Torch.Optim;

/// <summary>How <see cref="OneCycleLR"/> and <see cref="SwaLR"/> move between two values (PyTorch's anneal_strategy).</summary>
public enum AnnealStrategy
{
    /// <summary>Half a cosine period: slow at both ends ("cos", PyTorch's default).</summary>
    Cosine,

    /// <summary>A straight line ("linear").</summary>
    Linear,
}
