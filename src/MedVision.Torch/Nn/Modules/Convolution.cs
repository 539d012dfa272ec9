namespace MedVision.Torch.Nn;

/// <summary>
/// Convolution over 1, 2 or 3 spatial dimensions (the common code of <see cref="Conv1d"/>, <see cref="Conv2d"/> and
/// <see cref="Conv3d"/>). Parameters: weight (C_out, C_in/groups, k…) and optional bias (C_out), initialised as PyTorch does.
/// </summary>
public class Convolution : ConvolutionBase
{
    private static readonly long[] NoPadding = { 0 };

    /// <summary>Creates the layer with the same kernel size, stride, padding and dilation along every spatial dimension.</summary>
    public Convolution(int spatialDims, long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, long dilation = 1, long groups = 1, bool bias = true, PaddingMode paddingMode = PaddingMode.Constant)
        : base(transposed: false, spatialDims, inChannels, outChannels, One(kernelSize), One(stride), One(padding), One(dilation), groups, bias, null, paddingMode)
    {
    }

    /// <summary>
    /// Creates the layer with per-dimension sizes (PyTorch's tuples, e.g. an anisotropic 3×3×1 kernel for volumes with
    /// thick slices): each array holds one value per spatial dimension, or a single value for all of them; null keeps
    /// PyTorch's default (stride 1, padding 0, dilation 1).
    /// </summary>
    public Convolution(int spatialDims, long inChannels, long outChannels, long[] kernelSize, long[]? stride = null, long[]? padding = null, long[]? dilation = null, long groups = 1, bool bias = true, PaddingMode paddingMode = PaddingMode.Constant)
        : base(transposed: false, spatialDims, inChannels, outChannels, kernelSize, stride, padding, dilation, groups, bias, null, paddingMode)
    {
    }

    /// <inheritdoc />
    public override string TypeName => $"Conv{SpatialDims}d";

    private readonly PackedConvolutionWeight _packed = new();

    /// <summary>True while the module holds a oneDNN-layout copy of its weight for inference (see <see cref="Tensors.PrepackConvolutionWeights"/>).</summary>
    public bool HoldsPackedWeight => _packed.IsHeld;

    /// <inheritdoc />
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (PaddingMode == PaddingMode.Constant || PaddingArray.All(p => p == 0)) return Convolve(input, PaddingArray);
        // As torch.nn.Conv*d with padding_mode other than 'zeros': pad the input that way, then convolve without padding.
        using var padded = Functional.Pad(input, PadPairs(), PaddingMode);
        return Convolve(padded, NoPadding);
    }

    private Tensor Convolve(Tensor input, long[] padding)
    {
        var weight = Weight;
        using var packed = _packed.Acquire(input, weight, Bias, SpatialDims, StrideArray, padding, DilationArray, Groups);
        return Functional.Convolution(input, packed ?? weight, Bias, SpatialDims, StrideArray, padding, DilationArray, Groups);
    }

    // F.pad's order: (before, after) pairs from the last spatial dimension to the first.
    private long[] PadPairs()
    {
        var pads = new long[2 * SpatialDims];
        for (int i = 0; i < SpatialDims; i++) pads[2 * i] = pads[2 * i + 1] = PaddingArray[SpatialDims - 1 - i];
        return pads;
    }

    /// <summary>Frees the oneDNN-layout copy of the weight, if held (it is made again on the next call that can use it).</summary>
    public void ReleasePackedWeight() => _packed.Release();

    /// <inheritdoc />
    protected override void OnTensorsConverted()
    {
        // To(...) changes the weight in place (same tensor, same version counter): the packed copy no longer matches it.
        _packed.Release();
        base.OnTensorsConverted();
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing) _packed.Dispose();
        base.Dispose(disposing);
    }
}
