using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Models;

/// <summary>
/// A vision transformer (Dosovitskiy et al., ICLR 2021; torchvision's <c>VisionTransformer</c>, and MONAI's
/// <c>ViT</c> for volumes): the input cut into patches by a convolution whose kernel and stride are the patch size
/// (<c>conv_proj</c>), a learned class token (<c>class_token</c>) before the patch tokens, learned position embeddings
/// (<c>pos_embedding</c>), dropout, a pre-norm transformer encoder with GELU (<c>encoder</c>: <see cref="TransformerEncoder"/>
/// with a final layer norm) and a linear head on the class token (<c>head</c>). 2-D or 3-D. Initialised as torchvision
/// initialises it (truncated-normal patch embedding, position embeddings N(0, 0.02²), Xavier-uniform MLP weights, a
/// zero head). Build one with <see cref="Builder"/>.
/// </summary>
public sealed class VisionTransformer : Module<Tensor, Tensor>
{
    private readonly VisionTransformerOptions _options;

    /// <summary>Builds the network the options describe.</summary>
    /// <exception cref="ArgumentException">Options that do not hold (see <see cref="VisionTransformerOptions.Validate"/>).</exception>
    public VisionTransformer(VisionTransformerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options.Clone();
        var o = _options;
        long e = o.HiddenSize;
        DisposeIfThrows(() =>
        {
            long[] patch = o.PatchSize.Select(p => (long)p).ToArray();
            Module<Tensor, Tensor> projection = o.SpatialDims == 2
                ? new Conv2d(o.InChannels, e, kernelSize: patch, stride: patch)
                : new Conv3d(o.InChannels, e, kernelSize: patch, stride: patch);
            RegisterModule("conv_proj", projection);
            RegisterParameter("class_token", Tensors.Zeros(new[] { 1L, 1, e }));
            RegisterParameter("pos_embedding", Tensors.Empty(new[] { 1L, o.PatchCount + 1, e }));
            RegisterModule("dropout", new Dropout(o.Dropout));
            var layer = new TransformerEncoderLayer(e, o.NumHeads, o.MlpDim, o.Dropout, TransformerActivation.Gelu, o.LayerNormEps, batchFirst: true, normFirst: true);
            var encoder = RegisterModule("encoder", new TransformerEncoder(layer, o.NumLayers, new LayerNorm(e, o.LayerNormEps)));
            // torchvision draws every layer's weights afresh (nn.TransformerEncoder's layers would start as copies)
            foreach (var each in encoder.Layers)
            {
                each.SelfAttention.ResetParameters();
                InitialiseMlp(each);
            }
            RegisterModule("head", new Linear(e, o.NumClasses));
            using var noGrad = Tensors.NoGrad();
            var weight = projection.NamedParameters().First(p => p.Name == "weight").Parameter;
            Init.TruncNormal(weight, std: Math.Sqrt(1.0 / (weight.NumElements / e)));
            Init.Zeros(projection.NamedParameters().First(p => p.Name == "bias").Parameter);
            Init.Normal(PositionEmbedding, std: 0.02);
            Init.Zeros(Head.Weight);
            Init.Zeros(Head.Bias!);
        });
    }

    // torchvision's MLP blocks: Xavier-uniform weights, biases N(0, 1e-6²).
    private static void InitialiseMlp(TransformerEncoderLayer layer)
    {
        using var noGrad = Tensors.NoGrad();
        foreach (var linear in new[] { layer.Linear1, layer.Linear2 })
        {
            Init.XavierUniform(linear.Weight);
            Init.Normal(linear.Bias!, std: 1e-6);
        }
    }

    /// <summary>A builder: input, patches, size (presets <c>Tiny</c>, <c>Small</c>, <c>Base</c>), classes.</summary>
    public static VisionTransformerBuilder Builder() => new();

    /// <summary>A copy of the options the network was built with.</summary>
    public VisionTransformerOptions Options => _options.Clone();

    /// <summary>Classes of the head.</summary>
    public int NumClasses => _options.NumClasses;

    /// <summary>2 or 3.</summary>
    public int SpatialDims => _options.SpatialDims;

    /// <summary>The (1, patches + 1, E) position embeddings (the class token's first).</summary>
    public Tensor PositionEmbedding => GetParameter("pos_embedding")!;

    /// <summary>The (1, 1, E) class token.</summary>
    public Tensor ClassToken => GetParameter("class_token")!;

    /// <summary>The encoder.</summary>
    public TransformerEncoder Encoder => (TransformerEncoder)NamedChildren().First(c => c.Name == "encoder").Module;

    /// <summary>The linear head on the class token.</summary>
    public Linear Head => (Linear)NamedChildren().First(c => c.Name == "head").Module;

    /// <summary>
    /// The tokens after the encoder and its final norm, (N, patches + 1, E), the class token first: for attention
    /// maps, feature extraction or a head of one's own.
    /// </summary>
    /// <exception cref="ArgumentException">An input that is not (N, C, H, W) / (N, C, D, H, W) of the channels and size the network was built for.</exception>
    public Tensor Tokens(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var o = _options;
        long[] expected = [o.InChannels, .. o.ImageSize.Select(s => (long)s)];
        if (input.Dim != o.SpatialDims + 2 || !input.Shape.Skip(1).SequenceEqual(expected))
            throw new ArgumentException($"The vision transformer takes (N, {string.Join(", ", expected)}) inputs (position embeddings are learned per patch), not [{string.Join(", ", input.Shape)}].", nameof(input));
        using var scope = Tensors.NewDisposeScope();
        var patches = ((Module<Tensor, Tensor>)NamedChildren().First(c => c.Name == "conv_proj").Module).Call(input);
        var tokens = patches.Flatten(2).Transpose(1, 2);                       // (N, patches, E)
        long n = input.Shape[0];
        var x = Tensors.Cat(new[] { ClassToken.Expand(n, 1, o.HiddenSize), tokens }, 1) + PositionEmbedding;
        x = ((Dropout)NamedChildren().First(c => c.Name == "dropout").Module).Call(x);
        return scope.MoveToOuter(Encoder.Call(x));
    }

    /// <summary>The class token after the encoder, (N, E): the features the head classifies.</summary>
    public Tensor ExtractFeatures(Tensor input)
    {
        using var scope = Tensors.NewDisposeScope();
        return scope.MoveToOuter(Tokens(input).Select(1, 0));
    }

    /// <summary>Class scores (N, classes).</summary>
    public override Tensor Forward(Tensor input)
    {
        using var scope = Tensors.NewDisposeScope();
        return scope.MoveToOuter(Head.Call(ExtractFeatures(input)));
    }

    /// <summary>
    /// Renames a state dict of torchvision's <c>VisionTransformer</c> (<c>vit_b_16</c>, …; <c>torch.save(model.state_dict())</c>
    /// or safetensors) to this network's names, for <see cref="Module.LoadStateDict"/>: <c>encoder.pos_embedding</c> →
    /// <c>pos_embedding</c>, <c>encoder.layers.encoder_layer_i.ln_1 / self_attention / ln_2 / mlp.0 / mlp.3</c>
    /// (or <c>mlp.linear_1 / linear_2</c>) → <c>encoder.layers.i.norm1 / self_attn / norm2 / linear1 / linear2</c>,
    /// <c>encoder.ln</c> → <c>encoder.norm</c>, <c>heads.head</c> → <c>head</c>. The tensors are not copied. Build the
    /// network with the same sizes (ViT-B/16: <c>Base()</c>, patch 16, 224 × 224; its layer norms' epsilon 1e-6 is
    /// the builder's); a different head can be dropped from the dictionary and loaded non-strictly.
    /// </summary>
    /// <exception cref="ArgumentException">A key torchvision's vision transformer does not have (a representation layer, <c>heads.pre_logits</c>, has no counterpart here).</exception>
    public static Dictionary<string, Tensor> FromTorchvisionStateDict(IReadOnlyDictionary<string, Tensor> torchvision)
    {
        ArgumentNullException.ThrowIfNull(torchvision);
        var renamed = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, tensor) in torchvision)
        {
            string? name = key switch
            {
                "class_token" or "conv_proj.weight" or "conv_proj.bias" => key,
                "encoder.pos_embedding" => "pos_embedding",
                _ when key.StartsWith("encoder.ln.", StringComparison.Ordinal) => "encoder.norm." + key["encoder.ln.".Length..],
                _ when key.StartsWith("heads.head.", StringComparison.Ordinal) => "head." + key["heads.head.".Length..],
                _ when key.StartsWith("encoder.layers.encoder_layer_", StringComparison.Ordinal) => LayerKey(key["encoder.layers.encoder_layer_".Length..]),
                _ => null,
            };
            renamed[name ?? throw new ArgumentException($"'{key}' is not a key of torchvision's VisionTransformer that this network has (a representation layer, heads.pre_logits, is not supported).", nameof(torchvision))] = tensor;
        }
        return renamed;

        static string? LayerKey(string rest)
        {
            int dot = rest.IndexOf('.');
            if (dot <= 0 || !int.TryParse(rest.AsSpan(0, dot), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int index)) return null;
            string part = rest[(dot + 1)..];
            string? mapped = part switch
            {
                _ when part.StartsWith("ln_1.", StringComparison.Ordinal) => "norm1." + part[5..],
                _ when part.StartsWith("ln_2.", StringComparison.Ordinal) => "norm2." + part[5..],
                _ when part.StartsWith("self_attention.", StringComparison.Ordinal) => "self_attn." + part["self_attention.".Length..],
                _ when part.StartsWith("mlp.0.", StringComparison.Ordinal) => "linear1." + part[6..],
                _ when part.StartsWith("mlp.linear_1.", StringComparison.Ordinal) => "linear1." + part["mlp.linear_1.".Length..],
                _ when part.StartsWith("mlp.3.", StringComparison.Ordinal) => "linear2." + part[6..],
                _ when part.StartsWith("mlp.linear_2.", StringComparison.Ordinal) => "linear2." + part["mlp.linear_2.".Length..],
                _ => null,
            };
            return mapped is null ? null : $"encoder.layers.{index}.{mapped}";
        }
    }

    /// <summary>A layer summary with output shapes, parameters and multiply-adds (attention included) for one input of <paramref name="inputShape"/>.</summary>
    public ModelSummary Summary(params long[] inputShape) => ModelSummary.Create(this, inputShape);
}
