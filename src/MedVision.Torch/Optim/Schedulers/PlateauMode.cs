namespace MedVision.Torch.Optim;

/// <summary>Whether <see cref="ReduceLROnPlateau"/> watches a metric that should decrease or increase.</summary>
public enum PlateauMode
{
    /// <summary>Lower is better (e.g. a loss); PyTorch's mode='min'.</summary>
    Min,
    /// <summary>Higher is better (e.g. Dice); PyTorch's mode='max'.</summary>
    Max,
}
