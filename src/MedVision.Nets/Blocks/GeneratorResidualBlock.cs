using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Blocks;


/// <summary>
/// The residual block of ResNet-style image generators (Johnson et al., ECCV 2016; the transfer part of CDSF's ISM):
/// output = input + norm2(conv2(ReLU(norm1(conv1(input))))), two 3×3 convolutions with padding 1 that keep the
/// channel count and spatial size. Parameter names: conv1, norm1, conv2, norm2.
/// Input and output (N, C, H, W) or (N, C, D, H, W).
/// </summary>
public sealed class GeneratorResidualBlock : Module<Tensor, Tensor>
{
    private readonly Convolution _conv1;
    private readonly Module<Tensor, Tensor> _norm1;
    private readonly Convolution _conv2;
    private readonly Module<Tensor, Tensor> _norm2;

    /// <summary>Creates the block.</summary>
    /// <param name="spatialDims">2 or 3.</param>
    /// <param name="channels">Input and output channels.</param>
    /// <param name="normalization">The normalisation after each convolution.</param>
    public GeneratorResidualBlock(int spatialDims, long channels, NormalizationKind normalization = NormalizationKind.Instance)
    {
        Layers.RequireSpatialDims(spatialDims);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        SpatialDims = spatialDims;
        Channels = channels;
        Normalization = normalization;
        try
        {
            _conv1 = RegisterModule("conv1", Layers.Conv(spatialDims, channels, channels, 3, 1, 1, bias: true));
            _norm1 = RegisterModule("norm1", Layers.Norm(normalization, spatialDims, channels));
            _conv2 = RegisterModule("conv2", Layers.Conv(spatialDims, channels, channels, 3, 1, 1, bias: true));
            _norm2 = RegisterModule("norm2", Layers.Norm(normalization, spatialDims, channels));
        }
        catch
        {
            Dispose(); // e.g. out of memory for the second convolution: free the first
            throw;
        }
    }

    /// <summary>2 or 3.</summary>
    public int SpatialDims { get; }
    /// <summary>Input and output channels.</summary>
    public long Channels { get; }
    /// <summary>The normalisation after each convolution.</summary>
    public NormalizationKind Normalization { get; }

    /// <inheritdoc />
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        using var scope = Tensors.NewDisposeScope();
        var conv1 = _conv1.Call(input);
        var norm1 = _norm1.Call(conv1);
        var relu1 = norm1.Relu();
        var conv2 = _conv2.Call(relu1);
        var norm2 = _norm2.Call(conv2);
        var output = input + norm2;
        return scope.MoveToOuter(output);
    }
}
