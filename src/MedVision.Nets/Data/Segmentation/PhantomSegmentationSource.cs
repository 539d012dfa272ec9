using MedVision.Nets.Data.Synthetic;
using MedVision.Nets.Transforms;

namespace MedVision.Nets.Data.Segmentation;

/// <summary>
/// Synthetic lesion segmentation from <see cref="PhantomGenerator"/> subjects: the image is the MRI and PET volume
/// (2, S, S, S) and the label map marks the lesion (1) within <see cref="LesionRadiusScale"/> radii of its centre;
/// subjects without a lesion are all background. For tests, examples and benchmarks that need 3-D segmentation
/// data without downloads; generated on demand, so a source of thousands of subjects costs no memory.
/// </summary>
public sealed class PhantomSegmentationSource : ISegmentationSource
{
    private readonly PhantomGenerator _generator;
    private readonly int _start;

    /// <summary>Subjects <paramref name="start"/> to <paramref name="start"/> + <paramref name="count"/> − 1 of a generator.</summary>
    /// <param name="generator">The phantom generator (size, seed, noise).</param>
    /// <param name="start">The first subject index (≥ 0).</param>
    /// <param name="count">The number of subjects (≥ 1).</param>
    /// <param name="lesionRadiusScale">The labelled region in lesion radii: 1 is the region darkened in the MRI (default), 1.5 the region of reduced PET uptake.</param>
    public PhantomSegmentationSource(PhantomGenerator generator, int start, int count, double lesionRadiusScale = 1.0)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        if ((long)start + count > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(count), count, "start + count must fit an int.");
        if (!(lesionRadiusScale > 0) || double.IsInfinity(lesionRadiusScale))
            throw new ArgumentOutOfRangeException(nameof(lesionRadiusScale), lesionRadiusScale, "The lesion radius scale must be a positive finite number.");
        _generator = generator;
        _start = start;
        Count = count;
        LesionRadiusScale = lesionRadiusScale;
    }

    /// <inheritdoc />
    public int Count { get; }

    /// <summary>The labelled region in lesion radii.</summary>
    public double LesionRadiusScale { get; }

    /// <inheritdoc />
    public SegmentationSample Load(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), index, $"The source holds {Count} subjects.");
        var subject = _generator.Generate(_start + index);
        int s = subject.Size, n = s * s * s;
        var data = new float[2 * n];
        subject.Mri.CopyTo(data, 0);
        subject.Pet.CopyTo(data, n);
        var mask = subject.LesionMask(LesionRadiusScale);
        var labels = new float[n];
        for (int i = 0; i < n; i++) labels[i] = mask[i] ? 1 : 0;
        return new SegmentationSample(new FloatImage(data, 2, s, s, s), new FloatImage(labels, 1, s, s, s));
    }
}
