using MedVision.Nets.Transforms;

namespace MedVision.Nets.Data.Loading;

/// <summary>
/// Several sources read as one, in order (torch.utils.data.ConcatDataset): e.g. MedMNIST's training and validation
/// splits pooled for a cross-validation. Sample i is sample i of the first source, then of the second after the first's
/// count, and so on.
/// </summary>
public sealed class ConcatSource : ILabeledImageSource
{
    private readonly ILabeledImageSource[] _sources;
    private readonly int[] _starts;

    /// <summary>Joins <paramref name="sources"/>, which must have the same label columns.</summary>
    /// <exception cref="ArgumentException">No source, a null or empty one, sources with different label columns, or more than <see cref="int.MaxValue"/> samples in all.</exception>
    public ConcatSource(params IReadOnlyList<ILabeledImageSource> sources)
    {
        ArgumentNullException.ThrowIfNull(sources);
        if (sources.Count == 0) throw new ArgumentException("At least one source is needed.", nameof(sources));
        _sources = sources.ToArray();
        _starts = new int[_sources.Length];
        long total = 0;
        for (int i = 0; i < _sources.Length; i++)
        {
            var source = _sources[i] ?? throw new ArgumentException($"Source {i} is null.", nameof(sources));
            if (source.Count == 0) throw new ArgumentException($"Source {i} has no samples.", nameof(sources));
            if (source.LabelColumns != _sources[0].LabelColumns)
                throw new ArgumentException($"Source {i} has {source.LabelColumns} label column(s), source 0 {_sources[0].LabelColumns}; joined sources need the same labels.", nameof(sources));
            _starts[i] = (int)total;
            total += source.Count;
            if (total > int.MaxValue) throw new ArgumentException($"The sources hold more than {int.MaxValue} samples in all.", nameof(sources));
        }
        Count = (int)total;
    }

    /// <summary>The joined sources, in order.</summary>
    public IReadOnlyList<ILabeledImageSource> Sources => _sources;

    /// <inheritdoc />
    public int Count { get; }

    /// <inheritdoc />
    public int LabelColumns => _sources[0].LabelColumns;

    /// <summary>Which source sample <paramref name="index"/> comes from, and its index there.</summary>
    public (int Source, int Index) Locate(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"The joined sources have {Count} samples.");
        int s = Array.BinarySearch(_starts, index);
        if (s < 0) s = ~s - 1;
        return (s, index - _starts[s]);
    }

    /// <inheritdoc />
    public (FloatImage Image, int[] Labels) Load(int index)
    {
        var (s, i) = Locate(index);
        return _sources[s].Load(i);
    }
}
