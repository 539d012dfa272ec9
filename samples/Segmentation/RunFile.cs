using System.Text.Json;
using System.Text.Json.Serialization;
using MedVision.Nets.Blocks;
using MedVision.Nets.Data.Segmentation;
using MedVision.Nets.Models;
using MedVision.Nets.Transforms;

namespace MedVision.Samples.Segmentation;

/// <summary>
/// What <c>train</c> leaves beside <c>best.safetensors</c> so that <c>predict</c> rebuilds the same network and prepares
/// scans the same way: segmentation.json.
/// </summary>
internal sealed class RunFile
{
    public const string Name = "segmentation.json";

    [JsonPropertyName("in_channels")] public int InChannels { get; init; }
    [JsonPropertyName("class_names")] public List<string> ClassNames { get; init; } = [];
    [JsonPropertyName("features")] public List<int> Features { get; init; } = [];
    [JsonPropertyName("normalization")] public string Normalization { get; init; } = "instance";
    [JsonPropertyName("orientation")] public string? Orientation { get; init; }
    [JsonPropertyName("spacing")] public List<float>? Spacing { get; init; }
    [JsonPropertyName("window")] public List<int> Window { get; init; } = [];

    public UNet BuildNetwork() => UNet.Builder().ForInput(InChannels, 3).WithFeatures(Features.ToArray())
        .WithNormalization(Normalization == "batch" ? NormalizationKind.Batch : NormalizationKind.Instance).WithClasses(ClassNames.Count).Build();

    // Every volume normalised over its non-zero voxels, each channel on its own (nnU-Net's and MONAI's choice for MRI).
    public NiftiSegmentationOptions Preprocessing() => new() { Orientation = Orientation, Spacing = Spacing, Normalization = new NormalizeIntensity(nonZero: true, channelWise: true) };

    public void Save(string folder)
    {
        var path = Path.Combine(folder, Name);
        File.WriteAllText(path + ".tmp", JsonSerializer.Serialize(this, new JsonSerializerOptions { WriteIndented = true }));
        File.Move(path + ".tmp", path, overwrite: true);
    }

    public static RunFile Load(string folder)
    {
        var path = Path.Combine(folder, Name);
        if (!File.Exists(path)) throw new FileNotFoundException($"{folder} holds no {Name}; give the folder train wrote with --output.", path);
        var run = JsonSerializer.Deserialize<RunFile>(File.ReadAllText(path)) ?? throw new InvalidDataException($"{path} is empty.");
        if (run.InChannels < 1 || run.ClassNames.Count < 2 || run.Features.Count < 2 || run.Window.Count != 3)
            throw new InvalidDataException($"{path} does not describe a network (channels, classes, features and a window of three sizes).");
        return run;
    }
}
