using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Blocks;

/// <summary>
/// The common part of <see cref="BasicBlock"/> and <see cref="Bottleneck"/> (He et al., "Deep Residual Learning for
/// Image Recognition", CVPR 2016): both take (spatial dims, input channels, planes, stride), so a ResNet stage treats
/// them alike. The projection shortcut is a 1×1 convolution + batch norm registered as <c>downsample</c>
/// (<c>downsample.0.weight</c>, <c>downsample.1.*</c>), created when the stride or the width changes.
/// Input and output are (N, C, H, W) or (N, C, D, H, W).
/// </summary>
public abstract class ResidualBlock : Module<Tensor, Tensor>
{
    /// <summary>Stores the block's geometry; derived constructors register their layers, then call <see cref="RegisterShortcut"/>.</summary>
    protected ResidualBlock(int spatialDims, long inChannels, long planes, long stride, int expansion)
    {
        Layers.RequireSpatialDims(spatialDims);
        ArgumentOutOfRangeException.ThrowIfLessThan(inChannels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(planes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(stride, 1);
        SpatialDims = spatialDims;
        InChannels = inChannels;
        Planes = planes;
        Stride = stride;
        OutChannels = planes * expansion;
    }

    /// <summary>2 for (N, C, H, W) inputs, 3 for (N, C, D, H, W).</summary>
    public int SpatialDims { get; }
    /// <summary>Input channels.</summary>
    public long InChannels { get; }
    /// <summary>The block's base width; the output has <see cref="OutChannels"/> = planes × expansion channels.</summary>
    public long Planes { get; }
    /// <summary>Output channels.</summary>
    public long OutChannels { get; }
    /// <summary>Stride of the block (2 halves every spatial size).</summary>
    public long Stride { get; }
    /// <summary>The projection shortcut (1×1 conv + BN), or null when the identity is added.</summary>
    public Sequential? Downsample { get; private set; }

    /// <summary>The last batch norm of the residual branch (zeroed by ResNet's zero-init-residual option so each block starts as the identity).</summary>
    public abstract BatchNorm LastNorm { get; }

    /// <summary>Registers <c>downsample</c> when the stride or the width changes; call after the branch's layers so key order matches torchvision.</summary>
    protected void RegisterShortcut()
    {
        if (Stride == 1 && InChannels == OutChannels) return;
        var projection = new Sequential(
            Layers.Conv1x1(SpatialDims, InChannels, OutChannels, Stride),
            Layers.BatchNorm(SpatialDims, OutChannels));
        Downsample = RegisterModule("downsample", projection);
    }

    /// <summary>The shortcut applied to the block input: the projection, or the input itself.</summary>
    protected Tensor Shortcut(Tensor input) => Downsample is null ? input : Downsample.Call(input);

    /// <summary>Creates a block of the given kind.</summary>
    /// <exception cref="ArgumentException">A dilation above 1 for a <see cref="BasicBlock"/> (as torchvision, which supports it in bottlenecks only).</exception>
    public static ResidualBlock Create(ResidualBlockKind kind, int spatialDims, long inChannels, long planes, long stride = 1, long dilation = 1) => kind switch
    {
        ResidualBlockKind.Basic => dilation == 1 ? new BasicBlock(spatialDims, inChannels, planes, stride)
            : throw new ArgumentException($"Dilation {dilation} needs bottleneck blocks: as in torchvision, a basic block has no dilated form.", nameof(dilation)),
        ResidualBlockKind.Bottleneck => new Bottleneck(spatialDims, inChannels, planes, stride, dilation),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown residual block kind"),
    };

    /// <summary>The output channels per plane of a block kind (1 for <see cref="BasicBlock"/>, 4 for <see cref="Bottleneck"/>).</summary>
    public static int ExpansionOf(ResidualBlockKind kind) => kind switch
    {
        ResidualBlockKind.Basic => BasicBlock.Expansion,
        ResidualBlockKind.Bottleneck => Bottleneck.Expansion,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown residual block kind"),
    };
}
