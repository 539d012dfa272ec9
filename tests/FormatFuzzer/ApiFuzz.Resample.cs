// The "resample" mode: NiftiImage.Resample / ResampleTo and the volume preparation built on them (VolumeFolderSource's
// spacing, alignment and crop-or-pad through a model card's predictor), with random grids, affines and settings.
using MedVision.Nets.Data.Nifti;
using MedVision.Nets.Transforms;

internal static partial class ApiFuzz
{
    /// <summary>
    /// A random volume (1–9 voxels a side, random values, now and then NaN) on a random affine (rotations, flips, shears,
    /// voxel sizes from 0.2 to 5 mm, offsets) resampled to a random spacing (now and then non-positive or non-finite) or
    /// onto a random grid (now and then far away), trilinear or nearest, border or zero padding. Oracle: an
    /// <see cref="ArgumentException"/> for bad spacing or a grid that misses the volume, otherwise a volume of the grid's
    /// shape and affine whose finite values lie within the source's range (trilinear interpolation is a convex
    /// combination; zero padding adds 0), nearest values all taken from the source (or 0).
    /// </summary>
    public static void ResampleStep(Random rng)
    {
        var steps = new List<string>();
        var source = RandomVolume(rng, steps);
        var interpolation = rng.Next(2) == 0 ? ResizeMode.Linear : ResizeMode.Nearest;
        var padding = rng.Next(2) == 0 ? VolumePadding.Border : VolumePadding.Zeros;
        NiftiImage result;
        int[] shape;
        NiftiAffine affine;
        try
        {
            if (rng.Next(2) == 0)
            {
                var spacing = Enumerable.Range(0, 3).Select(_ => rng.Next(6) == 0 ? (float)Value(typeof(float), rng, typeof(float))! : (float)Math.Round(0.3 + (rng.NextDouble() * 4), 2)).ToArray();
                steps.Add($"Resample([{string.Join(", ", spacing)}], {interpolation}, {padding})");
                Last = "Resample";
                result = source.Resample(spacing, interpolation, padding);
                shape = result.Shape.ToArray();
                affine = result.Affine;
                if (spacing.Any(s => !(s > 0) || !float.IsFinite(s))) throw new ArithmeticException($"{string.Join(" → ", steps)}: accepted a bad spacing");
            }
            else
            {
                var target = RandomVolume(rng, steps);
                shape = target.Shape.ToArray();
                affine = target.Affine;
                steps.Add($"ResampleTo(that grid, {interpolation}, {padding})");
                Last = "ResampleTo";
                result = source.ResampleTo(target, interpolation, padding);
            }
        }
        catch (ArgumentException e) when (!e.Message.Contains("spacing must be three positive finite", StringComparison.Ordinal)
            && !e.Message.Contains("does not overlap the volume", StringComparison.Ordinal)
            && !e.Message.Contains("more voxels than one array holds", StringComparison.Ordinal))
        {
            // The expected refusals propagate (and count as accepted); any other argument error is a finding.
            throw new ArithmeticException($"{string.Join(" → ", steps)}: an unexpected ArgumentException: {e.Message}");
        }

        if (!result.Shape.SequenceEqual(shape) || !result.Affine.Equals(affine) || result.Voxels.Length != shape.Aggregate(1L, (a, b) => a * b))
            throw new ArithmeticException($"{string.Join(" → ", steps)}: a {string.Join("×", result.Shape)} result on {result.Affine}");
        var finite = source.Voxels.Where(float.IsFinite).ToArray();
        if (finite.Length == 0) return;
        float min = Math.Min(finite.Min(), padding == VolumePadding.Zeros ? 0 : float.MaxValue), max = Math.Max(finite.Max(), padding == VolumePadding.Zeros ? 0 : float.MinValue);
        var allowed = interpolation == ResizeMode.Nearest ? new HashSet<float>(source.Voxels.Append(0f)) : null;
        for (int i = 0; i < result.Voxels.Length; i++)
        {
            float v = result.Voxels[i];
            if (float.IsNaN(v)) continue; // a NaN voxel of the source spreads to its neighbours
            if (v < min - (1e-4f * Math.Max(1, Math.Abs(min))) || v > max + (1e-4f * Math.Max(1, Math.Abs(max))))
                throw new ArithmeticException($"{string.Join(" → ", steps)}: voxel {i} is {v}, outside the source's range [{min}, {max}]");
            if (allowed is not null && !allowed.Contains(v))
                throw new ArithmeticException($"{string.Join(" → ", steps)}: nearest-neighbour voxel {i} is {v}, not a source value");
        }
    }

    private static NiftiImage RandomVolume(Random rng, List<string> steps)
    {
        var shape = Enumerable.Range(0, 3).Select(_ => rng.Next(1, 10)).ToArray();
        var voxels = Enumerable.Range(0, shape[0] * shape[1] * shape[2]).Select(_ => (float)Math.Round((rng.NextDouble() * 200) - 50, 1)).ToArray();
        if (rng.Next(10) == 0) voxels[rng.Next(voxels.Length)] = float.NaN;
        var m = new double[3, 4];
        for (int r = 0; r < 3; r++)
        {
            for (int c = 0; c < 3; c++)
                m[r, c] = r == c ? (rng.Next(4) == 0 ? -1 : 1) * Math.Round(0.2 + (rng.NextDouble() * 4.8), 2) : rng.Next(3) == 0 ? Math.Round((rng.NextDouble() * 2) - 1, 2) : 0;
            m[r, 3] = rng.Next(8) == 0 ? Math.Round((rng.NextDouble() * 2000) - 1000) : Math.Round((rng.NextDouble() * 20) - 10, 1);
        }

        NiftiAffine affine;
        try
        {
            affine = new NiftiAffine(m);
        }
        catch (ArgumentException)
        {
            affine = NiftiAffine.FromSpacing([1f, 1f, 1f]);
        }

        steps.Add($"volume {string.Join("×", shape)} on {affine}");
        if (Trace) Console.Error.WriteLine($"  {steps[^1]}");
        return new NiftiImage(voxels, shape, null, NiftiDataType.Float32, affine);
    }
}
