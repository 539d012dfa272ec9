using MedVision.Torch.Native;

namespace MedVision.Torch;

public sealed partial class Tensor
{
    /// <summary>A view with a new shape (one size may be −1); fails when the data is not viewable that way.</summary>
    public unsafe Tensor View(params long[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        fixed (long* p = shape) return Wrap(NativeMethods.mvt_view(Handle, p, shape.Length, 0));
    }

    /// <summary>The same data with a new shape (a view when possible, otherwise a copy); one size may be −1.</summary>
    public unsafe Tensor Reshape(params long[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        fixed (long* p = shape) return Wrap(NativeMethods.mvt_view(Handle, p, shape.Length, 1));
    }

    /// <summary>Flattens dimensions <paramref name="startDim"/> … <paramref name="endDim"/> into one.</summary>
    public Tensor Flatten(long startDim = 0, long endDim = -1) => Wrap(NativeMethods.mvt_flatten(Handle, startDim, endDim));

    /// <summary>Removes every dimension of size 1.</summary>
    public Tensor Squeeze() => Wrap(NativeMethods.mvt_squeeze(Handle, 0, 0));

    /// <summary>Removes dimension <paramref name="dim"/> if its size is 1.</summary>
    public Tensor Squeeze(long dim) => Wrap(NativeMethods.mvt_squeeze(Handle, 1, dim));

    /// <summary>Inserts a dimension of size 1 at <paramref name="dim"/>.</summary>
    public Tensor Unsqueeze(long dim) => Wrap(NativeMethods.mvt_unsqueeze(Handle, dim));

    /// <summary>Reorders the dimensions.</summary>
    public unsafe Tensor Permute(params long[] dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        fixed (long* p = dims) return Wrap(NativeMethods.mvt_permute(Handle, p, dims.Length));
    }

    /// <summary>Swaps two dimensions.</summary>
    public Tensor Transpose(long dim0, long dim1) => Wrap(NativeMethods.mvt_transpose(Handle, dim0, dim1));

    /// <summary>Broadcasts to a larger shape without copying (−1 keeps a size).</summary>
    public unsafe Tensor Expand(params long[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        fixed (long* p = shape) return Wrap(NativeMethods.mvt_expand(Handle, p, shape.Length));
    }

    /// <summary>Tiles the tensor (torch.Tensor.repeat).</summary>
    public unsafe Tensor Repeat(params long[] repeats)
    {
        ArgumentNullException.ThrowIfNull(repeats);
        fixed (long* p = repeats) return Wrap(NativeMethods.mvt_repeat(Handle, p, repeats.Length));
    }

    /// <summary>Reverses the order of elements along the given dimensions.</summary>
    public unsafe Tensor Flip(params long[] dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        fixed (long* p = dims) return Wrap(NativeMethods.mvt_flip(Handle, p, dims.Length));
    }

    /// <summary>A view of <paramref name="length"/> elements of dimension <paramref name="dim"/> starting at <paramref name="start"/>.</summary>
    public Tensor Narrow(long dim, long start, long length) => Wrap(NativeMethods.mvt_narrow(Handle, dim, start, length));

    /// <summary>A view of elements start, start+step, … below end along <paramref name="dim"/> (Python's t[start:end:step]).</summary>
    public Tensor Slice(long dim, long start, long end, long step = 1)
    {
        if (step <= 0) throw new ArgumentOutOfRangeException(nameof(step), step, "slice step must be positive");
        return Wrap(NativeMethods.mvt_slice(Handle, dim, start, end, step));
    }

    /// <summary>The sub-tensor at <paramref name="index"/> of dimension <paramref name="dim"/>, with that dimension removed.</summary>
    public Tensor Select(long dim, long index) => Wrap(NativeMethods.mvt_select(Handle, dim, index));

    /// <summary>Picks entries of dimension <paramref name="dim"/> by an int64 index tensor.</summary>
    public Tensor IndexSelect(long dim, Tensor index) => Wrap(NativeMethods.mvt_index_select(Handle, dim, NotNull(index).Handle));

    /// <summary>Gathers values along <paramref name="dim"/> (torch.gather).</summary>
    public Tensor Gather(long dim, Tensor index) => Wrap(NativeMethods.mvt_gather(Handle, dim, NotNull(index).Handle));

    /// <summary>Replaces the elements where <paramref name="mask"/> is true with <paramref name="value"/>.</summary>
    public Tensor MaskedFill(Tensor mask, double value) => Wrap(NativeMethods.mvt_masked_fill(Handle, NotNull(mask).Handle, value));

    /// <summary>The elements where <paramref name="mask"/> is true, as a 1-D tensor.</summary>
    public Tensor MaskedSelect(Tensor mask) => Wrap(NativeMethods.mvt_masked_select(Handle, NotNull(mask).Handle));

    /// <summary>Splits into pieces of <paramref name="splitSize"/> along <paramref name="dim"/> (the last may be smaller).</summary>
    public Tensor[] Split(long splitSize, long dim = 0) => SplitCore(new[] { splitSize }, dim);

    /// <summary>Splits into pieces of the given sizes along <paramref name="dim"/>.</summary>
    public Tensor[] Split(long[] sizes, long dim = 0)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        if (sizes.Length == 0) throw new ArgumentException("Give at least one size.", nameof(sizes));
        if (sizes.Length == 1)
        {
            // one size must cover the whole dimension, as torch.split_with_sizes requires
            if (dim < -Dim || dim >= Dim)
                throw new ArgumentOutOfRangeException(nameof(dim), dim, $"dimension out of range for a {Dim}-D tensor");
            var size = Size((int)dim);
            if (sizes[0] != size) throw new ArgumentException($"Split sizes [{sizes[0]}] must sum to the size of dimension {dim} ({size}).", nameof(sizes));
            return new[] { Narrow(dim, 0, sizes[0]) };
        }
        return SplitCore(sizes, dim);
    }

    private unsafe Tensor[] SplitCore(long[] sizes, long dim)
    {
        fixed (long* s = sizes)
        {
            var n = NativeMethods.mvt_split(Handle, s, sizes.Length, dim, null, 0);
            Check(n);
            var handles = new IntPtr[n];
            fixed (IntPtr* o = handles) Check(NativeMethods.mvt_split(Handle, s, sizes.Length, dim, o, n));
            return handles.Select(h => new Tensor(h)).ToArray();
        }
    }

    /// <summary>Splits into <paramref name="chunks"/> nearly equal pieces along <paramref name="dim"/>.</summary>
    public unsafe Tensor[] Chunk(long chunks, long dim = 0)
    {
        var n = NativeMethods.mvt_chunk(Handle, chunks, dim, null, 0);
        Check(n);
        var handles = new IntPtr[n];
        fixed (IntPtr* o = handles) Check(NativeMethods.mvt_chunk(Handle, chunks, dim, o, n));
        return handles.Select(h => new Tensor(h)).ToArray();
    }

    /// <summary>
    /// Indexes like Python: integers select (removing the dimension), ranges slice (<c>t[.., 1..3]</c>),
    /// <see cref="TensorIndex.Ellipsis"/> stands for the remaining dimensions, <see cref="TensorIndex.NewAxis"/> inserts one.
    /// </summary>
    [System.Runtime.CompilerServices.IndexerName("Indexer")]
    public Tensor this[params TensorIndex[] indices]
    {
        get
        {
            ArgumentNullException.ThrowIfNull(indices);
            var shape = CachedShape;
            int explicitDims = indices.Count(i => i.Kind is TensorIndexKind.Single or TensorIndexKind.Slice);
            if (indices.Count(i => i.Kind == TensorIndexKind.Ellipsis) > 1) throw new ArgumentException("At most one Ellipsis is allowed in an index.");
            if (explicitDims > shape.Length)
                throw new IndexOutOfRangeException($"Too many indices ({explicitDims}) for a {shape.Length}-D tensor.");
            using var scope = Tensors.NewDisposeScope();
            Tensor current = Alias();
            long dim = 0;     // dimension of `current` the next index applies to
            long source = 0;  // the same dimension counted in this tensor, for error messages
            foreach (var index in indices)
            {
                switch (index.Kind)
                {
                    case TensorIndexKind.Single:
                    {
                        var size = current.CachedShape[dim];
                        var i = index.Start;
                        if (i < -size || i >= size)
                            throw new IndexOutOfRangeException($"Index {i} is out of range for dimension {source} of size {size}.");
                        current = current.Select(dim, i);
                        source++;
                        break;
                    }
                    case TensorIndexKind.Slice:
                    {
                        var size = current.CachedShape[dim];
                        var (start, end) = index.Resolve(size);
                        current = current.Slice(dim, start, end, index.Step);
                        dim++;
                        source++;
                        break;
                    }
                    case TensorIndexKind.Ellipsis:
                    {
                        var skipped = current.CachedShape.Length - dim - (indices.SkipWhile(x => x.Kind != TensorIndexKind.Ellipsis).Skip(1).Count(x => x.Kind is TensorIndexKind.Single or TensorIndexKind.Slice));
                        dim += skipped;
                        source += skipped;
                        break;
                    }
                    case TensorIndexKind.NewAxis:
                        current = current.Unsqueeze(dim);
                        dim++;
                        break;
                }
            }
            return scope.MoveToOuter(current);
        }
    }
}
