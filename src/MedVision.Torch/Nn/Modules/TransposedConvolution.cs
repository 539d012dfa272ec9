using System.Globalization;

namespace MedVision.Torch.Nn;

/// <summary>Transposed convolution over 1, 2 or 3 spatial dimensions; weight (C_in, C_out/groups, k…).</summary>
public class TransposedConvolution : ConvolutionBase
{
    /// <summary>Creates the layer.</summary>
    public TransposedConvolution(int spatialDims, long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, long outputPadding = 0, long groups = 1, bool bias = true, long dilation = 1)
        : base(transposed: true, spatialDims, inChannels, outChannels, kernelSize, stride, padding, dilation, groups, bias, outputPadding)
        => OutputPadding = outputPadding;

    /// <summary>Extra size added to one side of the output.</summary>
    public long OutputPadding { get; }

    /// <inheritdoc />
    public override string TypeName => $"ConvTranspose{SpatialDims}d";

    /// <inheritdoc />
    public override Tensor Forward(Tensor input)
        => Functional.ConvTranspose(input, Weight, Bias, SpatialDims, new[] { Stride }, new[] { Padding }, new[] { OutputPadding }, Groups, new[] { Dilation });

    /// <inheritdoc />
    protected override string ExtraRepr()
        => string.Create(CultureInfo.InvariantCulture, $"{InChannels}, {OutChannels}, kernel_size={KernelSize}, stride={Stride}, padding={Padding}, output_padding={OutputPadding}");
}
