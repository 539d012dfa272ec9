using System.Text.Json.Serialization;

namespace MedVision.Nets.Inference;

/// <summary>ResNet architecture options in a <see cref="ModelCard"/> (torchvision-compatible weights).</summary>
public sealed class ResNetCard
{
    /// <summary>"basic" or "bottleneck".</summary>
    [JsonPropertyName("block")] public string Block { get; set; } = "basic";
    /// <summary>Blocks per stage, e.g. [2, 2, 2, 2] for ResNet-18.</summary>
    [JsonPropertyName("layers")] public List<int> Layers { get; set; } = new() { 2, 2, 2, 2 };
    /// <summary>Stage widths, e.g. [64, 128, 256, 512].</summary>
    [JsonPropertyName("widths")] public List<int> Widths { get; set; } = new() { 64, 128, 256, 512 };
    /// <summary>Input channels.</summary>
    [JsonPropertyName("in_channels")] public int InChannels { get; set; } = 3;
    /// <summary>2 or 3.</summary>
    [JsonPropertyName("spatial_dims")] public int SpatialDims { get; set; } = 2;
    /// <summary>"imagenet" or "small_input".</summary>
    [JsonPropertyName("stem")] public string Stem { get; set; } = "imagenet";
    /// <summary>The stem convolution's kernel size per spatial dimension; absent for the stem's own.</summary>
    [JsonPropertyName("stem_kernel_size")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<int>? StemKernelSize { get; set; }
    /// <summary>The stem convolution's stride per spatial dimension; absent for the stem's own.</summary>
    [JsonPropertyName("stem_stride")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<int>? StemStride { get; set; }
    /// <summary>torchvision's replace_stride_with_dilation, one flag per stage after the first; absent when nothing is replaced.</summary>
    [JsonPropertyName("replace_stride_with_dilation")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<bool>? ReplaceStrideWithDilation { get; set; }
    /// <summary>The stride of each stage's first block; absent for torchvision's [1, 2, 2, 2]. Needs card format 2.</summary>
    [JsonPropertyName("stage_strides")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<int>? StageStrides { get; set; }
    /// <summary>The dilation of every 3×3 convolution of each stage; absent for none. Needs card format 2.</summary>
    [JsonPropertyName("stage_dilations")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<int>? StageDilations { get; set; }
    /// <summary>"projection" (1×1 convolution + BN) or "zero_padding"; absent for the projection. Needs card format 2.</summary>
    [JsonPropertyName("shortcut")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Shortcut { get; set; }
    /// <summary>Number of classes.</summary>
    [JsonPropertyName("num_classes")] public int NumClasses { get; set; } = 1000;
    /// <summary>
    /// The classifier: absent (or "linear") for one logit per class; <see cref="CoralHead"/> ("coral") for a CORAL
    /// ordinal head giving K − 1 cumulative logits (<c>fc.weight</c> (1, features), <c>fc.bias</c> (K − 1)). Needs card
    /// format 9 and an ordinal-regression task.
    /// </summary>
    [JsonPropertyName("head")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Head { get; set; }
    /// <summary>The <see cref="Head"/> value of a CORAL ordinal head.</summary>
    public const string CoralHead = "coral";
    /// <summary>Dropout before the classifier.</summary>
    [JsonPropertyName("dropout")] public double Dropout { get; set; }
}
