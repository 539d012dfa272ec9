using MedVision.Nets.Metrics.Segmentation;

namespace MedVision.Nets.Inference;

/// <summary>Which neighbours join voxels into one connected component.</summary>
public enum Connectivity
{
    /// <summary>Neighbours sharing a face: 4 in 2-D, 6 in 3-D (scipy's default structure).</summary>
    Face = 1,
    /// <summary>Neighbours sharing a face or an edge: 8 in 2-D, 18 in 3-D.</summary>
    Edge = 2,
    /// <summary>Every neighbour: 8 in 2-D, 26 in 3-D.</summary>
    Full = 3,
}

/// <summary>The connected components of a mask.</summary>
public sealed class ComponentLabels
{
    internal ComponentLabels(int[] labels, long[] sizes)
    {
        Labels = labels;
        Sizes = sizes;
    }

    /// <summary>The component of each voxel (1, 2, … in raster order of their first voxel, as scipy.ndimage.label numbers them), 0 outside the mask.</summary>
    public IReadOnlyList<int> Labels { get; }

    /// <summary>The number of components.</summary>
    public int Count => Sizes.Count;

    /// <summary>The size in voxels of component k + 1 at index k.</summary>
    public IReadOnlyList<long> Sizes { get; }
}

/// <summary>
/// Connected components of segmentation masks, and the post-processing built on them that removes false-positive
/// islands: keep the largest component (for organs there is one of), or remove the components below a size. Masks
/// and label maps are stored in C order (last axis fastest) with their shape (1 to 4 axes).
/// </summary>
public static class ConnectedComponents
{
    /// <summary>Labels the connected components of a mask.</summary>
    /// <exception cref="ArgumentException">The shape does not describe the mask.</exception>
    public static ComponentLabels Label(ReadOnlySpan<bool> mask, IReadOnlyList<int> shape, Connectivity connectivity = Connectivity.Face)
    {
        var grid = Grid.Of(shape, mask.Length, nameof(shape), nameof(mask));
        if (!Enum.IsDefined(connectivity)) throw new ArgumentOutOfRangeException(nameof(connectivity), connectivity, "Unknown connectivity.");
        var offsets = NeighbourOffsets(grid.Rank, (int)connectivity);
        var labels = new int[mask.Length];
        var sizes = new List<long>();
        var stack = new Stack<int>();
        Span<int> c = stackalloc int[grid.Rank];
        for (int start = 0; start < mask.Length; start++)
        {
            if (!mask[start] || labels[start] != 0) continue;
            int label = sizes.Count + 1;
            long size = 0;
            labels[start] = label;
            stack.Push(start);
            while (stack.Count > 0)
            {
                int voxel = stack.Pop();
                size++;
                grid.Coordinates(voxel, c);
                foreach (var offset in offsets)
                {
                    long neighbour = voxel;
                    bool inside = true;
                    for (int d = 0; d < grid.Rank && inside; d++)
                    {
                        int moved = c[d] + offset[d];
                        inside = moved >= 0 && moved < grid.Shape[d];
                        neighbour += offset[d] * grid.Strides[d];
                    }
                    if (!inside || !mask[(int)neighbour] || labels[neighbour] != 0) continue;
                    labels[neighbour] = label;
                    stack.Push((int)neighbour);
                }
            }
            sizes.Add(size);
        }
        return new ComponentLabels(labels, sizes.ToArray());
    }

    /// <summary>The mask reduced to its largest connected component (the first in raster order among equals); an empty mask stays empty.</summary>
    public static bool[] KeepLargest(ReadOnlySpan<bool> mask, IReadOnlyList<int> shape, Connectivity connectivity = Connectivity.Face)
    {
        var components = Label(mask, shape, connectivity);
        var result = new bool[mask.Length];
        if (components.Count == 0) return result;
        int largest = 1;
        for (int k = 1; k < components.Count; k++)
            if (components.Sizes[k] > components.Sizes[largest - 1]) largest = k + 1;
        for (int i = 0; i < result.Length; i++) result[i] = components.Labels[i] == largest;
        return result;
    }

    /// <summary>The mask without the components smaller than <paramref name="minimumVoxels"/>.</summary>
    public static bool[] RemoveSmallerThan(ReadOnlySpan<bool> mask, IReadOnlyList<int> shape, long minimumVoxels, Connectivity connectivity = Connectivity.Face)
    {
        if (minimumVoxels < 0) throw new ArgumentOutOfRangeException(nameof(minimumVoxels), minimumVoxels, "The minimum size must be ≥ 0.");
        var components = Label(mask, shape, connectivity);
        var result = new bool[mask.Length];
        for (int i = 0; i < result.Length; i++)
        {
            int label = components.Labels[i];
            result[i] = label > 0 && components.Sizes[label - 1] >= minimumVoxels;
        }
        return result;
    }

    /// <summary>
    /// A label map in which every class in <paramref name="classes"/> (default: every foreground class present)
    /// keeps only its largest component; the voxels of its other components become background (0), as MONAI's
    /// KeepLargestConnectedComponent with independent classes.
    /// </summary>
    /// <exception cref="ArgumentException">The shape does not describe the labels, or a label is negative.</exception>
    public static int[] KeepLargestPerClass(ReadOnlySpan<int> labels, IReadOnlyList<int> shape, IEnumerable<int>? classes = null, Connectivity connectivity = Connectivity.Face)
    {
        Grid.Of(shape, labels.Length, nameof(shape), nameof(labels));
        foreach (var label in labels)
            if (label < 0) throw new ArgumentOutOfRangeException(nameof(labels), label, $"Labels must be ≥ 0, got {label}.");
        var result = labels.ToArray();
        var selected = classes?.ToArray() ?? result.Where(v => v > 0).Distinct().Order().ToArray();
        if (selected.Any(k => k <= 0)) throw new ArgumentException("Only foreground classes (> 0) can be kept to their largest component.", nameof(classes));
        var mask = new bool[labels.Length];
        foreach (var k in selected.Distinct())
        {
            for (int i = 0; i < mask.Length; i++) mask[i] = result[i] == k;
            var kept = KeepLargest(mask, shape, connectivity);
            for (int i = 0; i < mask.Length; i++)
                if (mask[i] && !kept[i]) result[i] = 0;
        }
        return result;
    }

    /// <summary>
    /// A label map in which the foreground — every class above 0 taken as one region — keeps only its largest
    /// connected component; the voxels of the other components become background (0), whatever their class. This is
    /// nnU-Net's first post-processing step (MONAI's KeepLargestConnectedComponent with <c>independent=False</c>): a
    /// structure made of several touching classes (a tumour's core inside its oedema) survives whole, while islands
    /// away from it go.
    /// </summary>
    /// <exception cref="ArgumentException">The shape does not describe the labels, or a label is negative.</exception>
    public static int[] KeepLargestForeground(ReadOnlySpan<int> labels, IReadOnlyList<int> shape, Connectivity connectivity = Connectivity.Face)
    {
        Grid.Of(shape, labels.Length, nameof(shape), nameof(labels));
        var mask = new bool[labels.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] < 0) throw new ArgumentOutOfRangeException(nameof(labels), labels[i], $"Labels must be ≥ 0, got {labels[i]}.");
            mask[i] = labels[i] > 0;
        }
        var kept = KeepLargest(mask, shape, connectivity);
        var result = labels.ToArray();
        for (int i = 0; i < result.Length; i++)
            if (!kept[i]) result[i] = 0;
        return result;
    }

    // Offsets to the neighbours that differ in 1 to `order` coordinates by ±1.
    private static int[][] NeighbourOffsets(int rank, int order)
    {
        var offsets = new List<int[]>();
        int total = (int)Math.Pow(3, rank);
        for (int code = 0; code < total; code++)
        {
            var offset = new int[rank];
            int rest = code, changed = 0;
            for (int d = rank - 1; d >= 0; d--)
            {
                offset[d] = (rest % 3) - 1;
                rest /= 3;
                if (offset[d] != 0) changed++;
            }
            if (changed >= 1 && changed <= order) offsets.Add(offset);
        }
        return offsets.ToArray();
    }
}
