using System.Globalization;

namespace MedVision.Torch.Nn;

/// <summary>The activation of a transformer layer's feed-forward block.</summary>
public enum TransformerActivation
{
    /// <summary>ReLU (PyTorch's default).</summary>
    Relu,
    /// <summary>GELU (the exact one), as in ViT and BERT.</summary>
    Gelu,
}

/// <summary>
/// A transformer encoder layer (PyTorch's <c>nn.TransformerEncoderLayer</c>, Vaswani et al.): self-attention
/// (<c>self_attn</c>, a <see cref="MultiheadAttention"/>) and a feed-forward block (<c>linear1</c>, activation,
/// <c>dropout</c>, <c>linear2</c>), each with dropout (<c>dropout1</c>, <c>dropout2</c>), a residual connection and
/// layer normalisation (<c>norm1</c>, <c>norm2</c>) — after each block, or before it with <see cref="NormFirst"/> (the
/// pre-norm layers of ViT). Submodule and parameter names are PyTorch's, so state dicts move between the two.
/// </summary>
public sealed class TransformerEncoderLayer : Module<Tensor, Tensor>
{
    /// <summary>Creates the layer, each part initialised as PyTorch initialises it.</summary>
    /// <param name="dModel">The model dimension E.</param>
    /// <param name="nHead">Attention heads (dividing <paramref name="dModel"/>).</param>
    /// <param name="dimFeedforward">The feed-forward block's hidden width.</param>
    /// <param name="dropout">Dropout in the attention, after each block and inside the feed-forward block, while training.</param>
    /// <param name="activation">The feed-forward block's activation.</param>
    /// <param name="layerNormEps">The layer norms' epsilon.</param>
    /// <param name="batchFirst">Inputs (N, L, E) instead of (L, N, E).</param>
    /// <param name="normFirst">Layer normalisation before each block (pre-norm) instead of after the residual addition.</param>
    public TransformerEncoderLayer(long dModel, long nHead, long dimFeedforward = 2048, double dropout = 0.1, TransformerActivation activation = TransformerActivation.Relu,
        double layerNormEps = 1e-5, bool batchFirst = false, bool normFirst = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimFeedforward, 1);
        if (!Enum.IsDefined(activation)) throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown activation.");
        if (!(dropout >= 0 && dropout < 1)) throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "The dropout probability lies in [0, 1).");
        (DModel, NHead, DimFeedforward, DropoutP, Activation, LayerNormEps, BatchFirst, NormFirst) = (dModel, nHead, dimFeedforward, dropout, activation, layerNormEps, batchFirst, normFirst);
        DisposeIfThrows(() =>
        {
            RegisterModule("self_attn", new MultiheadAttention(dModel, nHead, dropout, bias: true, batchFirst: batchFirst));
            RegisterModule("linear1", new Linear(dModel, dimFeedforward));
            RegisterModule("dropout", new Dropout(dropout));
            RegisterModule("linear2", new Linear(dimFeedforward, dModel));
            RegisterModule("norm1", new LayerNorm(dModel, layerNormEps));
            RegisterModule("norm2", new LayerNorm(dModel, layerNormEps));
            RegisterModule("dropout1", new Dropout(dropout));
            RegisterModule("dropout2", new Dropout(dropout));
        });
    }

    /// <summary>The model dimension E.</summary>
    public long DModel { get; }

    /// <summary>Attention heads.</summary>
    public long NHead { get; }

    /// <summary>The feed-forward block's hidden width.</summary>
    public long DimFeedforward { get; }

    /// <summary>The dropout probability.</summary>
    public double DropoutP { get; }

    /// <summary>The feed-forward block's activation.</summary>
    public TransformerActivation Activation { get; }

    /// <summary>The layer norms' epsilon.</summary>
    public double LayerNormEps { get; }

    /// <summary>Whether inputs are (N, L, E).</summary>
    public bool BatchFirst { get; }

    /// <summary>Whether layer normalisation comes before each block.</summary>
    public bool NormFirst { get; }

    /// <summary>The self-attention block.</summary>
    public MultiheadAttention SelfAttention => Child<MultiheadAttention>("self_attn");

    /// <summary>The feed-forward block's first layer (E → hidden).</summary>
    public Linear Linear1 => Child<Linear>("linear1");

    /// <summary>The feed-forward block's second layer (hidden → E).</summary>
    public Linear Linear2 => Child<Linear>("linear2");

    /// <summary>The layer norm of the attention block (before it with <see cref="NormFirst"/>, after the residual addition otherwise).</summary>
    public LayerNorm Norm1 => Child<LayerNorm>("norm1");

    /// <summary>The layer norm of the feed-forward block.</summary>
    public LayerNorm Norm2 => Child<LayerNorm>("norm2");

    private T Child<T>(string name) where T : Module => (T)NamedChildren().First(c => c.Name == name).Module;

    /// <summary>Encodes <paramref name="src"/> (L, N, E), (N, L, E) or unbatched (L, E) without masks.</summary>
    public override Tensor Forward(Tensor src) => Forward(src, null, null);

    /// <summary>
    /// Encodes <paramref name="src"/> with PyTorch's masks: <paramref name="srcMask"/> (L, L) or (N·H, L, L), true
    /// for pairs not allowed or added to the scores; <paramref name="srcKeyPaddingMask"/> (N, L), true for padded positions.
    /// </summary>
    public Tensor Forward(Tensor src, Tensor? srcMask, Tensor? srcKeyPaddingMask) => Encode(src, srcMask, srcKeyPaddingMask, weights: null).Output;

    /// <summary>
    /// Encodes <paramref name="src"/> as <see cref="Forward(Tensor, Tensor?, Tensor?)"/> does and also returns the
    /// self-attention's weights, the softmax the values were averaged with (before attention dropout): (N, H, L, L)
    /// per head, or (N, L, L) averaged over the heads as PyTorch's <c>average_attn_weights</c> does; without the batch
    /// dimension for an unbatched input. For attention maps (e.g. <c>AttentionRollout</c> in MedVision.Nets); batched
    /// per-head weights are differentiable: the output's gradient with respect to them flows through the attention.
    /// </summary>
    public (Tensor Output, Tensor AttentionWeights) ForwardWithAttention(Tensor src, Tensor? srcMask = null, Tensor? srcKeyPaddingMask = null, bool averageAttnWeights = true)
    {
        var (output, weights) = Encode(src, srcMask, srcKeyPaddingMask, weights: averageAttnWeights);
        return (output, weights!);
    }

    // The layer's forward; `weights` null: no attention weights, else whether they are averaged over the heads.
    private (Tensor Output, Tensor? Weights) Encode(Tensor src, Tensor? srcMask, Tensor? srcKeyPaddingMask, bool? weights)
    {
        Tensor.NotNull(src);
        using var scope = Tensors.NewDisposeScope();
        var (norm1, norm2) = (Child<LayerNorm>("norm1"), Child<LayerNorm>("norm2"));
        var x = src;
        Tensor? attention;
        if (NormFirst)
        {
            (var attended, attention) = SelfAttentionBlock(norm1.Call(x), srcMask, srcKeyPaddingMask, weights);
            x = x + attended;
            x = x + FeedForwardBlock(norm2.Call(x));
        }
        else
        {
            (var attended, attention) = SelfAttentionBlock(x, srcMask, srcKeyPaddingMask, weights);
            x = norm1.Call(x + attended);
            x = norm2.Call(x + FeedForwardBlock(x));
        }
        return (scope.MoveToOuter(x), attention is null ? null : scope.MoveToOuter(attention));
    }

    /// <summary>The masked forward as PyTorch's <c>layer(src, src_mask, src_key_padding_mask)</c> runs it: recorded by an active <see cref="ModelSummary"/> and seen by the forward hooks.</summary>
    public Tensor Call(Tensor src, Tensor? srcMask, Tensor? srcKeyPaddingMask) => CallWith(src, () => Forward(src, srcMask, srcKeyPaddingMask));

    private (Tensor Output, Tensor? Weights) SelfAttentionBlock(Tensor x, Tensor? mask, Tensor? keyPaddingMask, bool? weights)
    {
        var (output, attention) = SelfAttention.Call(x, x, x, keyPaddingMask, needWeights: weights is not null, attnMask: mask, averageAttnWeights: weights ?? true);
        return (Child<Dropout>("dropout1").Call(output), attention);
    }

    private Tensor FeedForwardBlock(Tensor x)
    {
        var hidden = Child<Linear>("linear1").Call(x);
        hidden = Activation == TransformerActivation.Gelu ? Functional.Gelu(hidden) : hidden.Relu();
        return Child<Dropout>("dropout2").Call(Child<Linear>("linear2").Call(Child<Dropout>("dropout").Call(hidden)));
    }

    /// <summary>A new layer of the same configuration holding a copy of this one's parameters (what PyTorch's deep copy gives <c>nn.TransformerEncoder</c>).</summary>
    public TransformerEncoderLayer Clone()
    {
        var copy = new TransformerEncoderLayer(DModel, NHead, DimFeedforward, DropoutP, Activation, LayerNormEps, BatchFirst, NormFirst);
        try
        {
            using var noGrad = Tensors.NoGrad();
            var mine = StateDict();
            foreach (var (name, tensor) in copy.StateDict()) tensor.CopyInPlace(mine[name]);
            if (!Training) copy.Eval();
            return copy;
        }
        catch
        {
            copy.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    protected override string ExtraRepr() => string.Create(CultureInfo.InvariantCulture,
        $"d_model={DModel}, nhead={NHead}, dim_feedforward={DimFeedforward}, dropout={DropoutP}, activation={Activation.ToString().ToLowerInvariant()}, batch_first={(BatchFirst ? "True" : "False")}, norm_first={(NormFirst ? "True" : "False")}");
}

/// <summary>
/// A stack of transformer encoder layers (PyTorch's <c>nn.TransformerEncoder</c>): <c>layers.0</c> … copies of one
/// layer (starting from the same weights, as PyTorch's deep copies do), and an optional final <c>norm</c>.
/// </summary>
public sealed class TransformerEncoder : Module<Tensor, Tensor>
{
    /// <summary>Stacks <paramref name="numLayers"/> copies of <paramref name="encoderLayer"/> (which the encoder then owns as <c>layers.0</c>), with <paramref name="norm"/> after them.</summary>
    public TransformerEncoder(TransformerEncoderLayer encoderLayer, int numLayers, LayerNorm? norm = null)
    {
        ArgumentNullException.ThrowIfNull(encoderLayer);
        ArgumentOutOfRangeException.ThrowIfLessThan(numLayers, 1);
        DisposeIfThrows(() =>
        {
            var layers = RegisterModule("layers", new ModuleList<TransformerEncoderLayer>());
            layers.Add(encoderLayer);
            for (int i = 1; i < numLayers; i++) layers.Add(encoderLayer.Clone());
            if (norm is not null) RegisterModule("norm", norm);
        });
    }

    /// <summary>The layers, in order.</summary>
    public IReadOnlyList<TransformerEncoderLayer> Layers => (ModuleList<TransformerEncoderLayer>)NamedChildren().First(c => c.Name == "layers").Module;

    /// <summary>The final layer norm, or null.</summary>
    public LayerNorm? Norm => NamedChildren().FirstOrDefault(c => c.Name == "norm").Module as LayerNorm;

    /// <summary>Encodes <paramref name="src"/> without masks.</summary>
    public override Tensor Forward(Tensor src) => Forward(src, null, null);

    /// <summary>The masked forward as PyTorch's <c>encoder(src, mask, src_key_padding_mask)</c> runs it: recorded by an active <see cref="ModelSummary"/> and seen by the forward hooks.</summary>
    public Tensor Call(Tensor src, Tensor? mask, Tensor? srcKeyPaddingMask) => CallWith(src, () => Forward(src, mask, srcKeyPaddingMask));

    /// <summary>Encodes <paramref name="src"/> through every layer with the same masks (see <see cref="TransformerEncoderLayer.Forward(Tensor, Tensor?, Tensor?)"/>), then the final norm.</summary>
    public Tensor Forward(Tensor src, Tensor? mask, Tensor? srcKeyPaddingMask)
    {
        Tensor.NotNull(src);
        using var scope = Tensors.NewDisposeScope();
        var x = src;
        foreach (var layer in Layers) x = layer.Call(x, mask, srcKeyPaddingMask);
        if (Norm is { } norm) x = norm.Call(x);
        return scope.MoveToOuter(x);
    }

    /// <summary>
    /// Encodes <paramref name="src"/> as <see cref="Forward(Tensor, Tensor?, Tensor?)"/> does and also returns each
    /// layer's self-attention weights, first layer first (see <see cref="TransformerEncoderLayer.ForwardWithAttention"/>).
    /// </summary>
    public (Tensor Output, Tensor[] AttentionWeights) ForwardWithAttention(Tensor src, Tensor? mask = null, Tensor? srcKeyPaddingMask = null, bool averageAttnWeights = true)
    {
        Tensor.NotNull(src);
        using var scope = Tensors.NewDisposeScope();
        var x = src;
        var weights = new Tensor[Layers.Count];
        for (int i = 0; i < weights.Length; i++) (x, weights[i]) = Layers[i].ForwardWithAttention(x, mask, srcKeyPaddingMask, averageAttnWeights);
        if (Norm is { } norm) x = norm.Call(x);
        scope.MoveToOuter(weights);
        return (scope.MoveToOuter(x), weights);
    }
}
