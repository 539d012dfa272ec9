using MedVision.Nets.Transforms;

namespace MedVision.Nets.Data.Loading;

/// <summary>
/// The samples of another source at chosen indices, in the given order (torch.utils.data.Subset): a training or
/// validation part of a dataset that ships without a split, or one fold of a cross-validation (see
/// <see cref="DataSplits"/>).
/// </summary>
public sealed class SubsetSource : ILabeledImageSource
{
    private readonly ILabeledImageSource _source;
    private readonly int[] _indices;

    /// <summary>Wraps <paramref name="source"/>; sample i of the subset is sample <c>indices[i]</c> of the source.</summary>
    /// <exception cref="ArgumentException">The subset is empty or an index is outside the source.</exception>
    public SubsetSource(ILabeledImageSource source, IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(indices);
        if (indices.Count == 0) throw new ArgumentException("A subset needs at least one index.", nameof(indices));
        for (int i = 0; i < indices.Count; i++)
            if (indices[i] < 0 || indices[i] >= source.Count)
                throw new ArgumentException($"Index {indices[i]} (position {i}) is outside the source's {source.Count} samples.", nameof(indices));
        _source = source;
        _indices = indices.ToArray();
    }

    /// <summary>The wrapped source.</summary>
    public ILabeledImageSource Source => _source;

    /// <summary>The source indices, in subset order.</summary>
    public IReadOnlyList<int> Indices => _indices;

    /// <inheritdoc />
    public int Count => _indices.Length;

    /// <inheritdoc />
    public int LabelColumns => _source.LabelColumns;

    /// <inheritdoc />
    public (FloatImage Image, int[] Labels) Load(int index)
    {
        if ((uint)index >= (uint)_indices.Length) throw new ArgumentOutOfRangeException(nameof(index), index, $"The subset has {_indices.Length} samples.");
        return _source.Load(_indices[index]);
    }
}
