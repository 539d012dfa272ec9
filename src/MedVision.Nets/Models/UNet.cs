using MedVision.Nets.Blocks;
using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Models;

/// <summary>
/// U-Net (Ronneberger, Fischer and Brox, "U-Net: Convolutional Networks for Biomedical Image Segmentation", MICCAI
/// 2015) for 2-D images and 3-D volumes, with padded convolutions so that the output has the input's size. Each level
/// is a double convolution (3×3 or 3×3×3, no bias, then normalisation and activation, twice); the encoder halves the
/// resolution by max pooling between levels, the decoder doubles it again (<see cref="UNetUpsampling"/>) and
/// concatenates the encoder's features of the same level (skip first) before its double convolution; a 1×1
/// convolution gives one logit map per class. With deep supervision (<see cref="UNetOptions.DeepSupervisionHeads"/>)
/// further 1×1 heads give logits at half, quarter… resolution for training (<see cref="ForwardWithDeepSupervision"/>).
/// Parameter names: <c>encoder{i}.{0..5}</c>, <c>upsample{i}</c>, <c>decoder{i}.{0..5}</c>, <c>head</c>,
/// <c>supervision{i}</c> (the script beside the tests, <c>make_unet_fixture.py</c>, builds the same
/// network in PyTorch). Input (N, C, H, W) or (N, C, D, H, W) with every spatial size a multiple of
/// <see cref="SizeMultiple"/>; output logits (N, classes, same spatial size). Train it with
/// <see cref="Losses.DiceLoss"/>; infer on large scans with <see cref="Inference.SlidingWindowInferer"/>.
/// </summary>
/// <example><code>
/// using var model = UNet.Builder().ForInput(channels: 1, spatialDims: 3).WithFeatures(16, 32, 64, 128).WithInstanceNorm().WithClasses(2).Build();
/// </code></example>
public sealed class UNet : Module<Tensor, Tensor>
{
    private readonly UNetOptions _options;
    private readonly Sequential[] _encoders;
    private readonly Module<Tensor, Tensor>[] _upsamples;
    private readonly Sequential[] _decoders;
    private readonly Dropout? _dropout;
    private readonly Convolution _head;
    private readonly Convolution[] _supervision; // the deep supervision heads of decoder levels 1, 2, …

    /// <summary>Creates a U-Net with PyTorch's default initialisation of every layer.</summary>
    /// <exception cref="ArgumentException">An option cannot work; the message names it.</exception>
    public UNet(UNetOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options.Clone();
        int dims = _options.SpatialDims, levels = _options.Features.Count;
        var f = _options.Features;
        _encoders = new Sequential[levels];
        _upsamples = new Module<Tensor, Tensor>[levels];
        _decoders = new Sequential[levels - 1];
        try
        {
            for (int i = 0; i < levels; i++)
                _encoders[i] = RegisterModule($"encoder{i}", DoubleConvolution(i == 0 ? _options.InChannels : f[i - 1], f[i]));
            _dropout = _options.DropoutRate > 0 ? RegisterModule("dropout", new Dropout(_options.DropoutRate)) : null;
            for (int i = levels - 1; i >= 1; i--)
            {
                _upsamples[i] = _options.Upsampling == UNetUpsampling.TransposedConvolution
                    ? RegisterModule($"upsample{i}", Layers.ConvTranspose(dims, f[i], f[i - 1], 2, 2, 0, 0, bias: true))
                    : RegisterModule($"upsample{i}", Layers.Conv(dims, f[i], f[i - 1], 1, bias: true));
                _decoders[i - 1] = RegisterModule($"decoder{i - 1}", DoubleConvolution(2 * f[i - 1], f[i - 1]));
            }
            _head = RegisterModule("head", Layers.Conv(dims, f[0], _options.NumClasses, 1, bias: true));
            _supervision = new Convolution[_options.DeepSupervisionHeads];
            for (int i = 1; i <= _supervision.Length; i++)
                _supervision[i - 1] = RegisterModule($"supervision{i}", Layers.Conv(dims, f[i], _options.NumClasses, 1, bias: true));
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>A builder that reads as a sentence: <c>UNet.Builder().ForInput(1, 3).WithClasses(2).Build()</c>.</summary>
    public static UNetBuilder Builder() => new();

    /// <summary>2 for images, 3 for volumes.</summary>
    public int SpatialDims => _options.SpatialDims;

    /// <summary>Input channels.</summary>
    public int InChannels => _options.InChannels;

    /// <summary>Output channels: one logit map per class, background included.</summary>
    public int NumClasses => _options.NumClasses;

    /// <summary>Feature channels of each level, full resolution first.</summary>
    public IReadOnlyList<int> Features => _options.Features.ToArray();

    /// <summary>Every spatial size of an input must be a multiple of this: 2^(levels − 1).</summary>
    public int SizeMultiple => 1 << (_options.Features.Count - 1);

    /// <summary>A copy of the options the network was built with.</summary>
    public UNetOptions Options => _options.Clone();

    /// <summary>The number of deep supervision heads (<see cref="UNetOptions.DeepSupervisionHeads"/>); 0 without.</summary>
    public int DeepSupervisionHeads => _supervision.Length;

    /// <summary>Logits (N, classes, spatial…) of a batch (N, C, spatial…). Deep supervision heads are not run.</summary>
    /// <exception cref="ArgumentException">The input's rank, channels or spatial sizes do not fit; the message names them.</exception>
    public override Tensor Forward(Tensor input) => Run(input, supervised: false)[0];

    /// <summary>
    /// The full-resolution logits and those of every deep supervision head, full resolution first: (N, classes,
    /// spatial…), then (N, classes, spatial… / 2), (N, classes, spatial… / 4), … — one more tensor than
    /// <see cref="DeepSupervisionHeads"/>. Train with <see cref="Losses.DeepSupervisionLoss"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The input's rank, channels or spatial sizes do not fit; the message names them.</exception>
    /// <exception cref="InvalidOperationException">The network was built without deep supervision heads.</exception>
    public IReadOnlyList<Tensor> ForwardWithDeepSupervision(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (_supervision.Length == 0)
            throw new InvalidOperationException("This U-Net has no deep supervision heads; build it with UNet.Builder()…WithDeepSupervision() (UNetOptions.DeepSupervisionHeads).");
        return Run(input, supervised: true);
    }

    private Tensor[] Run(Tensor input, bool supervised)
    {
        CheckInput(input);
        using var scope = Tensors.NewDisposeScope();
        int levels = _encoders.Length;
        var skips = new Tensor[levels];
        var outputs = new Tensor[supervised ? _supervision.Length + 1 : 1];
        var x = input;
        for (int i = 0; i < levels; i++)
        {
            if (i > 0) x = SpatialDims == 2 ? Functional.MaxPool2d(x, 2, 2) : Functional.MaxPool3d(x, 2, 2);
            x = _encoders[i].Call(x);
            skips[i] = x;
        }
        if (_dropout is not null) x = _dropout.Call(x);
        for (int i = levels - 1; i >= 1; i--)
        {
            var up = _upsamples[i].Call(x);
            if (_options.Upsampling == UNetUpsampling.Interpolation)
                up = Functional.Interpolate(up, Enumerable.Repeat(2.0, SpatialDims).ToArray(), InterpolationMode.Linear);
            x = _decoders[i - 1].Call(Tensors.Cat(new[] { skips[i - 1], up }, 1));
            // decoder{i - 1} works at level i - 1: its output feeds that level's supervision head
            if (supervised && i - 1 >= 1 && i - 1 <= _supervision.Length) outputs[i - 1] = _supervision[i - 2].Call(x);
        }
        outputs[0] = _head.Call(x);
        foreach (var output in outputs) scope.MoveToOuter(output);
        return outputs;
    }

    /// <summary>A layer-by-layer summary from one forward pass on zeros of <paramref name="inputShape"/>, e.g. (1, 1, 96, 96, 96).</summary>
    public ModelSummary Summary(params long[] inputShape) => ModelSummary.Create(this, inputShape);

    private Sequential DoubleConvolution(long inChannels, long outChannels)
    {
        int dims = _options.SpatialDims;
        return new Sequential(
            Layers.Conv(dims, inChannels, outChannels, 3, 1, 1), Norm(outChannels), Activation(),
            Layers.Conv(dims, outChannels, outChannels, 3, 1, 1), Norm(outChannels), Activation());
    }

    private Module<Tensor, Tensor> Norm(long channels) => _options.Normalization == NormalizationKind.Instance
        ? _options.SpatialDims == 2 ? new InstanceNorm2d(channels, affine: true) : new InstanceNorm3d(channels, affine: true)
        : Layers.BatchNorm(_options.SpatialDims, channels);

    private Module<Tensor, Tensor> Activation() => _options.LeakySlope is { } slope ? new LeakyReLU(slope) : new ReLU(inPlace: true);

    private void CheckInput(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Dim != SpatialDims + 2 || input.Size(1) != InChannels)
        {
            var expected = SpatialDims == 2 ? $"(N, {InChannels}, H, W)" : $"(N, {InChannels}, D, H, W)";
            throw new ArgumentException($"The U-Net expects input {expected}, got [{string.Join(", ", input.Shape)}].", nameof(input));
        }
        var spatial = input.Shape.Skip(2).ToArray();
        if (spatial.Any(s => s == 0 || s % SizeMultiple != 0))
            throw new ArgumentException(
                $"The U-Net's {_encoders.Length} levels pool {_encoders.Length - 1} times, so every spatial size must be a positive multiple of {SizeMultiple}; " +
                $"got [{string.Join(", ", spatial)}]. Pad or crop the input (ResizeWithPadOrCrop), or infer with a SlidingWindowInferer whose window is a multiple of {SizeMultiple}.",
                nameof(input));
    }
}
