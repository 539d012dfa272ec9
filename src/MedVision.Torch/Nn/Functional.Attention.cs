using MedVision.Torch.Native;

namespace MedVision.Torch.Nn;

public static partial class Functional
{
    /// <summary>
    /// Looks up rows of <paramref name="weight"/> (num_embeddings, embedding_dim) by the integer indices of
    /// <paramref name="input"/>: the result has <paramref name="input"/>'s shape with embedding_dim appended
    /// (PyTorch's <c>F.embedding</c>). The row <paramref name="paddingIdx"/> (negative counts from the end) gets no
    /// gradient; <paramref name="scaleGradByFreq"/> divides each row's gradient by its index's count in the batch.
    /// </summary>
    /// <exception cref="ArgumentException">The indices are not integers, or the weight is not 2-D.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index, or <paramref name="paddingIdx"/>, outside the embeddings.</exception>
    public static Tensor Embedding(Tensor input, Tensor weight, long? paddingIdx = null, bool scaleGradByFreq = false)
    {
        Tensor.NotNull(input);
        Tensor.NotNull(weight);
        if (weight.Dim != 2) throw new ArgumentException($"The embedding weight must be (num_embeddings, embedding_dim), not of shape [{string.Join(", ", weight.Shape)}].", nameof(weight));
        if (input.ScalarType is not (ScalarType.Int64 or ScalarType.Int32))
            throw new ArgumentException($"Embedding indices must be int64 or int32, not {input.ScalarType}.", nameof(input));
        long count = weight.Shape[0];
        long padding = -1;
        if (paddingIdx is { } p)
        {
            if (p >= count || p < -count) throw new ArgumentOutOfRangeException(nameof(paddingIdx), p, $"The padding index must lie within the {count} embeddings (negative from the end).");
            padding = p < 0 ? p + count : p;
        }
        if (input.NumElements > 0)
        {
            using var scope = Tensors.NewDisposeScope();
            long min = (long)input.Min().Item(), max = (long)input.Max().Item();
            if (min < 0 || max >= count)
                throw new ArgumentOutOfRangeException(nameof(input), min < 0 ? min : max, $"Index {(min < 0 ? min : max)} is outside the {count} embeddings (0 to {count - 1}).");
        }
        return Tensor.Wrap(NativeMethods.mvt_embedding(weight.Handle, input.Handle, padding, scaleGradByFreq ? 1 : 0));
    }

    /// <summary>
    /// Attention of <paramref name="query"/> (…, L, E) over <paramref name="key"/> (…, S, E) and
    /// <paramref name="value"/> (…, S, Ev): softmax(Q Kᵀ · scale + mask) V, (…, L, Ev) — PyTorch 2's
    /// <c>F.scaled_dot_product_attention</c>, computed here from matrix products (libtorch 1.13 has no fused kernel), so
    /// that it runs on every libtorch this binding builds against. <paramref name="attnMask"/> broadcasts to (…, L, S):
    /// a boolean mask keeps the positions that are true (false ones get no attention), a floating-point one is added
    /// to the scores. <paramref name="isCausal"/> lets position i attend to positions ≤ i only.
    /// <paramref name="dropoutP"/> drops attention weights whenever it is above 0 (as in PyTorch: pass 0 when
    /// evaluating).
    /// </summary>
    /// <param name="query">Queries (…, L, E).</param>
    /// <param name="key">Keys (…, S, E).</param>
    /// <param name="value">Values (…, S, Ev).</param>
    /// <param name="attnMask">Boolean (true: attend) or additive mask broadcasting to (…, L, S), or null.</param>
    /// <param name="dropoutP">Dropout on the attention weights (applied whenever above 0).</param>
    /// <param name="isCausal">Position i attends to positions ≤ i only.</param>
    /// <param name="scale">The scores' factor; null for 1/√E.</param>
    /// <exception cref="ArgumentException">Shapes that do not fit, a mask together with <paramref name="isCausal"/>, or a mask of another type.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dropout probability outside [0, 1], or a scale that is not finite.</exception>
    public static Tensor ScaledDotProductAttention(Tensor query, Tensor key, Tensor value, Tensor? attnMask = null, double dropoutP = 0, bool isCausal = false, double? scale = null)
    {
        Tensor.NotNull(query);
        Tensor.NotNull(key);
        Tensor.NotNull(value);
        if (query.Dim < 2 || key.Dim < 2 || value.Dim < 2)
            throw new ArgumentException($"Query, key and value must be (…, L, E), (…, S, E) and (…, S, Ev), not of shapes [{string.Join(", ", query.Shape)}], [{string.Join(", ", key.Shape)}], [{string.Join(", ", value.Shape)}].");
        long e = query.Shape[^1], l = query.Shape[^2], s = key.Shape[^2];
        if (key.Shape[^1] != e) throw new ArgumentException($"The keys' last dimension ({key.Shape[^1]}) must be the queries' ({e}).", nameof(key));
        if (value.Shape[^2] != s) throw new ArgumentException($"There must be a value per key: {value.Shape[^2]} values for {s} keys.", nameof(value));
        if (!(dropoutP >= 0 && dropoutP <= 1)) throw new ArgumentOutOfRangeException(nameof(dropoutP), dropoutP, "The dropout probability lies in [0, 1].");
        if (scale is { } given && !double.IsFinite(given)) throw new ArgumentOutOfRangeException(nameof(scale), given, "The scale must be finite.");
        if (isCausal && attnMask is not null) throw new ArgumentException("Give an attention mask or isCausal, not both (PyTorch refuses both too).", nameof(attnMask));
        if (attnMask is not null && attnMask.ScalarType != ScalarType.Bool && !attnMask.ScalarType.IsFloatingPoint())
            throw new ArgumentException($"The attention mask must be boolean (true: attend) or floating-point (added to the scores), not {attnMask.ScalarType}.", nameof(attnMask));

        using var scope = Tensors.NewDisposeScope();
        var scores = query.MatMul(key.Transpose(-2, -1)) * (scale ?? 1 / Math.Sqrt(e));
        Tensor? mask = attnMask;
        if (isCausal) mask = Tensors.Ones(new[] { l, s }, ScalarType.Bool, query.Device).Tril();
        if (mask is not null)
            scores = mask.ScalarType == ScalarType.Bool ? scores.MaskedFill(mask.LogicalNot(), double.NegativeInfinity) : scores + mask;
        var weights = scores.Softmax(-1);
        if (dropoutP > 0) weights = Dropout(weights, dropoutP, training: true);
        return scope.MoveToOuter(weights.MatMul(value));
    }
}
