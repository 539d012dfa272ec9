using System.Globalization;

namespace MedVision.Torch.Nn;

/// <summary>
/// Convolution over 1, 2 or 3 spatial dimensions (the common code of <see cref="Conv1d"/>, <see cref="Conv2d"/> and
/// <see cref="Conv3d"/>). Parameters: weight (C_out, C_in/groups, k…) and optional bias (C_out), initialised as PyTorch does.
/// </summary>
public class Convolution : ConvolutionBase
{
    /// <summary>Creates the layer.</summary>
    public Convolution(int spatialDims, long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, long dilation = 1, long groups = 1, bool bias = true)
        : base(transposed: false, spatialDims, inChannels, outChannels, kernelSize, stride, padding, dilation, groups, bias)
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
        var weight = Weight;
        using var packed = _packed.Acquire(input, weight, Bias, SpatialDims, Stride, Padding, Dilation, Groups);
        return Functional.Convolution(input, packed ?? weight, Bias, SpatialDims, new[] { Stride }, new[] { Padding }, new[] { Dilation }, Groups);
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

    /// <inheritdoc />
    protected override string ExtraRepr()
        => string.Create(CultureInfo.InvariantCulture, $"{InChannels}, {OutChannels}, kernel_size={KernelSize}, stride={Stride}, padding={Padding}{(Dilation != 1 ? $", dilation={Dilation}" : "")}{(Groups != 1 ? $", groups={Groups}" : "")}{(Bias is null ? ", bias=False" : "")}");
}
