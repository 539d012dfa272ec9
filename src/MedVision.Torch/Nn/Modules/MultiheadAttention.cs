using System.Globalization;

namespace MedVision.Torch.Nn;

/// <summary>
/// Multi-head attention (PyTorch's <c>nn.MultiheadAttention</c>): the query, key and value projected by one packed
/// (3E, E) weight (<c>in_proj_weight</c>, <c>in_proj_bias</c>), split into heads, softmax(Q Kᵀ / √(E/H) + mask) V per
/// head, and the heads joined and projected by <c>out_proj</c>. Parameter names, shapes and initialisation are
/// PyTorch's (Xavier-uniform in-projection, zero biases), so state dicts move between the two.
/// Inputs are (L, N, E) — or (N, L, E) with <see cref="BatchFirst"/> — or unbatched (L, E); keys and values share
/// their length S. <see cref="Module{TInput, TOutput}.Call"/> takes (query, key, value) and returns the output and the
/// attention weights averaged over the heads; <see cref="Call(Tensor, Tensor, Tensor, Tensor?, bool, Tensor?, bool)"/>
/// takes PyTorch's masks and options.
/// </summary>
public sealed class MultiheadAttention : Module<(Tensor Query, Tensor Key, Tensor Value), (Tensor Output, Tensor? Weights)>, IResettable
{
    /// <summary>Creates the layer.</summary>
    /// <param name="embedDim">E, the model dimension (divisible by <paramref name="numHeads"/>).</param>
    /// <param name="numHeads">H, the number of heads.</param>
    /// <param name="dropout">Dropout on the attention weights while training, in [0, 1).</param>
    /// <param name="bias">Biases on the in- and out-projections.</param>
    /// <param name="batchFirst">Inputs (N, L, E) instead of (L, N, E).</param>
    public MultiheadAttention(long embedDim, long numHeads, double dropout = 0, bool bias = true, bool batchFirst = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(embedDim, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(numHeads, 1);
        if (embedDim % numHeads != 0) throw new ArgumentException($"The embedding dimension {embedDim} must divide into the {numHeads} heads.", nameof(numHeads));
        if (!(dropout >= 0 && dropout < 1)) throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "The dropout probability lies in [0, 1).");
        EmbedDim = embedDim;
        NumHeads = numHeads;
        Dropout = dropout;
        BatchFirst = batchFirst;
        DisposeIfThrows(() =>
        {
            RegisterParameter("in_proj_weight", Tensors.Empty(new[] { 3 * embedDim, embedDim }));
            RegisterParameter("in_proj_bias", bias ? Tensors.Empty(new[] { 3 * embedDim }) : null);
            RegisterModule("out_proj", new Linear(embedDim, embedDim, bias));
            ResetParameters();
        });
    }

    /// <summary>E, the model dimension.</summary>
    public long EmbedDim { get; }

    /// <summary>H, the number of heads.</summary>
    public long NumHeads { get; }

    /// <summary>E / H, each head's dimension.</summary>
    public long HeadDim => EmbedDim / NumHeads;

    /// <summary>Dropout on the attention weights while training.</summary>
    public double Dropout { get; }

    /// <summary>Whether inputs are (N, L, E).</summary>
    public bool BatchFirst { get; }

    /// <summary>The packed (3E, E) projection of query, key and value.</summary>
    public Tensor InProjWeight => GetParameter("in_proj_weight")!;

    /// <summary>The packed (3E) projection bias, or null.</summary>
    public Tensor? InProjBias => GetParameter("in_proj_bias");

    /// <summary>The output projection.</summary>
    public Linear OutProj => (Linear)NamedChildren().First(c => c.Name == "out_proj").Module;

    /// <summary>PyTorch's initialisation: Xavier-uniform in-projection, zero biases, the out-projection's weight as a linear layer's.</summary>
    public void ResetParameters()
    {
        using var noGrad = Tensors.NoGrad();
        Init.XavierUniform(InProjWeight);
        if (InProjBias is { } inBias) Init.Zeros(inBias);
        OutProj.ResetParameters();
        if (OutProj.Bias is { } outBias) Init.Zeros(outBias);
    }

    /// <summary>Self- or cross-attention with no masks, returning the weights averaged over the heads.</summary>
    public override (Tensor Output, Tensor? Weights) Forward((Tensor Query, Tensor Key, Tensor Value) input) => Attend(input.Query, input.Key, input.Value, null, true, null, true);

    /// <summary>
    /// Attention of <paramref name="query"/> over <paramref name="key"/> and <paramref name="value"/>, with PyTorch's
    /// options: <paramref name="keyPaddingMask"/> (N, S) or (S) for unbatched inputs, true (or −∞ added) for keys to
    /// ignore; <paramref name="attnMask"/> (L, S) or (N·H, L, S), true for pairs not allowed or added to the scores;
    /// <paramref name="needWeights"/> returns the attention weights, (N, L, S) averaged over the heads or (N, H, L, S)
    /// per head (without N for unbatched inputs). Batched per-head weights are the tensor the output is computed from
    /// (before dropout): the output's gradient with respect to them (<c>Gradients.Compute</c>) is the gradient through
    /// the attention, which PyTorch's module does not expose.
    /// </summary>
    /// <returns>The output, shaped as the query, and the weights or null.</returns>
    /// <exception cref="ArgumentException">Inputs or masks whose shapes or types do not fit.</exception>
    public (Tensor Output, Tensor? Weights) Forward(Tensor query, Tensor key, Tensor value, Tensor? keyPaddingMask = null, bool needWeights = true, Tensor? attnMask = null, bool averageAttnWeights = true)
        => Attend(query, key, value, keyPaddingMask, needWeights, attnMask, averageAttnWeights);

    /// <summary>
    /// <see cref="Forward(Tensor, Tensor, Tensor, Tensor?, bool, Tensor?, bool)"/> as PyTorch's <c>module(...)</c> runs it:
    /// recorded by an active <see cref="ModelSummary"/> and seen by the forward hooks (given the query, key and value).
    /// </summary>
    public (Tensor Output, Tensor? Weights) Call(Tensor query, Tensor key, Tensor value, Tensor? keyPaddingMask = null, bool needWeights = true, Tensor? attnMask = null, bool averageAttnWeights = true)
        => CallWith((query, key, value), () => Attend(query, key, value, keyPaddingMask, needWeights, attnMask, averageAttnWeights));

    /// <summary>
    /// The multiply-adds of one call on these inputs, without the output projection (a <see cref="Linear"/> of its
    /// own): the three input projections and the two products of the attention (Q Kᵀ and the weights times V).
    /// </summary>
    internal long MultiplyAccumulates(Tensor query, Tensor key, Tensor value)
    {
        long s = key.Dim == 3 && BatchFirst ? key.Shape[1] : key.Shape[0];
        return (query.NumElements + key.NumElements + value.NumElements) * EmbedDim + 2 * query.NumElements * s;
    }

    private (Tensor Output, Tensor? Weights) Attend(Tensor query, Tensor key, Tensor value, Tensor? keyPaddingMask, bool needWeights, Tensor? attnMask, bool averageAttnWeights)
    {
        Tensor.NotNull(query);
        Tensor.NotNull(key);
        Tensor.NotNull(value);
        bool batched = query.Dim == 3;
        if (query.Dim is not (2 or 3) || key.Dim != query.Dim || value.Dim != query.Dim)
            throw new ArgumentException($"Query, key and value must all be batched ({(BatchFirst ? "N, L, E" : "L, N, E")}) or unbatched (L, E), not of shapes [{string.Join(", ", query.Shape)}], [{string.Join(", ", key.Shape)}], [{string.Join(", ", value.Shape)}].");
        if (query.Shape[^1] != EmbedDim || key.Shape[^1] != EmbedDim || value.Shape[^1] != EmbedDim)
            throw new ArgumentException($"Query, key and value must end in the embedding dimension {EmbedDim}, not [{string.Join(", ", query.Shape)}], [{string.Join(", ", key.Shape)}], [{string.Join(", ", value.Shape)}].");
        using var scope = Tensors.NewDisposeScope();
        // to (L, N, E)
        Tensor q = query, k = key, v = value;
        if (!batched) { q = q.Unsqueeze(1); k = k.Unsqueeze(1); v = v.Unsqueeze(1); }
        else if (BatchFirst) { q = q.Transpose(0, 1); k = k.Transpose(0, 1); v = v.Transpose(0, 1); }
        long l = q.Shape[0], n = q.Shape[1], s = k.Shape[0], h = NumHeads, d = HeadDim;
        if (k.Shape[1] != n || v.Shape[1] != n) throw new ArgumentException($"Query, key and value must hold the same number of sequences ({n}).", nameof(key));
        if (v.Shape[0] != s) throw new ArgumentException($"There must be a value per key: {v.Shape[0]} values for {s} keys.", nameof(value));

        // The packed projection, as PyTorch applies it: self-attention (one tensor as query, key and value) in one
        // product with the whole (3E, E) weight, split afterwards; a key that is the value with the last two thirds
        // at once; otherwise a third each.
        Tensor qp, kp, vp;
        if (ReferenceEquals(query, key) && ReferenceEquals(key, value))
        {
            var qkv = Functional.Linear(q, InProjWeight, InProjBias).Chunk(3, -1);
            (qp, kp, vp) = (qkv[0], qkv[1], qkv[2]);
        }
        else
        {
            var w = InProjWeight.Split([EmbedDim, 2 * EmbedDim], 0);
            var b = InProjBias?.Split([EmbedDim, 2 * EmbedDim], 0);
            qp = Functional.Linear(q, w[0], b?[0]);
            if (ReferenceEquals(key, value))
            {
                var kv = Functional.Linear(k, w[1], b?[1]).Chunk(2, -1);
                (kp, vp) = (kv[0], kv[1]);
            }
            else
            {
                var wkv = w[1].Chunk(2, 0);
                var bkv = b?[1].Chunk(2, 0);
                kp = Functional.Linear(k, wkv[0], bkv?[0]);
                vp = Functional.Linear(v, wkv[1], bkv?[1]);
            }
        }
        // (L, N, E) → (N·H, L, d)
        qp = qp.Contiguous().View(l, n * h, d).Transpose(0, 1);
        kp = kp.Contiguous().View(s, n * h, d).Transpose(0, 1);
        vp = vp.Contiguous().View(s, n * h, d).Transpose(0, 1);

        var mask = AdditiveMask(attnMask, keyPaddingMask, batched, l, n, s, qp.ScalarType, qp.Device);
        // scaled before the product, as PyTorch 1.13 does
        var scores = (qp / Math.Sqrt(d)).Bmm(kp.Transpose(1, 2));
        if (mask is not null) scores = scores + mask;
        var weights = scores.Softmax(-1);
        // Per-head weights asked for are the tensor the output is computed from, so that the output's gradient with
        // respect to them (autograd.grad) is the gradient through the attention: class-specific attention maps need it.
        var perHead = needWeights ? weights.View(n, h, l, s) : null;
        if (perHead is not null) weights = perHead.View(n * h, l, s);
        if (Training && Dropout > 0) weights = Functional.Dropout(weights, Dropout, training: true);
        var output = weights.Bmm(vp).Transpose(0, 1).Contiguous().View(l * n, EmbedDim);
        output = OutProj.Call(output).View(l, n, EmbedDim);
        if (!batched) output = output.Squeeze(1);
        else if (BatchFirst) output = output.Transpose(0, 1);
        Tensor? returned = null;
        if (needWeights)
        {
            returned = perHead!;
            if (averageAttnWeights) returned = returned.Sum(1) / h;
            if (!batched) returned = returned.Squeeze(0);
            returned = scope.MoveToOuter(returned);
        }
        return (scope.MoveToOuter(output), returned);
    }

    // The attention mask and the key-padding mask as one additive mask broadcasting to (N·H, L, S): true entries of a
    // boolean mask become −∞, floating-point ones are added as they are.
    private Tensor? AdditiveMask(Tensor? attnMask, Tensor? keyPaddingMask, bool batched, long l, long n, long s, ScalarType type, Device device)
    {
        Tensor? mask = null;
        if (attnMask is not null)
        {
            CheckMaskType(attnMask, nameof(attnMask));
            bool fits = attnMask.Dim == 2 ? attnMask.Shape[0] == l && attnMask.Shape[1] == s
                : attnMask.Dim == 3 && attnMask.Shape[0] == n * NumHeads && attnMask.Shape[1] == l && attnMask.Shape[2] == s;
            if (!fits) throw new ArgumentException($"The attention mask must be (L, S) = ({l}, {s}) or (N·H, L, S) = ({n * NumHeads}, {l}, {s}), not [{string.Join(", ", attnMask.Shape)}].", nameof(attnMask));
            mask = Additive(attnMask, type, device);
            if (mask.Dim == 2) mask = mask.Unsqueeze(0);
        }
        if (keyPaddingMask is not null)
        {
            CheckMaskType(keyPaddingMask, nameof(keyPaddingMask));
            var padding = batched ? keyPaddingMask : keyPaddingMask.Unsqueeze(0);
            if (padding.Dim != 2 || padding.Shape[0] != n || padding.Shape[1] != s)
                throw new ArgumentException($"The key padding mask must be (N, S) = ({n}, {s}){(batched ? "" : $" or (S) = ({s}) for unbatched inputs")}, not [{string.Join(", ", keyPaddingMask.Shape)}].", nameof(keyPaddingMask));
            var additive = Additive(padding, type, device).View(n, 1, 1, s).Expand(n, NumHeads, 1, s).Reshape(n * NumHeads, 1, s);
            mask = mask is null ? additive : mask + additive;
        }
        return mask;
    }

    private static void CheckMaskType(Tensor mask, string name)
    {
        if (mask.ScalarType != ScalarType.Bool && !mask.ScalarType.IsFloatingPoint())
            throw new ArgumentException($"The mask must be boolean (true: not allowed) or floating-point (added to the scores), not {mask.ScalarType}.", name);
    }

    private static Tensor Additive(Tensor mask, ScalarType type, Device device) =>
        mask.ScalarType == ScalarType.Bool
            ? Tensors.Zeros(mask.Shape, type, device).MaskedFill(mask, double.NegativeInfinity)
            : mask.To(type, device);

    /// <inheritdoc/>
    protected override string ExtraRepr() => string.Create(CultureInfo.InvariantCulture, $"embed_dim={EmbedDim}, num_heads={NumHeads}, dropout={Dropout}, batch_first={(BatchFirst ? "True" : "False")}");
}
