using System.Text.Json.Serialization;

namespace MedVision.Nets.Inference;

/// <summary>
/// Preprocessing in a <see cref="ModelCard"/>: scale to [0, 1] (volumes: by their minimum and maximum, or through
/// <see cref="IntensityWindow"/>), resize to <see cref="InputSize"/>, then (x − mean) / std per channel.
/// </summary>
public sealed class PreprocessingCard
{
    /// <summary>(H, W) or (D, H, W).</summary>
    [JsonPropertyName("input_size")] public List<int> InputSize { get; set; } = new() { 28, 28 };
    /// <summary>Channels the network expects (grey images are repeated to 3 when needed).</summary>
    [JsonPropertyName("channels")] public int Channels { get; set; } = 3;
    /// <summary>Per-channel means (one value applies to every channel).</summary>
    [JsonPropertyName("mean")] public List<float> Mean { get; set; } = new() { 0.5f };
    /// <summary>Per-channel standard deviations.</summary>
    [JsonPropertyName("std")] public List<float> Std { get; set; } = new() { 0.5f };
    /// <summary>"nearest" or "linear".</summary>
    [JsonPropertyName("resize")] public string Resize { get; set; } = "linear";
    /// <summary>
    /// For 3-D models: the orientation (axis codes such as "RAS", see <see cref="Data.Nifti.NiftiImage.Reorient"/>)
    /// volumes are brought to before resizing, as in training; <see langword="null"/>: volumes are used as stored.
    /// </summary>
    [JsonPropertyName("orientation")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Orientation { get; set; }

    /// <summary>
    /// For 3-D models: the window (center, width) that maps volume values to [0, 1], clamped outside it — a CT window in
    /// Hounsfield units, as <see cref="Data.Loading.VolumeFolderSource"/>'s window in training; <see langword="null"/>:
    /// each volume's own minimum and maximum. A card that has one is written in format 2.
    /// </summary>
    [JsonPropertyName("intensity_window")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<double>? IntensityWindow { get; set; }
}
