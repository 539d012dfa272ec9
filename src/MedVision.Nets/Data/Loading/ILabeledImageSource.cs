using MedVision.Nets.Transforms;

namespace MedVision.Nets.Data.Loading;

/// <summary>Random access to labelled images or volumes, the input of a <see cref="DataLoader"/>. Implementations must be safe to read from a background thread.</summary>
public interface ILabeledImageSource
{
    /// <summary>Number of samples.</summary>
    int Count { get; }

    /// <summary>Labels per sample: 1 for single-label tasks, L for multi-label ones.</summary>
    int LabelColumns { get; }

    /// <summary>Loads sample <paramref name="index"/> as a fresh channels-first image scaled to [0, 1], with its labels.</summary>
    (FloatImage Image, int[] Labels) Load(int index);
}
