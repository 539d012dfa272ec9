namespace MedVision.Nets.Data;

/// <summary>Maps modality values (Hounsfield units, MR or PET intensities) to [0, 1] for the image pipelines.</summary>
internal static class IntensityWindow
{
    /// <summary>
    /// Maps <paramref name="values"/> in place through <paramref name="window"/> (center, width; a positive width), or
    /// through their own minimum–maximum when it is null, clamping to [0, 1]; <paramref name="invert"/> turns v into 1 − v.
    /// </summary>
    public static void MapToUnitRange(Span<float> values, (double Center, double Width)? window, bool invert = false)
    {
        double low, high;
        if (window is { } w) (low, high) = (w.Center - w.Width / 2, w.Center + w.Width / 2);
        else
        {
            // NaN (a background some tools write) is left out of the range and stays NaN; infinities are left out and clamp.
            (low, high) = Range(values);
            if (low > high) (low, high) = (0, 0);
        }
        MapToUnitRange(values, low, high, invert);
    }

    /// <summary>
    /// The smallest and largest of <paramref name="values"/>, NaN and infinities left out (one infinite voxel would
    /// otherwise squeeze every other value to one end); (+∞, −∞) when there is no finite value.
    /// </summary>
    public static (float Min, float Max) Range(ReadOnlySpan<float> values)
    {
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (var v in values)
        {
            if (!float.IsFinite(v)) continue;
            if (v < min) min = v;
            if (v > max) max = v;
        }
        return (min, max);
    }

    /// <summary>Maps <paramref name="values"/> in place so that <paramref name="low"/> becomes 0 and <paramref name="high"/> 1, clamping to [0, 1] (with high ≤ low, values at or below low become 0).</summary>
    public static void MapToUnitRange(Span<float> values, double low, double high, bool invert = false)
    {
        double range = high > low ? high - low : 1;
        for (int i = 0; i < values.Length; i++)
        {
            double v = Math.Clamp((values[i] - low) / range, 0, 1);
            values[i] = (float)(invert ? 1 - v : v);
        }
    }

    /// <summary>
    /// The <paramref name="lower"/> and <paramref name="upper"/> percentiles (0–100) of the values of
    /// <paramref name="parts"/> taken together, as NumPy's <c>np.nanpercentile</c> computes them: position p/100 · (n − 1)
    /// among the sorted values that are not NaN, interpolated linearly — with infinities left out too, as
    /// <see cref="Range"/> leaves them out (NumPy interpolates towards an infinity as NaN, which would turn the whole
    /// scaled image into NaN); (0, 0) when no value is finite. Linear time (selection, not sorting), on a copy.
    /// </summary>
    public static (double Low, double High) Percentiles(IReadOnlyList<float[]> parts, double lower, double upper)
    {
        long total = parts.Sum(p => (long)p.Length);
        if (total > Array.MaxLength) throw new ArgumentException($"{total} values are more than one array can hold.", nameof(parts));
        var values = new float[total];
        int n = 0;
        foreach (var part in parts) n = CopyNumbers(part, values, n);
        return n == 0 ? (0, 0) : (At(values, n, lower), At(values, n, upper));
    }

    /// <summary>The percentiles of <paramref name="values"/> alone (one channel of an image), as <see cref="Percentiles(IReadOnlyList{float[]}, double, double)"/> computes them.</summary>
    public static (double Low, double High) Percentiles(ReadOnlySpan<float> values, double lower, double upper)
    {
        var copy = new float[values.Length];
        int n = CopyNumbers(values, copy, 0);
        return n == 0 ? (0, 0) : (At(copy, n, lower), At(copy, n, upper));
    }

    /// <summary>
    /// Maps each of the <paramref name="channels"/> equal parts of <paramref name="values"/> to [0, 1] by its own
    /// minimum and maximum, or by its own percentiles when <paramref name="percentiles"/> are given (MONAI's
    /// <c>channel_wise=True</c>; 1 part: the whole image), in place.
    /// </summary>
    public static void MapChannelsToUnitRange(Span<float> values, int channels, (double Lower, double Upper)? percentiles)
    {
        int size = values.Length / channels;
        for (int c = 0; c < channels; c++)
        {
            var channel = values.Slice(c * size, size);
            if (percentiles is { } p)
            {
                var (low, high) = Percentiles(channel, p.Lower, p.Upper);
                MapToUnitRange(channel, low, high);
            }
            else MapToUnitRange(channel, null);
        }
    }

    // Copies the finite values to `into` from index `at`; returns the index after the last.
    private static int CopyNumbers(ReadOnlySpan<float> values, float[] into, int at)
    {
        foreach (var v in values)
            if (float.IsFinite(v)) into[at++] = v;
        return at;
    }

    // The p-th percentile of values[..n], which it reorders.
    private static double At(float[] values, int n, double p)
    {
        double position = p / 100 * (n - 1);
        int below = (int)Math.Floor(position);
        if (below >= n - 1) return Select(values, n, n - 1);
        double low = Select(values, n, below);
        // After the selection everything right of `below` is at least its value: the next one is their minimum.
        float next = float.PositiveInfinity;
        for (int i = below + 1; i < n; i++)
            if (values[i] < next) next = values[i];
        return low + ((position - below) * ((double)next - low));
    }

    // The k-th smallest of values[..n] (0-based), moved to index k with smaller values left of it and larger right
    // (Hoare's selection with a median-of-three pivot).
    private static float Select(float[] values, int n, int k)
    {
        int left = 0, right = n - 1;
        while (right > left)
        {
            int mid = left + ((right - left) / 2);
            if (values[mid] < values[left]) (values[mid], values[left]) = (values[left], values[mid]);
            if (values[right] < values[left]) (values[right], values[left]) = (values[left], values[right]);
            if (values[right] < values[mid]) (values[right], values[mid]) = (values[mid], values[right]);
            float pivot = values[mid];
            int i = left, j = right;
            while (i <= j)
            {
                while (values[i] < pivot) i++;
                while (values[j] > pivot) j--;
                if (i <= j)
                {
                    (values[i], values[j]) = (values[j], values[i]);
                    i++;
                    j--;
                }
            }

            if (k <= j) right = j;
            else if (k >= i) left = i;
            else break; // values[j + 1 .. i − 1] equal the pivot, k among them
        }

        return values[k];
    }
}
