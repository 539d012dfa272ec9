using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Blocks;

/// <summary>
/// The common part of <see cref="BasicBlock"/> and <see cref="Bottleneck"/> (He et al., "Deep Residual Learning for
/// Image Recognition", CVPR 2016): both take (spatial dims, input channels, planes, stride), so a ResNet stage treats
/// them alike. When the stride or the width changes, the shortcut is a 1×1 convolution + batch norm registered as
/// <c>downsample</c> (<c>downsample.0.weight</c>, <c>downsample.1.*</c>), or the parameter-free zero-padding shortcut
/// (<see cref="ResidualShortcut"/>). Input and output are (N, C, H, W) or (N, C, D, H, W).
/// </summary>
public abstract class ResidualBlock : Module<Tensor, Tensor>
{
    /// <summary>Stores the block's geometry; derived constructors register their layers, then call <see cref="RegisterShortcut"/>.</summary>
    /// <exception cref="ArgumentException">A zero-padding shortcut for a block with fewer output than input channels.</exception>
    protected ResidualBlock(int spatialDims, long inChannels, long planes, long stride, int expansion, long dilation = 1, ResidualShortcut shortcut = ResidualShortcut.Projection)
    {
        Layers.RequireSpatialDims(spatialDims);
        ArgumentOutOfRangeException.ThrowIfLessThan(inChannels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(planes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(stride, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(dilation, 1);
        if (!Enum.IsDefined(shortcut)) throw new ArgumentOutOfRangeException(nameof(shortcut), shortcut, "unknown shortcut kind");
        SpatialDims = spatialDims;
        InChannels = inChannels;
        Planes = planes;
        Stride = stride;
        Dilation = dilation;
        OutChannels = planes * expansion;
        ShortcutKind = shortcut;
        if (shortcut == ResidualShortcut.ZeroPadding && OutChannels < InChannels)
            throw new ArgumentException($"A zero-padding shortcut can only add channels: {InChannels} input channels, {OutChannels} output channels. Use the projection shortcut.", nameof(shortcut));
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
    /// <summary>Dilation (and padding) of the block's 3×3 convolutions; 1 unless the stage is dilated.</summary>
    public long Dilation { get; }
    /// <summary>The shortcut used when the stride or the width changes.</summary>
    public ResidualShortcut ShortcutKind { get; }
    /// <summary>The projection shortcut (1×1 conv + BN), or null when the input is added as it is or zero-padded.</summary>
    public Sequential? Downsample { get; private set; }

    /// <summary>True when the block changes the stride or the width, so its shortcut is not the plain identity.</summary>
    public bool ChangesShape => Stride != 1 || InChannels != OutChannels;

    /// <summary>The last batch norm of the residual branch (zeroed by ResNet's zero-init-residual option so each block starts as the identity).</summary>
    public abstract BatchNorm LastNorm { get; }

    /// <summary>
    /// Registers <c>downsample</c> when the stride or the width changes and the shortcut is the projection; call after the
    /// branch's layers so key order matches torchvision.
    /// </summary>
    protected void RegisterShortcut()
    {
        if (!ChangesShape || ShortcutKind != ResidualShortcut.Projection) return;
        var projection = new Sequential(
            Layers.Conv1x1(SpatialDims, InChannels, OutChannels, Stride),
            Layers.BatchNorm(SpatialDims, OutChannels));
        Downsample = RegisterModule("downsample", projection);
    }

    /// <summary>
    /// The shortcut applied to the block input: the projection, the input at every stride-th position with zero
    /// channels appended (<see cref="ResidualShortcut.ZeroPadding"/>), or the input itself (returned as it is).
    /// </summary>
    public Tensor Shortcut(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (Downsample is not null) return Downsample.Call(input);
        if (!ChangesShape) return input;
        using var scope = Tensors.NewDisposeScope();
        var strided = input;
        if (Stride != 1)
            for (int d = 2; d < input.Dim; d++) strided = strided.Slice(d, 0, strided.Size(d), Stride);
        // Functional.Pad counts (before, after) pairs from the last dimension: zeros for the spatial ones, then channels.
        var pad = new long[2 * (input.Dim - 1)];
        pad[^1] = OutChannels - InChannels;
        var padded = Functional.Pad(strided, pad);
        return scope.MoveToOuter(padded);
    }

    /// <summary>Creates a block of the given kind.</summary>
    /// <param name="kind">Basic or bottleneck.</param>
    /// <param name="spatialDims">2 or 3.</param>
    /// <param name="inChannels">Input channels.</param>
    /// <param name="planes">The block's base width.</param>
    /// <param name="stride">Stride of the block.</param>
    /// <param name="dilation">Dilation of its 3×3 convolutions.</param>
    /// <param name="shortcut">The shortcut when the stride or width changes.</param>
    public static ResidualBlock Create(ResidualBlockKind kind, int spatialDims, long inChannels, long planes, long stride = 1, long dilation = 1, ResidualShortcut shortcut = ResidualShortcut.Projection) => kind switch
    {
        ResidualBlockKind.Basic => new BasicBlock(spatialDims, inChannels, planes, stride, dilation, shortcut),
        ResidualBlockKind.Bottleneck => new Bottleneck(spatialDims, inChannels, planes, stride, dilation, shortcut),
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
