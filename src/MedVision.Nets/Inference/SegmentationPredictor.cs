using MedVision.Nets.Data.Nifti;
using MedVision.Nets.Data.Segmentation;
using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Inference;

/// <summary>
/// Segments NIfTI scans with a trained network: prepares the scan as the training samples were prepared
/// (<see cref="NiftiSegmentationOptions"/>: orientation, voxel size, normalisation), runs the network window by
/// window (<see cref="SlidingWindowInferer"/>; a softmax over the classes, or for a network with one output channel a
/// sigmoid: background and foreground), brings the class probabilities back onto the scan's own grid where the scan
/// was reoriented or resampled (trilinear through the world coordinates, as nnU-Net exports its predictions), takes the
/// arg-max class per voxel there and optionally keeps the largest connected components, so that the label map
/// overlays the scan in any viewer when written with <see cref="NiftiWriter"/>.
/// One instance is safe to call from many threads at once (e.g. the request threads of a service): the network is put
/// in evaluation mode when the predictor is made and is only read afterwards, every call owns its tensors, and each
/// call reads <see cref="Flips"/> and <see cref="KeepLargestComponentClasses"/> once when it starts (set them before sharing
/// the predictor). A predictor made by <see cref="Load"/> owns its network and frees it when disposed; one made from a
/// network leaves it to the caller. 2-D images: <see cref="ImageSegmentationPredictor"/>.
/// </summary>
public sealed class SegmentationPredictor : IDisposable
{
    private readonly Module<Tensor, Tensor> _model;
    private readonly SlidingWindowInferer _inferer;
    private readonly bool _ownsModel;
    private IPredictorNetwork? _network;   // another engine's network the predictor owns (Create)
    private readonly UsageGuard _guard;

    /// <summary>
    /// Creates a predictor of a network that gives <paramref name="classes"/> classes (background included; 2 for a
    /// one-channel sigmoid network): <see cref="Classes"/>, <see cref="KeepLargestComponent"/> and
    /// <see cref="KeepLargestComponentClasses"/> know them before the first prediction, and a network that gives
    /// another number is refused when it predicts.
    /// </summary>
    /// <param name="model">The trained network: (N, C, spatial…) → logits (N, classes, spatial…).</param>
    /// <param name="preprocessing">The preparation the training samples had.</param>
    /// <param name="inferer">The sliding window.</param>
    /// <param name="classes">The classes the network gives (at least 2).</param>
    /// <param name="device">The device to run on (default CPU).</param>
    public SegmentationPredictor(Module<Tensor, Tensor> model, NiftiSegmentationOptions preprocessing, SlidingWindowInferer inferer, int classes, Device? device = null)
        : this(classes >= 2 ? model : throw new ArgumentOutOfRangeException(nameof(classes), classes, "A segmentation network gives at least 2 classes (background and one structure)."), preprocessing, inferer, device)
    {
        Classes = classes;
    }

    /// <summary>Creates a predictor; the class count is learnt from the network's first prediction (see the overload that takes it).</summary>
    /// <param name="model">The trained network: (N, C, spatial…) → logits (N, classes, spatial…).</param>
    /// <param name="preprocessing">The preparation the training samples had (e.g. the training source's <see cref="NiftiSegmentationSource.Options"/>).</param>
    /// <param name="inferer">The sliding window (its window size a multiple of the network's, e.g. <see cref="Models.UNet.SizeMultiple"/>).</param>
    /// <param name="device">The device to run on (default CPU); the model is moved there and put in evaluation mode.</param>
    public SegmentationPredictor(Module<Tensor, Tensor> model, NiftiSegmentationOptions preprocessing, SlidingWindowInferer inferer, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(preprocessing);
        ArgumentNullException.ThrowIfNull(inferer);
        preprocessing.Validate(nameof(preprocessing));
        if (inferer.WindowSize.Count != 3) throw new ArgumentException($"Scans are 3-D: the window needs three sizes, got {inferer.WindowSize.Count}.", nameof(inferer));
        _model = model;
        Preprocessing = preprocessing;
        _inferer = inferer;
        Device = device ?? Device.Cpu;
        if (Device.IsCuda && !Tensors.Cuda.IsAvailable) throw new ArgumentException($"{Device} was requested but CUDA is not available: {Tensors.Cuda.UnavailableReason}", nameof(device));
        _model.To(Device);
        _model.Eval();
        _guard = new UsageGuard(() =>
        {
            if (_ownsModel) _model.Dispose();
            _network?.Dispose();
        });
    }

    /// <summary>
    /// A predictor from a segmentation model file (<see cref="SegmentationModelFile.Save"/>): the U-Net, the preparation
    /// of scans and the sliding window as the file's card records them. Dispose it to free the network.
    /// </summary>
    /// <exception cref="ModelFormatException">The file has no usable segmentation card, holds a 2-D network, or its weights do not fit the card.</exception>
    public static SegmentationPredictor Load(string path, Device? device = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return LoadEnsemble([path], device);
    }

    /// <summary>
    /// A predictor from several segmentation model files (nnU-Net's ensemble of the folds of a cross-validation, or
    /// runs of different seeds): each window's class probabilities are the mean of the members' (softmax, or sigmoid for
    /// one-channel networks), before flips are averaged and the arg-max is taken. The members must share the classes,
    /// output, preparation and window (their architectures may differ); the first file's card is the predictor's.
    /// </summary>
    /// <exception cref="ModelFormatException">A file is unusable or holds a 2-D network, or the members do not share what they must (naming the file and the fields).</exception>
    /// <param name="paths">The model files, at least one.</param>
    /// <param name="device">Where the networks run (CPU by default).</param>
    /// <param name="weights">Each member's weight in the mean (finite, non-negative, not all 0; normalised to sum to 1); equal weights when null.</param>
    /// <exception cref="ArgumentException">No paths, or bad weights.</exception>
    public static SegmentationPredictor LoadEnsemble(IReadOnlyList<string> paths, Device? device = null, IReadOnlyList<double>? weights = null)
    {
        var (model, card, keepLargest, foreground) = SegmentationModelFile.LoadEnsemble(paths, weights);
        try
        {
            if (card.SpatialDims != 3) throw new ModelFormatException($"{paths[0]} holds a 2-D U-Net; segment images with ImageSegmentationPredictor.Load.");
            return new SegmentationPredictor(model, card.Preprocessing(), card.Inferer(), device, ownsModel: true)
            {
                Card = card, Classes = card.ClassNames.Count, EnsembleSize = paths.Count, KeepLargestComponentClasses = keepLargest, KeepLargestForeground = foreground,
            };
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A predictor from a segmentation ensemble manifest (<see cref="SegmentationModelFile.SaveEnsembleManifest"/>): its
    /// model files as <see cref="LoadEnsemble"/> loads them, with the post-processing the manifest records for the
    /// ensemble — unless a member file has changed since it was chosen (<see cref="PostprocessingNote"/> then says so,
    /// and the members' cards decide as for <see cref="LoadEnsemble"/>).
    /// </summary>
    /// <exception cref="FileNotFoundException">The manifest or a model file it lists does not exist.</exception>
    /// <exception cref="ModelFormatException">The manifest is not a valid one, a file is unusable or holds a 2-D network, or the members do not share what they must.</exception>
    public static SegmentationPredictor LoadManifest(string path, Device? device = null)
    {
        var (model, card, keepLargest, foreground, members, note) = SegmentationModelFile.LoadManifest(path);
        try
        {
            if (card.SpatialDims != 3) throw new ModelFormatException($"{path} lists 2-D U-Nets; segment images with ImageSegmentationPredictor.LoadManifest.");
            return new SegmentationPredictor(model, card.Preprocessing(), card.Inferer(), device, ownsModel: true)
            {
                Card = card, Classes = card.ClassNames.Count, EnsembleSize = members, KeepLargestComponentClasses = keepLargest, KeepLargestForeground = foreground, PostprocessingNote = note,
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

    /// <summary>
    /// A predictor over another engine's network (ONNX Runtime running an exported graph, see MedVision.Onnx.Runtime's
    /// <c>OnnxRuntimePredictor.LoadSegmentation</c>): the card gives the preparation, classes and window, the network
    /// computes the logits (N, classes or 1, D, H, W) of each batch of windows. The predictor owns the network and
    /// disposes it.
    /// </summary>
    /// <exception cref="ModelFormatException">The card is invalid or describes a 2-D network.</exception>
    public static SegmentationPredictor Create(SegmentationCard card, IPredictorNetwork network)
    {
        ArgumentNullException.ThrowIfNull(card);
        ArgumentNullException.ThrowIfNull(network);
        SegmentationModelFile.Validate(card, "the card");
        if (card.SpatialDims != 3) throw new ModelFormatException("The card describes a 2-D U-Net; segment images with ImageSegmentationPredictor.Create.");
        return new SegmentationPredictor(new PredictorNetworkModule(network), card.Preprocessing(), card.Inferer(), network.Device, ownsModel: true)
        {
            Card = card,
            Classes = card.ClassNames.Count,
            KeepLargestComponentClasses = card.KeepLargestComponent ?? [],
            KeepLargestForeground = card.KeepLargestForeground == true,
            _network = network,
        };
    }

    private SegmentationPredictor(Module<Tensor, Tensor> model, NiftiSegmentationOptions preprocessing, SlidingWindowInferer inferer, Device? device, bool ownsModel)
        : this(model, preprocessing, inferer, device) => _ownsModel = ownsModel;

    /// <summary>How many networks' probabilities each prediction averages (<see cref="LoadEnsemble"/>); 1 otherwise.</summary>
    public int EnsembleSize { get; private init; } = 1;

    /// <summary>The card of the file the predictor was loaded from (null when made from a network).</summary>
    public SegmentationCard? Card { get; private init; }

    /// <summary>The class names of the loaded file (background first), or null when made from a network.</summary>
    public IReadOnlyList<string>? ClassNames => Card?.ClassNames;

    /// <summary>
    /// Frees the network when the predictor owns it (made by <see cref="Load"/>). Predictions already running on other
    /// threads finish first (the network is freed when the last returns); later calls throw <see cref="ObjectDisposedException"/>.
    /// </summary>
    public void Dispose() => _guard.Dispose();

    /// <summary>The preparation of each scan.</summary>
    public NiftiSegmentationOptions Preprocessing { get; }

    /// <summary>The device the network runs on.</summary>
    public Device Device { get; }

    /// <summary>
    /// Whether the predictions are post-processed at all: any foreground class kept to its largest connected component
    /// (<see cref="KeepLargestComponentClasses"/>), or the foreground as one (<see cref="KeepLargestForeground"/>).
    /// Setting it true keeps every foreground class's largest component (leaving <see cref="KeepLargestForeground"/> as
    /// it is); false turns both off.
    /// </summary>
    public bool KeepLargestComponent
    {
        get => Volatile.Read(ref _keepLargest) is not [] || KeepLargestForeground;
        set
        {
            Volatile.Write(ref _keepLargest, value ? null : []);
            if (!value) KeepLargestForeground = false;
        }
    }

    /// <summary>
    /// Whether the foreground taken as one (every class above 0) first keeps only its largest connected component
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
    /// The foreground classes that keep only their largest connected component (<see cref="ComponentConnectivity"/>),
    /// ascending: from the model file's card (<see cref="SegmentationCard.KeepLargestComponent"/>, nnU-Net's
    /// post-processing chosen on held-out cases; for an ensemble, the members' choice when they share one) or empty.
    /// After <c>KeepLargestComponent = true</c>, every foreground class (listed once the class count is known).
    /// </summary>
    /// <exception cref="ArgumentException">A class is not a foreground class of the network (1 to <see cref="Classes"/> − 1).</exception>
    public IReadOnlyList<int> KeepLargestComponentClasses
    {
        get => Volatile.Read(ref _keepLargest) ?? Enumerable.Range(1, Math.Max(0, Classes - 1)).ToArray();
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            int classes = Classes;
            if (value.Any(k => k < 1 || (classes > 0 && k >= classes)))
                throw new ArgumentException($"Only foreground classes{(classes > 0 ? $" (1 to {classes - 1})" : " (≥ 1)")} keep their largest component; got [{string.Join(", ", value)}].", nameof(value));
            Volatile.Write(ref _keepLargest, [.. value.Distinct().Order()]);
        }
    }

    private int[]? _keepLargest = [];   // null: every foreground class

    /// <summary>How <see cref="KeepLargestComponentClasses"/> connects voxels: those sharing a face (6-connectivity).</summary>
    public static Connectivity ComponentConnectivity => Connectivity.Face;

    /// <summary>Segments a NIfTI file (a 4-D file's volumes are the channels).</summary>
    public NiftiImage Predict(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return Predict(NiftiReader.ReadVolumes(path));
    }

    /// <summary>
    /// Segments a scan given as its channels (one volume each, on one grid, in the training order). Returns the label
    /// map on the first channel's grid (same shape and affine; stored as uint8 up to 255 classes, else int16).
    /// </summary>
    /// <exception cref="ArgumentException">The channels are missing or on different grids, or the network's output does not fit.</exception>
    public NiftiImage Predict(IReadOnlyList<NiftiImage> channels)
    {
        var postprocessing = (Volatile.Read(ref _keepLargest), KeepLargestForeground);
        var (prepared, probabilities) = Run(channels);
        return Map(prepared, probabilities, channels[0], postprocessing);
    }

    /// <summary>
    /// The label map (as <see cref="Predict(IReadOnlyList{NiftiImage})"/>) and the class probabilities (as
    /// <see cref="PredictProbabilities"/>) from one pass of the network — nnU-Net's <c>--save_probabilities</c>: to
    /// review uncertain voxels, or to ensemble predictions made elsewhere.
    /// </summary>
    /// <exception cref="ArgumentException">The channels are missing or on different grids, or the network's output does not fit.</exception>
    public (NiftiImage Labels, IReadOnlyList<NiftiImage> Probabilities) PredictWithProbabilities(IReadOnlyList<NiftiImage> channels)
    {
        var postprocessing = (Volatile.Read(ref _keepLargest), KeepLargestForeground);
        var (prepared, probabilities) = Run(channels);
        var onScan = OnScan(prepared, probabilities, channels[0]);
        return (Map(prepared, probabilities, channels[0], postprocessing, onScan), onScan);
    }

    // The label map on the scan's grid: the arg-max of the probabilities there — where the scan was reoriented or
    // resampled, the probabilities are resampled back (trilinear, `onScan` when already done) before the arg-max, as
    // nnU-Net exports its predictions, so that boundaries follow the scan's voxels rather than the prepared grid's —
    // then post-processed on that grid.
    private static NiftiImage Map(PreparedScan prepared, float[][] probabilities, NiftiImage scan, (int[]? Classes, bool Foreground) postprocessing, List<NiftiImage>? onScan = null)
    {
        var grid = prepared.Grid;
        int classes = probabilities.Length;
        bool onGrid = grid.IsOnGridOf(scan);
        var target = onGrid ? grid : scan;
        var values = onGrid ? probabilities : (onScan ?? OnScan(prepared, probabilities, scan)).Select(v => v.Voxels).ToArray();
        var labels = SegmentationInference.ArgMax(values);
        labels = SegmentationInference.KeepLargest(labels, [target.Shape[2], target.Shape[1], target.Shape[0]], postprocessing.Classes, classes, ComponentConnectivity, postprocessing.Foreground);
        var voxels = new float[labels.Length];
        for (int i = 0; i < voxels.Length; i++) voxels[i] = labels[i];
        return new NiftiImage(voxels, target.Shape, target.Spacing, classes <= 256 ? NiftiDataType.UInt8 : NiftiDataType.Int16, target.Affine, target.AffineCode);
    }

    // The prepared scan's probabilities, a volume per class on the scan's grid (trilinear where it was resampled; a
    // scan voxel beyond the prepared grid's outermost centres — up to half a prepared voxel at its edge — takes the
    // nearest, so that the probabilities sum to one on every voxel).
    private static List<NiftiImage> OnScan(PreparedScan prepared, float[][] probabilities, NiftiImage scan)
    {
        var grid = prepared.Grid;
        return probabilities.Select(p =>
        {
            var volume = new NiftiImage(p, grid.Shape, grid.Spacing, NiftiDataType.Float32, grid.Affine, grid.AffineCode);
            return volume.IsOnGridOf(scan) ? volume : volume.ResampleTo(scan.Shape, scan.Affine, Transforms.ResizeMode.Linear, VolumePadding.Border);
        }).ToList();
    }

    /// <summary>
    /// The probability of each class per voxel (softmax of the network's output, averaged over the
    /// <see cref="Flips"/>), one volume per class on the first channel's grid (trilinear where the scan was resampled):
    /// for thresholds other than the arg-max, uncertainty maps, or ensembles of predictors.
    /// </summary>
    /// <exception cref="ArgumentException">The channels are missing or on different grids, or the network's output does not fit.</exception>
    public IReadOnlyList<NiftiImage> PredictProbabilities(IReadOnlyList<NiftiImage> channels)
    {
        var (prepared, probabilities) = Run(channels);
        return OnScan(prepared, probabilities, channels[0]);
    }

    /// <summary>
    /// Flipped copies of the scan whose probabilities are averaged with the scan's (nnU-Net's mirroring): 2^k passes for
    /// k axes. Choose flips the anatomy allows. Default none.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A value that is not a combination of the three flips.</exception>
    public TestTimeFlips Flips
    {
        get;
        set => field = SegmentationInference.CheckFlips(value, 3, nameof(Flips));
    }

    // The prepared scan and each class's probabilities (D·H·W each, x fastest) on the prepared grid.
    private (PreparedScan Prepared, float[][] Probabilities) Run(IReadOnlyList<NiftiImage> channels)
    {
        using var lease = _guard.Enter(this);
        var flips = Flips;
        var prepared = Preprocessing.PrepareChannels(channels, "the scan");
        var image = prepared.Image;
        var probabilities = SegmentationInference.Probabilities(_model, _inferer, image.Data, image.Shape, Device, SegmentationInference.FlipAxes(flips, 3), nameof(channels));
        if (Classes is > 0 and var known && known != probabilities.Length)
            throw new ArgumentException($"The network gives {probabilities.Length} classes, but this predictor segments {known}{(Card is null ? " (as it was created)" : " (as its card names)")}.", nameof(channels));
        Classes = probabilities.Length;
        return (prepared, probabilities);
    }

    /// <summary>
    /// The number of classes the network gives: the card's when loaded from a file, the one given when created, else
    /// known after the first prediction (0 before any). A sigmoid network gives two (background and foreground).
    /// </summary>
    public int Classes
    {
        get => Volatile.Read(ref _classes);
        private set => Volatile.Write(ref _classes, value);
    }

    private int _classes;
}
