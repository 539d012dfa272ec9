using AssemblyInformationalVersionAttribute = System.Reflection.AssemblyInformationalVersionAttribute;
using CustomAttributeExtensions = System.Reflection.CustomAttributeExtensions;
using System.Globalization;
using System.Text.Json;
using MedVision.Nets.Blocks;
using MedVision.Nets.Losses;
using MedVision.Nets.Metrics;
using MedVision.Nets.Models;
using MedVision.Torch;
using MedVision.Torch.Jit;
using MedVision.Torch.Nn;
using MedVision.Torch.Serialization;

namespace MedVision.Nets.Inference;

/// <summary>
/// Self-describing model files: one safetensors file holding the weights (torchvision's names) and, in its header, a
/// <see cref="ModelCard"/> describing architecture, preprocessing, classes, task and metrics. Loading needs only the
/// file. A safetensors file written elsewhere (for example by PyTorch) can carry the card in a sidecar JSON file with
/// the same name and the extension ".json".
/// </summary>
/// <remarks>
/// A model of any architecture runs from a TorchScript file (torch.jit.save of a scripted or traced module; card
/// architecture "torchscript"): the card is stored as the file's extra file <see cref="MetadataKey"/>
/// (<c>torch.jit.save(m, path, _extra_files={"medvision.model_card": json})</c>), or in the sidecar JSON. Files are
/// told apart by content (a TorchScript file is a zip archive), not by extension.
/// </remarks>
public static class ModelFile
{
    /// <summary>The safetensors metadata key holding the card's JSON.</summary>
    public const string MetadataKey = "medvision.model_card";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>The version of this library, as written into cards.</summary>
    public static string LibraryVersion { get; } =
        CustomAttributeExtensions.GetCustomAttribute<AssemblyInformationalVersionAttribute>(typeof(ModelFile).Assembly)?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <summary>Describes a ResNet (its options) with the given preprocessing, classes and task.</summary>
    public static ModelCard Describe(ResNet model, PreprocessingCard preprocessing, IReadOnlyList<string> classNames, MedMnistTask task, IReadOnlyDictionary<string, double>? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(preprocessing);
        ArgumentNullException.ThrowIfNull(classNames);
        var o = model.Options;
        if (o.FeaturesOnly) throw new ArgumentException("A features-only ResNet has no classifier to predict with.", nameof(model));
        if (classNames.Count != o.NumClasses) throw new ArgumentException($"The model has {o.NumClasses} classes but {classNames.Count} class names were given.", nameof(classNames));
        var resnet = new ResNetCard
        {
            Block = o.Block == ResidualBlockKind.Bottleneck ? "bottleneck" : "basic",
            Layers = o.Layers.ToList(), Widths = o.Widths.ToList(), InChannels = o.InChannels, SpatialDims = o.SpatialDims,
            Stem = o.Stem == ResNetStem.SmallInput ? "small_input" : "imagenet", NumClasses = o.NumClasses, Dropout = o.DropoutRate,
            StemKernelSize = o.StemKernelSize?.ToList(), StemStride = o.StemStride?.ToList(),
            ReplaceStrideWithDilation = o.ReplaceStrideWithDilation is { } replace && replace.Any(r => r) ? replace.ToList() : null,
            StageStrides = o.StageStrides?.ToList(),
            StageDilations = o.StageDilations?.ToList(),
            Shortcut = o.Shortcut == ResidualShortcut.ZeroPadding ? "zero_padding" : null,
            Head = o.Head == ClassifierHead.Coral ? ResNetCard.CoralHead : null,
        };
        if (o.Head == ClassifierHead.Coral && task != MedMnistTask.OrdinalRegression)
            throw new ArgumentException($"A CORAL head ranks ordered grades: its task is {MedMnistTask.OrdinalRegression}, not {task}.", nameof(task));
        var card = NewCard("resnet", preprocessing, classNames, task, metrics);
        card.ResNet = resnet;
        if (o.Head == ClassifierHead.Coral) card.OrdinalDecision = OrdinalDecision.Median;   // CORAL's own prediction
        card.FormatVersion = RequiredFormatVersion(card);
        return card;
    }

    /// <summary>Describes a vision transformer (its options; architecture "vit", card format 8) with the given preprocessing, classes and task; the preprocessing's input size must be the network's image size.</summary>
    /// <exception cref="ArgumentException">Class names that do not count the head's classes, or an input size other than the network's.</exception>
    public static ModelCard Describe(VisionTransformer model, PreprocessingCard preprocessing, IReadOnlyList<string> classNames, MedMnistTask task, IReadOnlyDictionary<string, double>? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(preprocessing);
        ArgumentNullException.ThrowIfNull(classNames);
        var o = model.Options;
        if (classNames.Count != o.NumClasses) throw new ArgumentException($"The model has {o.NumClasses} classes but {classNames.Count} class names were given.", nameof(classNames));
        if (!preprocessing.InputSize.SequenceEqual(o.ImageSize))
            throw new ArgumentException($"A vision transformer takes inputs of its image size [{string.Join(", ", o.ImageSize)}] (its position embeddings are per patch); the preprocessing gives [{string.Join(", ", preprocessing.InputSize)}].", nameof(preprocessing));
        var card = NewCard(VisionTransformerArchitecture, preprocessing, classNames, task, metrics);
        card.Vit = new VisionTransformerCard
        {
            InChannels = o.InChannels, SpatialDims = o.SpatialDims, ImageSize = o.ImageSize.ToList(), PatchSize = o.PatchSize.ToList(), HiddenSize = o.HiddenSize,
            NumLayers = o.NumLayers, NumHeads = o.NumHeads, MlpDim = o.MlpDim, Dropout = o.Dropout, NumClasses = o.NumClasses, LayerNormEps = o.LayerNormEps,
        };
        card.FormatVersion = RequiredFormatVersion(card);
        return card;
    }

    /// <summary>
    /// A card for a TorchScript model (architecture "torchscript"): the script defines the network, the card says how
    /// to feed it and read its output (one score per class).
    /// </summary>
    public static ModelCard Describe(ScriptModule model, PreprocessingCard preprocessing, IReadOnlyList<string> classNames, MedMnistTask task, IReadOnlyDictionary<string, double>? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(preprocessing);
        ArgumentNullException.ThrowIfNull(classNames);
        var card = NewCard(TorchScriptArchitecture, preprocessing, classNames, task, metrics);
        card.FormatVersion = RequiredFormatVersion(card);
        return card;
    }

    // What every Describe writes besides the architecture's own options.
    private static ModelCard NewCard(string architecture, PreprocessingCard preprocessing, IReadOnlyList<string> classNames, MedMnistTask task, IReadOnlyDictionary<string, double>? metrics) => new()
    {
        Architecture = architecture,
        Preprocessing = preprocessing,
        ClassNames = classNames.ToList(),
        Task = task.ToString(),
        LibraryVersion = LibraryVersion,
        Metrics = metrics?.ToDictionary(kv => kv.Key, kv => kv.Value) ?? new(),
    };

    /// <summary>
    /// The oldest card format that describes <paramref name="card"/>, so that a reader which would ignore one of its
    /// fields, and so predict differently, refuses the file instead: 10 with a temperature on a CORAL head's cumulative
    /// logits (<see cref="ModelCard.CoralTemperature"/>); 9 with a CORAL head (<see cref="ResNetCard.Head"/>) or the median <see cref="ModelCard.OrdinalDecision"/>; 7 with <see cref="PreprocessingCard.ResizeEightBit"/>; 6 with <see cref="PreprocessingCard.IntensityChannelWise"/>; 5 with a volume's <see cref="PreprocessingCard.Spacing"/>
    /// or <see cref="PreprocessingCard.AlignModalities"/> or a crop-or-pad <see cref="PreprocessingCard.Fit"/> or
    /// <see cref="PreprocessingCard.IntensityPercentiles"/>; 4 with <see cref="PreprocessingCard.Modalities"/>; 3 with a per-input
    /// <see cref="PreprocessingCard.IntensityNormalization"/> or a volume's <see cref="PreprocessingCard.CropForeground"/>; 2 with a ResNet's own stem kernel or stride,
    /// replace_stride_with_dilation, stage strides, stage dilations or zero-padding shortcut, or a volume's intensity
    /// window; else 1.
    /// </summary>
    public static int RequiredFormatVersion(ModelCard card)
    {
        ArgumentNullException.ThrowIfNull(card);
        if (card.CoralTemperature == CoralTemperature.CumulativeLogits) return 10;
        if ((card.ResNet?.Head is { } head && !string.Equals(head, "linear", StringComparison.OrdinalIgnoreCase)) || card.OrdinalDecision == OrdinalDecision.Median) return 9;
        if (IsVisionTransformer(card)) return 8;
        if (card.Preprocessing is { ResizeEightBit: true }) return 7;
        if (card.Preprocessing is { IntensityChannelWise: true }) return 6;
        if (card.Preprocessing is { } volume && (volume.Spacing is not null || volume.AlignModalities == true || volume.Fit == "crop_or_pad" || volume.IntensityPercentiles is not null)) return 5;
        if (card.Preprocessing is { Modalities: not null }) return 4;
        if (card.Preprocessing is { } pre && (pre.IntensityNormalization is not null || pre.CropForeground is not null)) return 3;
        bool resnet2 = card.ResNet is { } r
            && (r.StemKernelSize is not null || r.StemStride is not null || (r.ReplaceStrideWithDilation?.Contains(true) ?? false)
                || r.StageStrides is not null || r.StageDilations is not null || (r.Shortcut is not null && r.Shortcut != "projection"));
        return resnet2 || card.Preprocessing?.IntensityWindow is not null ? 2 : 1;
    }

    /// <summary>
    /// Writes a model file atomically: a ResNet's weights and card to one safetensors file, or a
    /// <see cref="ScriptModule"/> with its card (architecture "torchscript") to one TorchScript file. The card's format
    /// version is raised to <see cref="RequiredFormatVersion"/> when it is below it.
    /// </summary>
    public static void Save(string path, Module model, ModelCard card)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(card);
        Validate(card, path);
        card.FormatVersion = Math.Max(card.FormatVersion, RequiredFormatVersion(card));
        bool script = IsTorchScript(card);
        if (script != model is ScriptModule)
            throw new ArgumentException(script ? "A 'torchscript' card needs a ScriptModule." : $"A '{card.Architecture}' card cannot describe a ScriptModule; use a 'torchscript' card.", nameof(card));
        if (model is ResNet resnet && (resnet.ClassifierKind == ClassifierHead.Coral) != card.HasCoralHead)
            throw new ArgumentException(card.HasCoralHead
                ? "The card describes a CORAL head but the ResNet has a linear classifier; describe the model with ModelFile.Describe."
                : "The ResNet has a CORAL head but the card describes a linear classifier; describe the model with ModelFile.Describe.", nameof(card));
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        var json = JsonSerializer.Serialize(card, Json);
        if (model is ScriptModule sm)
        {
            CheckOutputs(sm, card, path);
            sm.Save(path, new Dictionary<string, string> { [MetadataKey] = json });
        }
        else SafeTensors.Save(path, model.StateDict(), new Dictionary<string, string> { ["format"] = "pt", [MetadataKey] = json });
    }

    /// <summary>Reads a model file's card (from its header or TorchScript extra file, or from the sidecar JSON).</summary>
    public static ModelCard ReadCard(string path)
    {
        ThrowIfJson(path);
        if (IsTorchScriptFile(path) && PyTorchFile.IsTorchSaveFile(path)) return CardOf(path, new Dictionary<string, string>(), pickled: true);
        if (IsTorchScriptFile(path)) return CardOf(path, ScriptModule.ReadExtraFiles(path), torchScript: true);
        using var file = SafeTensors.Load(path);
        return CardOf(path, file.Metadata);
    }

    /// <summary>
    /// Changes a model file's card and writes the file again with the same network (atomically), e.g. to record a
    /// conformal calibration (<see cref="ModelCard.Conformal"/>) or a referral operating point
    /// (<see cref="ModelCard.Referral"/>) chosen on held-out images, as <see cref="SegmentationModelFile.UpdateCard"/>
    /// does for segmentation files. The change may touch what the predictor does around the network, not the network.
    /// </summary>
    /// <exception cref="ModelFormatException">The file is unusable, or the changed card is invalid.</exception>
    public static void UpdateCard(string path, Action<ModelCard> change)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(change);
        var (model, card) = Load(path);
        using (model)
        {
            change(card);
            Save(path, model, card);
        }
    }

    /// <summary>Rebuilds the model described by the file and loads its weights (strictly). The caller disposes the model.</summary>
    public static (Module<Tensor, Tensor> Model, ModelCard Card) Load(string path)
    {
        ThrowIfJson(path);
        bool zip = IsTorchScriptFile(path);
        if (zip && !PyTorchFile.IsTorchSaveFile(path)) return LoadTorchScript(path);
        // A torch.save state dict (Python's torch.save(model.state_dict(), "model.pth")) takes its card from the sidecar;
        // the "module." prefix of a DataParallel model is removed when every key has it.
        using var file = zip ? LoadPickled(path) : SafeTensors.Load(path);
        var card = CardOf(path, file.Metadata, pickled: zip);
        Module<Tensor, Tensor> model;
        if (IsVisionTransformer(card))
        {
            CheckVisionTransformerAgainstWeights(card, file, path);
            model = BuildVisionTransformer(card, path);
        }
        else
        {
            CheckCardAgainstWeights(card, file, path);
            model = Build(card, path);
        }
        try
        {
            model.LoadStateDict(file, strict: true);
        }
        catch (StateDictMismatchException e)
        {
            model.Dispose();
            throw new ModelFormatException($"The weights in {path} do not fit the {card.Architecture} its card describes: {e.Result}.", e);
        }
        model.Eval();
        return (model, card);
    }

    private const string TorchScriptArchitecture = "torchscript";
    private const string VisionTransformerArchitecture = "vit";

    private static bool IsVisionTransformer(ModelCard card) => string.Equals(card.Architecture, VisionTransformerArchitecture, StringComparison.OrdinalIgnoreCase);

    private static bool IsTorchScript(ModelCard card) => string.Equals(card.Architecture, TorchScriptArchitecture, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// A clear refusal of a JSON file given as a model file — usually an ensemble manifest, which the safetensors reader
    /// would report as a file with an impossible header length. A safetensors file starts with its header's length, a
    /// little-endian 64-bit number, so its first eight bytes are never all printable text; a JSON file's are.
    /// </summary>
    internal static void ThrowIfJson(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) return; // the reader names the missing file
        Span<byte> head = stackalloc byte[8];
        int read;
        using (var stream = File.OpenRead(path)) read = stream.ReadAtLeast(head, 8, throwOnEndOfStream: false);
        var text = head[..read].TrimStart(" \t\r\n"u8);
        if (read == 8 && text.Length > 0 && (text[0] == (byte)'{' || text[0] == (byte)'[') && head.IndexOfAnyExceptInRange((byte)0x09, (byte)0x7E) < 0)
            throw new ModelFormatException($"{path} is a JSON file, not a model file: an ensemble manifest loads with EnsemblePredictor.LoadManifest (or SegmentationPredictor.LoadManifest), and exports to ONNX as one graph with MedVision.Onnx's OnnxModelFile.ExportEnsemble.");
    }

    // A TorchScript file is a zip archive (local file header "PK\x03\x04"); a safetensors file starts with its header length.
    private static bool IsTorchScriptFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) return false; // SafeTensors.Load reports the missing file
        Span<byte> head = stackalloc byte[4];
        using var stream = File.OpenRead(path);
        return stream.Read(head) == 4 && head[0] == (byte)'P' && head[1] == (byte)'K' && head[2] == 3 && head[3] == 4;
    }

    private static (Module<Tensor, Tensor> Model, ModelCard Card) LoadTorchScript(string path)
    {
        IReadOnlyDictionary<string, string> extra;
        try
        {
            extra = ScriptModule.ReadExtraFiles(path);
        }
        catch (InvalidDataException e)
        {
            throw new ModelFormatException($"{path} is a zip file but not a TorchScript model: {e.Message}", e);
        }
        var card = CardOf(path, extra, torchScript: true);
        if (!IsTorchScript(card))
            throw new ModelFormatException($"{path} is a TorchScript file but its card describes a '{card.Architecture}' model; TorchScript files carry 'torchscript' cards.");
        ScriptModule model;
        try
        {
            model = ScriptModule.Load(path);
        }
        catch (Exception e) when (e is TorchException or InvalidDataException)
        {
            throw new ModelFormatException(e.Message, e);
        }
        try
        {
            model.Eval();
            CheckOutputs(model, card, path);
            return (model, card);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    // Runs the script once on a zero input of the card's shape: it must give one score per class.
    private static void CheckOutputs(ScriptModule model, ModelCard card, string source)
    {
        var p = card.Preprocessing;
        var shape = new long[] { 1, p.Channels }.Concat(p.InputSize.Select(s => (long)s)).ToArray();
        var device = model.Parameters().Select(t => (Device?)t.Device).FirstOrDefault() ?? Device.Cpu;
        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        long[] output;
        try
        {
            output = model.Forward(Tensors.Zeros(shape, device: device)).Shape;
        }
        catch (Exception e) when (e is TorchException or InvalidOperationException)
        {
            throw new ModelFormatException($"{source}: the TorchScript model fails on an input of the card's shape [{string.Join(", ", shape)}]: {e.Message}", e);
        }
        if (output.Length != 2 || output[1] != card.ClassNames.Count)
            throw new ModelFormatException($"{source}: the TorchScript model maps an input of the card's shape [{string.Join(", ", shape)}] to [{string.Join(", ", output)}], not to [1, {card.ClassNames.Count}] (one score per class name).");
    }

    private static SafeTensorDictionary LoadPickled(string path)
    {
        try
        {
            var file = PyTorchFile.LoadStateDict(path);
            if (file.Count > 0 && file.Keys.All(k => k.StartsWith("module.", StringComparison.Ordinal))) file.RenameKeys(k => k["module.".Length..]);
            return file;
        }
        catch (PyTorchFormatException e)
        {
            throw new ModelFormatException(e.Message, e);
        }
    }

    private static ModelCard CardOf(string path, IReadOnlyDictionary<string, string> metadata, bool torchScript = false, bool pickled = false)
    {
        string json;
        string source;
        if (metadata.TryGetValue(MetadataKey, out var embedded))
        {
            json = embedded;
            source = path;
        }
        else
        {
            source = Path.ChangeExtension(path, ".json");
            if (!File.Exists(source))
                throw new ModelFormatException(torchScript
                    ? $"{path} is a TorchScript file without a model card (no extra file '{MetadataKey}') and has no sidecar {source}: save it with torch.jit.save(model, path, _extra_files={{\"{MetadataKey}\": card_json}}) or write the sidecar."
                    : pickled
                    ? $"{path} is a torch.save state dict, which holds weights only, and has no sidecar model card {source}: write the card (architecture, preprocessing, class names) there."
                    : $"{path} carries no model card (no '{MetadataKey}' in its header) and has no sidecar {source}; it holds weights only.");
            json = File.ReadAllText(source);
        }
        return ParseCard(json, source);
    }

    /// <summary>
    /// Reads and validates a model card from its JSON (as stored under <see cref="MetadataKey"/>, e.g. in an ONNX file's
    /// metadata); <paramref name="source"/> names where it came from in messages.
    /// </summary>
    /// <exception cref="ModelFormatException">The JSON is not a valid card, or it is from a newer format.</exception>
    public static ModelCard ParseCard(string json, string source)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(source);
        ModelCard? card;
        try
        {
            card = JsonSerializer.Deserialize<ModelCard>(json, Json);
        }
        catch (JsonException e)
        {
            throw new ModelFormatException($"The model card in {source} is not valid JSON: {e.Message}", e);
        }
        if (card is null) throw new ModelFormatException($"The model card in {source} is empty.");
        Validate(card, source);
        return card;
    }

    // anyArchitecture: the card of a network another engine runs (Predictor.Create): any architecture name, checked as a
    // TorchScript card is (classes, input size, channels), a ResNet's own options checked when it has them.
    internal static void Validate(ModelCard card, string source, bool anyArchitecture = false)
    {
        if (card.FormatVersion > ModelCard.CurrentFormatVersion)
            throw new ModelFormatException($"{source} was written in model-card format {card.FormatVersion} by a newer MedVision.Nets ({card.LibraryVersion ?? "unknown version"}); this version ({LibraryVersion}) reads format {ModelCard.CurrentFormatVersion}. Update the library.");
        if (card.FormatVersion < 1) throw new ModelFormatException($"{source} has an invalid model-card format version {card.FormatVersion}.");
        // JSON null where the card types hold non-nullable values (System.Text.Json assigns it regardless).
        var nulls = new List<string>();
        void Require(object? value, string name)
        {
            if (value is null) nulls.Add(name);
        }
        Require(card.Architecture, "architecture");
        Require(card.Task, "task");
        Require(card.ClassNames, "class_names");
        if (HasNullEntry(card.ClassNames)) nulls.Add("an entry of class_names");
        Require(card.Preprocessing, "preprocessing");
        if (card.Preprocessing is { } pre)
        {
            Require(pre.InputSize, "preprocessing.input_size");
            Require(pre.Mean, "preprocessing.mean");
            Require(pre.Std, "preprocessing.std");
            Require(pre.Resize, "preprocessing.resize");
        }
        if (card.ResNet is { } res)
        {
            Require(res.Block, "resnet.block");
            Require(res.Layers, "resnet.layers");
            Require(res.Widths, "resnet.widths");
            Require(res.Stem, "resnet.stem");
        }
        if (nulls.Count > 0) throw new ModelFormatException($"{source}: the model card has null values for {string.Join(", ", nulls)}.");
        card.LibraryVersion ??= "";
        card.Metrics ??= new();
        if (!Enum.TryParse<MedMnistTask>(card.Task, ignoreCase: true, out _)) throw new ModelFormatException($"{source} has an unknown task '{card.Task}'.");
        var p = card.Preprocessing;
        bool describesResNet = string.Equals(card.Architecture, "resnet", StringComparison.OrdinalIgnoreCase) && card.ResNet is not null;
        if (card.Vit is { } vitCard)
        {
            Require(vitCard.ImageSize, "vit.image_size");
            Require(vitCard.PatchSize, "vit.patch_size");
            if (nulls.Count > 0) throw new ModelFormatException($"{source}: the model card has null values for {string.Join(", ", nulls)}.");
        }
        if (IsVisionTransformer(card) && !anyArchitecture)
        {
            var vit = card.Vit ?? throw new ModelFormatException($"{source} describes a vit but has no 'vit' options.");
            try
            {
                VisionTransformerOptionsOf(vit).Validate();
            }
            catch (ArgumentException e)
            {
                throw new ModelFormatException($"{source}: invalid vision-transformer options: {e.Message}", e);
            }
            if (card.ClassNames.Count != vit.NumClasses)
                throw new ModelFormatException($"{source} lists {card.ClassNames.Count} class names for {vit.NumClasses} classes.");
            if (!p.InputSize.SequenceEqual(vit.ImageSize))
                throw new ModelFormatException($"{source}: input size [{string.Join(", ", p.InputSize)}] is not the vision transformer's image size [{string.Join(", ", vit.ImageSize)}].");
            if (p.Channels != vit.InChannels)
                throw new ModelFormatException($"{source}: the preprocessing gives {p.Channels} channel(s), the vision transformer takes {vit.InChannels}.");
        }
        else if (IsTorchScript(card) || (anyArchitecture && !describesResNet))
        {
            if (card.ClassNames.Count == 0) throw new ModelFormatException($"{source} lists no class names.");
            if (p.InputSize.Count is not (2 or 3) || p.InputSize.Any(s => s < 1))
                throw new ModelFormatException($"{source}: input size [{string.Join(", ", p.InputSize)}] must be (H, W) or (D, H, W) with positive sizes.");
            if (p.Channels < 1) throw new ModelFormatException($"{source}: the model must take at least one channel, not {p.Channels}.");
        }
        else
        {
            if (!string.Equals(card.Architecture, "resnet", StringComparison.OrdinalIgnoreCase))
                throw new ModelFormatException($"{source} describes a '{card.Architecture}' model; this version can rebuild: resnet, vit, or run: torchscript.");
            if (card.ResNet is null) throw new ModelFormatException($"{source} describes a resnet but has no 'resnet' options.");
            if (card.ClassNames.Count != card.ResNet.NumClasses)
                throw new ModelFormatException($"{source} lists {card.ClassNames.Count} class names for {card.ResNet.NumClasses} classes.");
            if (p.InputSize.Count != card.ResNet.SpatialDims || p.InputSize.Any(s => s < 1))
                throw new ModelFormatException($"{source}: input size [{string.Join(", ", p.InputSize)}] does not fit a {card.ResNet.SpatialDims}-D model.");
        }
        if (card.ResNet?.Head is { } head)
        {
            if (!head.Equals("linear", StringComparison.OrdinalIgnoreCase) && !head.Equals(ResNetCard.CoralHead, StringComparison.OrdinalIgnoreCase))
                throw new ModelFormatException($"{source}: unknown ResNet head '{head}' (linear or coral).");
            if (card.HasCoralHead && !string.Equals(card.Task, nameof(MedMnistTask.OrdinalRegression), StringComparison.OrdinalIgnoreCase))
                throw new ModelFormatException($"{source}: a CORAL head ranks ordered grades; its task must be {nameof(MedMnistTask.OrdinalRegression)}, not {card.Task}.");
            if (card.HasCoralHead && card.ClassNames.Count < 2)
                throw new ModelFormatException($"{source}: a CORAL head ranks at least 2 grades; the card names {card.ClassNames.Count}.");
        }
        if (p.Mean.Count == 0 || p.Mean.Count != p.Std.Count || p.Std.Any(s => !(s > 0) || !float.IsFinite(s)))
            throw new ModelFormatException($"{source}: normalisation needs as many positive, finite standard deviations as means.");
        if (p.Mean.Any(m => !float.IsFinite(m)))
            throw new ModelFormatException($"{source}: normalisation means must be finite numbers, got [{string.Join(", ", p.Mean.Select(m => m.ToString(System.Globalization.CultureInfo.InvariantCulture)))}].");
        if (p.Resize is not ("nearest" or "linear")) throw new ModelFormatException($"{source}: resize must be 'nearest' or 'linear', not '{p.Resize}'.");
        if (p.ResizeEightBit == true && (p.InputSize.Count != 2 || p.Resize != "linear"))
            throw new ModelFormatException($"{source}: resize_8bit (8-bit bilinear resizing of decoded images) needs a 2-D model with resize 'linear', not {(p.InputSize.Count != 2 ? "a 3-D one" : $"resize '{p.Resize}'")}.");
        if (p.Orientation is { } orientation && (p.InputSize.Count != 3 || !Data.Nifti.NiftiAffine.IsValidAxisCodes(orientation)))
            throw new ModelFormatException($"{source}: orientation '{orientation}' must be three axis codes (e.g. RAS) of a 3-D model.");
        if (p.IntensityWindow is { } window && (p.InputSize.Count != 3 || window.Count != 2 || !Transforms.ScaleIntensity.IsWindow(window[0], window[1])))
            throw new ModelFormatException($"{source}: the intensity window [{string.Join(", ", window.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)))}] must be (center, width) with a finite center and a positive, finite width, for a 3-D model.");
        if (p.CropForeground is { } crop && (p.InputSize.Count != 3 || !float.IsFinite(crop.Threshold) || crop.Margin < 0))
            throw new ModelFormatException($"{source}: the foreground crop (threshold {crop.Threshold.ToString(System.Globalization.CultureInfo.InvariantCulture)}, margin {crop.Margin}) needs a finite threshold and a margin of at least 0, for a 3-D model.");
        if (p.Modalities is { } modalities && (p.InputSize.Count != 3 || modalities.Count != p.Channels || modalities.Any(string.IsNullOrWhiteSpace)
                || modalities.Distinct(StringComparer.OrdinalIgnoreCase).Count() != modalities.Count))
            throw new ModelFormatException($"{source}: the modalities [{string.Join(", ", modalities)}] must name each of the {p.Channels} input channels of a 3-D model once.");
        if (p.Spacing is { } spacing && (p.InputSize.Count != 3 || !Data.Nifti.NiftiAffine.IsVoxelSize(spacing)))
            throw new ModelFormatException($"{source}: the spacing [{string.Join(", ", spacing.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)))}] must be three positive, finite voxel sizes, for a 3-D model.");
        if (p.IntensityPercentiles is { } percentiles && (p.InputSize.Count != 3 || p.IntensityWindow is not null || percentiles.Count != 2
                || !Transforms.ScaleIntensity.ArePercentiles(percentiles[0], percentiles[1])))
            throw new ModelFormatException($"{source}: the intensity percentiles [{string.Join(", ", percentiles.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)))}] must be (lower, upper) with 0 ≤ lower < upper ≤ 100, for a 3-D model without an intensity window.");
        if (p.IntensityChannelWise == true && (p.InputSize.Count != 3 || p.IntensityWindow is not null))
            throw new ModelFormatException($"{source}: intensity_channel_wise applies to 3-D models scaled by their minimum and maximum or percentiles, not through an intensity window.");
        if (p.AlignModalities == true && p.InputSize.Count != 3)
            throw new ModelFormatException($"{source}: align_modalities applies to 3-D models only.");
        if (p.Fit is { } fit && (fit is not ("resize" or "crop_or_pad") || (fit == "crop_or_pad" && p.InputSize.Count != 3)))
            throw new ModelFormatException($"{source}: fit must be 'resize' or, for a 3-D model, 'crop_or_pad', not '{fit}'.");
        if (!double.IsFinite(card.Temperature) || card.Temperature <= 0)
            throw new ModelFormatException($"{source}: the temperature must be a finite positive number, not {card.Temperature}.");
        if (card.Temperature != 1 && string.Equals(card.Task, nameof(MedMnistTask.MultiLabel), StringComparison.OrdinalIgnoreCase))
            throw new ModelFormatException($"{source}: a softmax temperature applies to single-label tasks, not to multi-label ones.");
        if (TemperatureSetting.Parse(card.CoralTemperatureName, source, "") == CoralTemperature.CumulativeLogits && !card.HasCoralHead)
            throw new ModelFormatException($"{source}: coral_temperature \"{ModelCard.CumulativeLogitsTemperature}\" scales a CORAL head's cumulative logits; this card's network has no CORAL head.");
        if (card.Conformal is { } conformal)
        {
            if (string.Equals(card.Task, nameof(MedMnistTask.MultiLabel), StringComparison.OrdinalIgnoreCase))
                throw new ModelFormatException($"{source}: conformal prediction sets apply to single-label tasks, not to multi-label ones.");
            conformal.ToClassifier(source, card.ClassNames.Count);
            TemperatureSetting.CheckHeld(conformal.Temperature, conformal.CoralTemperatureName, card, source, "the conformal calibration's ", "conformal thresholds were calibrated",
                "the thresholds do not hold for these probabilities: calibrate again.");
        }
        if (card.Referral is { } referral)
        {
            if (string.Equals(card.Task, nameof(MedMnistTask.MultiLabel), StringComparison.OrdinalIgnoreCase))
                throw new ModelFormatException($"{source}: a referral decision applies to single-label tasks, not to multi-label ones.");
            referral.Validate(source, card.ClassNames.Count, card);
        }
        if (card.OrdinalDecisionName is { } decision)
        {
            if (!decision.Equals(ModelCard.MedianDecision, StringComparison.OrdinalIgnoreCase) && !decision.Equals("most_probable", StringComparison.OrdinalIgnoreCase))
                throw new ModelFormatException($"{source}: unknown ordinal decision '{decision}' (most_probable or median).");
            if (card.OrdinalDecision == OrdinalDecision.Median && !string.Equals(card.Task, nameof(MedMnistTask.OrdinalRegression), StringComparison.OrdinalIgnoreCase))
                throw new ModelFormatException($"{source}: the median decision reads grade probabilities; the task is {card.Task}, not {nameof(MedMnistTask.OrdinalRegression)}.");
            // A temperature on the grade probabilities keeps the most probable grade but moves the median: it would change
            // the predictions. One on a CORAL head's cumulative logits keeps every threshold's sign, and so the median.
            if (card.OrdinalDecision == OrdinalDecision.Median && card.Temperature != 1 && card.CoralTemperature != CoralTemperature.CumulativeLogits)
                throw new ModelFormatException(string.Create(CultureInfo.InvariantCulture,
                    $"{source}: a temperature ({card.Temperature}) on the grade probabilities would move the median grade the card decides by, and so change the predictions; keep temperature 1 with the median decision, decide by the most probable grade, or (for a CORAL head) scale its cumulative logits (coral_temperature \"{ModelCard.CumulativeLogitsTemperature}\")."));
        }
        if (card.FindingThresholds is { } thresholds)
        {
            if (!string.Equals(card.Task, nameof(MedMnistTask.MultiLabel), StringComparison.OrdinalIgnoreCase))
                throw new ModelFormatException($"{source}: finding thresholds apply to multi-label tasks, not to {card.Task} ones (their decisions are a referral operating point).");
            if (thresholds.Count != card.ClassNames.Count || thresholds.Any(t => !(t > 0 && t < 1)))
                throw new ModelFormatException($"{source}: the finding thresholds [{string.Join(", ", thresholds.Select(t => t.ToString(CultureInfo.InvariantCulture)))}] must be one probability strictly between 0 and 1 for each of the {card.ClassNames.Count} findings.");
            if (card.FindingThresholdsFlips is { } flips) PredictorSettings.ParseFlips(flips, source, "finding thresholds'");
        }
        else if (card.FindingThresholdsFlips is not null || card.FindingThresholdsMixedPrecision is not null)
            throw new ModelFormatException($"{source}: finding_thresholds_flips and finding_thresholds_mixed_precision describe finding thresholds; the card has none.");
    }

    // Before anything is built: the stages, blocks per stage, widths and input channels the card describes must be those
    // of the weights. A corrupt card (layers [1000000, 2, 2, 2], widths of 10^6) would otherwise build a model of that
    // size, for minutes or until memory runs out, only for the strict load to refuse it.
    private static void CheckCardAgainstWeights(ModelCard card, SafeTensorDictionary weights, string source)
    {
        var r = card.ResNet!;
        string Problem(string what) => $"The weights in {source} do not fit the {card.Architecture} its card describes: {what}";
        var blocks = new Dictionary<int, int>();
        foreach (var key in weights.Keys)
        {
            var parts = key.Split('.');
            if (parts.Length < 3 || !parts[0].StartsWith("layer", StringComparison.Ordinal)
                || !int.TryParse(parts[0].AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out int stage)
                || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int block)) continue;
            blocks[stage] = Math.Max(blocks.GetValueOrDefault(stage), block + 1);
        }
        if (blocks.Count != r.Layers.Count || blocks.Keys.Any(stage => stage < 1 || stage > r.Layers.Count))
            throw new ModelFormatException(Problem($"the card has {r.Layers.Count} stages, the weights {blocks.Count} (layer1, layer2, …)."));
        for (int stage = 1; stage <= r.Layers.Count; stage++)
        {
            if (blocks[stage] != r.Layers[stage - 1])
                throw new ModelFormatException(Problem($"the card has {r.Layers[stage - 1]} blocks in layer{stage}, the weights {blocks[stage]}."));
            if (stage <= r.Widths.Count && weights.TryGetValue($"layer{stage}.0.conv1.weight", out var conv) && conv.Shape.Length > 0 && conv.Shape[0] != r.Widths[stage - 1])
                throw new ModelFormatException(Problem($"the card gives layer{stage} a width of {r.Widths[stage - 1]}, the weights {conv.Shape[0]}."));
        }
        if (weights.TryGetValue("conv1.weight", out var stem) && stem.Shape.Length > 1 && (stem.Shape[1] != r.InChannels || stem.Shape.Length != r.SpatialDims + 2))
            throw new ModelFormatException(Problem($"the card describes a {r.SpatialDims}-D model of {r.InChannels} input channel(s), the first convolution's weight is [{string.Join(", ", stem.Shape)}]."));
    }

    private static bool HasNullEntry(IEnumerable<string?>? items) => items?.Any(i => i is null) == true;

    private static VisionTransformerOptions VisionTransformerOptionsOf(VisionTransformerCard v) => new()
    {
        InChannels = v.InChannels, SpatialDims = v.SpatialDims, ImageSize = v.ImageSize.ToArray(), PatchSize = v.PatchSize.ToArray(), HiddenSize = v.HiddenSize,
        NumLayers = v.NumLayers, NumHeads = v.NumHeads, MlpDim = v.MlpDim, Dropout = v.Dropout, NumClasses = v.NumClasses, LayerNormEps = v.LayerNormEps,
    };

    // Before anything is built, as for a ResNet: the layers, token dimension, patches and channels of the card must be
    // those of the weights (a corrupt card would otherwise build a model of its size before the strict load refuses it).
    private static void CheckVisionTransformerAgainstWeights(ModelCard card, SafeTensorDictionary weights, string source)
    {
        var v = card.Vit!;
        string Problem(string what) => $"The weights in {source} do not fit the vit its card describes: {what}";
        int layers = weights.Keys.Select(k => k.Split('.')).Where(p => p.Length > 3 && p[0] == "encoder" && p[1] == "layers")
            .Select(p => int.TryParse(p[2], NumberStyles.None, CultureInfo.InvariantCulture, out int i) ? i + 1 : 0).DefaultIfEmpty(0).Max();
        if (layers != v.NumLayers) throw new ModelFormatException(Problem($"the card has {v.NumLayers} encoder layers, the weights {layers}."));
        long[] projection = [v.HiddenSize, v.InChannels, .. v.PatchSize.Select(p => (long)p)];
        if (!weights.TryGetValue("conv_proj.weight", out var conv) || !conv.Shape.SequenceEqual(projection))
            throw new ModelFormatException(Problem($"the patch embedding conv_proj.weight should be [{string.Join(", ", projection)}], the weights have {(conv is null ? "none" : $"[{string.Join(", ", conv.Shape)}]")}."));
        long tokens = VisionTransformerOptionsOf(v).PatchCount + 1L;   // the card was validated: sizes are multiples of the patches
        if (!weights.TryGetValue("pos_embedding", out var position) || !position.Shape.SequenceEqual(new[] { 1L, tokens, v.HiddenSize }))
            throw new ModelFormatException(Problem($"pos_embedding should be [1, {tokens}, {v.HiddenSize}], the weights have {(position is null ? "none" : $"[{string.Join(", ", position.Shape)}]")}."));
    }

    private static VisionTransformer BuildVisionTransformer(ModelCard card, string source)
    {
        try
        {
            return new VisionTransformer(VisionTransformerOptionsOf(card.Vit!));
        }
        catch (ArgumentException e)
        {
            throw new ModelFormatException($"{source}: invalid vision-transformer options: {e.Message}", e);
        }
    }

    private static ResNet Build(ModelCard card, string source)
    {
        var r = card.ResNet!;
        var options = new ResNetOptions
        {
            Block = r.Block.ToLowerInvariant() switch
            {
                "basic" => ResidualBlockKind.Basic,
                "bottleneck" => ResidualBlockKind.Bottleneck,
                _ => throw new ModelFormatException($"{source}: unknown ResNet block '{r.Block}' (basic or bottleneck)."),
            },
            Layers = r.Layers.ToArray(),
            Widths = r.Widths.ToArray(),
            InChannels = r.InChannels,
            SpatialDims = r.SpatialDims,
            Stem = r.Stem.ToLowerInvariant() switch
            {
                "imagenet" => ResNetStem.ImageNet,
                "small_input" => ResNetStem.SmallInput,
                _ => throw new ModelFormatException($"{source}: unknown ResNet stem '{r.Stem}' (imagenet or small_input)."),
            },
            StemKernelSize = r.StemKernelSize?.ToArray(),
            StemStride = r.StemStride?.ToArray(),
            ReplaceStrideWithDilation = r.ReplaceStrideWithDilation?.ToArray(),
            StageStrides = r.StageStrides?.ToArray(),
            StageDilations = r.StageDilations?.ToArray(),
            Shortcut = r.Shortcut?.ToLowerInvariant() switch
            {
                null or "projection" => ResidualShortcut.Projection,
                "zero_padding" => ResidualShortcut.ZeroPadding,
                _ => throw new ModelFormatException($"{source}: unknown ResNet shortcut '{r.Shortcut}' (projection or zero_padding)."),
            },
            NumClasses = r.NumClasses,
            Head = card.HasCoralHead ? ClassifierHead.Coral : ClassifierHead.Linear,
            DropoutRate = r.Dropout,
        };
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            throw new ModelFormatException($"{source}: invalid ResNet options: {e.Message}", e);
        }
        return new ResNet(options);
    }

}
