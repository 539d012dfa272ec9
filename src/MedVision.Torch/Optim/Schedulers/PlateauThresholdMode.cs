namespace MedVision.Torch.Optim;

/// <summary>How <see cref="ReduceLROnPlateau"/> measures a significant improvement over the best metric.</summary>
public enum PlateauThresholdMode
{
    /// <summary>Relative: better than best·(1 − threshold) in <see cref="PlateauMode.Min"/> mode, best·(1 + threshold) in Max mode (PyTorch's 'rel').</summary>
    Relative,
    /// <summary>Absolute: better than best − threshold in Min mode, best + threshold in Max mode (PyTorch's 'abs').</summary>
    Absolute,
}
