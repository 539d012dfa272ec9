namespace MedVision.Torch.Nn;

/// <summary>Transposed convolution over 1, 2 or 3 spatial dimensions; weight (C_in, C_out/groups, k…).</summary>
public class TransposedConvolution : ConvolutionBase
{
    /// <summary>Creates the layer with the same kernel size, stride, padding and dilation along every spatial dimension.</summary>
    public TransposedConvolution(int spatialDims, long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, long outputPadding = 0, long groups = 1, bool bias = true, long dilation = 1)
        : base(transposed: true, spatialDims, inChannels, outChannels, One(kernelSize), One(stride), One(padding), One(dilation), groups, bias, One(outputPadding), PaddingMode.Constant)
    {
    }

    /// <summary>
    /// Creates the layer with per-dimension sizes (PyTorch's tuples): each array holds one value per spatial dimension,
    /// or a single value for all of them; null keeps PyTorch's default (stride 1, padding 0, output padding 0, dilation 1).
    /// </summary>
    public TransposedConvolution(int spatialDims, long inChannels, long outChannels, long[] kernelSize, long[]? stride = null, long[]? padding = null, long[]? outputPadding = null, long groups = 1, bool bias = true, long[]? dilation = null)
        : base(transposed: true, spatialDims, inChannels, outChannels, kernelSize, stride, padding, dilation, groups, bias, outputPadding, PaddingMode.Constant)
    {
    }

    /// <summary>Extra size added to one side of the output, along each spatial dimension.</summary>
    public IReadOnlyList<long> OutputPadding => OutputPaddingArray;

    /// <inheritdoc />
    public override string TypeName => $"ConvTranspose{SpatialDims}d";

    /// <inheritdoc />
    public override Tensor Forward(Tensor input)
        => Functional.ConvTranspose(input, Weight, Bias, SpatialDims, StrideArray, PaddingArray, OutputPaddingArray, Groups, DilationArray);
}
