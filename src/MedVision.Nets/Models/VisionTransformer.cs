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
public sealed class VisionTransformer : Module<Tensor, Tensor>, IResettable
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

    /// <summary>
    /// Draws the network's own parameters again as the constructor did — the class token (zeros) and the position
    /// embeddings (N(0, 0.02²)) — in place. Like PyTorch's <c>reset_parameters()</c> it leaves the layers inside alone
    /// (each has its own: <see cref="IResettable"/>), so the model-randomisation check
    /// (<c>ParameterRandomization</c>) re-draws the embeddings as one more step, after the patch projection.
    /// </summary>
    public void ResetParameters()
    {
        using var noGrad = Tensors.NoGrad();
        Init.Zeros(ClassToken);
        Init.Normal(PositionEmbedding, std: 0.02);
    }

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
        using var scope = Tensors.NewDisposeScope();
        return scope.MoveToOuter(Encoder.Call(Embed(input)));
    }

    /// <summary>
    /// Every encoder layer's self-attention weights for <paramref name="input"/>, first layer first: (N, heads, T, T)
    /// with T = patches + 1 tokens, the class token first and the patches in row-major order of the patch grid
    /// (<see cref="VisionTransformerOptions.PatchGrid"/>); (N, T, T) averaged over the heads when
    /// <paramref name="averageHeads"/>. Row t is what token t attends to. For attention maps (<see cref="Explainability.AttentionRollout"/>).
    /// </summary>
    /// <exception cref="ArgumentException">An input that is not (N, C, H, W) / (N, C, D, H, W) of the channels and size the network was built for.</exception>
    public Tensor[] AttentionWeights(Tensor input, bool averageHeads = false) => ForwardWithAttention(input, averageHeads).AttentionWeights;

    /// <summary>
    /// Class scores (N, classes), as <see cref="Forward(Tensor)"/> gives them, with every encoder layer's
    /// self-attention weights from the same pass (see <see cref="AttentionWeights"/>).
    /// </summary>
    /// <exception cref="ArgumentException">An input that is not (N, C, H, W) / (N, C, D, H, W) of the channels and size the network was built for.</exception>
    public (Tensor Logits, Tensor[] AttentionWeights) ForwardWithAttention(Tensor input, bool averageHeads = false)
    {
        using var scope = Tensors.NewDisposeScope();
        var (tokens, weights) = Encoder.ForwardWithAttention(Embed(input), averageAttnWeights: averageHeads);
        var logits = Head.Call(tokens.Select(1, 0));
        scope.MoveToOuter(weights);
        return (scope.MoveToOuter(logits), weights);
    }

    // The encoder's input: patch embeddings after the class token, plus position embeddings, through dropout.
    private Tensor Embed(Tensor input)
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
        return scope.MoveToOuter(((Dropout)NamedChildren().First(c => c.Name == "dropout").Module).Call(x));
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
        foreach (var (key, tensor) in torchvision) renamed[TorchvisionKey(key, nameof(torchvision))] = tensor;
        return renamed;
    }

    /// <summary>
    /// This network's name of one key of torchvision's <c>VisionTransformer</c> state dict (the renaming of
    /// <see cref="FromTorchvisionStateDict"/>), e.g. for <c>SafeTensorDictionary.RenameKeys</c>:
    /// <c>encoder.layers.encoder_layer_3.mlp.0.weight</c> → <c>encoder.layers.3.linear1.weight</c>.
    /// </summary>
    /// <exception cref="ArgumentException">A key torchvision's vision transformer does not have.</exception>
    public static string FromTorchvisionKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return TorchvisionKey(key, nameof(key));
    }

    // This network's name of a key of torchvision's VisionTransformer (see FromTorchvisionStateDict).
    internal static string TorchvisionKey(string key, string parameterName)
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
        return name ?? throw new ArgumentException($"'{key}' is not a key of torchvision's VisionTransformer that this network has (a representation layer, heads.pre_logits, is not supported).", parameterName);

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

    /// <summary>
    /// Position embeddings (1, 1 + patches, E) learned on one patch grid, resized to another — for weights trained at
    /// one image size (or patch size) used at another, as torchvision's <c>interpolate_embeddings</c> does: the class
    /// token's embedding is kept, the patches' are laid out on <paramref name="fromGrid"/> and interpolated to
    /// <paramref name="toGrid"/> with corners aligned, bicubically for images (torchvision's default), trilinearly for
    /// volumes. A new tensor; the same values when the grids are equal.
    /// </summary>
    /// <param name="positionEmbedding">(1, 1 + patches, E), e.g. a state dict's <c>pos_embedding</c>.</param>
    /// <param name="fromGrid">The patch grid the embeddings were learned on (<see cref="VisionTransformerOptions.PatchGrid"/>: 14 × 14 for ViT-B/16 at 224).</param>
    /// <param name="toGrid">The grid of the network they are for, of the same rank.</param>
    /// <exception cref="ArgumentException">Grids of different ranks, not 2-D or 3-D, with a side below 1, or embeddings whose patch count is not <paramref name="fromGrid"/>'s.</exception>
    public static Tensor ResizePositionEmbedding(Tensor positionEmbedding, IReadOnlyList<int> fromGrid, IReadOnlyList<int> toGrid)
    {
        ArgumentNullException.ThrowIfNull(positionEmbedding);
        ArgumentNullException.ThrowIfNull(fromGrid);
        ArgumentNullException.ThrowIfNull(toGrid);
        if (fromGrid.Count is not (2 or 3) || toGrid.Count != fromGrid.Count)
            throw new ArgumentException($"The patch grids must both be 2-D or both 3-D, not [{string.Join(", ", fromGrid)}] and [{string.Join(", ", toGrid)}].", nameof(toGrid));
        if (fromGrid.Concat(toGrid).Any(g => g < 1))
            throw new ArgumentException($"Patch grids have sides of at least 1, not [{string.Join(", ", fromGrid)}] and [{string.Join(", ", toGrid)}].", nameof(toGrid));
        long patches = fromGrid.Aggregate(1L, (a, g) => a * g);
        if (positionEmbedding.Dim != 3 || positionEmbedding.Size(0) != 1 || positionEmbedding.Size(1) != patches + 1)
            throw new ArgumentException($"Position embeddings of a {string.Join("×", fromGrid)} patch grid are (1, {patches + 1}, E) (the class token's first), not [{string.Join(", ", positionEmbedding.Shape)}].", nameof(positionEmbedding));
        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        long e = positionEmbedding.Size(2);
        var classToken = positionEmbedding.Narrow(1, 0, 1);
        var grid = positionEmbedding.Narrow(1, 1, patches).Permute(0, 2, 1).Reshape([1, e, .. fromGrid.Select(g => (long)g)]);
        var resized = Functional.Interpolate(grid, toGrid.Select(g => (long)g).ToArray(), fromGrid.Count == 2 ? InterpolationMode.Bicubic : InterpolationMode.Linear, alignCorners: true);
        var tokens = resized.Reshape(1, e, toGrid.Aggregate(1L, (a, g) => a * g)).Permute(0, 2, 1);
        return scope.MoveToOuter(Tensors.Cat(new[] { classToken, tokens }, 1).Contiguous());
    }

    /// <summary>A layer summary with output shapes, parameters and multiply-adds (attention included) for one input of <paramref name="inputShape"/>.</summary>
    public ModelSummary Summary(params long[] inputShape) => ModelSummary.Create(this, inputShape);
}
