using MedVision.Nets.Data.Images;
using MedVision.Nets.Data.Segmentation;
using MedVision.Nets.Transforms;
using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Inference;

/// <summary>
/// Segments 2-D images (fundus photographs, dermoscopy, X-ray, microscopy) with a trained network: decodes a JPEG or
/// PNG, prepares it as the training images were prepared (<see cref="ImageSegmentationOptions"/>: channels, size,
/// normalisation), runs the network window by window (<see cref="SlidingWindowInferer"/>; a softmax over the classes,
/// or for a network with one output channel a sigmoid: background and foreground), optionally averages over flipped
/// copies, brings the class probabilities back to the image's own size where it was resized (bilinear, as nnU-Net
/// exports), takes the arg-max class per pixel there, optionally keeps the largest connected components, and returns
/// the <see cref="SegmentationMap"/>.
/// </summary>
/// <remarks>
/// One instance is safe to call from many threads at once (e.g. the request threads of a web service): the network is
/// put in evaluation mode when the predictor is made and is only read afterwards, every call owns its tensors, and
/// each call reads <see cref="Flips"/> and <see cref="KeepLargestComponentClasses"/> once when it starts (set them before
/// sharing the predictor). A predictor made by <see cref="Load"/> owns its network and frees it when disposed; one
/// made from a network leaves it to the caller. 3-D scans: <see cref="SegmentationPredictor"/>.
/// </remarks>
public sealed class ImageSegmentationPredictor : IDisposable
{
    private readonly Module<Tensor, Tensor> _model;
    private readonly SlidingWindowInferer _inferer;
    private readonly IReadOnlyList<string> _classNames;
    private readonly bool _ownsModel;
    private readonly IPredictorNetwork? _network;   // another engine's network the predictor owns (Create)
    private readonly UsageGuard _guard;

    /// <summary>Creates a predictor.</summary>
    /// <param name="model">The trained 2-D network: (N, C, H, W) → logits (N, classes, H, W), or (N, 1, H, W) for a sigmoid network.</param>
    /// <param name="preprocessing">The preparation the training images had (the training source's <see cref="ImageMaskFolderSource.Options"/>).</param>
    /// <param name="inferer">The 2-D sliding window (its size a multiple of the network's, e.g. <see cref="Models.UNet.SizeMultiple"/>).</param>
    /// <param name="classNames">The class names, background first (two for a sigmoid network).</param>
    /// <param name="device">The device to run on (default CPU); the model is moved there and put in evaluation mode.</param>
    /// <exception cref="ArgumentException">The options are invalid, the window is not 2-D, fewer than two classes are named, or CUDA was asked for and is not available.</exception>
    public ImageSegmentationPredictor(Module<Tensor, Tensor> model, ImageSegmentationOptions preprocessing, SlidingWindowInferer inferer, IReadOnlyList<string> classNames, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(preprocessing);
        ArgumentNullException.ThrowIfNull(inferer);
        ArgumentNullException.ThrowIfNull(classNames);
        preprocessing.Validate(nameof(preprocessing));
        if (inferer.WindowSize.Count != 2) throw new ArgumentException($"Images are 2-D: the window needs two sizes, got {inferer.WindowSize.Count}.", nameof(inferer));
        if (classNames.Count < 2 || classNames.Any(string.IsNullOrEmpty)) throw new ArgumentException("Name the background and at least one structure.", nameof(classNames));
        Device = device ?? Device.Cpu;
        if (Device.IsCuda && !Tensors.Cuda.IsAvailable) throw new ArgumentException($"{Device} was requested but CUDA is not available: {Tensors.Cuda.UnavailableReason}", nameof(device));
        _model = model;
        _inferer = inferer;
        _classNames = classNames.ToArray();
        Preprocessing = preprocessing;
        _model.To(Device);
        _model.Eval();
        _guard = new UsageGuard(() =>
        {
            if (_ownsModel) _model.Dispose();
            _network?.Dispose();
        });
    }

    private ImageSegmentationPredictor(Module<Tensor, Tensor> model, SegmentationCard card, Device? device, IPredictorNetwork? network = null)
        : this(model, card.ImagePreprocessing(), card.Inferer(), card.ClassNames, device)
    {
        _ownsModel = true;
        _network = network;
        Card = card;
        KeepLargestComponentClasses = card.KeepLargestComponent ?? [];
        KeepLargestForeground = card.KeepLargestForeground == true;
    }

    /// <summary>
    /// A predictor over another engine's network (ONNX Runtime running an exported graph, see MedVision.Onnx.Runtime's
    /// <c>OnnxRuntimePredictor.LoadImageSegmentation</c>): the card gives the preparation, classes and window, the
    /// network computes the logits (N, classes or 1, H, W) of each batch of windows. The predictor owns the network and
    /// disposes it.
    /// </summary>
    /// <exception cref="ModelFormatException">The card is invalid, describes a 3-D network, or one whose channels images cannot give.</exception>
    public static ImageSegmentationPredictor Create(SegmentationCard card, IPredictorNetwork network)
    {
        ArgumentNullException.ThrowIfNull(card);
        ArgumentNullException.ThrowIfNull(network);
        SegmentationModelFile.Validate(card, "the card");
        RequireImageNetwork(card, "The card describes", "SegmentationPredictor.Create");
        return new ImageSegmentationPredictor(new PredictorNetworkModule(network), card, network.Device, network);
    }

    /// <summary>
    /// A predictor from a 2-D segmentation model file (<see cref="SegmentationModelFile.Save"/>): the U-Net, the
    /// preparation of images, the classes and the sliding window as the file's card records them. Dispose it to free the network.
    /// </summary>
    /// <exception cref="ModelFormatException">The file has no usable segmentation card, holds a 3-D network or one whose channels images cannot give, or its weights do not fit the card.</exception>
    public static ImageSegmentationPredictor Load(string path, Device? device = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return LoadEnsemble([path], device);
    }

    /// <summary>
    /// A predictor from several 2-D segmentation model files (the folds of a cross-validation, or runs of different
    /// seeds): each window's class probabilities are the mean of the members' (softmax, or sigmoid for one-channel
    /// networks), before flips are averaged and the arg-max is taken. The members must share the classes, output,
    /// preparation and window (their architectures may differ); the first file's card is the predictor's.
    /// </summary>
    /// <exception cref="ModelFormatException">A file is unusable or holds a 3-D network, or the members do not share what they must (naming the file and the fields).</exception>
    /// <param name="paths">The model files, at least one.</param>
    /// <param name="device">Where the networks run (CPU by default).</param>
    /// <param name="weights">Each member's weight in the mean (finite, non-negative, not all 0; normalised to sum to 1); equal weights when null.</param>
    /// <exception cref="ArgumentException">No paths, or bad weights.</exception>
    public static ImageSegmentationPredictor LoadEnsemble(IReadOnlyList<string> paths, Device? device = null, IReadOnlyList<double>? weights = null)
    {
        var (model, card, keepLargest, foreground) = SegmentationModelFile.LoadEnsemble(paths, weights);
        try
        {
            RequireImageNetwork(card, $"{paths[0]} holds", "SegmentationPredictor.Load");
            return new ImageSegmentationPredictor(model, card, device) { EnsembleSize = paths.Count, KeepLargestComponentClasses = keepLargest, KeepLargestForeground = foreground };
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A predictor from a segmentation ensemble manifest of 2-D models (<see cref="SegmentationModelFile.SaveEnsembleManifest"/>):
    /// its model files as <see cref="LoadEnsemble"/> loads them, with the post-processing the manifest records for the
    /// ensemble — unless a member file has changed since it was chosen (<see cref="PostprocessingNote"/> then says so,
    /// and the members' cards decide as for <see cref="LoadEnsemble"/>).
    /// </summary>
    /// <exception cref="FileNotFoundException">The manifest or a model file it lists does not exist.</exception>
    /// <exception cref="ModelFormatException">The manifest is not a valid one, a file is unusable or holds a 3-D network, or the members do not share what they must.</exception>
    public static ImageSegmentationPredictor LoadManifest(string path, Device? device = null)
    {
        var (model, card, keepLargest, foreground, members, note) = SegmentationModelFile.LoadManifest(path);
        try
        {
            RequireImageNetwork(card, $"{path} lists", "SegmentationPredictor.LoadManifest");
            return new ImageSegmentationPredictor(model, card, device)
            {
                EnsembleSize = members, KeepLargestComponentClasses = keepLargest, KeepLargestForeground = foreground, PostprocessingNote = note,
            };
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Why the post-processing a manifest records for its ensemble is not applied (<see cref="LoadManifest"/>: a member
    /// file has changed since it was chosen); null otherwise.
    /// </summary>
    public string? PostprocessingNote { get; private init; }

    // A 2-D network taking the channels images have; `subject` names the file or card in the message.
    private static void RequireImageNetwork(SegmentationCard card, string subject, string scanPredictor)
    {
        if (card.SpatialDims != 2) throw new ModelFormatException($"{subject} a 3-D U-Net; segment scans with {scanPredictor}.");
        if (card.InChannels is not (1 or 3)) throw new ModelFormatException($"{subject} a U-Net of {card.InChannels} input channels; images give 1 (grey) or 3 (RGB).");
    }

    /// <summary>How many networks' probabilities each prediction averages (<see cref="LoadEnsemble"/>); 1 otherwise.</summary>
    public int EnsembleSize { get; private init; } = 1;

    /// <summary>The card of the file the predictor was loaded from (null when made from a network).</summary>
    public SegmentationCard? Card { get; }

    /// <summary>The class names, background first.</summary>
    public IReadOnlyList<string> ClassNames => _classNames;

    /// <summary>The preparation of each image.</summary>
    public ImageSegmentationOptions Preprocessing { get; }

    /// <summary>The device the network runs on.</summary>
    public Device Device { get; }

    /// <summary>
    /// Whether the predictions are post-processed at all: any structure kept to its largest connected component
    /// (<see cref="KeepLargestComponentClasses"/>), or the structures as one (<see cref="KeepLargestForeground"/>).
    /// Setting it true keeps every structure's largest component (leaving <see cref="KeepLargestForeground"/> as it
    /// is); false turns both off.
    /// </summary>
    public bool KeepLargestComponent
    {
        get => KeepLargestComponentClasses.Count > 0 || KeepLargestForeground;
        set
        {
            KeepLargestComponentClasses = value ? Enumerable.Range(1, _classNames.Count - 1).ToArray() : [];
            if (!value) KeepLargestForeground = false;
        }
    }

    /// <summary>
    /// Whether the structures taken as one (every class above 0) first keep only their largest connected component
    /// (<see cref="ConnectedComponents.KeepLargestForeground"/>, with <see cref="ComponentConnectivity"/>), before
    /// <see cref="KeepLargestComponentClasses"/>: from the model file's card (<see cref="SegmentationCard.KeepLargestForeground"/>,
    /// nnU-Net's first post-processing step; for an ensemble, when every member records it) or false.
    /// </summary>
    public bool KeepLargestForeground
    {
        get => Volatile.Read(ref _keepLargestForeground);
        set => Volatile.Write(ref _keepLargestForeground, value);
    }

    private bool _keepLargestForeground;

    /// <summary>
    /// The structures (foreground classes) that keep only their largest connected component
    /// (<see cref="ComponentConnectivity"/>), ascending: from the model file's card
    /// (<see cref="SegmentationCard.KeepLargestComponent"/>, nnU-Net's post-processing chosen on held-out cases; for an
    /// ensemble, the members' choice when they share one) or empty.
    /// </summary>
    /// <exception cref="ArgumentException">A class is not a structure (1 to the class count − 1).</exception>
    public IReadOnlyList<int> KeepLargestComponentClasses
    {
        get => Volatile.Read(ref _keepLargest);
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            if (value.Any(k => k < 1 || k >= _classNames.Count))
                throw new ArgumentException($"Only structures (classes 1 to {_classNames.Count - 1}) keep their largest component; got [{string.Join(", ", value)}].", nameof(value));
            Volatile.Write(ref _keepLargest, [.. value.Distinct().Order()]);
        }
    }

    private int[] _keepLargest = [];

    /// <summary>How <see cref="KeepLargestComponentClasses"/> connects pixels: those touching at an edge or a corner (8-connectivity).</summary>
    public static Connectivity ComponentConnectivity => Connectivity.Edge;

    /// <summary>
    /// Flipped copies of the image whose probabilities are averaged with the image's: <see cref="TestTimeFlips.Horizontal"/>,
    /// <see cref="TestTimeFlips.Vertical"/> or both (4 passes). Choose flips the anatomy allows. Default none.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Depth, or a value that is not a combination of the two flips.</exception>
    public TestTimeFlips Flips
    {
        get;
        set => field = SegmentationInference.CheckFlips(value, 2, nameof(Flips));
    }

    /// <summary>Segments a JPEG or PNG file.</summary>
    /// <exception cref="Data.DataFormatException">The file cannot be decoded.</exception>
    public SegmentationMap Predict(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return Predict(ImageCodec.DecodeFile(path));
    }

    /// <summary>Segments an encoded image (JPEG or PNG) read from a stream.</summary>
    /// <exception cref="Data.DataFormatException">The stream does not hold a JPEG or PNG image.</exception>
    public SegmentationMap Predict(Stream stream, string sourceName = "stream")
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(sourceName);
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return Predict(ImageCodec.Decode(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), sourceName));
    }

    /// <summary>Segments a decoded image; the map has the image's size.</summary>
    /// <exception cref="ArgumentException">The network's output does not fit (another spatial size, or another number of classes than named).</exception>
    public SegmentationMap Predict(RasterImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var postprocessing = (Volatile.Read(ref _keepLargest), KeepLargestForeground);
        var (probabilities, height, width) = Run(image);
        return Map(probabilities, height, width, image, postprocessing);
    }

    /// <summary>
    /// The map (as <see cref="Predict(RasterImage)"/>) and the class probabilities (as <see cref="PredictProbabilities"/>)
    /// from one pass of the network: for a viewer that shows both, or to keep the probabilities beside the mask.
    /// </summary>
    /// <exception cref="ArgumentException">The network's output does not fit.</exception>
    public (SegmentationMap Map, IReadOnlyList<float[]> Probabilities) PredictWithProbabilities(RasterImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var postprocessing = (Volatile.Read(ref _keepLargest), KeepLargestForeground);
        var (probabilities, height, width) = Run(image);
        var onImage = OnImage(probabilities, height, width, image);
        return (Map(probabilities, height, width, image, postprocessing, onImage), onImage);
    }

    // The label map on the image's size: the arg-max of the probabilities there — where the image was resized, the
    // probabilities are resized back (bilinear, `onImage` when already done) before the arg-max, as nnU-Net exports its
    // predictions — then post-processed on that size.
    private SegmentationMap Map(float[][] probabilities, int height, int width, RasterImage image, (int[]? Classes, bool Foreground) postprocessing, IReadOnlyList<float[]>? onImage = null)
    {
        var values = height == image.Height && width == image.Width ? probabilities : [.. onImage ?? OnImage(probabilities, height, width, image)];
        var labels = SegmentationInference.ArgMax(values);
        labels = SegmentationInference.KeepLargest(labels, [image.Height, image.Width], postprocessing.Classes, probabilities.Length, ComponentConnectivity, postprocessing.Foreground);
        return new SegmentationMap(labels, image.Height, image.Width, _classNames);
    }

    // The prepared image's probabilities on the image's size (bilinear where it was resized).
    private static IReadOnlyList<float[]> OnImage(float[][] probabilities, int height, int width, RasterImage image)
    {
        if (height == image.Height && width == image.Width) return probabilities;
        var resized = new Transforms.Resize(image.Height, image.Width, ResizeMode.Linear)
            .Apply(new FloatImage(probabilities.SelectMany(p => p).ToArray(), probabilities.Length, height, width), new Random(0));
        int plane = image.Height * image.Width;
        return Enumerable.Range(0, probabilities.Length).Select(k => resized.Data.AsSpan(k * plane, plane).ToArray()).ToList();
    }

    /// <summary>
    /// The probability of each class per pixel (averaged over the <see cref="Flips"/>), one array of Height·Width
    /// values per class (x fastest) on the image's size (bilinear where the image was resized): for thresholds other
    /// than the arg-max, uncertainty maps, or ensembles.
    /// </summary>
    /// <exception cref="ArgumentException">The network's output does not fit.</exception>
    public IReadOnlyList<float[]> PredictProbabilities(RasterImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var (probabilities, height, width) = Run(image);
        return OnImage(probabilities, height, width, image);
    }

    /// <summary>
    /// Frees the network when the predictor owns it (made by <see cref="Load"/>). Predictions already running on other
    /// threads finish first (the network is freed when the last returns); later calls throw <see cref="ObjectDisposedException"/>.
    /// </summary>
    public void Dispose() => _guard.Dispose();

    private (float[][] Probabilities, int Height, int Width) Run(RasterImage image)
    {
        using var lease = _guard.Enter(this);
        var flips = Flips;
        var prepared = Preprocessing.Prepare(image);
        var probabilities = SegmentationInference.Probabilities(_model, _inferer, prepared.Data, prepared.Shape, Device, SegmentationInference.FlipAxes(flips, 2), nameof(image));
        if (probabilities.Length != _classNames.Count)
            throw new ArgumentException($"The network gave {probabilities.Length} classes (a sigmoid network two) but {_classNames.Count} class names were given ({string.Join(", ", _classNames)}).", nameof(image));
        return (probabilities, prepared.Height, prepared.Width);
    }
}
