using System.Globalization;

namespace MedVision.Torch.Nn;

/// <summary>
/// A lookup table of learned vectors (PyTorch's <c>nn.Embedding</c>): integer indices of any shape in, their rows of
/// <c>weight</c> (num_embeddings, embedding_dim) out, the shape extended by embedding_dim. Initialised N(0, 1) as
/// PyTorch does, with the padding row, when given, zero and left out of the gradient.
/// </summary>
public sealed class Embedding : Module<Tensor, Tensor>, IResettable
{
    /// <summary>Creates the table.</summary>
    /// <param name="numEmbeddings">Rows (the number of indices).</param>
    /// <param name="embeddingDim">Each vector's size.</param>
    /// <param name="paddingIdx">A row that stays zero and gets no gradient (negative counts from the end), or null.</param>
    /// <param name="scaleGradByFreq">Divide each row's gradient by its index's count in the batch.</param>
    public Embedding(long numEmbeddings, long embeddingDim, long? paddingIdx = null, bool scaleGradByFreq = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numEmbeddings, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(embeddingDim, 1);
        if (paddingIdx is { } p && (p >= numEmbeddings || p < -numEmbeddings))
            throw new ArgumentOutOfRangeException(nameof(paddingIdx), p, $"The padding index must lie within the {numEmbeddings} embeddings (negative from the end).");
        NumEmbeddings = numEmbeddings;
        EmbeddingDim = embeddingDim;
        PaddingIdx = paddingIdx is { } q && q < 0 ? q + numEmbeddings : paddingIdx;
        ScaleGradByFreq = scaleGradByFreq;
        DisposeIfThrows(() =>
        {
            RegisterParameter("weight", Tensors.Empty(new[] { numEmbeddings, embeddingDim }));
            ResetParameters();
        });
    }

    /// <summary>Rows of the table.</summary>
    public long NumEmbeddings { get; }

    /// <summary>Each vector's size.</summary>
    public long EmbeddingDim { get; }

    /// <summary>The padding row (non-negative), or null.</summary>
    public long? PaddingIdx { get; }

    /// <summary>Whether gradients are divided by the indices' frequencies.</summary>
    public bool ScaleGradByFreq { get; }

    /// <summary>The (num_embeddings, embedding_dim) table.</summary>
    public Tensor Weight => GetParameter("weight")!;

    /// <summary>N(0, 1), the padding row zero.</summary>
    public void ResetParameters()
    {
        using var noGrad = Tensors.NoGrad();
        Init.Normal(Weight);
        if (PaddingIdx is { } p) Weight.Select(0, p).ZeroInPlace();
    }

    /// <summary>The rows of <paramref name="input"/>'s indices (int64 or int32).</summary>
    public override Tensor Forward(Tensor input) => Functional.Embedding(input, Weight, PaddingIdx, ScaleGradByFreq);

    /// <inheritdoc/>
    protected override string ExtraRepr() => string.Create(CultureInfo.InvariantCulture, $"{NumEmbeddings}, {EmbeddingDim}{(PaddingIdx is { } p ? $", padding_idx={p}" : "")}");
}
