using System.Text.Json.Serialization;

namespace MedVision.Nets.Inference;

/// <summary>
/// Preprocessing in a <see cref="ModelCard"/>: scale to [0, 1] (volumes: by their minimum and maximum, or through
/// <see cref="IntensityWindow"/>; volumes cropped to their foreground first when <see cref="CropForeground"/> says so), resize to <see cref="InputSize"/>, normalise each input by its own statistics when
/// <see cref="IntensityNormalization"/> says so, then (x − mean) / std per channel.
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
    /// For 2-D models: whether a decoded image is resized as 8-bit pixels (<see cref="Data.Images.RasterImage.Resize"/>:
    /// bilinear, each value rounded to a byte) before it is scaled to [0, 1], as
    /// <see cref="Data.Loading.ImageFolderSource"/> and <see cref="Data.Images.ImageFolderDataset.LoadImage"/> prepared
    /// training images, so that a photograph gets the prediction its training copy got; needs <see cref="Resize"/>
    /// "linear". <see langword="null"/> or false: the [0, 1] image is resized as <see cref="Resize"/> says. Applies to
    /// encoded images and pixels (<see cref="Predictor.PredictFile"/>, <see cref="Predictor.PredictPixels"/>, streams);
    /// an image already given as [0, 1] floats is resized as floats. A card where it is true is written in format 7.
    /// </summary>
    [JsonPropertyName("resize_8bit")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? ResizeEightBit { get; set; }

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

    /// <summary>
    /// For 3-D models without an <see cref="IntensityWindow"/>: the percentiles (lower, upper; 0–100) of each input's
    /// values, taken after reorienting, resampling and aligning and before the crop and the fit, mapped to 0 and 1,
    /// clamped (MONAI's <c>ScaleIntensityRangePercentiles</c>), as
    /// <see cref="Data.Loading.VolumeFolderSource.IntensityPercentiles"/> scaled training volumes; <see langword="null"/>:
    /// the minimum and maximum. A card that has them is written in format 5.
    /// </summary>
    [JsonPropertyName("intensity_percentiles")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<double>? IntensityPercentiles { get; set; }

    /// <summary>
    /// For 3-D models without an <see cref="IntensityWindow"/>: whether the scaling to [0, 1] (by the minimum and maximum,
    /// or by <see cref="IntensityPercentiles"/>) takes each input channel's own values, as
    /// <see cref="Data.Loading.VolumeFolderSource.ChannelWiseIntensity"/> scaled training volumes; <see langword="null"/>
    /// or false: all channels' together. A card where it is true is written in format 6.
    /// </summary>
    [JsonPropertyName("intensity_channel_wise")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? IntensityChannelWise { get; set; }

    /// <summary>
    /// Normalisation of each input by its own mean and standard deviation (<see cref="Transforms.NormalizeIntensity"/>),
    /// after resizing and before (x − mean) / std — as MedicalNet prepared volumes for its pretrained 3-D ResNets (then
    /// <see cref="Mean"/> 0 and <see cref="Std"/> 1); <see langword="null"/>: none. A card that has one is written in format 3.
    /// </summary>
    [JsonPropertyName("intensity_normalization")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IntensityNormalizationCard? IntensityNormalization { get; set; }

    /// <summary>
    /// For 3-D models: the crop to the foreground of the stored values (<see cref="Transforms.CropForeground"/>) after
    /// reorienting and before resizing, as <see cref="Data.Loading.VolumeFolderSource"/> prepared training volumes;
    /// <see langword="null"/>: none. A card that has one is written in format 3.
    /// </summary>
    [JsonPropertyName("crop_foreground")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ForegroundCropCard? CropForeground { get; set; }

    /// <summary>
    /// For 3-D models trained on subject folders (<see cref="Data.Loading.VolumeFolderSource.Modalities"/>): the
    /// modality of each input channel, in order (e.g. flair, t1, t1ce, t2), so that the predictor reads a subject
    /// folder's files into the right channels; <see langword="null"/>: none. A card that has them is written in format 4.
    /// </summary>
    [JsonPropertyName("modalities")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<string>? Modalities { get; set; }

    /// <summary>
    /// For 3-D models: the voxel size (i, j, k, in millimetres, after reorienting) volumes are resampled to before
    /// cropping and resizing (<see cref="Data.Nifti.NiftiImage.Resample"/>), as
    /// <see cref="Data.Loading.VolumeFolderSource.Spacing"/> prepared training volumes; <see langword="null"/>: none. A
    /// card that has one is written in format 5.
    /// </summary>
    [JsonPropertyName("spacing")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<float>? Spacing { get; set; }

    /// <summary>
    /// For 3-D models: whether input channels on different grids are resampled onto the first channel's grid through
    /// their affines before cropping and resizing (<see cref="Data.Loading.VolumeFolderSource.AlignModalities"/>);
    /// <see langword="null"/> or false: each is cropped and resized on its own. A card where it is true is written in format 5.
    /// </summary>
    [JsonPropertyName("align_modalities")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? AlignModalities { get; set; }

    /// <summary>
    /// For 3-D models: how prepared volumes are brought to <see cref="InputSize"/> — "resize" (<see langword="null"/>,
    /// the default: resized as <see cref="Resize"/> says) or "crop_or_pad" (center-cropped and padded with each volume's
    /// minimum, keeping the voxel size: <see cref="Data.Loading.VolumeFit.CropOrPad"/>). A card with "crop_or_pad" is
    /// written in format 5.
    /// </summary>
    [JsonPropertyName("fit")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Fit { get; set; }
}

/// <summary>The crop to the foreground in a <see cref="PreprocessingCard"/> (the options of <see cref="Transforms.CropForeground"/>).</summary>
public sealed class ForegroundCropCard
{
    /// <summary>Values above it (in any channel) are foreground.</summary>
    [JsonPropertyName("threshold")] public float Threshold { get; set; }

    /// <summary>Voxels kept around the foreground on every side.</summary>
    [JsonPropertyName("margin")] public int Margin { get; set; }
}

/// <summary>
/// How a <see cref="PreprocessingCard"/> normalises each input by its own statistics (the options of
/// <see cref="Transforms.NormalizeIntensity"/>, MONAI's <c>NormalizeIntensity</c>).
/// </summary>
public sealed class IntensityNormalizationCard
{
    /// <summary>
    /// Statistics over the non-zero values only, which are the only ones changed (MedicalNet's choice; after the scaling to
    /// [0, 1], the zeros are the values at a volume's minimum, or at or below its window).
    /// </summary>
    [JsonPropertyName("non_zero")] public bool NonZero { get; set; }

    /// <summary>Statistics of each channel by itself instead of the whole input.</summary>
    [JsonPropertyName("channel_wise")] public bool ChannelWise { get; set; }
}
