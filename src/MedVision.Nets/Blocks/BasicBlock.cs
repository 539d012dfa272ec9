using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Blocks;


/// <summary>
/// The ResNet-18/34 block (He et al., CVPR 2016; torchvision's BasicBlock): conv1 (3×3, stride) → bn1 → ReLU →
/// conv2 (3×3) → bn2, plus the shortcut, then ReLU. Parameter names: conv1, bn1, conv2, bn2, downsample. Both
/// convolutions may be dilated (MedicalNet's 3-D ResNets dilate them; torchvision's BasicBlock refuses dilation).
/// Input (N, C_in, H, W) or (N, C_in, D, H, W); output (N, planes, H/stride, W/stride) and the 3-D analogue.
/// </summary>
public sealed class BasicBlock : ResidualBlock
{
    /// <summary>Output channels per plane.</summary>
    public const int Expansion = 1;

    private readonly Convolution _conv1;
    private readonly BatchNorm _bn1;
    private readonly Convolution _conv2;
    private readonly BatchNorm _bn2;

    /// <summary>Creates the block; a projection shortcut is added when <paramref name="stride"/> ≠ 1 or the width changes.</summary>
    /// <param name="spatialDims">2 or 3.</param>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="planes">Output channels.</param>
    /// <param name="stride">Stride of the first convolution and of the shortcut.</param>
    public BasicBlock(int spatialDims, long inChannels, long planes, long stride = 1)
        : this(spatialDims, inChannels, planes, stride, 1, ResidualShortcut.Projection)
    {
    }

    /// <summary>Creates the block with dilated convolutions and the given shortcut.</summary>
    /// <param name="spatialDims">2 or 3.</param>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="planes">Output channels.</param>
    /// <param name="stride">Stride of the first convolution and of the shortcut.</param>
    /// <param name="dilation">Dilation (and padding) of both 3×3 convolutions.</param>
    /// <param name="shortcut">The shortcut when the stride or the width changes.</param>
    /// <exception cref="ArgumentException">A zero-padding shortcut with fewer output than input channels.</exception>
    public BasicBlock(int spatialDims, long inChannels, long planes, long stride, long dilation, ResidualShortcut shortcut = ResidualShortcut.Projection)
        : base(spatialDims, inChannels, planes, stride, Expansion, dilation, shortcut)
    {
        try
        {
            _conv1 = RegisterModule("conv1", Layers.Conv3x3(spatialDims, inChannels, planes, stride, dilation));
            _bn1 = RegisterModule("bn1", Layers.BatchNorm(spatialDims, planes));
            _conv2 = RegisterModule("conv2", Layers.Conv3x3(spatialDims, planes, planes, 1, dilation));
            _bn2 = RegisterModule("bn2", Layers.BatchNorm(spatialDims, planes));
            RegisterShortcut();
        }
        catch
        {
            Dispose(); // e.g. out of memory for a huge width: free the layers already built
            throw;
        }
    }

    /// <inheritdoc />
    public override BatchNorm LastNorm => _bn2;

    /// <inheritdoc />
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        using var scope = Tensors.NewDisposeScope();
        var conv1 = _conv1.Call(input);
        var bn1 = _bn1.Call(conv1);
        // In place where torchvision is (ReLU(inplace=True), out += identity): batch norm's backward does not need its
        // output, so overwriting it saves an allocation and a pass over memory per op.
        var relu1 = bn1.ReluInPlace();
        var conv2 = _conv2.Call(relu1);
        var bn2 = _bn2.Call(conv2);
        var identity = Shortcut(input);
        var output = bn2.AddInPlace(identity).ReluInPlace();
        return scope.MoveToOuter(output);
    }
}
