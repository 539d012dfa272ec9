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
/// What a segmentation model file holds besides the weights: the U-Net's options, the class names, how inputs are
/// prepared (scans: orientation, voxel size, intensity normalisation; images: channels, size, normalisation), whether
/// the network ends in a softmax or a sigmoid, and the sliding window, so that <see cref="SegmentationPredictor.Load"/>
/// (3-D scans) and <see cref="ImageSegmentationPredictor.Load"/> (2-D images) segment exactly as the network was
/// trained and validated. Stored as JSON in the safetensors header (<see cref="SegmentationModelFile.MetadataKey"/>).
/// </summary>
/// <remarks>
/// Format 1 knew softmax networks, one window at a time and scan preparation; a card that uses a sigmoid output,
/// batches of windows, an image size or a per-channel mean and standard deviation is written in format 2; one that
/// keeps classes to their largest connected component (<see cref="SegmentationCard.KeepLargestComponent"/>) in format 3;
/// one that keeps the largest component of the whole foreground (<see cref="SegmentationCard.KeepLargestForeground"/>)
/// in format 4. Files of older formats are read as they were written.
/// </remarks>
public sealed class SegmentationCard
{
    /// <summary>The newest format this library writes and reads.</summary>
    public const int CurrentFormatVersion = 4;

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

    /// <summary>
    /// The class names, background first: one per output channel of a softmax network, two (background and the
    /// structure) for a sigmoid network.
    /// </summary>
    [JsonPropertyName("class_names")] public List<string> ClassNames { get; set; } = [];

    /// <summary>
    /// "softmax": one output channel per class, the arg-max taken; "sigmoid": one output channel, the structure where
    /// its probability exceeds 0.5 (format 2).
    /// </summary>
    [JsonPropertyName("output")] public string Output { get; set; } = "softmax";

    /// <summary>For 2-D networks: the (height, width) images are resized to; null keeps each image's size (format 2).</summary>
    [JsonPropertyName("image_size")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<int>? ImageSize { get; set; }

    /// <summary>Per-channel means subtracted after resizing (<see cref="Normalize"/>; one value for every channel); null for none (format 2).</summary>
    [JsonPropertyName("mean")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<float>? Mean { get; set; }

    /// <summary>Per-channel standard deviations, with <see cref="Mean"/> (format 2).</summary>
    [JsonPropertyName("std")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<float>? Std { get; set; }

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

    /// <summary>How many windows one network call takes (format 2 when above 1).</summary>
    [JsonPropertyName("window_batch_size")] public int WindowBatchSize { get; set; } = 1;

    /// <summary>How overlapping windows are blended: "constant" or "gaussian" (format 2).</summary>
    [JsonPropertyName("window_blending")] public string WindowBlending { get; set; } = "constant";

    /// <summary>The Gaussian's standard deviation as a fraction of the window (Gaussian blending; format 2).</summary>
    [JsonPropertyName("sigma_scale")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? SigmaScale { get; set; }

    /// <summary>
    /// The foreground classes (indices, background 0 excluded) of which the predictor keeps only the largest connected
    /// component — nnU-Net's post-processing, chosen on cases the model did not train on
    /// (<see cref="SegmentationPostprocessing.ChooseKeepLargest"/>); the predictors start from it
    /// (<see cref="SegmentationPredictor.KeepLargestComponentClasses"/>). Null or empty: none (format 3 when any).
    /// </summary>
    [JsonPropertyName("keep_largest_component")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<int>? KeepLargestComponent { get; set; }

    /// <summary>
    /// Whether the predictor first keeps only the largest connected component of the foreground taken as one (every
    /// class above 0; <see cref="ConnectedComponents.KeepLargestForeground"/>), before the classes of
    /// <see cref="KeepLargestComponent"/> — nnU-Net's first post-processing step, chosen on held-out cases
    /// (<see cref="SegmentationPostprocessing.ChooseKeepLargestForeground"/>); the predictors start from it
    /// (<see cref="SegmentationPredictor.KeepLargestForeground"/>). Null or false: not (format 4 when true).
    /// </summary>
    [JsonPropertyName("keep_largest_foreground")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? KeepLargestForeground { get; set; }

    /// <summary>Validation measures to keep with the model (e.g. "val_dice").</summary>
    [JsonPropertyName("metrics")] public Dictionary<string, double>? Metrics { get; set; }

    /// <summary>Whether the network has one output channel read through a sigmoid (<see cref="Output"/> "sigmoid").</summary>
    [JsonIgnore] public bool IsSigmoid => Output == "sigmoid";

    /// <summary>The preparation of scans this card describes (3-D networks).</summary>
    public NiftiSegmentationOptions Preprocessing() => new()
    {
        Orientation = Orientation,
        Spacing = Spacing?.ToArray(),
        Normalization = NormalizationTransform(),
    };

    /// <summary>The preparation of images this card describes (2-D networks; <see cref="InChannels"/> must be 1 or 3).</summary>
    /// <exception cref="ArgumentException">The network takes other than 1 or 3 channels, which images do not have.</exception>
    public ImageSegmentationOptions ImagePreprocessing()
    {
        var options = new ImageSegmentationOptions
        {
            Channels = InChannels,
            Size = ImageSize is [var height, var width] ? (height, width) : null,
            Normalization = NormalizationTransform(),
        };
        options.Validate("card");
        return options;
    }

    /// <summary>The sliding window this card describes.</summary>
    public SlidingWindowInferer Inferer() => WindowBlending == "gaussian"
        ? new(WindowSize, Overlap, WindowBatchSize, Inference.WindowBlending.Gaussian, SigmaScale ?? 0.125)
        : new(WindowSize, Overlap, WindowBatchSize);

    private ITransform? NormalizationTransform() =>
        IntensityNormalization is { } n ? new NormalizeIntensity(n.NonZero, n.ChannelWise)
        : Mean is not null && Std is not null ? new Normalize(Mean.ToArray(), Std.ToArray())
        : null;

    /// <summary>The oldest format that holds everything this card says.</summary>
    internal int RequiredFormatVersion() =>
        KeepLargestForeground == true ? 4 :
        KeepLargestComponent is { Count: > 0 } ? 3 :
        IsSigmoid || WindowBatchSize != 1 || WindowBlending != "constant" || SigmaScale is not null || ImageSize is not null || Mean is not null || Std is not null ? 2 : 1;

    /// <summary>The U-Net options this card describes.</summary>
    public UNetOptions NetworkOptions() => new()
    {
        SpatialDims = SpatialDims,
        InChannels = InChannels,
        NumClasses = IsSigmoid ? 1 : ClassNames.Count,
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

    /// <summary>The largest window along one axis a card may record.</summary>
    public const int MaxWindowSize = 2048;

    /// <summary>The most pixels or voxels a card's window may hold (256³), so that a damaged card cannot ask for a window no machine can run.</summary>
    public const long MaxWindowVoxels = 1L << 24;

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>Describes a trained U-Net for 3-D scans with the preparation, classes and window it was validated with.</summary>
    /// <param name="model">The trained network: one output per class (softmax), or one output for two classes (sigmoid).</param>
    /// <param name="preprocessing">The preparation of the training scans (the training source's <see cref="NiftiSegmentationSource.Options"/>).</param>
    /// <param name="classNames">The class names, background first.</param>
    /// <param name="inferer">The sliding window of validation.</param>
    /// <param name="modalities">The modality of each input channel, when known.</param>
    /// <param name="metrics">Validation measures to keep with the model.</param>
    /// <exception cref="ArgumentException">The class names do not match the network's outputs, the window its dimensions, or the normalisation is neither a <see cref="NormalizeIntensity"/> nor a <see cref="Normalize"/>.</exception>
    public static SegmentationCard Describe(UNet model, NiftiSegmentationOptions preprocessing, IReadOnlyList<string> classNames, SlidingWindowInferer inferer,
        IReadOnlyList<string>? modalities = null, IReadOnlyDictionary<string, double>? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(preprocessing);
        ArgumentNullException.ThrowIfNull(classNames);
        ArgumentNullException.ThrowIfNull(inferer);
        preprocessing.Validate(nameof(preprocessing));
        var card = DescribeNetwork(model, classNames, inferer, modalities, metrics);
        card.Orientation = preprocessing.Orientation;
        card.Spacing = preprocessing.Spacing?.ToList();
        RecordNormalization(card, preprocessing.Normalization, nameof(preprocessing));
        return card;
    }

    /// <summary>Describes a trained 2-D U-Net for images with the preparation, classes and window it was validated with.</summary>
    /// <param name="model">The trained 2-D network, taking 1 or 3 channels: one output per class (softmax), or one output for two classes (sigmoid).</param>
    /// <param name="preprocessing">The preparation of the training images (the training source's <see cref="ImageMaskFolderSource.Options"/>).</param>
    /// <param name="classNames">The class names, background first.</param>
    /// <param name="inferer">The sliding window of validation (2-D).</param>
    /// <param name="metrics">Validation measures to keep with the model.</param>
    /// <exception cref="ArgumentException">The network is not 2-D or its channels differ from the images', the class names do not match its outputs, the window its dimensions, or the normalisation is neither a <see cref="NormalizeIntensity"/> nor a <see cref="Normalize"/>.</exception>
    public static SegmentationCard Describe(UNet model, ImageSegmentationOptions preprocessing, IReadOnlyList<string> classNames, SlidingWindowInferer inferer,
        IReadOnlyDictionary<string, double>? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(preprocessing);
        ArgumentNullException.ThrowIfNull(classNames);
        ArgumentNullException.ThrowIfNull(inferer);
        preprocessing.Validate(nameof(preprocessing));
        if (model.SpatialDims != 2) throw new ArgumentException($"Images need a 2-D U-Net; this one is {model.SpatialDims}-D (describe it with NiftiSegmentationOptions).", nameof(model));
        if (model.InChannels != preprocessing.Channels)
            throw new ArgumentException($"The network takes {model.InChannels} channel(s) but the images are prepared with {preprocessing.Channels}.", nameof(preprocessing));
        var card = DescribeNetwork(model, classNames, inferer, null, metrics);
        card.ImageSize = preprocessing.Size is { } size ? [size.Height, size.Width] : null;
        RecordNormalization(card, preprocessing.Normalization, nameof(preprocessing));
        return card;
    }

    private static bool ExceedsWindowBounds(IReadOnlyList<int> window) => window.Any(w => w > MaxWindowSize) || window.Aggregate(1L, (a, w) => a * w) > MaxWindowVoxels;

    // What both Describe overloads record: the network, classes, output and window (their callers checked the arguments for null).
    private static SegmentationCard DescribeNetwork(UNet model, IReadOnlyList<string> classNames, SlidingWindowInferer inferer,
        IReadOnlyList<string>? modalities, IReadOnlyDictionary<string, double>? metrics)
    {
        bool sigmoid = model.NumClasses == 1;
        if (sigmoid && classNames.Count != 2)
            throw new ArgumentException($"A network with one output channel (a sigmoid) segments two classes, background and the structure; {classNames.Count} class names were given.", nameof(classNames));
        if (!sigmoid && classNames.Count != model.NumClasses) throw new ArgumentException($"The network has {model.NumClasses} outputs but {classNames.Count} class names were given.", nameof(classNames));
        if (classNames.Any(string.IsNullOrEmpty)) throw new ArgumentException("A class name is empty.", nameof(classNames));
        if (inferer.WindowSize.Count != model.SpatialDims) throw new ArgumentException($"The window has {inferer.WindowSize.Count} sizes; the network is {model.SpatialDims}-D.", nameof(inferer));
        if (inferer.WindowSize.Any(w => w % model.SizeMultiple != 0))
            throw new ArgumentException($"The window [{string.Join(", ", inferer.WindowSize)}] must be a multiple of the network's {model.SizeMultiple} along every axis.", nameof(inferer));
        if (ExceedsWindowBounds(inferer.WindowSize))
            throw new ArgumentException($"The window [{string.Join(", ", inferer.WindowSize)}] exceeds what a model file records: {MaxWindowSize} along an axis, {MaxWindowVoxels:N0} elements in all.", nameof(inferer));
        if (inferer.Padding != PaddingMode.Constant || inferer.PadValue != 0)
            throw new ArgumentException("A model file records the window's size, overlap, batch size and blending; pad inputs smaller than the window with zeros (the default).", nameof(inferer));
        if (modalities is not null && modalities.Count != model.InChannels)
            throw new ArgumentException($"The network takes {model.InChannels} channels but {modalities.Count} modalities were given.", nameof(modalities));
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
            Output = sigmoid ? "sigmoid" : "softmax",
            Modalities = modalities?.ToList(),
            WindowSize = inferer.WindowSize.ToList(),
            Overlap = inferer.Overlap,
            WindowBatchSize = inferer.WindowBatchSize,
            WindowBlending = inferer.Blending == Inference.WindowBlending.Gaussian ? "gaussian" : "constant",
            SigmaScale = inferer.Blending == Inference.WindowBlending.Gaussian ? inferer.SigmaScale : null,
            Metrics = metrics?.ToDictionary(kv => kv.Key, kv => kv.Value),
        };
    }

    private static void RecordNormalization(SegmentationCard card, ITransform? normalization, string parameterName)
    {
        switch (normalization)
        {
            case null:
                break;
            case NormalizeIntensity n:
                card.IntensityNormalization = new IntensityNormalizationCard { NonZero = n.NonZero, ChannelWise = n.ChannelWise };
                break;
            case Normalize n:
                if (n.Mean.Count != 1 && n.Mean.Count != card.InChannels)
                    throw new ArgumentException($"The normalisation has {n.Mean.Count} means for a network of {card.InChannels} channels.", parameterName);
                card.Mean = n.Mean.ToList();
                card.Std = n.Std.ToList();
                break;
            default:
                throw new ArgumentException($"A model file can record a NormalizeIntensity or a Normalize normalisation, not {normalization.GetType().Name}.", parameterName);
        }
        card.FormatVersion = card.RequiredFormatVersion();
    }

    /// <summary>
    /// Writes the network's weights and its card to one safetensors file (atomically: a temporary file, then a rename).
    /// Deep supervision heads (<see cref="UNetOptions.DeepSupervisionHeads"/>) serve training only and are left out: the
    /// file loads as the same U-Net without them, which predicts the same.
    /// </summary>
    public static void Save(string path, UNet model, SegmentationCard card)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(card);
        card.FormatVersion = Math.Max(card.FormatVersion, card.RequiredFormatVersion());
        Validate(card, path);
        var expected = card.NetworkOptions();
        var actual = model.Options;
        if (expected.SpatialDims != actual.SpatialDims || expected.InChannels != actual.InChannels || expected.NumClasses != actual.NumClasses
            || !expected.Features.SequenceEqual(actual.Features) || expected.Normalization != actual.Normalization || expected.Upsampling != actual.Upsampling || expected.LeakySlope != actual.LeakySlope)
            throw new ArgumentException("The card does not describe this network; make it with SegmentationModelFile.Describe(model, …).", nameof(card));
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        // Deep supervision heads serve training only: the file holds the network that predicts (as nnU-Net's inference does).
        var weights = model.StateDict().Where(kv => !IsDeepSupervisionHead(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value);
        SafeTensors.Save(path, weights, new Dictionary<string, string> { ["format"] = "pt", [MetadataKey] = JsonSerializer.Serialize(card, Json) });
    }

    private static bool IsDeepSupervisionHead(string key) => key.StartsWith("supervision", StringComparison.Ordinal);

    /// <summary>Reads a file's card.</summary>
    /// <exception cref="ModelFormatException">The file has no segmentation card, or one this library cannot use.</exception>
    public static SegmentationCard ReadCard(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ModelFile.ThrowIfJson(path);
        using var file = SafeTensors.Load(path);
        return CardOf(file.Metadata, path);
    }

    /// <summary>Rebuilds the U-Net the file describes and loads its weights (strictly); the caller disposes the network.</summary>
    /// <exception cref="ModelFormatException">The card is missing or unusable, or the weights do not fit it.</exception>
    public static (UNet Model, SegmentationCard Card) Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ModelFile.ThrowIfJson(path);
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

    // What members of one ensemble must share: what the predictor does around the networks (preparation, window,
    // classes, output). Their architectures may differ.
    private static readonly (string Name, Func<SegmentationCard, object?> Value)[] EnsembleFields =
    [
        ("spatial_dims", c => c.SpatialDims), ("in_channels", c => c.InChannels), ("class_names", c => c.ClassNames), ("output", c => c.Output),
        ("modalities", c => c.Modalities), ("orientation", c => c.Orientation), ("spacing", c => c.Spacing),
        ("intensity_normalization", c => c.IntensityNormalization is { } n ? new[] { n.NonZero, n.ChannelWise } : null),
        ("image_size", c => c.ImageSize), ("mean", c => c.Mean), ("std", c => c.Std), ("window_size", c => c.WindowSize),
    ];

    /// <summary>
    /// Loads one model file, or several as an ensemble network whose output's softmax (sigmoid) is the mean of the
    /// members' (<see cref="EnsembleNetwork"/>), with the first file's card, and the classes kept to their largest
    /// component: the members' <see cref="SegmentationCard.KeepLargestComponent"/> and <see cref="SegmentationCard.KeepLargestForeground"/> when all record the same, else none
    /// (a choice made for one model does not carry over to an ensemble). The caller disposes the network.
    /// </summary>
    internal static (Module<Tensor, Tensor> Network, SegmentationCard Card, int[] KeepLargest, bool KeepLargestForeground) LoadEnsemble(IReadOnlyList<string> paths, IReadOnlyList<double>? weights = null)
    {
        ArgumentNullException.ThrowIfNull(paths);
        if (paths.Count == 0) throw new ArgumentException("Give at least one model file.", nameof(paths));
        if (paths.Any(string.IsNullOrWhiteSpace)) throw new ArgumentException("A model file path is empty.", nameof(paths));
        EnsembleWeights.Check(weights, paths.Count, "members");
        var members = new List<Module<Tensor, Tensor>>();
        try
        {
            SegmentationCard? first = null;
            bool agree = true;
            foreach (var path in paths)
            {
                var (model, card) = Load(path);
                members.Add(model);
                agree &= KeptClasses(card).SequenceEqual(KeptClasses(first ?? card)) && (card.KeepLargestForeground == true) == ((first ?? card).KeepLargestForeground == true);
                if (first is null)
                {
                    first = card;
                    continue;
                }
                CheckMember(first, card, path, paths[0]);
            }
            return (members.Count == 1 ? members[0] : new EnsembleNetwork(members, first!.IsSigmoid, weights), first!, agree ? KeptClasses(first!) : [], agree && first!.KeepLargestForeground == true);
        }
        catch
        {
            foreach (var member in members) member.Dispose();
            throw;
        }
    }

    // A member whose card differs from the first member's in what an ensemble's members share is refused, naming the fields.
    private static void CheckMember(SegmentationCard first, SegmentationCard card, string path, string firstPath)
    {
        var differing = EnsembleFields.Where(f => JsonSerializer.Serialize(f.Value(first)) != JsonSerializer.Serialize(f.Value(card))).Select(f => f.Name).ToList();
        // (An equal window also fits every member's U-Net: each card's window was checked against its own network.)
        if (differing.Count > 0)
            throw new ModelFormatException($"{path} cannot join an ensemble with {firstPath}: its {string.Join(", ", differing)} differ{(differing.Count == 1 ? "s" : "")} (members must share the classes, the output, the preparation and the window).");
    }

    /// <summary>The <c>format</c> of a segmentation ensemble manifest (<see cref="SaveEnsembleManifest"/>).</summary>
    public const string EnsembleManifestFormat = "medvision.segmentation-ensemble";

    /// <summary>The newest segmentation ensemble manifest format version this library reads (and the one it writes).</summary>
    public const int EnsembleManifestFormatVersion = 1;

    /// <summary>
    /// Writes a segmentation ensemble manifest: a small JSON file listing model files (by paths relative to the
    /// manifest's folder, so that the folder moves whole) with their SHA-256s, and optionally the post-processing chosen
    /// on the ensemble's own predictions of held-out cases — nnU-Net records its ensembles' post-processing apart from
    /// each fold's, because averaged probabilities are no member's. <see cref="SegmentationPredictor.LoadManifest"/> and
    /// <see cref="ImageSegmentationPredictor.LoadManifest"/> load it; the members' own cards' post-processing is then
    /// not used. The model files must exist and fit together (as <see cref="SegmentationPredictor.LoadEnsemble"/>
    /// requires). Written atomically.
    /// </summary>
    /// <param name="path">The manifest file to write, e.g. <c>ensemble.json</c> beside the folds' folders.</param>
    /// <param name="modelPaths">The model files, at least one, each once.</param>
    /// <param name="postprocessing">The ensemble's post-processing, or null to leave it to the members' cards.</param>
    /// <param name="weights">Each member's weight in the mean of the probabilities (finite, non-negative, not all 0; normalised to sum to 1); equal weights when null.</param>
    /// <exception cref="ArgumentException">No model files, one listed twice, members that do not fit together, a post-processing choice naming classes the members do not have, or bad weights.</exception>
    /// <exception cref="FileNotFoundException">A model file does not exist.</exception>
    /// <exception cref="ModelFormatException">A model file holds no usable segmentation card.</exception>
    public static void SaveEnsembleManifest(string path, IReadOnlyList<string> modelPaths, SegmentationPostprocessingChoice? postprocessing = null, IReadOnlyList<double>? weights = null)
        => WriteEnsembleManifest(path, modelPaths, postprocessing, weights, hashed: null);

    // SaveEnsembleManifest reusing the member hashes an update computed to check the old manifest.
    private static void WriteEnsembleManifest(string path, IReadOnlyList<string> modelPaths, SegmentationPostprocessingChoice? postprocessing, IReadOnlyList<double>? weights,
        IDictionary<string, string>? hashed)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var list = ManifestFile.CheckPaths(modelPaths, nameof(modelPaths), "each model counts once; give weights to count one more.");
        EnsembleWeights.Check(weights, list.Count, "members");
        var cards = list.Select(p => File.Exists(p) ? ReadCard(p) : throw new FileNotFoundException($"The model file '{p}' does not exist.", p)).ToArray();
        try
        {
            for (int i = 1; i < cards.Length; i++) CheckMember(cards[0], cards[i], list[i], list[0]);
        }
        catch (ModelFormatException e)
        {
            throw new ArgumentException(e.Message, nameof(modelPaths), e);
        }
        if (postprocessing?.Problem(cards[0].ClassNames.Count) is { } problem)
            throw new ArgumentException($"The post-processing does not fit the members' {cards[0].ClassNames.Count} classes: {problem}.", nameof(postprocessing));
        ManifestFile.Write(path, EnsembleManifestFormat, EnsembleManifestFormatVersion, list, (i, entry) => entry["weight"] = weights?[i] ?? 1.0, manifest =>
        {
            if (postprocessing is not null)
                manifest["postprocessing"] = JsonSerializer.SerializeToNode(postprocessing with { KeepLargestComponent = [.. postprocessing.KeepLargestComponent.Order()] });
        }, hashed);
    }

    /// <summary>
    /// Reads a segmentation ensemble manifest (<see cref="SaveEnsembleManifest"/>) without loading its models: the
    /// model files' full paths (resolved against the manifest's folder), their recorded SHA-256s and the post-processing.
    /// </summary>
    /// <exception cref="FileNotFoundException">The manifest or a model file it lists does not exist.</exception>
    /// <exception cref="ModelFormatException">The manifest is not one (not JSON, another format, a newer version, no members, an entry without a path, a bad hash or post-processing); the message names it.</exception>
    public static SegmentationEnsembleManifest ReadEnsembleManifest(string path) =>
        ManifestFile.Read(path, "segmentation ensemble manifest", EnsembleManifestFormat, EnsembleManifestFormatVersion, (manifest, bad) =>
        {
            var (paths, hashes, weights) = ManifestFile.WeightedMembers(manifest, path, bad);
            var postprocessing = ManifestFile.Section<SegmentationPostprocessingChoice>(manifest, "postprocessing", "a post-processing choice", bad);
            if (postprocessing?.Problem(int.MaxValue) is { } problem) throw new ModelFormatException(bad($"its \"postprocessing\": {problem}"));
            return new SegmentationEnsembleManifest(paths) { Postprocessing = postprocessing, ModelHashes = hashes, Weights = weights };
        });

    /// <summary>
    /// Changes a segmentation ensemble manifest and writes it again (atomically), e.g. to record the post-processing
    /// chosen on the ensemble: <c>UpdateEnsembleManifest(path, m =&gt; m with { Postprocessing = choice })</c>. A
    /// post-processing choice carried over from the old manifest is kept only while it still holds — when a member file
    /// has changed since the manifest was written, or the change lists other members or weights, it is left out rather
    /// than given the new files' hashes; the returned notes say so.
    /// </summary>
    /// <returns>One sentence when the old post-processing was left out; empty otherwise.</returns>
    /// <exception cref="FileNotFoundException">The manifest or a model file it lists does not exist.</exception>
    /// <exception cref="ModelFormatException">The manifest is not a valid one.</exception>
    /// <exception cref="ArgumentException">The changed manifest is not valid (as <see cref="SaveEnsembleManifest"/>); nothing is written.</exception>
    public static IReadOnlyList<string> UpdateEnsembleManifest(string path, Func<SegmentationEnsembleManifest, SegmentationEnsembleManifest> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        var old = ReadEnsembleManifest(path);
        var changed = change(old) ?? throw new ArgumentException("The change gave no manifest.", nameof(change));
        var postprocessing = changed.Postprocessing;
        var notes = new List<string>();
        var hashed = new Dictionary<string, string>(StringComparer.Ordinal);
        if (postprocessing is not null && ReferenceEquals(postprocessing, old.Postprocessing))
        {
            string? why = ManifestFile.Invalidation(old.ModelPaths, old.ModelHashes, old.Weights, changed.ModelPaths, changed.Weights, hashed);
            if (why is not null)
            {
                postprocessing = null;
                notes.Add($"The post-processing was left out: {why}; choose it again on the ensemble's predictions.");
            }
        }
        // Members changed with the old weights left as they were: equal weights carry over to the new members; unequal ones
        // cannot be guessed.
        var weights = changed.Weights;
        if (ReferenceEquals(weights, old.Weights) && weights is not null && weights.Count != changed.ModelPaths.Count)
            weights = weights.Distinct().Count() <= 1 ? null
                : throw new ArgumentException($"The manifest weighs its {weights.Count} members unequally; give the weights of the {changed.ModelPaths.Count} new ones too (m with {{ ModelPaths = …, Weights = … }}).", nameof(change));
        WriteEnsembleManifest(path, changed.ModelPaths, postprocessing, weights, hashed);
        return notes;
    }

    /// <summary>
    /// Loads the ensemble a manifest lists (as <see cref="LoadEnsemble"/>) with the manifest's post-processing when it
    /// records one and every member file is the one it was chosen with; otherwise the members' agreement, with a note
    /// saying why the manifest's was not used. The caller disposes the network.
    /// </summary>
    internal static (Module<Tensor, Tensor> Network, SegmentationCard Card, int[] KeepLargest, bool KeepLargestForeground, int Members, string? Note) LoadManifest(string path)
    {
        var manifest = ReadEnsembleManifest(path);
        try
        {
            EnsembleWeights.Check(manifest.Weights, manifest.ModelPaths.Count, "members");
        }
        catch (ArgumentException e)
        {
            throw new ModelFormatException($"{path} is not a valid segmentation ensemble manifest: {ManifestFile.PlainMessage(e)}", e);
        }
        var (network, card, keepLargest, foreground) = LoadEnsemble(manifest.ModelPaths, manifest.Weights);
        string? note = null;
        if (manifest.Postprocessing is { } choice)
        {
            if (choice.Problem(card.ClassNames.Count) is { } problem)
            {
                network.Dispose();
                throw new ModelFormatException($"{path} is not a valid segmentation ensemble manifest: its \"postprocessing\" does not fit the members' {card.ClassNames.Count} classes: {problem}.");
            }
            if (ManifestFile.ChangedMember(manifest.ModelPaths, manifest.ModelHashes) is { } changed)
                note = $"The manifest's post-processing is not used: {changed}; choose it again on the ensemble's predictions.";
            else (keepLargest, foreground) = ([.. choice.KeepLargestComponent.Order()], choice.KeepLargestForeground);
        }
        return (network, card, keepLargest, foreground, manifest.ModelPaths.Count, note);
    }

    private static int[] KeptClasses(SegmentationCard card) => card.KeepLargestComponent is { } keep ? [.. keep.Distinct().Order()] : [];

    /// <summary>
    /// Changes a model file's card and writes the file again with the same weights (atomically), e.g. to record the
    /// post-processing chosen on held-out cases (<see cref="SegmentationCard.KeepLargestComponent"/>). The change may
    /// touch what the predictor does around the network, not the network itself.
    /// </summary>
    /// <exception cref="ModelFormatException">The file is unusable, or the changed card is invalid.</exception>
    /// <exception cref="ArgumentException">The change describes another network.</exception>
    public static void UpdateCard(string path, Action<SegmentationCard> change)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(change);
        var (model, card) = Load(path);
        using (model)
        {
            change(card);
            card.FormatVersion = card.RequiredFormatVersion();   // the oldest format that holds the changed card
            Save(path, model, card);
        }
    }

    private static SegmentationCard CardOf(IReadOnlyDictionary<string, string> metadata, string path)
    {
        if (!metadata.TryGetValue(MetadataKey, out var json))
            throw new ModelFormatException($"{path} holds no segmentation card ('{MetadataKey}' in its header); it was not written by SegmentationModelFile.Save.");
        return ParseCard(json, path);
    }

    /// <summary>
    /// Reads and validates a segmentation card from its JSON (as stored under <see cref="MetadataKey"/>, e.g. in an
    /// exported ONNX file's metadata); <paramref name="source"/> names where it came from in messages.
    /// </summary>
    /// <exception cref="ModelFormatException">The JSON is not a valid card, is from a newer format, or describes a network or preparation this library cannot use.</exception>
    public static SegmentationCard ParseCard(string json, string source)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(source);
        SegmentationCard? card;
        try
        {
            card = JsonSerializer.Deserialize<SegmentationCard>(json);
        }
        catch (JsonException e)
        {
            throw new ModelFormatException($"The segmentation card of {source} is not valid JSON: {e.Message}", e);
        }
        if (card is null) throw new ModelFormatException($"The segmentation card of {source} is empty.");
        Validate(card, source);
        return card;
    }

    internal static void Validate(SegmentationCard card, string path)
    {
        string? problem = card.FormatVersion > SegmentationCard.CurrentFormatVersion
            ? $"format version {card.FormatVersion} is newer than this library reads ({SegmentationCard.CurrentFormatVersion}); update MedVision.Nets"
            : card.FormatVersion < 1 ? $"format version {card.FormatVersion} is not a version"
            : card.Architecture != "unet" ? $"architecture '{card.Architecture}' is not 'unet'"
            : card.Normalization is not ("batch" or "instance") ? $"normalization '{card.Normalization}' is not 'batch' or 'instance'"
            : card.Upsampling is not ("transposed_convolution" or "interpolation") ? $"upsampling '{card.Upsampling}' is not 'transposed_convolution' or 'interpolation'"
            : card.ClassNames is null || card.ClassNames.Count < 2 ? "it names fewer than two classes (the background and a structure)"
            : card.ClassNames.Any(string.IsNullOrEmpty) ? "a class name is empty"
            : card.Features is null ? "it lists no features"
            : card.WindowSize is null || card.WindowSize.Count != card.SpatialDims || card.WindowSize.Any(w => w < 1) ? $"window_size needs {card.SpatialDims} positive sizes"
            : ExceedsWindowBounds(card.WindowSize)
                ? $"window_size [{string.Join(", ", card.WindowSize)}] exceeds {MaxWindowSize} along an axis or {MaxWindowVoxels:N0} elements in all"
            : !(card.Overlap >= 0 && card.Overlap < 1) ? $"overlap {card.Overlap} is not in [0, 1)"
            : card.Modalities is { } m && m.Count != card.InChannels ? $"it lists {m.Count} modalities for {card.InChannels} channels"
            : card.SpatialDims != 3 && (card.Orientation is not null || card.Spacing is not null) ? "orientation and spacing describe 3-D scans only"
            : card.Output is not ("softmax" or "sigmoid") ? $"output '{card.Output}' is not 'softmax' or 'sigmoid'"
            : card.IsSigmoid && card.ClassNames.Count != 2 ? $"a sigmoid network segments two classes, but it names {card.ClassNames.Count}"
            : card.WindowBatchSize is < 1 or > 4096 ? $"window_batch_size {card.WindowBatchSize} is not in [1, 4096]"
            : card.WindowBlending is not ("constant" or "gaussian") ? $"window_blending '{card.WindowBlending}' is not 'constant' or 'gaussian'"
            : card.SigmaScale is { } sigma && (card.WindowBlending != "gaussian" || !(sigma > 0) || double.IsInfinity(sigma)) ? $"sigma_scale {sigma} needs Gaussian blending and a positive finite value"
            : card.ImageSize is { } size && (card.SpatialDims != 2 || size.Count != 2 || size.Any(v => v is < 1 or > 16384)) ? "image_size needs a 2-D network and two sizes in [1, 16384]"
            : card.Mean is null != card.Std is null ? "it has only one of mean and std"
            : card.Mean is { } mean && (mean.Count != card.Std!.Count || (mean.Count != 1 && mean.Count != card.InChannels)) ? $"mean and std need one value, or one per channel ({card.InChannels})"
            : card.Mean is not null && card.IntensityNormalization is not null ? "it has both intensity_normalization and mean/std; a card records one normalisation"
            : card.KeepLargestComponent is { } keep && (keep.Any(k => k < 1 || k >= card.ClassNames.Count) || keep.Distinct().Count() != keep.Count)
                ? $"keep_largest_component [{string.Join(", ", keep)}] must name foreground classes (1 to {card.ClassNames.Count - 1}) once each"
            : card.FormatVersion < card.RequiredFormatVersion() ? $"it says format {card.FormatVersion} but uses fields of format {card.RequiredFormatVersion()} ({card.RequiredFormatVersion() switch { 4 => "keep_largest_foreground", 3 => "keep_largest_component", _ => "sigmoid output, window batches or blending, image size, mean/std" }})"
            : null;
        if (problem is null)
        {
            try
            {
                card.NetworkOptions().Validate();
                if (card.SpatialDims == 3) card.Preprocessing().Validate("card");
                if (card.Mean is not null) _ = new Normalize(card.Mean.ToArray(), card.Std!.ToArray());
                _ = card.Inferer();
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
