namespace MedVision.Nets.Data.MedMnist;

/// <summary>
/// The images and labels of one MedMNIST split. Images are bytes in C order with shape (N, H, W) for grey 2D,
/// (N, H, W, C) for colour 2D and (N, D, H, W) for 3D; labels are integers of shape (N, L).
/// </summary>
public sealed class MedMnistSplitData
{
    private readonly int[] _imageShape;

    internal MedMnistSplitData(MedMnistSplit split, byte[] images, int[] imageShape, int[,] labels)
    {
        Split = split;
        Images = images;
        _imageShape = imageShape;
        Labels = labels;
        SampleLength = imageShape.Skip(1).Aggregate(1, (a, b) => checked(a * b));
    }

    /// <summary>Which split this is.</summary>
    public MedMnistSplit Split { get; }

    /// <summary>The number of samples, N.</summary>
    public int Count => _imageShape[0];

    /// <summary>All image bytes, C order, shape <see cref="ImageShape"/>.</summary>
    public byte[] Images { get; }

    /// <summary>The image array shape: (N, H, W), (N, H, W, C) or (N, D, H, W).</summary>
    public IReadOnlyList<int> ImageShape => _imageShape;

    /// <summary>The shape of one sample (the image shape without N).</summary>
    public IReadOnlyList<int> SampleShape => _imageShape[1..];

    /// <summary>The number of bytes of one sample.</summary>
    public int SampleLength { get; }

    /// <summary>Labels, shape (N, L): L = 1 for single-label tasks, the class count for multi-label tasks.</summary>
    public int[,] Labels { get; }

    /// <summary>The number of label columns, L.</summary>
    public int LabelColumns => Labels.GetLength(1);

    /// <summary>The bytes of sample <paramref name="index"/> (no copy).</summary>
    /// <param name="index">The sample index, 0..N-1.</param>
    /// <returns>The sample, shape <see cref="SampleShape"/>.</returns>
    public ReadOnlyMemory<byte> GetImage(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return new ReadOnlyMemory<byte>(Images, index * SampleLength, SampleLength);
    }

    /// <summary>The labels of sample <paramref name="index"/>.</summary>
    /// <param name="index">The sample index, 0..N-1.</param>
    /// <returns>L labels.</returns>
    public int[] GetLabels(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        var result = new int[LabelColumns];
        for (int j = 0; j < result.Length; j++)
        {
            result[j] = Labels[index, j];
        }

        return result;
    }

    /// <summary>
    /// Counts samples per class. For a single label column, element k is the number of samples labelled k;
    /// for multi-label data, element k is the number of samples with label column k set.
    /// </summary>
    /// <param name="classCount">The number of classes (label columns for multi-label data).</param>
    /// <returns>Counts per class.</returns>
    public int[] CountPerClass(int classCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classCount);
        var counts = new int[classCount];
        if (LabelColumns == 1)
        {
            for (int i = 0; i < Count; i++)
            {
                int label = Labels[i, 0];
                if ((uint)label >= (uint)classCount)
                {
                    throw new ArgumentOutOfRangeException(nameof(classCount), $"Sample {i} has label {label}, outside 0..{classCount - 1}.");
                }

                counts[label]++;
            }
        }
        else
        {
            if (LabelColumns != classCount)
            {
                throw new ArgumentException($"Multi-label data has {LabelColumns} label columns, not {classCount}.", nameof(classCount));
            }

            for (int i = 0; i < Count; i++)
            {
                for (int k = 0; k < classCount; k++)
                {
                    if (Labels[i, k] != 0)
                    {
                        counts[k]++;
                    }
                }
            }
        }

        return counts;
    }
}
