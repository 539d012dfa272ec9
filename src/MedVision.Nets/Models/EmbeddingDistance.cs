namespace MedVision.Nets.Models;

/// <summary>How a Siamese network measures the distance between two embeddings.</summary>
public enum EmbeddingDistance
{
    /// <summary>‖a − b‖₂ (with PyTorch's pairwise_distance eps 1e-6 for a stable gradient at 0).</summary>
    Euclidean,
    /// <summary>1 − cos(a, b), in [0, 2].</summary>
    Cosine,
}
