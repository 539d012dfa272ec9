using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Blocks;

/// <summary>
/// Resolves layer types by spatial dimensions (2 → Conv2d, BatchNorm2d, …; 3 → Conv3d, BatchNorm3d, …), as MONAI's
/// layer factories do, so that a network is written once and is otherwise dimension-free. Any other number of
/// dimensions throws.
/// </summary>
internal static class Layers
{
    /// <summary>Throws unless <paramref name="spatialDims"/> is 2 or 3.</summary>
    public static int RequireSpatialDims(int spatialDims, string paramName = "spatialDims") => spatialDims is 2 or 3
        ? spatialDims
        : throw new ArgumentOutOfRangeException(paramName, spatialDims, "spatial dimensions must be 2 (N, C, H, W) or 3 (N, C, D, H, W)");

    /// <summary>A convolution; bias off by default because a normalisation layer follows.</summary>
    public static Convolution Conv(int spatialDims, long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, bool bias = false) => spatialDims switch
    {
        2 => new Conv2d(inChannels, outChannels, kernelSize, stride, padding, bias: bias),
        3 => new Conv3d(inChannels, outChannels, kernelSize, stride, padding, bias: bias),
        _ => throw new ArgumentOutOfRangeException(nameof(spatialDims), spatialDims, "convolutions are resolved for 2 or 3 spatial dimensions"),
    };

    /// <summary>A convolution with a size per spatial dimension (kernel, stride, padding; one value each), without bias by default.</summary>
    public static Convolution Conv(int spatialDims, long inChannels, long outChannels, long[] kernelSize, long[] stride, long[] padding, bool bias = false) => spatialDims switch
    {
        2 => new Conv2d(inChannels, outChannels, kernelSize, stride, padding, bias: bias),
        3 => new Conv3d(inChannels, outChannels, kernelSize, stride, padding, bias: bias),
        _ => throw new ArgumentOutOfRangeException(nameof(spatialDims), spatialDims, "convolutions are resolved for 2 or 3 spatial dimensions"),
    };

    /// <summary>A 3×3 (or 3×3×3) convolution with padding = dilation and no bias (torchvision's conv3x3).</summary>
    public static Convolution Conv3x3(int spatialDims, long inChannels, long outChannels, long stride = 1, long dilation = 1) => spatialDims switch
    {
        2 => new Conv2d(inChannels, outChannels, 3, stride, padding: dilation, dilation: dilation, bias: false),
        3 => new Conv3d(inChannels, outChannels, 3, stride, padding: dilation, dilation: dilation, bias: false),
        _ => throw new ArgumentOutOfRangeException(nameof(spatialDims), spatialDims, "convolutions are resolved for 2 or 3 spatial dimensions"),
    };

    /// <summary>A 1×1 (or 1×1×1) convolution with no bias (torchvision's conv1x1).</summary>
    public static Convolution Conv1x1(int spatialDims, long inChannels, long outChannels, long stride = 1)
        => Conv(spatialDims, inChannels, outChannels, 1, stride, 0);

    /// <summary>A transposed convolution.</summary>
    public static TransposedConvolution ConvTranspose(int spatialDims, long inChannels, long outChannels, long kernelSize, long stride, long padding, long outputPadding, bool bias = true) => spatialDims switch
    {
        2 => new ConvTranspose2d(inChannels, outChannels, kernelSize, stride, padding, outputPadding, bias: bias),
        3 => new ConvTranspose3d(inChannels, outChannels, kernelSize, stride, padding, outputPadding, bias: bias),
        _ => throw new ArgumentOutOfRangeException(nameof(spatialDims), spatialDims, "transposed convolutions are resolved for 2 or 3 spatial dimensions"),
    };

    /// <summary>Batch normalisation (weight 1, bias 0).</summary>
    public static BatchNorm BatchNorm(int spatialDims, long channels) => spatialDims switch
    {
        2 => new BatchNorm2d(channels),
        3 => new BatchNorm3d(channels),
        _ => throw new ArgumentOutOfRangeException(nameof(spatialDims), spatialDims, "batch normalisation is resolved for 2 or 3 spatial dimensions"),
    };

    /// <summary>Batch or instance normalisation.</summary>
    public static Module<Tensor, Tensor> Norm(NormalizationKind kind, int spatialDims, long channels) => kind switch
    {
        NormalizationKind.Batch => BatchNorm(spatialDims, channels),
        NormalizationKind.Instance => spatialDims switch
        {
            2 => new InstanceNorm2d(channels),
            3 => new InstanceNorm3d(channels),
            _ => throw new ArgumentOutOfRangeException(nameof(spatialDims), spatialDims, "instance normalisation is resolved for 2 or 3 spatial dimensions"),
        },
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown normalisation"),
    };

    /// <summary>Max pooling.</summary>
    public static Pooling MaxPool(int spatialDims, long kernelSize, long stride, long padding = 0) => spatialDims switch
    {
        2 => new MaxPool2d(kernelSize, stride, padding),
        3 => new MaxPool3d(kernelSize, stride, padding),
        _ => throw new ArgumentOutOfRangeException(nameof(spatialDims), spatialDims, "max pooling is resolved for 2 or 3 spatial dimensions"),
    };

    /// <summary>Average pooling.</summary>
    public static Pooling AvgPool(int spatialDims, long kernelSize, long stride, long padding = 0) => spatialDims switch
    {
        2 => new AvgPool2d(kernelSize, stride, padding),
        3 => new AvgPool3d(kernelSize, stride, padding),
        _ => throw new ArgumentOutOfRangeException(nameof(spatialDims), spatialDims, "average pooling is resolved for 2 or 3 spatial dimensions"),
    };

    /// <summary>Global average pooling to one value per channel ((N, C, 1, 1) or (N, C, 1, 1, 1)).</summary>
    public static Module<Tensor, Tensor> GlobalAvgPool(int spatialDims) => spatialDims switch
    {
        2 => new AdaptiveAvgPool2d(1),
        3 => new AdaptiveAvgPool3d(1),
        _ => throw new ArgumentOutOfRangeException(nameof(spatialDims), spatialDims, "adaptive pooling is resolved for 2 or 3 spatial dimensions"),
    };
}
