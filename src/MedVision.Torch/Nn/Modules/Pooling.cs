namespace MedVision.Torch.Nn;

/// <summary>Max or average pooling over 1, 2 or 3 spatial dimensions (common code of MaxPool2d/3d and AvgPool2d/3d).</summary>
public class Pooling : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer; stride defaults to the kernel size.</summary>
    public Pooling(bool max, int spatialDims, long kernelSize, long? stride = null, long padding = 0, long dilation = 1, bool ceilMode = false, bool countIncludePad = true)
    {
        if (spatialDims is < 1 or > 3) throw new ArgumentOutOfRangeException(nameof(spatialDims));
        ArgumentOutOfRangeException.ThrowIfLessThan(kernelSize, 1);
        if (stride is < 1) throw new ArgumentOutOfRangeException(nameof(stride), stride, "stride must be positive");
        if (padding < 0 || padding > kernelSize / 2) throw new ArgumentOutOfRangeException(nameof(padding), padding, "padding must lie in [0, kernel_size / 2]");
        IsMax = max;
        SpatialDims = spatialDims;
        KernelSize = kernelSize;
        Stride = stride ?? kernelSize;
        Padding = padding;
        Dilation = dilation;
        CeilMode = ceilMode;
        CountIncludePad = countIncludePad;
    }

    /// <summary>True for max pooling, false for average pooling.</summary>
    public bool IsMax { get; }
    /// <summary>Spatial dimensions.</summary>
    public int SpatialDims { get; }
    /// <summary>Window size.</summary>
    public long KernelSize { get; }
    /// <summary>Window stride.</summary>
    public long Stride { get; }
    /// <summary>Implicit padding.</summary>
    public long Padding { get; }
    /// <summary>Window dilation (max pooling).</summary>
    public long Dilation { get; }
    /// <summary>Ceil instead of floor for the output size.</summary>
    public bool CeilMode { get; }
    /// <summary>Average pooling counts padded zeros.</summary>
    public bool CountIncludePad { get; }

    /// <inheritdoc />
    public override string TypeName => $"{(IsMax ? "Max" : "Avg")}Pool{SpatialDims}d";

    /// <inheritdoc />
    public override Tensor Forward(Tensor input) => IsMax
        ? Functional.MaxPool(input, SpatialDims, new[] { KernelSize }, new[] { Stride }, new[] { Padding }, new[] { Dilation }, CeilMode)
        : Functional.AvgPool(input, SpatialDims, new[] { KernelSize }, new[] { Stride }, new[] { Padding }, CeilMode, CountIncludePad);

    /// <inheritdoc />
    protected override string ExtraRepr() => $"kernel_size={KernelSize}, stride={Stride}, padding={Padding}";
}
