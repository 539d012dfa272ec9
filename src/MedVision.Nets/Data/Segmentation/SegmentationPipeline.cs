using MedVision.Nets.Transforms;

namespace MedVision.Nets.Data.Segmentation;

/// <summary>
/// Augmentation of images with their label maps: spatial steps (flips, 90° rotations, crops, crops around labelled
/// voxels) move the image and the labels alike, from the same random draws; intensity steps change the image only.
/// Steps run in the order they were added; a pipeline is immutable and thread-safe, and deterministic under a seeded
/// <see cref="Random"/>. Build one with <see cref="Create"/>:
/// <c>SegmentationPipeline.Create().CropAroundLabels(32, 32, 32).RandomFlip(SpatialAxis.Width).Intensity(new RandomGaussianNoise(0.1)).Build()</c>.
/// </summary>
public sealed class SegmentationPipeline
{
    private readonly IReadOnlyList<Step> _steps;

    internal SegmentationPipeline(IReadOnlyList<Step> steps) => _steps = steps;

    /// <summary>A pipeline that returns its input.</summary>
    public static SegmentationPipeline Identity { get; } = new(Array.Empty<Step>());

    /// <summary>Starts a pipeline.</summary>
    public static SegmentationPipelineBuilder Create() => new();

    /// <summary>The number of steps.</summary>
    public int Count => _steps.Count;

    /// <summary>Applies every step to a sample.</summary>
    public SegmentationSample Apply(SegmentationSample sample, Random random)
    {
        ArgumentNullException.ThrowIfNull(sample);
        ArgumentNullException.ThrowIfNull(random);
        foreach (var step in _steps) sample = step.Apply(sample, random);
        return sample;
    }

    internal abstract class Step
    {
        public abstract SegmentationSample Apply(SegmentationSample sample, Random random);
    }

    // A voxel-moving transform applied to the image and the labels with the same draws.
    internal sealed class SpatialStep(ITransform transform) : Step
    {
        public override SegmentationSample Apply(SegmentationSample sample, Random random)
        {
            int seed = random.Next();
            var image = transform.Apply(sample.Image, new Random(seed));
            var labels = transform.Apply(sample.Labels, new Random(seed));
            return new SegmentationSample(image, labels);
        }
    }

    internal sealed class IntensityStep(ITransform transform) : Step
    {
        public override SegmentationSample Apply(SegmentationSample sample, Random random)
            => new(transform.Apply(sample.Image, random), sample.Labels);
    }

    // MONAI's RandCropByPosNegLabel with one sample: the window is centred on a labelled voxel with the given
    // probability (on a background voxel otherwise), shifted to lie inside the image, and zero-padded where the
    // image is smaller than the window.
    internal sealed class LabelCropStep(int[] size, double foregroundProbability) : Step
    {
        public override SegmentationSample Apply(SegmentationSample sample, Random random)
        {
            var spatial = sample.Image.Shape.Skip(1).ToArray();
            if (spatial.Length != size.Length)
                throw new ArgumentException($"A crop of [{string.Join(", ", size)}] needs {size.Length} spatial dimensions; the sample has [{string.Join(", ", spatial)}].");
            var labels = sample.Labels.Data;
            bool foreground = random.NextDouble() < foregroundProbability;
            long count = 0;
            foreach (var v in labels) if ((v > 0) == foreground) count++;
            if (count == 0)
            {
                foreground = !foreground; // no voxel of the wanted kind: every voxel is of the other
                count = labels.LongLength;
            }
            long pick = random.NextInt64(count), seen = -1;
            int centre = 0;
            for (int i = 0; i < labels.Length; i++)
            {
                if ((labels[i] > 0) != foreground) continue;
                if (++seen == pick) { centre = i; break; }
            }
            var start = new int[size.Length];
            int rest = centre;
            for (int d = size.Length - 1; d >= 0; d--)
            {
                int c = rest % spatial[d];
                rest /= spatial[d];
                start[d] = spatial[d] >= size[d] ? Math.Clamp(c - (size[d] / 2), 0, spatial[d] - size[d]) : -((size[d] - spatial[d]) / 2);
            }
            return new SegmentationSample(Extract(sample.Image, start, size), Extract(sample.Labels, start, size));
        }

        private static FloatImage Extract(FloatImage image, int[] start, int[] size)
        {
            var spatial = image.Shape.Skip(1).ToArray();
            int channels = image.Channels, rank = size.Length;
            var shape = new[] { channels }.Concat(size).ToArray();
            var data = FloatImage.Allocate("CropAroundLabels", shape);
            int outPlane = size.Aggregate(1, (a, s) => a * s), inPlane = image.PlaneSize;
            var c = new int[rank];
            for (int i = 0; i < outPlane; i++)
            {
                int rest = i;
                bool inside = true;
                long source = 0, stride = 1;
                for (int d = rank - 1; d >= 0; d--)
                {
                    c[d] = rest % size[d];
                    rest /= size[d];
                    int s = start[d] + c[d];
                    inside &= s >= 0 && s < spatial[d];
                    source += s * stride;
                    stride *= spatial[d];
                }
                if (!inside) continue;
                for (int ch = 0; ch < channels; ch++) data[(ch * outPlane) + i] = image.Data[(ch * (long)inPlane) + source];
            }
            return new FloatImage(data, shape);
        }
    }
}

/// <summary>Builds a <see cref="SegmentationPipeline"/>; each method adds a step and returns the builder.</summary>
public sealed class SegmentationPipelineBuilder
{
    private readonly List<SegmentationPipeline.Step> _steps = new();

    internal SegmentationPipelineBuilder() { }

    /// <summary>
    /// A spatial transform applied to the image and the labels with the same random draws. Only transforms that move
    /// voxels without interpolating are accepted (<see cref="Transforms.RandomFlip"/>, <see cref="Transforms.RandomRotate90"/>,
    /// <see cref="Crop"/>), so that labels stay class indices.
    /// </summary>
    /// <exception cref="ArgumentException">The transform interpolates or changes values (it would blend class indices).</exception>
    public SegmentationPipelineBuilder Spatial(ITransform transform)
    {
        ArgumentNullException.ThrowIfNull(transform);
        if (transform is not (Transforms.RandomFlip or Transforms.RandomRotate90 or Crop))
            throw new ArgumentException(
                $"{transform.GetType().Name} cannot move labels: only RandomFlip, RandomRotate90 and Crop move voxels without interpolating or changing values. Add intensity transforms with Intensity.",
                nameof(transform));
        _steps.Add(new SegmentationPipeline.SpatialStep(transform));
        return this;
    }

    /// <summary>A transform of the image alone (intensity scaling, noise, contrast, bias field, …); it must keep the image's spatial size.</summary>
    public SegmentationPipelineBuilder Intensity(ITransform transform)
    {
        ArgumentNullException.ThrowIfNull(transform);
        _steps.Add(new SegmentationPipeline.IntensityStep(new SizeKeeping(transform)));
        return this;
    }

    /// <summary>Flips the image and the labels along an axis with probability <paramref name="probability"/>.</summary>
    public SegmentationPipelineBuilder RandomFlip(SpatialAxis axis, double probability = 0.5) => Spatial(new Transforms.RandomFlip(axis, probability));

    /// <summary>Rotates the image and the labels by 90° steps in the height–width plane with probability <paramref name="probability"/>.</summary>
    public SegmentationPipelineBuilder RandomRotate90(double probability = 0.5) => Spatial(new Transforms.RandomRotate90(probability));

    /// <summary>
    /// Crops a window of <paramref name="size"/> (height, width, or depth, height, width) centred on a labelled voxel
    /// with probability <paramref name="foregroundProbability"/> and on a background voxel otherwise (MONAI's
    /// RandCropByPosNegLabel), so that small structures are seen often; zero-padded (background) where the image is
    /// smaller than the window.
    /// </summary>
    public SegmentationPipelineBuilder CropAroundLabels(int[] size, double foregroundProbability = 0.5)
    {
        ArgumentNullException.ThrowIfNull(size);
        if (size.Length is not (2 or 3) || size.Any(s => s < 1))
            throw new ArgumentException($"Give 2 or 3 positive window sizes, got [{string.Join(", ", size)}].", nameof(size));
        if (!(foregroundProbability >= 0 && foregroundProbability <= 1))
            throw new ArgumentOutOfRangeException(nameof(foregroundProbability), foregroundProbability, "The probability must lie in [0, 1].");
        _steps.Add(new SegmentationPipeline.LabelCropStep(size.ToArray(), foregroundProbability));
        return this;
    }

    /// <summary>Creates the pipeline (the builder can go on adding steps for another one).</summary>
    public SegmentationPipeline Build() => new(_steps.ToArray());

    // An intensity transform must not change the spatial size, or the labels would no longer fit.
    private sealed class SizeKeeping(ITransform inner) : ITransform
    {
        public FloatImage Apply(FloatImage image, Random random)
        {
            var result = inner.Apply(image, random);
            if (!result.Shape.Skip(1).SequenceEqual(image.Shape.Skip(1)))
                throw new InvalidOperationException(
                    $"{inner.GetType().Name} changed the spatial size from [{string.Join(", ", image.Shape.Skip(1))}] to [{string.Join(", ", result.Shape.Skip(1))}]; add size-changing transforms with Spatial.");
            return result;
        }
    }
}
