using System.Text.Json.Serialization;

namespace MedVision.Nets.Inference;

/// <summary>Vision-transformer options in a <see cref="ModelCard"/> (architecture "vit"; card format 8).</summary>
public sealed class VisionTransformerCard
{
    /// <summary>Input channels.</summary>
    [JsonPropertyName("in_channels")] public int InChannels { get; set; } = 3;
    /// <summary>2 or 3.</summary>
    [JsonPropertyName("spatial_dims")] public int SpatialDims { get; set; } = 2;
    /// <summary>The input size per spatial axis (the preprocessing's input size).</summary>
    [JsonPropertyName("image_size")] public List<int> ImageSize { get; set; } = new() { 224, 224 };
    /// <summary>The patch size per spatial axis.</summary>
    [JsonPropertyName("patch_size")] public List<int> PatchSize { get; set; } = new() { 16, 16 };
    /// <summary>The token dimension.</summary>
    [JsonPropertyName("hidden_size")] public int HiddenSize { get; set; } = 768;
    /// <summary>Encoder layers.</summary>
    [JsonPropertyName("num_layers")] public int NumLayers { get; set; } = 12;
    /// <summary>Attention heads.</summary>
    [JsonPropertyName("num_heads")] public int NumHeads { get; set; } = 12;
    /// <summary>The feed-forward blocks' hidden width.</summary>
    [JsonPropertyName("mlp_dim")] public int MlpDim { get; set; } = 3072;
    /// <summary>Dropout while training.</summary>
    [JsonPropertyName("dropout")] public double Dropout { get; set; }
    /// <summary>Classes of the head.</summary>
    [JsonPropertyName("num_classes")] public int NumClasses { get; set; } = 1000;
    /// <summary>The layer norms' epsilon.</summary>
    [JsonPropertyName("layer_norm_eps")] public double LayerNormEps { get; set; } = 1e-6;
}
