using MedVision.Nets.Data.Images;
using MedVision.Nets.Data.Nifti;
using MedVision.Nets.Explainability;
using MedVision.Nets.Losses;
using MedVision.Nets.Metrics;
using MedVision.Nets.Models;
using MedVision.Nets.Transforms;
using MedVision.Torch;
using MedVision.Torch.Jit;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Inference;

/// <summary>
/// Loads a model file once and predicts from image files, streams, raw pixels, NIfTI volumes or tensors, singly or in
/// batches, on CPU or CUDA. One instance is safe to call from many threads at once: the model is only read (evaluation
/// mode, no gradients, thread-local dispose scopes), and every call owns its tensors.
/// </summary>
public sealed class Predictor : IDisposable
{
    private readonly Module<Tensor, Tensor>? _model;
    private readonly IPredictorNetwork? _network;
    private readonly ITransform _resize; // to the input size: a Resize, or for volumes of a crop_or_pad card a ResizeWithPadOrCrop
    private readonly Normalize _normalize;
    private readonly NormalizeIntensity? _intensity;
    private readonly Data.Loading.VolumeGeometry _geometry;
    private readonly MedMnistTask _task;
    private readonly UsageGuard _guard;

    private Predictor(Module<Tensor, Tensor>? model, IPredictorNetwork? network, ModelCard card, Device device, TestTimeFlips flips, bool mixedPrecision)
    {
        MixedPrecision = mixedPrecision;
        _model = model;
        _network = network;
        _guard = new UsageGuard(() =>
        {
            _model?.Dispose();
            _network?.Dispose();
        });
        Card = card;
        Device = device;
        Flips = flips;
        _task = Enum.Parse<MedMnistTask>(card.Task, ignoreCase: true);
        var size = card.Preprocessing.InputSize;
        var mode = card.Preprocessing.Resize == "nearest" ? ResizeMode.Nearest : ResizeMode.Linear;
        _resize = size.Count != 3 ? new Transforms.Resize(size[0], size[1], mode)
            : card.Preprocessing.Fit == "crop_or_pad" ? new ResizeWithPadOrCrop(size[0], size[1], size[2])
            : new Transforms.Resize(size[0], size[1], size[2], mode);
        _normalize = new Normalize(card.Preprocessing.Mean.ToArray(), card.Preprocessing.Std.ToArray());
        if (card.Preprocessing.IntensityNormalization is { } n) _intensity = new NormalizeIntensity(n.NonZero, n.ChannelWise);
        var pre = card.Preprocessing;
        _geometry = new(pre.Orientation, pre.Spacing?.ToArray(), pre.AlignModalities == true,
            pre.CropForeground is { } crop ? new CropForeground(crop.Threshold, crop.Margin) : null,
            pre.IntensityWindow is null && pre.IntensityPercentiles is [var lower, var upper] ? (lower, upper) : null,
            pre.IntensityChannelWise == true);
        InputKey = size.Count != 3 ? (pre.ResizeEightBit == true ? $"image:{pre.Channels}:8bit:{size[0]}x{size[1]}" : $"image:{pre.Channels}")
            : "volume:" + System.Text.Json.JsonSerializer.Serialize(pre);
        string? note = null;
        Conformal = card.Conformal?.For(flips, mixedPrecision, "model file", "predictor", out note);
        ConformalNote = note;
        Referral = card.Referral?.For(flips, mixedPrecision, "model file", "predictor", out note);
        ReferralNote = card.Referral is null ? null : note;
        if (card.FindingThresholds is { } thresholds)
        {
            var chosen = PredictorSettings.ParseFlips(card.FindingThresholdsFlips ?? nameof(TestTimeFlips.None), "The model card", "finding thresholds'");
            FindingThresholdsNote = PredictorSettings.Mismatch("finding thresholds were chosen", chosen, card.FindingThresholdsMixedPrecision == true, flips, mixedPrecision, "model file", "predictor",
                "predictions carry no findings. Load it with those settings, or choose the thresholds again.");
            FindingThresholds = FindingThresholdsNote is null ? thresholds.AsReadOnly() : null;
        }
    }

    /// <summary>
    /// The model file's threshold of each finding (<see cref="ModelCard.FindingThresholds"/>), by which every prediction
    /// of a multi-label model reports its <see cref="Prediction.Findings"/>; null when the file has none or when this
    /// predictor's flips or precision differ from those the thresholds were chosen under.
    /// </summary>
    public IReadOnlyList<double>? FindingThresholds { get; }

    /// <summary>Why predictions carry no findings although the model file has finding thresholds; null otherwise.</summary>
    public string? FindingThresholdsNote { get; }

    /// <summary>
    /// The model file's referral decision (<see cref="ModelCard.Referral"/>), which gives every prediction its
    /// <see cref="Prediction.ReferralRisk"/> and <see cref="Prediction.Referred"/>; null when the file has none or when
    /// this predictor's flips or precision differ from those the threshold was chosen under.
    /// </summary>
    public ReferralCard? Referral { get; }

    /// <summary>Why predictions carry no referral decision although the model file has one; null otherwise.</summary>
    public string? ReferralNote { get; }

    /// <summary>
    /// The model file's conformal calibration, which gives every prediction its <see cref="Prediction.ConformalSet"/>;
    /// null when the file has none or when this predictor's flips or precision differ from the calibration's.
    /// </summary>
    public Metrics.Conformal.ConformalClassifier? Conformal { get; }

    /// <summary>Why predictions carry no conformal sets although the model file has a calibration; null otherwise.</summary>
    public string? ConformalNote { get; }

    /// <summary>
    /// Loads a model file (see <see cref="ModelFile"/>) onto a device (CPU by default), optionally averaging each
    /// prediction over flipped copies of the input (<see cref="TestTimeFlips"/>).
    /// </summary>
    /// <param name="path">The model file.</param>
    /// <param name="device">Where the model runs (CPU by default).</param>
    /// <param name="flips">Test-time flips averaged into each prediction.</param>
    /// <param name="mixedPrecision">Run the network under bfloat16 autocast (<see cref="Tensors.Autocast"/>): about twice
    /// the throughput for batches on CPUs with bfloat16 instructions, probabilities within about 1e-2 of float32's; for
    /// single images float32 (with its pre-packed convolution weights) is usually faster (docs/benchmarks.md).</param>
    public static Predictor Load(string path, Device? device = null, TestTimeFlips flips = TestTimeFlips.None, bool mixedPrecision = false)
    {
        var dev = device ?? Device.Cpu;
        if (dev.IsCuda && !Tensors.Cuda.IsAvailable) throw new ArgumentException($"{dev} was requested but CUDA is not available: {Tensors.Cuda.UnavailableReason}", nameof(device));
        PredictorSettings.CheckFlips(flips, nameof(flips));
        var (model, card) = ModelFile.Load(path);
        try
        {
            if (flips.HasFlag(TestTimeFlips.Depth) && card.Preprocessing.InputSize.Count != 3)
                throw new ArgumentException("Depth flips need a 3-D model; this one takes 2-D images.", nameof(flips));
            model.To(dev);
            return new Predictor(model, null, card, dev, flips, mixedPrecision);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A predictor over another engine's network (e.g. ONNX Runtime running an exported graph, see MedVision.Onnx.Runtime):
    /// the card gives the preprocessing, classes and task, <paramref name="network"/> computes the logits; everything
    /// else — decoding, resizing, normalising, test-time flips, probabilities, labels, grades, thread safety — is this
    /// class's. The predictor owns the network and disposes it. It gives no gradients, so it explains with neither class-activation maps nor attributions (<see cref="CanExplain"/>, <see cref="CanAttribute"/>).
    /// </summary>
    /// <exception cref="ModelFormatException">The card is invalid: its task, class names, preprocessing or temperature (any architecture name is accepted; a ResNet's options are checked when present).</exception>
    /// <exception cref="ArgumentException">The flips do not suit the card's input.</exception>
    public static Predictor Create(ModelCard card, IPredictorNetwork network, TestTimeFlips flips = TestTimeFlips.None)
    {
        ArgumentNullException.ThrowIfNull(card);
        ArgumentNullException.ThrowIfNull(network);
        PredictorSettings.CheckFlips(flips, nameof(flips));
        ModelFile.Validate(card, "the card", anyArchitecture: true);
        if (flips.HasFlag(TestTimeFlips.Depth) && card.Preprocessing.InputSize.Count != 3)
            throw new ArgumentException("Depth flips need a 3-D model; this one takes 2-D images.", nameof(flips));
        return new Predictor(null, network, card, network.Device, flips, mixedPrecision: false);
    }

    /// <summary>The model's card: classes, preprocessing, task, metrics.</summary>
    public ModelCard Card { get; }

    /// <summary>Whether the network runs under bfloat16 autocast (the probabilities are float32 either way).</summary>
    public bool MixedPrecision { get; }

    /// <summary>The flips every prediction is averaged over (none by default).</summary>
    public TestTimeFlips Flips { get; }

    /// <summary>The device the model runs on.</summary>
    public Device Device { get; }

    /// <summary>Class names, index = class.</summary>
    public IReadOnlyList<string> ClassNames => Card.ClassNames;

    /// <summary>
    /// True when <see cref="Explain(FloatImage, CamMethod, int?)"/> can map the model's attention with some
    /// <see cref="CamMethod"/>: the model is a ResNet (Grad-CAM, Grad-CAM++) or a vision transformer (attention
    /// rollout, gradient-weighted or not) — not a TorchScript model, whose layers the predictor does not know. See <see cref="CanExplainWith"/>.
    /// </summary>
    public bool CanExplain => _model is ResNet or VisionTransformer;

    /// <summary>
    /// True when <see cref="Explain(FloatImage, CamMethod, int?)"/> can map the model's attention with
    /// <paramref name="method"/>: Grad-CAM and Grad-CAM++ for a ResNet, attention rollout and gradient-weighted attention
    /// rollout for a vision transformer.
    /// </summary>
    public bool CanExplainWith(CamMethod method) => CamRefusal(method) is null;

    // Why the predictor cannot draw `method`'s map, or null when it can.
    private string? CamRefusal(CamMethod method) => method.MapsAttention()
        ? _model is VisionTransformer ? null : $"{method.DisplayName()} needs a vision transformer; this model is a {(_model?.GetType().Name ?? _network!.GetType().Name)} ({Card.Architecture}). Check CanExplainWith first{(_model is ResNet ? ", or map it with Grad-CAM" : ", or explain with an AttributionMethod")}."
        : _model is ResNet ? null
        : _model is VisionTransformer ? $"{method} needs a ResNet (a convolutional feature map); this model is a vision transformer: map it with CamMethod.AttentionRollout or CamMethod.GradientAttentionRollout. Check CanExplainWith first."
        : $"Class-activation maps need a ResNet or a vision transformer; this model is a {(_model?.GetType().Name ?? _network!.GetType().Name)} ({Card.Architecture}). Check CanExplain first, or explain with an AttributionMethod.";

    /// <summary>
    /// True when <see cref="Explain(FloatImage, AttributionMethod, int?, AttributionOptions?)"/> can attribute the prediction to the input's
    /// pixels: the network is a libtorch one (any model file, TorchScript included), not another engine's
    /// (<see cref="Create"/>), which gives no gradients.
    /// </summary>
    public bool CanAttribute => _model is not null;

    /// <summary>
    /// True when the predictor can explain with <paramref name="method"/>: any libtorch network for integrated
    /// gradients, SmoothGrad, saliency and GradientSHAP (<see cref="CanAttribute"/>); one whose ReLUs run in this
    /// library, not a TorchScript model, for guided backpropagation, DeepLIFT and DeepLIFT SHAP; a ResNet
    /// (<see cref="CanExplain"/>) for guided Grad-CAM.
    /// </summary>
    public bool CanAttributeWith(AttributionMethod method) => AttributionRefusal(method) is null;

    // Why the predictor cannot attribute with `method`, or null when it can.
    internal string? AttributionRefusal(AttributionMethod method)
    {
        if (_model is null)
            return $"Gradient attributions need a libtorch network; this one runs on another engine ({_network!.GetType().Name}), which gives no gradients. Check CanAttribute first.";
        if (method == AttributionMethod.GuidedGradCam && _model is not ResNet)
            return $"Guided Grad-CAM needs a ResNet (Grad-CAM is taken on its last stage); this model is a {_model.GetType().Name} ({Card.Architecture}). Check CanAttributeWith first.";
        if (method is AttributionMethod.GuidedBackprop or AttributionMethod.DeepLift or AttributionMethod.DeepLiftShap && _model is ScriptModule)
            return $"{(method == AttributionMethod.GuidedBackprop ? "Guided backpropagation" : method == AttributionMethod.DeepLift ? "DeepLIFT" : "DeepLIFT SHAP")} changes the backward pass through the network's ReLUs, which a TorchScript model runs inside libtorch's interpreter, out of this library's reach; explain it with integrated gradients, SmoothGrad or saliency. Check CanAttributeWith first.";
        return null;
    }

    /// <summary>
    /// Predicts one file: for a 2-D model an image (JPEG, PNG or DICOM); for a 3-D model a volume — a NIfTI file
    /// (<c>.nii</c>, <c>.nii.gz</c>; a multi-contrast file's volumes as channels) or a folder holding a DICOM series —
    /// prepared as <see cref="PredictVolume"/> does, or, when the card names <see cref="PreprocessingCard.Modalities"/>,
    /// a subject folder holding one file or series per modality.
    /// </summary>
    public Prediction PredictFile(string path) => Predict(FromFile(path));

    /// <summary>Predicts files (see <see cref="PredictFile"/>) as one batch per <paramref name="batchSize"/> files.</summary>
    public IReadOnlyList<Prediction> PredictFiles(IEnumerable<string> paths, int batchSize = 32)
    {
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var results = new List<Prediction>();
        foreach (var chunk in paths.Chunk(batchSize)) results.AddRange(Predict(chunk.Select(FromFile).ToList()));
        return results;
    }

    // The model's [0, 1] input from a file (decoded, and for volumes prepared as the card says; resized and normalised later).
    internal FloatImage FromFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Card.Preprocessing.InputSize.Count != 3 ? FromRaster(ImageCodec.DecodeFile(path)) : VolumesFromFile(path).Image;
    }

    // A 3-D model's input from a file or folder: a NIfTI file or DICOM series folder, or a subject folder of the card's modalities.
    internal Data.Loading.PreparedVolume VolumesFromFile(string path)
    {
        if (Card.Preprocessing.Modalities is { } modalities)
        {
            if (!Directory.Exists(path))
                throw new ArgumentException($"This model takes subject folders holding {string.Join(", ", modalities)} (one NIfTI file or DICOM series folder each); '{path}' is not a folder.", nameof(path));
            return FromVolumes(Data.Loading.VolumeFolderSource.ReadSubjectAt(path, modalities), owned: true, path);
        }
        return FromVolumes(Data.Loading.VolumeFolderSource.ReadVolumesAt(path), owned: true, path);
    }

    /// <summary>Predicts an encoded image (JPEG or PNG) read from a stream.</summary>
    public Prediction Predict(Stream stream, string sourceName = "stream")
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return Predict(FromRaster(ImageCodec.Decode(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), sourceName)));
    }

    /// <summary>Predicts raw 8-bit pixels (H, W, C) interleaved, C = 1 or 3.</summary>
    public Prediction PredictPixels(byte[] pixels, int width, int height, int channels)
        => Predict(FromRaster(new RasterImage(width, height, channels, pixels)));

    /// <summary>
    /// Predicts a 3-D volume (for 3-D models): reoriented to the model's <see cref="PreprocessingCard.Orientation"/>
    /// when it records one, resampled to its <see cref="PreprocessingCard.Spacing"/> when it records one, cropped to its
    /// foreground when the card has a <see cref="PreprocessingCard.CropForeground"/>, resized, intensities mapped to [0, 1] (through the card's
    /// <see cref="PreprocessingCard.IntensityWindow"/>, else by its <see cref="PreprocessingCard.IntensityPercentiles"/>, else by the volume's minimum and maximum) and normalised (by its
    /// own statistics when the card has an <see cref="PreprocessingCard.IntensityNormalization"/>, then by the card's mean
    /// and sd) — as <see cref="Data.Loading.VolumeFolderSource"/> and the training pipeline prepared training volumes.
    /// </summary>
    public Prediction PredictVolume(NiftiImage volume)
    {
        ArgumentNullException.ThrowIfNull(volume);
        return Predict(FromVolumes([volume], owned: false, "volume").Image);
    }

    /// <summary>
    /// Predicts a multi-channel volume given as its channels (e.g. the MRI contrasts of one subject, in the order the
    /// model was trained on, as a multi-volume NIfTI file or <see cref="Data.Loading.VolumeFolderSource"/> gives them),
    /// each prepared as <see cref="PredictVolume"/> prepares a volume: channels on one grid cropped and resized together,
    /// channels on different grids (modalities acquired apart) resampled onto the first channel's grid when the card says
    /// <see cref="PreprocessingCard.AlignModalities"/>, else each cropped and resized on its own; the [0, 1] scaling spans
    /// all channels unless the card says <see cref="PreprocessingCard.IntensityChannelWise"/>.
    /// </summary>
    /// <exception cref="ArgumentException">No channels, or a null one.</exception>
    public Prediction PredictVolumes(IReadOnlyList<NiftiImage> channels)
    {
        CheckChannels(channels);
        return Predict(FromVolumes(channels, owned: false, "channels").Image);
    }

    /// <summary>
    /// Which predictors decode an input alike: those of equal keys turn the same file, stream, pixels or volumes into the
    /// same [0, 1] image (2-D models: the channel count; 3-D models: the whole preprocessing), so an ensemble decodes
    /// once per key.
    /// </summary>
    internal string InputKey { get; }

    internal static void CheckChannels(IReadOnlyList<NiftiImage> channels)
    {
        ArgumentNullException.ThrowIfNull(channels);
        if (channels.Count == 0) throw new ArgumentException("Give at least one channel.", nameof(channels));
        if (channels.Any(c => c is null)) throw new ArgumentException("A channel is null.", nameof(channels));
    }

    // Volumes as the model's (C, D, H, W) input: reoriented and cropped to the foreground as the card says, resized, scaled to [0, 1] (window or min–max)
    // (in place, so on a copy unless the volume is this call's own: read from a file, or made by Reorient or by stacking channels).
    internal Data.Loading.PreparedVolume FromVolumes(IReadOnlyList<NiftiImage> volumes, bool owned, string source)
    {
        if (Card.Preprocessing.InputSize.Count != 3) throw new InvalidOperationException("This model takes 2-D images, not volumes.");
        // Reoriented, cropped and resized as VolumeFolderSource prepares training volumes: resized before the intensities
        // are mapped (a min–max scaling or a clamping window does not commute with interpolation).
        var prepared = Data.Loading.VolumeFolderSource.Prepare(volumes, _geometry, _resize, owned, source);
        prepared.ScaledToUnitRange(Card.Preprocessing.IntensityWindow is [var center, var width] ? (center, width) : null);
        return prepared;
    }

    /// <summary>
    /// Predicts one preprocessed-to-[0, 1] image or volume (C, H, W) / (C, D, H, W); resizing and normalisation (the
    /// card's per-input <see cref="PreprocessingCard.IntensityNormalization"/>, then its mean and sd) are applied here.
    /// Under a card that resizes 8-bit pixels (<see cref="PreprocessingCard.ResizeEightBit"/>), an image whose values are
    /// all k / 255 (made from 8-bit pixels) is resized as those bytes, as <see cref="PredictPixels"/> would; any other
    /// image has no bytes to resize, and is resized as floats.
    /// </summary>
    public Prediction Predict(FloatImage image) => Predict(new[] { image ?? throw new ArgumentNullException(nameof(image)) })[0];

    /// <summary>Predicts a batch of [0, 1] images or volumes.</summary>
    public IReadOnlyList<Prediction> Predict(IReadOnlyList<FloatImage> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Count == 0) return Array.Empty<Prediction>();
        CheckImages(images, nameof(images));
        using var scope = Tensors.NewDisposeScope();
        return PredictTensor(Prepare(images));
    }

    /// <summary>
    /// Predicts one file and explains the prediction with a class-activation map on the model's last stage (see
    /// <see cref="GradCam"/>; for a vision transformer, <see cref="CamMethod.AttentionRollout"/> or
    /// <see cref="CamMethod.GradientAttentionRollout"/>), or explains <paramref name="targetClass"/> instead of the predicted class: for a 2-D model
    /// an image file; for a 3-D model a volume as <see cref="PredictFile"/> reads it (a NIfTI file, a DICOM series
    /// folder, or a subject folder of the card's modalities), whose explanation can be placed back on the scan
    /// (<see cref="Explanation.ToSourceVolume"/>).
    /// </summary>
    public Explanation ExplainFile(string path, CamMethod method = CamMethod.GradCam, int? targetClass = null)
        => ExplainFileWith(path, method, targetClass);

    /// <summary>
    /// Predicts one file (see <see cref="ExplainFile(string, CamMethod, int?)"/>) and explains the prediction, or
    /// <paramref name="targetClass"/>, with a gradient attribution on the input (see <see cref="Explain(FloatImage, AttributionMethod, int?, AttributionOptions?)"/>).
    /// </summary>
    public Explanation ExplainFile(string path, AttributionMethod method, int? targetClass = null, AttributionOptions? options = null)
        => ExplainFileWith(path, ExplanationMethod.Of(method, options), targetClass);

    private Explanation ExplainFileWith(string path, ExplanationMethod method, int? targetClass)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        method.Check(nameof(method));
        return Card.Preprocessing.InputSize.Count != 3
            ? ExplainWith(FromRaster(ImageCodec.DecodeFile(path)), method, targetClass)
            : ExplainPrepared(VolumesFromFile(path), method, targetClass);
    }

    /// <summary>
    /// Predicts a 3-D volume prepared as <see cref="PredictVolume"/> prepares it and explains the prediction (see
    /// <see cref="Explain(FloatImage, CamMethod, int?)"/>); the explanation knows where its map lies in the volume's world
    /// (<see cref="Explanation.ToSourceVolume"/>, <see cref="Explanation.ToVolume"/>).
    /// </summary>
    public Explanation ExplainVolume(NiftiImage volume, CamMethod method = CamMethod.GradCam, int? targetClass = null)
    {
        ArgumentNullException.ThrowIfNull(volume);
        return ExplainPrepared(FromVolumes([volume], owned: false, "volume"), method, targetClass);
    }

    /// <summary>Predicts a 3-D volume and explains the prediction with a gradient attribution (see <see cref="ExplainVolume(NiftiImage, CamMethod, int?)"/> and <see cref="Explain(FloatImage, AttributionMethod, int?, AttributionOptions?)"/>).</summary>
    public Explanation ExplainVolume(NiftiImage volume, AttributionMethod method, int? targetClass = null, AttributionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(volume);
        return ExplainPrepared(FromVolumes([volume], owned: false, "volume"), ExplanationMethod.Of(method, options), targetClass);
    }

    /// <summary>
    /// Predicts a multi-channel volume given as its channels (see <see cref="PredictVolumes"/>) and explains the
    /// prediction; the map is placed back on the first channel's grid by <see cref="Explanation.ToSourceVolume"/>.
    /// </summary>
    /// <exception cref="ArgumentException">No channels, or a null one.</exception>
    public Explanation ExplainVolumes(IReadOnlyList<NiftiImage> channels, CamMethod method = CamMethod.GradCam, int? targetClass = null)
    {
        CheckChannels(channels);
        return ExplainPrepared(FromVolumes(channels, owned: false, "channels"), method, targetClass);
    }

    /// <summary>Predicts a multi-channel volume and explains the prediction with a gradient attribution (see <see cref="ExplainVolumes(IReadOnlyList{NiftiImage}, CamMethod, int?)"/> and <see cref="Explain(FloatImage, AttributionMethod, int?, AttributionOptions?)"/>).</summary>
    /// <exception cref="ArgumentException">No channels, or a null one.</exception>
    public Explanation ExplainVolumes(IReadOnlyList<NiftiImage> channels, AttributionMethod method, int? targetClass = null, AttributionOptions? options = null)
    {
        CheckChannels(channels);
        return ExplainPrepared(FromVolumes(channels, owned: false, "channels"), ExplanationMethod.Of(method, options), targetClass);
    }

    internal Explanation ExplainPrepared(Data.Loading.PreparedVolume prepared, ExplanationMethod method, int? targetClass)
        => ExplainWith(prepared.Image, method, targetClass) with { InputGrid = prepared.Grid, SourceGrid = prepared.Source };

    /// <summary>
    /// Predicts one [0, 1] image or volume (C, H, W) / (C, D, H, W) and explains the prediction with a
    /// class-activation map (at the model's input size, values in [0, 1]) on the model's last stage (for a vision
    /// transformer, <see cref="CamMethod.AttentionRollout"/>'s map, the same for every class, or
    /// <see cref="CamMethod.GradientAttentionRollout"/>'s, the class's); or explains
    /// <paramref name="targetClass"/> instead of the predicted class. With <see cref="Flips"/>, the map is the average
    /// of the flipped copies' maps, each flipped back, rescaled to [0, 1] (as the prediction averages their
    /// probabilities), so the explanation of a mirrored image is the mirrored explanation. A CORAL head
    /// (<see cref="ModelCard.HasCoralHead"/>) scores every grade by one severity score, so every grade's map is that
    /// score's: what raises the grade.
    /// </summary>
    public Explanation Explain(FloatImage image, CamMethod method = CamMethod.GradCam, int? targetClass = null)
        => ExplainWith(image, method, targetClass);

    /// <summary>
    /// Predicts one [0, 1] image or volume (C, H, W) / (C, D, H, W) and explains the prediction — or
    /// <paramref name="targetClass"/> — with a gradient attribution of the class's logit on the preprocessed input
    /// (<see cref="IntegratedGradients"/> from the input space's zero as baseline, <see cref="SmoothGrad"/>, absolute
    /// <see cref="Saliency"/>, <see cref="GuidedBackprop"/>, <see cref="GuidedGradCam"/>, <see cref="DeepLift"/>
    /// against the same zero baseline, or <see cref="GradientShap"/> and <see cref="DeepLiftShap"/> against
    /// <see cref="AttributionOptions.References"/>, prepared as the image is), shown as
    /// <see cref="Attributions.ToMaps"/> shows it, at the model's input size. By default (<paramref name="options"/>
    /// null) Captum's settings: 50 Gauss–Legendre points; 25 copies at 15 % noise, seed 0; the magnitude summed over the
    /// channels, scaled to [0, 1] with the top 2 % of the total saturated. Works for any libtorch network, TorchScript
    /// included (<see cref="CanAttribute"/>), except the guided methods and DeepLIFT (SHAP) (<see cref="CanAttributeWith"/>);
    /// computed in float32 also under <see cref="MixedPrecision"/>. With <see cref="Flips"/>, the flipped copies' attributions are
    /// flipped back and averaged before the map is made.
    /// </summary>
    /// <param name="image">The image or volume, values in [0, 1].</param>
    /// <param name="method">Integrated gradients, SmoothGrad, saliency, guided backpropagation, guided Grad-CAM, DeepLIFT, GradientSHAP or DeepLIFT SHAP.</param>
    /// <param name="targetClass">The class explained; null for the predicted one.</param>
    /// <param name="options">The method's settings, the SHAP methods' reference images and the map's sign and outlier share; null for the defaults (which hold no references).</param>
    /// <exception cref="ArgumentException">A SHAP method without references, or a reference image that does not fit the model.</exception>
    /// <exception cref="NotSupportedException">The network runs on another engine, which gives no gradients (see <see cref="CanAttribute"/>), or cannot be explained with the guided or DeepLIFT method asked for (see <see cref="CanAttributeWith"/>).</exception>
    public Explanation Explain(FloatImage image, AttributionMethod method, int? targetClass = null, AttributionOptions? options = null)
        => ExplainWith(image, ExplanationMethod.Of(method, options), targetClass);

    internal Explanation ExplainWith(FloatImage image, ExplanationMethod method, int? targetClass)
    {
        ArgumentNullException.ThrowIfNull(image);
        method.Check(nameof(method));
        using var lease = _guard.Enter(this);
        if (targetClass is { } t && (t < 0 || t >= Card.ClassNames.Count))
            throw new ArgumentOutOfRangeException(nameof(targetClass), t, $"The model has {Card.ClassNames.Count} classes.");
        if (method.Cam is { } asked && CamRefusal(asked) is { } camRefusal) throw new NotSupportedException(camRefusal);
        if (method.Attribution is { } attribution && AttributionRefusal(attribution) is { } refusal) throw new NotSupportedException(refusal);
        method.RequireReferences();
        CheckImages(new[] { image }, nameof(image));
        var referenceImages = ReferencesOf(method);
        using var scope = Tensors.NewDisposeScope();
        var batch = Prepare(new[] { image });
        var references = referenceImages is null ? null : Prepare(referenceImages);
        var prediction = PredictTensor(batch)[0];
        long target = targetClass ?? prediction.Label;
        // A CORAL head's K − 1 cumulative logits are one severity score plus each threshold's bias: every grade's
        // gradient (and attribution) is the score's, so its first logit is explained whichever grade is asked for.
        var targets = new[] { Card.HasCoralHead ? 0 : target };
        Tensor map;
        double? delta = null, change = null;
        if (method.Cam is { } cam)
        {
            Func<Tensor, Tensor> draw = cam switch
            {
                CamMethod.AttentionRollout => x => new AttentionRollout((VisionTransformer)_model!).Compute(x, targets).Maps,
                CamMethod.GradientAttentionRollout => x => new GradientAttentionRollout((VisionTransformer)_model!).Compute(x, targets).Maps,
                _ => x => GradCam.ForResNet((ResNet)_model!, cam).Compute(x, targets).Maps,
            };
            map = draw(batch);
            if (Flips != TestTimeFlips.None)
            {
                // the predictor averages over flipped copies, so the map does too: each copy's map flipped back
                foreach (var dims in FlipCombinations(batch.Dim)) map = map + draw(batch.Flip(dims)).Flip(dims);
                map = GradCam.NormalizePerSample(map);
            }
        }
        else
        {
            var o = method.Settings;
            Func<Tensor, Attributions> attribute = method.Attribution switch
            {
                AttributionMethod.IntegratedGradients => x => new IntegratedGradients(_model!, o.Steps, o.Rule, o.BatchSize).Compute(x, targets),
                AttributionMethod.SmoothGrad => x => new SmoothGrad(_model!, o.Samples, o.NoiseLevel, o.Squared, o.BatchSize, o.Seed).Compute(x, targets),
                AttributionMethod.GuidedBackprop => x => new GuidedBackprop(_model!).Compute(x, targets),
                AttributionMethod.GuidedGradCam => x => GuidedGradCam.ForResNet((ResNet)_model!).Compute(x, targets),
                AttributionMethod.DeepLift => x => new DeepLift(_model!, o.BatchSize).Compute(x, targets),
                AttributionMethod.GradientShap => x => new GradientShap(_model!, o.Samples, 0, o.BatchSize, o.Seed).Compute(x, references!, targets),
                AttributionMethod.DeepLiftShap => x => new DeepLiftShap(_model!, o.BatchSize).Compute(x, references!, targets),
                _ => x => new Saliency(_model!).Compute(x, targets),
            };
            // Each (flipped) copy's attributions, flipped back and summed; the methods that add up report by how much
            // they miss, averaged over the copies as the prediction averages them.
            var copies = new List<(Attributions Result, long[] Dims)> { (attribute(batch), []) };
            foreach (var dims in FlipCombinations(batch.Dim)) copies.Add((attribute(batch.Flip(dims)), dims));
            var values = copies[0].Result.Values;
            foreach (var (result, dims) in copies.Skip(1)) values = values + result.Values.Flip(dims);
            if (copies[0].Result.ConvergenceDeltas is not null)
            {
                delta = copies.Average(c => c.Result.ConvergenceDeltas![0]);
                change = copies.Average(c => c.Result.Values.To(ScalarType.Float64).Sum().Item<double>() - c.Result.ConvergenceDeltas![0]);
            }
            map = new Attributions(values, targets, new[] { 0f }).ToMaps(o.Sign, o.OutlierPercent).Maps;
        }
        var shape = batch.Shape.Skip(2).Select(d => (int)d).ToArray();
        return new Explanation(prediction, (int)target, Card.ClassNames[(int)target], map.ToArray<float>(), shape) { ConvergenceDelta = delta, ScoreChange = change };
    }

    // The SHAP methods' reference images: those the options give, checked as an input is; or their files read as
    // ExplainFile reads its file (each file's trouble reported by its place in the list). Null for other methods.
    private IReadOnlyList<FloatImage>? ReferencesOf(ExplanationMethod method)
    {
        if (!method.UsesReferences) return null;
        var images = method.Settings.References;
        if (images is null)
        {
            var files = method.Settings.ReferenceFiles!;
            var read = new FloatImage[files.Count];
            for (int i = 0; i < files.Count; i++)
            {
                if (string.IsNullOrEmpty(files[i])) throw new ArgumentException($"Reference file {i} of {files.Count} is {(files[i] is null ? "null" : "empty")}.", "options");
                try { read[i] = FromFile(files[i]); }
                catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
                {
                    throw new ArgumentException($"Reference file {i} of {files.Count} ({files[i]}) cannot be read as this model's input: {e.Message}", "options", e);
                }
            }
            images = read;
        }
        CheckReferences(images);
        return images;
    }

    // The SHAP methods' reference images: the same checks as an input's, reported against the options.
    private void CheckReferences(IReadOnlyList<FloatImage> references) => CheckImages(references, "options", "Reference image");

    // No null image, and no NaN or infinity: the network would turn it into NaN probabilities, and the argmax of those
    // into class 0, a confident-looking answer. (Nearest resizing could even drop the bad pixel; so look before it.)
    // Also the image's rank and channel count: the model's (a grey image is turned to RGB for an RGB model).
    private void CheckImages(IReadOnlyList<FloatImage> images, string parameterName, string noun = "Image")
    {
        int rank = Card.Preprocessing.InputSize.Count, channels = Card.Preprocessing.Channels;
        for (int i = 0; i < images.Count; i++)
        {
            if (images[i] is null) throw new ArgumentException($"{noun} {i} of {images.Count} is null.", parameterName);
            var shape = images[i].Shape;
            if (shape.Length - 1 != rank)
                throw new ArgumentException($"{noun} {i} of {images.Count} has shape [{string.Join(", ", shape)}]; the model takes {(rank == 3 ? "volumes (C, D, H, W)" : "images (C, H, W)")}.", parameterName);
            // A grey image is repeated for a 3-channel (RGB) 2-D model; a volume's channels are contrasts, never repeated.
            if (shape[0] != channels && !(shape[0] == 1 && channels == 3 && rank == 2))
                throw new ArgumentException($"{noun} {i} of {images.Count} has {shape[0]} channel(s); the model expects {channels}{(channels == 3 && rank == 2 ? " (or 1, repeated)" : "")}.", parameterName);
            var data = images[i].Data;
            for (int j = 0; j < data.Length; j++)
            {
                if (!float.IsFinite(data[j]))
                    throw new ArgumentException($"{noun} {i} of {images.Count} holds {data[j].ToString(System.Globalization.CultureInfo.InvariantCulture)} at element {j}; the model cannot predict from NaN or infinite values.", parameterName);
            }
        }
    }

    /// <summary>
    /// The batch the network takes for <paramref name="images"/> ([0, 1] images or volumes, (C, H, W) / (C, D, H, W)):
    /// channels matched, resized and normalised as the card says — what <see cref="Predict(IReadOnlyList{FloatImage})"/>
    /// feeds the network — as float32 (N, C, …) on <see cref="Device"/>, registered in the current dispose scope. For
    /// running other analyses on the model's inputs: explanations, faithfulness curves, feature extraction.
    /// </summary>
    /// <exception cref="ArgumentException">No images, or an image whose rank or channels do not fit the model, or that holds NaN or infinite values.</exception>
    public Tensor Preprocess(IReadOnlyList<FloatImage> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Count == 0) throw new ArgumentException("At least one image is needed.", nameof(images));
        using var lease = _guard.Enter(this);
        CheckImages(images, nameof(images));
        return Prepare(images);
    }

    // Resizes, normalises and stacks [0, 1] images into one batch on the model's device (in the current scope).
    private Tensor Prepare(IReadOnlyList<FloatImage> images)
    {
        var rng = new Random(0);
        var prepared = images.Select(i =>
        {
            var image = Channels(i.Clone());
            var resized = EightBit(image) ?? _resize.Apply(image, rng);
            return _normalize.Apply(_intensity?.Apply(resized, rng) ?? resized, rng);
        }).ToList();
        var shape = new long[] { prepared.Count }.Concat(prepared[0].Shape.Select(s => (long)s)).ToArray();
        var data = new float[prepared.Sum(p => p.Data.Length)];
        for (int i = 0, offset = 0; i < prepared.Count; offset += prepared[i].Data.Length, i++) Array.Copy(prepared[i].Data, 0, data, offset, prepared[i].Data.Length);
        return Tensors.FromSpan<float>(data, shape, Device);
    }

    /// <summary>Predicts a ready batch tensor (N, C, H, W) or (N, C, D, H, W), already preprocessed.</summary>
    public IReadOnlyList<Prediction> PredictTensor(Tensor batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var lease = _guard.Enter(this);
        float[] probabilities;
        int k;
        using (var scope = Tensors.NewDisposeScope())
        using (Tensors.NoGrad())
        {
            var input = batch.Device == Device ? batch : batch.To(Device);
            if (input.Dim >= 1 && input.NumElements > 0 && input.ScalarType is ScalarType.Float32 or ScalarType.Float64 or ScalarType.Float16 or ScalarType.BFloat16)
            {
                var finite = input.IsFinite().To(ScalarType.Int64).Reshape(input.Size(0), -1).Amin(new long[] { 1 }).To(ScalarType.Int64, Device.Cpu).ToArray<long>();
                int bad = Array.IndexOf(finite, 0L);
                if (bad >= 0) throw new ArgumentException($"Sample {bad} of the batch holds NaN or infinite values; the model cannot predict from them.", nameof(batch));
            }
            var scores = Scores(input);
            foreach (var dims in FlipCombinations(input.Dim)) scores = scores + Scores(input.Flip(dims));
            scores = scores / (1 << FlipCount);
            k = (int)scores.Size(1);
            probabilities = scores.To(ScalarType.Float32, Device.Cpu).ToArray<float>();
        }
        var results = new Prediction[probabilities.Length / k];
        for (int i = 0; i < results.Length; i++)
        {
            results[i] = Prediction.FromProbabilities(probabilities.AsSpan(i * k, k).ToArray(), Card.ClassNames, _task == MedMnistTask.OrdinalRegression, Conformal, Referral, FindingThresholds, median: Card.OrdinalDecision == OrdinalDecision.Median);
        }
        return results;
    }

    // Probabilities of one batch: sigmoid for multi-label tasks, softmax(logits / T) otherwise; for a CORAL head the
    // grades' probabilities of its cumulative logits at the temperature, applied where the card says (ModelCard.CoralTemperature).
    private Tensor Scores(Tensor input)
    {
        Tensor logits;
        if (_network is not null) logits = _network.Logits(input);
        else using (MixedPrecision ? Tensors.Autocast(Device.Type, ScalarType.BFloat16) : null) logits = _model!.Forward(input);
        int outputs = Card.HasCoralHead ? Card.ClassNames.Count - 1 : Card.ClassNames.Count;
        if (logits.Dim != 2 || logits.Size(0) != input.Size(0) || logits.Size(1) != outputs)
            throw new InvalidOperationException($"The network gave logits of shape [{string.Join(", ", logits.Shape)}] for a batch of {input.Size(0)}; the card names {Card.ClassNames.Count} classes"
                + (Card.HasCoralHead ? $" ({outputs} cumulative logits of a CORAL head)." : "."));
        if (logits.ScalarType != ScalarType.Float32) logits = logits.To(ScalarType.Float32);
        if (_task == MedMnistTask.MultiLabel) return logits.Sigmoid();
        if (!Card.HasCoralHead) return (Card.Temperature == 1 ? logits : logits / Card.Temperature).Softmax(1);
        return OrdinalDecoding.ToClassProbabilities(logits, Card.Temperature, Card.CoralTemperature);
    }

    private int FlipCount => System.Numerics.BitOperations.PopCount((uint)Flips);

    // Every non-empty combination of the chosen flip axes (W = last, H = second last, D = third last).
    private IEnumerable<long[]> FlipCombinations(int rank)
    {
        var axes = new List<long>();
        if (Flips.HasFlag(TestTimeFlips.Horizontal)) axes.Add(rank - 1);
        if (Flips.HasFlag(TestTimeFlips.Vertical)) axes.Add(rank - 2);
        if (Flips.HasFlag(TestTimeFlips.Depth)) axes.Add(rank - 3);
        for (int mask = 1; mask < 1 << axes.Count; mask++)
            yield return axes.Where((_, i) => (mask & (1 << i)) != 0).ToArray();
    }

    // A [0, 1] image whose values are all 8-bit values (k / 255, as FromBytesHwc makes them), under a card that resizes
    // 8-bit pixels (resize_8bit): those bytes prepared as PredictPixels prepares them (FromRaster). Null for any other
    // image (it has no bytes to resize: resized as floats), for other cards, and when no resizing is needed.
    private FloatImage? EightBit(FloatImage image)
    {
        var size = Card.Preprocessing.InputSize;
        if (Card.Preprocessing.ResizeEightBit != true || image.Shape.Length != 3 || (image.Height == size[0] && image.Width == size[1])) return null;
        int channels = image.Channels, plane = image.PlaneSize;
        var bytes = new byte[image.Data.Length];
        for (int c = 0; c < channels; c++)
            for (int i = 0; i < plane; i++)
            {
                float v = image.Data[(c * plane) + i], k = MathF.Round(v * 255f);
                if (!(k >= 0 && k <= 255) || k / 255f != v) return null;
                bytes[(i * channels) + c] = (byte)k;
            }
        return FromRaster(new RasterImage(image.Width, image.Height, channels, bytes));
    }

    internal FloatImage FromRaster(RasterImage raster)
    {
        if (Card.Preprocessing.InputSize.Count != 2) throw new InvalidOperationException("This model takes 3-D volumes; use PredictVolume.");
        var channels = Card.Preprocessing.Channels;
        var converted = raster.Channels == channels ? raster : raster.WithChannels(channels);
        // As ImageFolderSource prepared training images: the 8-bit pixels resized (rounded to bytes), then scaled.
        if (Card.Preprocessing.ResizeEightBit == true) converted = converted.Resize(Card.Preprocessing.InputSize[1], Card.Preprocessing.InputSize[0]);
        return FloatImage.FromBytesHwc(converted.Pixels, converted.Height, converted.Width, converted.Channels);
    }

    private FloatImage Channels(FloatImage image)
    {
        int want = Card.Preprocessing.Channels;
        if (image.Channels == want) return image;
        if (image.Channels == 1 && want == 3) return image.GreyToRgb();
        throw new ArgumentException($"The model expects {want} channel(s) but the input has {image.Channels}.");
    }

    /// <summary>
    /// Frees the model. Calls already running on other threads finish first (the model is freed when the last returns);
    /// later calls throw <see cref="ObjectDisposedException"/>.
    /// </summary>
    public void Dispose() => _guard.Dispose();
}
