using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Blocks;


/// <summary>
/// The ResNet-50/101/152 block (He et al., CVPR 2016; torchvision's Bottleneck, ResNet v1.5): conv1 (1×1) → bn1 →
/// ReLU → conv2 (3×3, stride) → bn2 → ReLU → conv3 (1×1, planes × 4) → bn3, plus the shortcut, then ReLU. The stride
/// sits on the 3×3 convolution (v1.5), not on the first 1×1 as in the original paper, which improves accuracy.
/// Parameter names: conv1, bn1, conv2, bn2, conv3, bn3, downsample.
/// Input (N, C_in, H, W) or (N, C_in, D, H, W); output (N, 4·planes, H/stride, W/stride) and the 3-D analogue.
/// </summary>
public sealed class Bottleneck : ResidualBlock
{
    /// <summary>Output channels per plane.</summary>
    public const int Expansion = 4;

    private readonly Convolution _conv1;
    private readonly BatchNorm _bn1;
    private readonly Convolution _conv2;
    private readonly BatchNorm _bn2;
    private readonly Convolution _conv3;
    private readonly BatchNorm _bn3;

    /// <summary>Creates the block; a projection shortcut is added when <paramref name="stride"/> ≠ 1 or the width changes.</summary>
    /// <param name="spatialDims">2 or 3.</param>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="planes">Width of the 1×1 and 3×3 convolutions; the output has 4 × planes channels.</param>
    /// <param name="stride">Stride of the 3×3 convolution and of the shortcut.</param>
    /// <param name="dilation">Dilation (and padding) of the 3×3 convolution (torchvision's <c>dilation</c>; 1 by default).</param>
    /// <param name="shortcut">The shortcut when the stride or the width changes (the projection by default).</param>
    /// <exception cref="ArgumentException">A zero-padding shortcut with fewer output than input channels.</exception>
    public Bottleneck(int spatialDims, long inChannels, long planes, long stride = 1, long dilation = 1, ResidualShortcut shortcut = ResidualShortcut.Projection)
        : base(spatialDims, inChannels, planes, stride, Expansion, dilation, shortcut)
    {
        try
        {
            _conv1 = RegisterModule("conv1", Layers.Conv1x1(spatialDims, inChannels, planes));
            _bn1 = RegisterModule("bn1", Layers.BatchNorm(spatialDims, planes));
            _conv2 = RegisterModule("conv2", Layers.Conv3x3(spatialDims, planes, planes, stride, dilation));
            _bn2 = RegisterModule("bn2", Layers.BatchNorm(spatialDims, planes));
            _conv3 = RegisterModule("conv3", Layers.Conv1x1(spatialDims, planes, planes * Expansion));
            _bn3 = RegisterModule("bn3", Layers.BatchNorm(spatialDims, planes * Expansion));
            RegisterShortcut();
        }
        catch
        {
            Dispose(); // e.g. out of memory for a huge width: free the layers already built
            throw;
        }
    }

    /// <inheritdoc />
    public override BatchNorm LastNorm => _bn3;

    /// <inheritdoc />
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        using var scope = Tensors.NewDisposeScope();
        var conv1 = _conv1.Call(input);
        var bn1 = _bn1.Call(conv1);
        // In place where torchvision is (see BasicBlock).
        var relu1 = bn1.ReluInPlace();
        var conv2 = _conv2.Call(relu1);
        var bn2 = _bn2.Call(conv2);
        var relu2 = bn2.ReluInPlace();
        var conv3 = _conv3.Call(relu2);
        var bn3 = _bn3.Call(conv3);
        var identity = Shortcut(input);
        var output = bn3.AddInPlace(identity).ReluInPlace();
        return scope.MoveToOuter(output);
    }
}
