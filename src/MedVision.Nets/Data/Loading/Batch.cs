using MedVision.Torch;

namespace MedVision.Nets.Data.Loading;

/// <summary>One batch: images (N, C, H, W) or (N, C, D, H, W), labels as tensor and as integers, and the sample indices. Disposing it frees both tensors.</summary>
public sealed class Batch : IDisposable
{
    internal Batch(Tensor images, Tensor labels, int[,] labelValues, int[] indices)
    {
        Images = images;
        Labels = labels;
        LabelValues = labelValues;
        Indices = indices;
    }

    /// <summary>The images, float32.</summary>
    public Tensor Images { get; }
    /// <summary>The labels: int64 (N) or float32 (N, L), see <see cref="LabelKind"/>.</summary>
    public Tensor Labels { get; }
    /// <summary>The labels as integers (N, L).</summary>
    public int[,] LabelValues { get; }
    /// <summary>Dataset indices of the samples, in batch order.</summary>
    public int[] Indices { get; }
    /// <summary>Number of samples.</summary>
    public int Count => Indices.Length;

    /// <summary>Frees the tensors.</summary>
    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}
