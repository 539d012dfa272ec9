using MedVision.Nets.Blocks;
using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Models;


/// <summary>
/// The image synthesis module (ISM) of CDSF (Pan et al., "Collaborative Image Synthesis and Disease Diagnosis for
/// Classification of Neurodegenerative Disorders with Incomplete Multi-modal Neuroimages", MICCAI 2021): a 3-D
/// generator from MRI to PET. Encoder: Conv(k7, 8 ch, stride 1, pad 3) → Conv(k3, 16, stride 2, pad 1) →
/// Conv(k3, 32, stride 2, pad 1); transfer: residual blocks at 32 channels (six in the paper); decoder:
/// ConvTranspose(k3, 32, stride 2, pad 1, output padding 1) → ConvTranspose(k3, 16, stride 2, pad 1, output padding 1)
/// → Conv(k7, 1, pad 3) → tanh. Every layer but the last is followed by normalisation and ReLU.
/// Input MRI (N, 1, D, H, W) with D, H, W divisible by 4; output synthetic PET (N, 1, D, H, W) in [−1, 1].
/// </summary>
public sealed class Ism : Module<Tensor, Tensor>
{
    private readonly Sequential _encoder;
    private readonly Sequential _transfer;
    private readonly Sequential _decoder;

    /// <summary>Creates the generator.</summary>
    /// <param name="normalization">Instance (default) or batch normalisation after each layer but the last.</param>
    /// <param name="residualBlocks">Residual blocks in the transfer part; 6 in the paper.</param>
    public Ism(NormalizationKind normalization = NormalizationKind.Instance, int residualBlocks = 6)
    {
        if (!Enum.IsDefined(normalization)) throw new ArgumentException($"Unknown normalisation {normalization}.", nameof(normalization));
        if (residualBlocks is < 1 or > MaxResidualBlocks) throw new ArgumentException($"Between 1 and {MaxResidualBlocks} residual blocks are needed, got {residualBlocks}.", nameof(residualBlocks));
        Normalization = normalization;
        ResidualBlocks = residualBlocks;
        // A constructor that throws (out of memory) frees what it built: nobody else can dispose it.
        Module<Tensor, Tensor>?[]? pending = null; // residual blocks built but not yet registered
        try
        {
            const int dims = 3;
            _encoder = RegisterModule("encoder", new Sequential(new (string, Module<Tensor, Tensor>)[]
            {
                ("conv1", Layers.Conv(dims, 1, 8, 7, 1, 3, bias: true)),
                ("norm1", Layers.Norm(normalization, dims, 8)),
                ("relu1", new ReLU()),
                ("conv2", Layers.Conv(dims, 8, 16, 3, 2, 1, bias: true)),
                ("norm2", Layers.Norm(normalization, dims, 16)),
                ("relu2", new ReLU()),
                ("conv3", Layers.Conv(dims, 16, 32, 3, 2, 1, bias: true)),
                ("norm3", Layers.Norm(normalization, dims, 32)),
                ("relu3", new ReLU()),
            }));
            var blocks = new Module<Tensor, Tensor>[residualBlocks];
            pending = blocks;
            for (int i = 0; i < blocks.Length; i++) blocks[i] = new GeneratorResidualBlock(dims, 32, normalization);
            _transfer = RegisterModule("transfer", new Sequential(blocks));
            pending = null;
            _decoder = RegisterModule("decoder", new Sequential(new (string, Module<Tensor, Tensor>)[]
            {
                ("deconv1", Layers.ConvTranspose(dims, 32, 32, 3, 2, 1, 1)),
                ("norm1", Layers.Norm(normalization, dims, 32)),
                ("relu1", new ReLU()),
                ("deconv2", Layers.ConvTranspose(dims, 32, 16, 3, 2, 1, 1)),
                ("norm2", Layers.Norm(normalization, dims, 16)),
                ("relu2", new ReLU()),
                ("conv", Layers.Conv(dims, 16, 1, 7, 1, 3, bias: true)),
                ("tanh", new Tanh()),
            }));
        }
        catch
        {
            foreach (var block in pending ?? Array.Empty<Module<Tensor, Tensor>?>()) block?.Dispose();
            Dispose();
            throw;
        }
    }

    /// <summary>The most residual blocks accepted (the paper uses 6; a far larger count is a mistake).</summary>
    public const int MaxResidualBlocks = 1000;

    /// <summary>The normalisation after each layer but the last.</summary>
    public NormalizationKind Normalization { get; }

    /// <summary>Residual blocks in the transfer part.</summary>
    public int ResidualBlocks { get; }

    /// <summary>Synthesises PET (N, 1, D, H, W) in [−1, 1] from MRI (N, 1, D, H, W).</summary>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var shape = input.Shape;
        if (shape.Length != 5 || shape[1] != 1 || shape.Skip(2).Any(s => s % 4 != 0))
            throw new ArgumentException($"ISM expects MRI (N, 1, D, H, W) with D, H, W divisible by 4, got [{string.Join(", ", shape)}].", nameof(input));
        using var scope = Tensors.NewDisposeScope();
        var encoded = _encoder.Call(input);
        var transferred = _transfer.Call(encoded);
        var pet = _decoder.Call(transferred);
        return scope.MoveToOuter(pet);
    }

    /// <summary>A layer-by-layer summary on zeros of <paramref name="inputShape"/>, e.g. (1, 1, 64, 64, 64).</summary>
    public ModelSummary Summary(params long[] inputShape) => ModelSummary.Create(this, inputShape);
}
