using System.Text.Json;
using System.Text.Json.Serialization;
using MedVision.Nets.Blocks;
using MedVision.Nets.Data.Segmentation;
using MedVision.Nets.Models;
using MedVision.Nets.Transforms;
using MedVision.Torch;
using MedVision.Torch.Nn;
using MedVision.Torch.Serialization;

namespace MedVision.Nets.Inference;

/// <summary>
/// What a segmentation model file holds besides the weights: the U-Net's options, the class names, how scans are
/// prepared (orientation, voxel size, intensity normalisation) and the sliding window, so that
/// <see cref="SegmentationPredictor.Load"/> segments scans exactly as the network was trained and validated. Stored as
/// JSON in the safetensors header (<see cref="SegmentationModelFile.MetadataKey"/>).
/// </summary>
public sealed class SegmentationCard
{
    /// <summary>The newest format this library writes and reads.</summary>
    public const int CurrentFormatVersion = 1;

    /// <summary>The card's format version.</summary>
    [JsonPropertyName("format_version")] public int FormatVersion { get; set; } = CurrentFormatVersion;

    /// <summary>"unet".</summary>
    [JsonPropertyName("architecture")] public string Architecture { get; set; } = "unet";

    /// <summary>The library version that wrote the file.</summary>
    [JsonPropertyName("library_version")] public string LibraryVersion { get; set; } = ModelFile.LibraryVersion;

    /// <summary>2 or 3.</summary>
    [JsonPropertyName("spatial_dims")] public int SpatialDims { get; set; } = 3;

    /// <summary>Input channels (modalities).</summary>
    [JsonPropertyName("in_channels")] public int InChannels { get; set; } = 1;

    /// <summary>The U-Net's features per level.</summary>
    [JsonPropertyName("features")] public List<int> Features { get; set; } = [];

    /// <summary>"batch" or "instance".</summary>
    [JsonPropertyName("normalization")] public string Normalization { get; set; } = "batch";

    /// <summary>The leaky ReLU's slope; null for ReLU.</summary>
    [JsonPropertyName("leaky_slope")] public double? LeakySlope { get; set; }

    /// <summary>"transposed_convolution" or "interpolation".</summary>
    [JsonPropertyName("upsampling")] public string Upsampling { get; set; } = "transposed_convolution";

    /// <summary>The class names, background first (one per output channel).</summary>
    [JsonPropertyName("class_names")] public List<string> ClassNames { get; set; } = [];

    /// <summary>The modality of each input channel, when known.</summary>
    [JsonPropertyName("modalities")] public List<string>? Modalities { get; set; }

    /// <summary>The axis codes scans are reoriented to; null keeps the stored order.</summary>
    [JsonPropertyName("orientation")] public string? Orientation { get; set; }

    /// <summary>The voxel size scans are resampled to; null keeps each scan's.</summary>
    [JsonPropertyName("spacing")] public List<float>? Spacing { get; set; }

    /// <summary>The per-scan intensity normalisation (<see cref="NormalizeIntensity"/>); null for none.</summary>
    [JsonPropertyName("intensity_normalization")] public IntensityNormalizationCard? IntensityNormalization { get; set; }

    /// <summary>The sliding window's size (D, H, W or H, W).</summary>
    [JsonPropertyName("window_size")] public List<int> WindowSize { get; set; } = [];

    /// <summary>The sliding window's overlap.</summary>
    [JsonPropertyName("overlap")] public double Overlap { get; set; } = 0.5;

    /// <summary>Validation measures to keep with the model (e.g. "val_dice").</summary>
    [JsonPropertyName("metrics")] public Dictionary<string, double>? Metrics { get; set; }

    /// <summary>The preparation of scans this card describes.</summary>
    public NiftiSegmentationOptions Preprocessing() => new()
    {
        Orientation = Orientation,
        Spacing = Spacing?.ToArray(),
        Normalization = IntensityNormalization is { } n ? new NormalizeIntensity(n.NonZero, n.ChannelWise) : null,
    };

    /// <summary>The U-Net options this card describes.</summary>
    public UNetOptions NetworkOptions() => new()
    {
        SpatialDims = SpatialDims,
        InChannels = InChannels,
        NumClasses = ClassNames.Count,
        Features = Features.ToArray(),
        Normalization = Normalization == "instance" ? NormalizationKind.Instance : NormalizationKind.Batch,
        LeakySlope = LeakySlope,
        Upsampling = Upsampling == "interpolation" ? UNetUpsampling.Interpolation : UNetUpsampling.TransposedConvolution,
    };
}

/// <summary>
/// Self-describing segmentation model files: a U-Net's weights with a <see cref="SegmentationCard"/> in one
/// safetensors file, written atomically. <see cref="SegmentationPredictor.Load"/> rebuilds the network and its
/// preparation from the file alone.
/// </summary>
public static class SegmentationModelFile
{
    /// <summary>The safetensors metadata key of the card.</summary>
    public const string MetadataKey = "medvision_segmentation";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>Describes a trained U-Net with the preparation, classes and window it was validated with.</summary>
    /// <exception cref="ArgumentException">The class names do not match the network's outputs, the window its dimensions, or the normalisation is not a <see cref="NormalizeIntensity"/>.</exception>
    public static SegmentationCard Describe(UNet model, NiftiSegmentationOptions preprocessing, IReadOnlyList<string> classNames, SlidingWindowInferer inferer,
        IReadOnlyList<string>? modalities = null, IReadOnlyDictionary<string, double>? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(preprocessing);
        ArgumentNullException.ThrowIfNull(classNames);
        ArgumentNullException.ThrowIfNull(inferer);
        preprocessing.Validate(nameof(preprocessing));
        if (model.NumClasses < 2)
            throw new ArgumentException("A segmentation model file holds a softmax network with one output per class, background included; this network has a single output channel (a sigmoid network). Build it with WithClasses(2) and train it with a softmax loss.", nameof(model));
        if (classNames.Count != model.NumClasses) throw new ArgumentException($"The network has {model.NumClasses} outputs but {classNames.Count} class names were given.", nameof(classNames));
        if (inferer.WindowSize.Count != model.SpatialDims) throw new ArgumentException($"The window has {inferer.WindowSize.Count} sizes; the network is {model.SpatialDims}-D.", nameof(inferer));
        if (inferer.WindowSize.Any(w => w % model.SizeMultiple != 0))
            throw new ArgumentException($"The window [{string.Join(", ", inferer.WindowSize)}] must be a multiple of the network's {model.SizeMultiple} along every axis.", nameof(inferer));
        if (modalities is not null && modalities.Count != model.InChannels)
            throw new ArgumentException($"The network takes {model.InChannels} channels but {modalities.Count} modalities were given.", nameof(modalities));
        var normalization = preprocessing.Normalization switch
        {
            null => null,
            NormalizeIntensity n => new IntensityNormalizationCard { NonZero = n.NonZero, ChannelWise = n.ChannelWise },
            var other => throw new ArgumentException($"A model file can record a NormalizeIntensity normalisation, not {other.GetType().Name}.", nameof(preprocessing)),
        };
        var options = model.Options;
        return new SegmentationCard
        {
            SpatialDims = options.SpatialDims,
            InChannels = options.InChannels,
            Features = options.Features.ToList(),
            Normalization = options.Normalization == NormalizationKind.Instance ? "instance" : "batch",
            LeakySlope = options.LeakySlope,
            Upsampling = options.Upsampling == UNetUpsampling.Interpolation ? "interpolation" : "transposed_convolution",
            ClassNames = classNames.ToList(),
            Modalities = modalities?.ToList(),
            Orientation = preprocessing.Orientation,
            Spacing = preprocessing.Spacing?.ToList(),
            IntensityNormalization = normalization,
            WindowSize = inferer.WindowSize.ToList(),
            Overlap = inferer.Overlap,
            Metrics = metrics?.ToDictionary(kv => kv.Key, kv => kv.Value),
        };
    }

    /// <summary>Writes the network's weights and its card to one safetensors file (atomically: a temporary file, then a rename).</summary>
    public static void Save(string path, UNet model, SegmentationCard card)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(card);
        Validate(card, path);
        var expected = card.NetworkOptions();
        var actual = model.Options;
        if (expected.SpatialDims != actual.SpatialDims || expected.InChannels != actual.InChannels || expected.NumClasses != actual.NumClasses
            || !expected.Features.SequenceEqual(actual.Features) || expected.Normalization != actual.Normalization || expected.Upsampling != actual.Upsampling || expected.LeakySlope != actual.LeakySlope)
            throw new ArgumentException("The card does not describe this network; make it with SegmentationModelFile.Describe(model, …).", nameof(card));
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        SafeTensors.Save(path, model.StateDict(), new Dictionary<string, string> { ["format"] = "pt", [MetadataKey] = JsonSerializer.Serialize(card, Json) });
    }

    /// <summary>Reads a file's card.</summary>
    /// <exception cref="ModelFormatException">The file has no segmentation card, or one this library cannot use.</exception>
    public static SegmentationCard ReadCard(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var file = SafeTensors.Load(path);
        return CardOf(file.Metadata, path);
    }

    /// <summary>Rebuilds the U-Net the file describes and loads its weights (strictly); the caller disposes the network.</summary>
    /// <exception cref="ModelFormatException">The card is missing or unusable, or the weights do not fit it.</exception>
    public static (UNet Model, SegmentationCard Card) Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var file = SafeTensors.Load(path);
        var card = CardOf(file.Metadata, path);
        var model = new UNet(card.NetworkOptions());
        try
        {
            model.LoadStateDict(file, strict: true);
        }
        catch (StateDictMismatchException e)
        {
            model.Dispose();
            throw new ModelFormatException($"The weights in {path} do not fit the U-Net its card describes: {e.Result}.", e);
        }
        model.Eval();
        return (model, card);
    }

    private static SegmentationCard CardOf(IReadOnlyDictionary<string, string> metadata, string path)
    {
        if (!metadata.TryGetValue(MetadataKey, out var json))
            throw new ModelFormatException($"{path} holds no segmentation card ('{MetadataKey}' in its header); it was not written by SegmentationModelFile.Save.");
        SegmentationCard? card;
        try
        {
            card = JsonSerializer.Deserialize<SegmentationCard>(json);
        }
        catch (JsonException e)
        {
            throw new ModelFormatException($"The segmentation card of {path} is not valid JSON: {e.Message}", e);
        }
        if (card is null) throw new ModelFormatException($"The segmentation card of {path} is empty.");
        Validate(card, path);
        return card;
    }

    private static void Validate(SegmentationCard card, string path)
    {
        string? problem = card.FormatVersion > SegmentationCard.CurrentFormatVersion
            ? $"format version {card.FormatVersion} is newer than this library reads ({SegmentationCard.CurrentFormatVersion}); update MedVision.Nets"
            : card.FormatVersion < 1 ? $"format version {card.FormatVersion} is not a version"
            : card.Architecture != "unet" ? $"architecture '{card.Architecture}' is not 'unet'"
            : card.Normalization is not ("batch" or "instance") ? $"normalization '{card.Normalization}' is not 'batch' or 'instance'"
            : card.Upsampling is not ("transposed_convolution" or "interpolation") ? $"upsampling '{card.Upsampling}' is not 'transposed_convolution' or 'interpolation'"
            : card.ClassNames is null || card.ClassNames.Count < 1 || card.ClassNames.Any(n => n is null) ? "it names no classes"
            : card.Features is null ? "it lists no features"
            : card.WindowSize is null || card.WindowSize.Count != card.SpatialDims || card.WindowSize.Any(w => w < 1) ? $"window_size needs {card.SpatialDims} positive sizes"
            : !(card.Overlap >= 0 && card.Overlap < 1) ? $"overlap {card.Overlap} is not in [0, 1)"
            : card.Modalities is { } m && m.Count != card.InChannels ? $"it lists {m.Count} modalities for {card.InChannels} channels"
            : card.SpatialDims != 3 && (card.Orientation is not null || card.Spacing is not null) ? "orientation and spacing describe 3-D scans only"
            : null;
        if (problem is null)
        {
            try
            {
                card.NetworkOptions().Validate();
                card.Preprocessing().Validate("card");
                int multiple = 1 << (card.Features!.Count - 1);
                var window = card.WindowSize!;
                if (window.Any(w => w % multiple != 0)) problem = $"window_size [{string.Join(", ", window)}] is not a multiple of the network's {multiple}";
            }
            catch (ArgumentException e)
            {
                problem = e.Message;
            }
        }
        if (problem is not null) throw new ModelFormatException($"The segmentation card of {path} cannot be used: {problem}.");
    }
}
