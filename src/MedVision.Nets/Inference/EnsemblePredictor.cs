using System.Text.Json;
using MedVision.Nets.Data.Images;
using MedVision.Nets.Data.Nifti;
using MedVision.Nets.Explainability;
using MedVision.Nets.Metrics;
using MedVision.Nets.Transforms;
using MedVision.Torch;

namespace MedVision.Nets.Inference;

/// <summary>
/// Several models as one: the models of a k-fold cross-validation, or of training runs with different seeds, each
/// predicting the input through its own preprocessing, temperature and test-time flips, their probabilities averaged
/// (soft voting, optionally weighted). Ensembles usually beat their members and are better calibrated; their
/// disagreement (<see cref="EnsemblePrediction.Agreement"/>, <see cref="EnsemblePrediction.ProbabilitySpread"/>) flags
/// inputs worth a second look. The members must share the task, the class names (in order) and the kind of input
/// (2-D images or 3-D volumes); they may differ in architecture, input size, channels, preprocessing, device and engine
/// (libtorch or ONNX Runtime). An input is decoded once for all members that prepare it alike. Like
/// <see cref="Predictor"/>, one instance is safe to call from many threads at once.
/// </summary>
public sealed class EnsemblePredictor : IDisposable
{
    private readonly Predictor[] _members;
    private readonly double[] _weights;
    private readonly bool _ordinal;
    private readonly bool _median;   // every member decides its grades by the median (CORAL heads): so does the ensemble
    private readonly UsageGuard _guard;

    private EnsemblePredictor(Predictor[] members, double[] weights)
    {
        _members = members;
        _weights = weights;
        _guard = new UsageGuard(() =>
        {
            foreach (var member in _members) member.Dispose();
        });
        _ordinal = Enum.Parse<MedMnistTask>(members[0].Card.Task, ignoreCase: true) == MedMnistTask.OrdinalRegression;
        _median = _ordinal && members.All(m => m.Card.OrdinalDecision == OrdinalDecision.Median);
    }

    /// <summary>
    /// How the ensemble decides grades from its averaged probabilities: the median grade when every member's card does
    /// (<see cref="ModelCard.OrdinalDecision"/>, e.g. CORAL heads), else the most probable grade.
    /// </summary>
    public OrdinalDecision OrdinalDecision => _median ? OrdinalDecision.Median : OrdinalDecision.MostProbable;

    /// <summary>
    /// Loads model files (see <see cref="Predictor.Load"/>) as the members of an ensemble, each onto
    /// <paramref name="device"/> with the same test-time flips and precision.
    /// </summary>
    /// <param name="paths">The model files, e.g. one per cross-validation fold.</param>
    /// <param name="device">Where the models run (CPU by default).</param>
    /// <param name="flips">Test-time flips averaged into each member's prediction.</param>
    /// <param name="mixedPrecision">Run the networks under bfloat16 autocast.</param>
    /// <param name="weights">Each member's weight in the average (non-negative, not all 0; normalised to sum to 1); equal weights when null.</param>
    /// <exception cref="ArgumentException">No paths, a file listed twice, members that do not fit together, or bad weights.</exception>
    /// <exception cref="ModelFormatException">A file is not a valid model file (the message names it).</exception>
    public static EnsemblePredictor Load(IEnumerable<string> paths, Device? device = null, TestTimeFlips flips = TestTimeFlips.None, bool mixedPrecision = false, IReadOnlyList<double>? weights = null)
    {
        var list = CheckPaths(paths, nameof(paths));
        CheckWeights(weights, list.Count);
        var members = new List<Predictor>();
        try
        {
            foreach (var path in list) members.Add(Predictor.Load(path, device, flips, mixedPrecision));
            return Create(members, weights);
        }
        catch
        {
            foreach (var member in members) member.Dispose();
            throw;
        }
    }

    /// <summary>
    /// An ensemble of predictors already made (libtorch model files, TorchScript, ONNX Runtime networks — any mix). The
    /// ensemble owns them from here on and disposes them; when this throws, they stay the caller's to dispose.
    /// </summary>
    /// <param name="members">The predictors, at least one, each once.</param>
    /// <param name="weights">Each member's weight in the average (non-negative, not all 0; normalised to sum to 1); equal weights when null.</param>
    /// <exception cref="ArgumentException">No members, a null or repeated one, members of different tasks, class names or input kinds, or bad weights.</exception>
    public static EnsemblePredictor Create(IEnumerable<Predictor> members, IReadOnlyList<double>? weights = null)
    {
        ArgumentNullException.ThrowIfNull(members);
        var list = members.ToArray();
        if (list.Length == 0) throw new ArgumentException("Give at least one member.", nameof(members));
        for (int i = 0; i < list.Length; i++)
        {
            if (list[i] is null) throw new ArgumentException($"Member {i} of {list.Length} is null.", nameof(members));
            int first = Array.IndexOf(list, list[i]);
            if (first != i) throw new ArgumentException($"Members {first} and {i} are the same predictor; each model counts once, give weights to count one more.", nameof(members));
        }
        CheckWeights(weights, list.Length);
        CheckFit(list.Select(m => m.Card).ToArray(), nameof(members));
        return new EnsemblePredictor(list, EnsembleWeights.Normalised(weights, list.Length));
    }

    /// <summary>The <c>format</c> of an ensemble manifest (<see cref="SaveManifest(string, IReadOnlyList{string}, IReadOnlyList{double}?)"/>).</summary>
    public const string ManifestFormat = "medvision.ensemble";

    /// <summary>The newest manifest format version this library reads (and the one it writes).</summary>
    public const int ManifestFormatVersion = 1;

    /// <summary>
    /// Writes an ensemble manifest: a small JSON file listing model files (by paths relative to the manifest's folder,
    /// so that the folder can be moved or copied whole), their weights and SHA-256s — one file to deploy and to
    /// <see cref="LoadManifest"/>. The model files must exist and fit together (their cards are read and checked as
    /// <see cref="Create"/> checks members). Written atomically (a temporary file, then a rename).
    /// </summary>
    /// <param name="path">The manifest file to write, e.g. <c>ensemble.json</c> beside the model files.</param>
    /// <param name="modelPaths">The model files, at least one, each once.</param>
    /// <param name="weights">Each member's weight (non-negative, not all 0); equal weights when null.</param>
    /// <exception cref="ArgumentException">No model files, one listed twice, members that do not fit together, or bad weights.</exception>
    /// <exception cref="FileNotFoundException">A model file does not exist.</exception>
    public static void SaveManifest(string path, IReadOnlyList<string> modelPaths, IReadOnlyList<double>? weights = null) =>
        SaveManifest(path, modelPaths, weights, conformal: null);

    /// <summary>
    /// Writes an ensemble manifest (as <see cref="SaveManifest(string, IReadOnlyList{string}, IReadOnlyList{double}?)"/>)
    /// with a conformal calibration of the ensemble's averaged probabilities (<see cref="ConformalCard.From(Metrics.Conformal.ConformalClassifier, double, TestTimeFlips, bool)"/> of a
    /// <see cref="Metrics.Conformal.ConformalClassifier"/> calibrated on them, with the flips and precision used), so that
    /// <see cref="LoadManifest"/> gives every prediction its conformal set. The calibration holds for these members and
    /// weights as they are: the manifest records each file's SHA-256, and <see cref="LoadManifest"/> leaves the
    /// calibration out (saying why in <see cref="ConformalNote"/>) when a file has changed since — calibrate again.
    /// </summary>
    /// <param name="path">The manifest file to write.</param>
    /// <param name="modelPaths">The model files, at least one, each once.</param>
    /// <param name="weights">Each member's weight (non-negative, not all 0); equal weights when null.</param>
    /// <param name="conformal">The calibration, or null for none.</param>
    /// <exception cref="ArgumentException">As the overload without a calibration; or a calibration that does not fit the members' classes.</exception>
    /// <exception cref="FileNotFoundException">A model file does not exist.</exception>
    public static void SaveManifest(string path, IReadOnlyList<string> modelPaths, IReadOnlyList<double>? weights, ConformalCard? conformal) =>
        SaveManifest(path, modelPaths, weights, conformal, referral: null);

    /// <summary>
    /// Writes an ensemble manifest with what was chosen on held-out images from the ensemble's averaged probabilities:
    /// a conformal calibration (as <see cref="SaveManifest(string, IReadOnlyList{string}, IReadOnlyList{double}?, ConformalCard?)"/>)
    /// and a screening operating point (<see cref="ReferralCard.From(Metrics.Clinical.OperatingPoint, int, double, TestTimeFlips, bool)"/> at temperature 1 — each member applies its own
    /// card's temperature before the average), so that <see cref="LoadManifest"/> gives every prediction its
    /// <see cref="Prediction.ReferralRisk"/> and <see cref="Prediction.Referred"/>. Both hold for these member files and
    /// weights as they are (the manifest records each file's SHA-256; see <see cref="UpdateManifest"/> to change one
    /// without the other).
    /// </summary>
    /// <param name="path">The manifest file to write.</param>
    /// <param name="modelPaths">The model files, at least one, each once.</param>
    /// <param name="weights">Each member's weight (non-negative, not all 0); equal weights when null.</param>
    /// <param name="conformal">The conformal calibration, or null for none.</param>
    /// <param name="referral">The referral operating point, or null for none.</param>
    /// <exception cref="ArgumentException">As the overload without calibrations; or a calibration or operating point that does not fit the members (their classes, a multi-label task, a temperature other than 1).</exception>
    /// <exception cref="FileNotFoundException">A model file does not exist.</exception>
    public static void SaveManifest(string path, IReadOnlyList<string> modelPaths, IReadOnlyList<double>? weights, ConformalCard? conformal, ReferralCard? referral)
        => WriteManifest(path, modelPaths, weights, conformal, referral, hashed: null);

    // SaveManifest reusing the member hashes an update computed to check the old manifest.
    private static void WriteManifest(string path, IReadOnlyList<string> modelPaths, IReadOnlyList<double>? weights, ConformalCard? conformal, ReferralCard? referral,
        IDictionary<string, string>? hashed)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var list = CheckPaths(modelPaths, nameof(modelPaths));
        CheckWeights(weights, list.Count);
        var cards = list.Select(p => File.Exists(p) ? ModelFile.ReadCard(p) : throw new FileNotFoundException($"The model file '{p}' does not exist.", p)).ToArray();
        CheckFit(cards, nameof(modelPaths));
        try
        {
            if (conformal is not null) CheckConformal(conformal, cards[0], "the conformal calibration");
        }
        catch (ModelFormatException e)
        {
            throw new ArgumentException(e.Message, nameof(conformal), e);
        }
        try
        {
            if (referral is not null) CheckReferral(referral, cards[0], "the referral operating point");
        }
        catch (ModelFormatException e)
        {
            throw new ArgumentException(e.Message, nameof(referral), e);
        }
        ManifestFile.Write(path, ManifestFormat, ManifestFormatVersion, list, (i, entry) => entry["weight"] = weights?[i] ?? 1.0, manifest =>
        {
            if (conformal is not null) manifest["conformal"] = System.Text.Json.JsonSerializer.SerializeToNode(conformal);
            if (referral is not null) manifest["referral"] = System.Text.Json.JsonSerializer.SerializeToNode(referral);
        }, hashed);
    }

    /// <summary>
    /// Changes an ensemble manifest and writes it again (atomically), e.g. to record a referral operating point beside
    /// the conformal calibration it already holds: <c>UpdateManifest(path, m =&gt; m with { Referral = card })</c>. What
    /// <paramref name="change"/> leaves as it was is kept only while it still holds: when a member file has changed since
    /// the manifest was written (its SHA-256 differs), or when the change gives other members or weights, a calibration
    /// or operating point carried over from the old manifest no longer describes this ensemble's probabilities, and is
    /// left out rather than given the new files' hashes; the returned notes say which. The manifest records the member
    /// files' hashes as they are now (<see cref="EnsembleManifest.ModelHashes"/> of the changed manifest is not read).
    /// </summary>
    /// <param name="path">An existing manifest.</param>
    /// <param name="change">Gives the manifest to write from the one read (<see cref="ReadManifest"/>).</param>
    /// <returns>One sentence per calibration left out; empty when everything carried over holds.</returns>
    /// <exception cref="FileNotFoundException">The manifest or a model file it lists does not exist.</exception>
    /// <exception cref="ModelFormatException">The manifest is not a valid one.</exception>
    /// <exception cref="ArgumentException">The changed manifest is not valid (as <see cref="SaveManifest(string, IReadOnlyList{string}, IReadOnlyList{double}?, ConformalCard?, ReferralCard?)"/>); nothing is written.</exception>
    public static IReadOnlyList<string> UpdateManifest(string path, Func<EnsembleManifest, EnsembleManifest> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        var old = ReadManifest(path);
        var changed = change(old) ?? throw new ArgumentException("The change gave no manifest.", nameof(change));
        var hashed = new Dictionary<string, string>(StringComparer.Ordinal);
        string? why = ManifestFile.Invalidation(old.ModelPaths, old.ModelHashes, old.Weights, changed.ModelPaths, changed.Weights, hashed);
        var notes = new List<string>();
        var (conformal, referral) = (changed.Conformal, changed.Referral);
        if (why is not null && conformal is not null && ReferenceEquals(conformal, old.Conformal))
        {
            conformal = null;
            notes.Add($"The conformal calibration was left out: {why}; calibrate the ensemble again.");
        }
        if (why is not null && referral is not null && ReferenceEquals(referral, old.Referral))
        {
            referral = null;
            notes.Add($"The referral operating point was left out: {why}; choose it again.");
        }
        WriteManifest(path, changed.ModelPaths, changed.Weights, conformal, referral, hashed);
        return notes;
    }


    private static string? ChangedMember(EnsembleManifest manifest) => ManifestFile.ChangedMember(manifest.ModelPaths, manifest.ModelHashes);

    /// <summary>
    /// Loads the ensemble a manifest lists (<see cref="SaveManifest(string, IReadOnlyList{string}, IReadOnlyList{double}?)"/>): its model files (paths relative to the
    /// manifest's folder, or absolute) with its weights, as <see cref="Load"/> loads them.
    /// </summary>
    /// <exception cref="FileNotFoundException">The manifest or a model file it lists does not exist.</exception>
    /// <exception cref="ModelFormatException">The manifest is not one (not JSON, another format, a newer version, no members, a bad entry or weight); the message names it.</exception>
    public static EnsemblePredictor LoadManifest(string path, Device? device = null, TestTimeFlips flips = TestTimeFlips.None, bool mixedPrecision = false)
    {
        var manifest = ReadManifest(path);
        var (paths, weights) = (manifest.ModelPaths, manifest.Weights);
        var list = paths.ToList();
        ModelCard[] cards;
        try
        {
            // What the manifest says must hold up before anything is loaded: its entries, weights and members' cards.
            CheckPaths(list, nameof(paths));
            CheckWeights(weights, list.Count);
            cards = list.Select(ModelFile.ReadCard).ToArray();
            CheckFit(cards, nameof(paths));
        }
        catch (ArgumentException e)
        {
            throw new ModelFormatException($"{path} is not a valid ensemble manifest: {PlainMessage(e)}", e);
        }
        if (manifest.Conformal is { } card) CheckConformal(card, cards[0], path);
        if (manifest.Referral is { } point) CheckReferral(point, cards[0], path);
        var ensemble = Load(list, device, flips, mixedPrecision, weights);
        // What was chosen on the ensemble's probabilities holds for the member files it was chosen with; a retrained or
        // replaced file voids it.
        string? changedMember = manifest.Conformal is null && manifest.Referral is null ? null : ChangedMember(manifest);
        if (manifest.Conformal is { } calibration)
        {
            if (changedMember is not null) ensemble.ConformalNote = $"The manifest's conformal calibration is not used: {changedMember}; calibrate the ensemble again.";
            else
            {
                ensemble.Conformal = calibration.For(flips, mixedPrecision, "manifest", "ensemble", out var note);
                ensemble.ConformalNote = note;
            }
        }
        if (manifest.Referral is { } referral)
        {
            if (changedMember is not null) ensemble.ReferralNote = $"The manifest's referral operating point is not used: {changedMember}; choose it again.";
            else
            {
                ensemble.Referral = referral.For(flips, mixedPrecision, "manifest", "ensemble", out var note);
                ensemble.ReferralNote = note;
            }
        }
        return ensemble;
    }

    /// <summary>
    /// The manifest's conformal calibration of the averaged probabilities, which gives every prediction its
    /// <see cref="Prediction.ConformalSet"/>; null when there is none or when the flips or precision differ from the calibration's.
    /// </summary>
    public Metrics.Conformal.ConformalClassifier? Conformal { get; private set; }

    /// <summary>Why predictions carry no conformal sets although the manifest has a calibration; null otherwise.</summary>
    public string? ConformalNote { get; private set; }

    /// <summary>
    /// The manifest's referral operating point on the averaged probabilities (<see cref="SaveManifest(string, IReadOnlyList{string}, IReadOnlyList{double}?, ConformalCard?, ReferralCard?)"/>),
    /// which gives every prediction its <see cref="Prediction.ReferralRisk"/> and <see cref="Prediction.Referred"/>;
    /// null when there is none, when a member file has changed since it was chosen, or when the flips or precision
    /// differ from those it was chosen under. The members' own cards' referral points are not used: the averaged
    /// probabilities are no member's.
    /// </summary>
    public ReferralCard? Referral { get; private set; }

    /// <summary>Why predictions carry no referral decision although the manifest has an operating point; null otherwise.</summary>
    public string? ReferralNote { get; private set; }

    // A calibration of the ensemble's probabilities: a valid card for the members' classes, of a single-label task.
    private static void CheckConformal(ConformalCard card, ModelCard member, string source)
    {
        if (string.Equals(member.Task, nameof(MedMnistTask.MultiLabel), StringComparison.OrdinalIgnoreCase))
            throw new ModelFormatException($"{source}: conformal prediction sets apply to single-label tasks, not to multi-label ones.");
        card.ToClassifier(source, member.ClassNames.Count);
        TemperatureSetting.Parse(card.CoralTemperatureName, source, "the conformal calibration's ");
    }

    // An operating point on the ensemble's probabilities: a valid card for the members' classes, of a single-label task,
    // at temperature 1 (the members apply their own temperatures before the average).
    private static void CheckReferral(ReferralCard card, ModelCard member, string source)
    {
        if (string.Equals(member.Task, nameof(MedMnistTask.MultiLabel), StringComparison.OrdinalIgnoreCase))
            throw new ModelFormatException($"{source}: a referral decision applies to single-label tasks, not to multi-label ones.");
        if (card.Temperature != 1)
            throw new ModelFormatException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"{source}: the referral operating point of an ensemble is chosen on its averaged probabilities at temperature 1 (each member applies its own card's temperature), not at {card.Temperature}."));
        card.Validate(source, member.ClassNames.Count, card: null);   // null: the averaged probabilities, at temperature 1
    }

    private static string PlainMessage(ArgumentException e) => ManifestFile.PlainMessage(e);

    /// <summary>
    /// Reads an ensemble manifest (<see cref="SaveManifest(string, IReadOnlyList{string}, IReadOnlyList{double}?)"/>) without loading its models: the model files' full paths
    /// (resolved against the manifest's folder) and their weights as written.
    /// </summary>
    /// <exception cref="FileNotFoundException">The manifest or a model file it lists does not exist.</exception>
    /// <exception cref="ModelFormatException">The manifest is not one (not JSON, another format, a newer version, no members, an entry without a path or with a weight that is not a number).</exception>
    public static EnsembleManifest ReadManifest(string path) =>
        ManifestFile.Read(path, "ensemble manifest", ManifestFormat, ManifestFormatVersion, (manifest, bad) =>
        {
            var (paths, hashes, weights) = ManifestFile.WeightedMembers(manifest, path, bad);
            var conformal = ManifestFile.Section<ConformalCard>(manifest, "conformal", "a conformal calibration", bad);
            var referral = ManifestFile.Section<ReferralCard>(manifest, "referral", "a referral operating point", bad);
            return new EnsembleManifest(paths, weights) { Conformal = conformal, Referral = referral, ModelHashes = hashes };
        });

    private static List<string> CheckPaths(IEnumerable<string> paths, string parameter) =>
        ManifestFile.CheckPaths(paths, parameter, "each model counts once, give weights to count one more.");

    // Members fit together when they share the task, the class names in order, and the kind of input.
    private static void CheckFit(IReadOnlyList<ModelCard> cards, string parameter)
    {
        var reference = cards[0];
        var task = Enum.Parse<MedMnistTask>(reference.Task, ignoreCase: true);
        int rank = reference.Preprocessing.InputSize.Count;
        for (int i = 1; i < cards.Count; i++)
        {
            var card = cards[i];
            if (Enum.Parse<MedMnistTask>(card.Task, ignoreCase: true) != task)
                throw new ArgumentException($"Member {i} is a {card.Task} model but member 0 is a {reference.Task} model; an ensemble's members share their task.", parameter);
            if (!card.ClassNames.SequenceEqual(reference.ClassNames, StringComparer.Ordinal))
                throw new ArgumentException($"Member {i} has the classes [{string.Join(", ", card.ClassNames)}] but member 0 has [{string.Join(", ", reference.ClassNames)}]; an ensemble's members share their class names, in the same order.", parameter);
            if (card.Preprocessing.InputSize.Count != rank)
                throw new ArgumentException($"Member {i} takes {Kind(card.Preprocessing.InputSize.Count)} but member 0 takes {Kind(rank)}; an ensemble's members take the same kind of input.", parameter);
        }
    }

    private static string Kind(int rank) => rank == 3 ? "3-D volumes" : "2-D images";

    private static void CheckWeights(IReadOnlyList<double>? weights, int members) => EnsembleWeights.Check(weights, members, "members");

    /// <summary>The members, in order (owned by the ensemble).</summary>
    public IReadOnlyList<Predictor> Members => _members;

    /// <summary>Each member's weight in the average, summing to 1.</summary>
    public IReadOnlyList<double> Weights => _weights;

    /// <summary>Class names, index = class (the members').</summary>
    public IReadOnlyList<string> ClassNames => _members[0].ClassNames;

    /// <summary>The members' task type (a <see cref="MedMnistTask"/> name).</summary>
    public string Task => _members[0].Card.Task;

    /// <summary>Predicts one file: an image (JPEG, PNG or DICOM) for 2-D models, a volume for 3-D ones (see <see cref="Predictor.PredictFile"/>).</summary>
    public EnsemblePrediction PredictFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return PredictFiles(new[] { path })[0];
    }

    /// <summary>Predicts files (see <see cref="PredictFile"/>) as one batch per <paramref name="batchSize"/> files per member.</summary>
    public IReadOnlyList<EnsemblePrediction> PredictFiles(IEnumerable<string> paths, int batchSize = 32)
    {
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var results = new List<EnsemblePrediction>();
        foreach (var chunk in paths.Chunk(batchSize))
        {
            foreach (var path in chunk) ArgumentException.ThrowIfNullOrEmpty(path, nameof(paths));
            results.AddRange(Combine(m => chunk.Select(m.FromFile).ToList(), chunk.Length));
        }
        return results;
    }

    /// <summary>Predicts an encoded image (JPEG or PNG) read from a stream.</summary>
    public EnsemblePrediction Predict(Stream stream, string sourceName = "stream")
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        var raster = ImageCodec.Decode(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), sourceName);
        return Combine(m => new[] { m.FromRaster(raster) }, 1)[0];
    }

    /// <summary>Predicts raw 8-bit pixels (H, W, C) interleaved, C = 1 or 3.</summary>
    public EnsemblePrediction PredictPixels(byte[] pixels, int width, int height, int channels)
    {
        var raster = new RasterImage(width, height, channels, pixels);
        return Combine(m => new[] { m.FromRaster(raster) }, 1)[0];
    }

    /// <summary>Predicts a 3-D volume, prepared by each member as <see cref="Predictor.PredictVolume"/> prepares it.</summary>
    public EnsemblePrediction PredictVolume(NiftiImage volume)
    {
        ArgumentNullException.ThrowIfNull(volume);
        return PredictVolumes(new[] { volume });
    }

    /// <summary>Predicts a multi-channel volume given as its channels (see <see cref="Predictor.PredictVolumes"/>).</summary>
    /// <exception cref="ArgumentException">No channels, or a null one.</exception>
    public EnsemblePrediction PredictVolumes(IReadOnlyList<NiftiImage> channels)
    {
        Predictor.CheckChannels(channels);
        return Combine(m => new[] { m.FromVolumes(channels, owned: false, "channels").Image }, 1)[0];
    }

    /// <summary>Predicts one preprocessed-to-[0, 1] image or volume (see <see cref="Predictor.Predict(FloatImage)"/>).</summary>
    public EnsemblePrediction Predict(FloatImage image) => Predict(new[] { image ?? throw new ArgumentNullException(nameof(image)) })[0];

    /// <summary>
    /// Predicts a batch of [0, 1] images or volumes; each member resizes and normalises them as its card says. The images
    /// must suit every member (a grey image suits RGB and grey 2-D models alike; an RGB image only RGB ones).
    /// </summary>
    /// <exception cref="ArgumentException">An image does not suit a member (the message names the member), or holds NaN or infinite values.</exception>
    public IReadOnlyList<EnsemblePrediction> Predict(IReadOnlyList<FloatImage> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        return images.Count == 0 ? Array.Empty<EnsemblePrediction>() : Combine(_ => images, images.Count);
    }

    // Every member's predictions of the inputs `decode` gives it — decoded once per group of members that decode alike
    // (Predictor.InputKey) — averaged with the weights.
    private EnsemblePrediction[] Combine(Func<Predictor, IReadOnlyList<FloatImage>> decode, int count) => Combine(Decode(decode), count);

    // What `decode` gives each member, computed once per group of members that decode alike (Predictor.InputKey).
    private T[] Decode<T>(Func<Predictor, T> decode)
    {
        using var lease = _guard.Enter(this);
        var decoded = new Dictionary<string, T>(StringComparer.Ordinal);
        var perMember = new T[_members.Length];
        for (int m = 0; m < _members.Length; m++)
        {
            if (!decoded.TryGetValue(_members[m].InputKey, out var value)) decoded[_members[m].InputKey] = value = decode(_members[m]);
            perMember[m] = value;
        }
        return perMember;
    }

    // Every member's predictions of its inputs, averaged with the weights.
    private EnsemblePrediction[] Combine(IReadOnlyList<FloatImage>[] inputs, int count)
    {
        using var lease = _guard.Enter(this);
        var perMember = new IReadOnlyList<Prediction>[_members.Length];
        for (int m = 0; m < _members.Length; m++)
        {
            try
            {
                perMember[m] = _members[m].Predict(inputs[m]);
            }
            catch (ArgumentException e) when (_members.Length > 1)
            {
                throw Naming(m, e);
            }
            if (perMember[m].Count != count)
                throw new InvalidOperationException($"Member {m} gave {perMember[m].Count} predictions for {count} inputs.");
        }
        var results = new EnsemblePrediction[count];
        int classes = ClassNames.Count;
        for (int i = 0; i < count; i++)
        {
            var average = new double[classes];
            for (int m = 0; m < _members.Length; m++)
            {
                var p = perMember[m][i].Probabilities;
                for (int k = 0; k < classes; k++) average[k] += _weights[m] * p[k];
            }
            var combined = Prediction.FromProbabilities(average.Select(v => (float)v).ToArray(), ClassNames, _ordinal, Conformal, Referral, median: _median);
            results[i] = new EnsemblePrediction(combined, perMember.Select(p => p[i]).ToArray(), _weights);
        }
        return results;
    }

    // The input does not suit member m (its channels, its kind, a NaN): the same exception, saying which member refused it.
    private ArgumentException Naming(int m, ArgumentException e)
        => new($"Member {m} of {_members.Length}: {PlainMessage(e)}", e.ParamName, e);

    /// <summary>True when every member can explain its predictions (<see cref="Predictor.CanExplain"/>: ResNet or vision-transformer model files).</summary>
    public bool CanExplain => _members.All(m => m.CanExplain);

    /// <summary>True when every member can map its predictions with <paramref name="method"/> (<see cref="Predictor.CanExplainWith"/>).</summary>
    public bool CanExplainWith(CamMethod method) => _members.All(m => m.CanExplainWith(method));

    /// <summary>True when every member can attribute its predictions to the input (<see cref="Predictor.CanAttribute"/>: libtorch networks).</summary>
    public bool CanAttribute => _members.All(m => m.CanAttribute);

    /// <summary>True when every member can explain with <paramref name="method"/> (<see cref="Predictor.CanAttributeWith"/>).</summary>
    public bool CanAttributeWith(AttributionMethod method) => _members.All(m => m.CanAttributeWith(method));

    /// <summary>
    /// Predicts one file (as <see cref="PredictFile"/>) and explains the ensemble's prediction — or
    /// <paramref name="targetClass"/> — with every member's class-activation map of that class (each in [0, 1]),
    /// averaged with the weights: 1 where every member's map is 1, lower where they disagree, and for one member its own
    /// map. For 2-D models the members' maps are resized to the largest member input size
    /// (every map covers the whole image; <see cref="Explanation.Overlay"/> draws it over the original). For 3-D
    /// models each member's map is placed back on the scan as given (<see cref="Explanation.ToSourceVolume"/>; for
    /// several channels or modalities, the first member's first one) and averaged there, so the ensemble's map lies on
    /// the scan's own grid: its <see cref="Explanation.ToInputVolume"/> and <see cref="Explanation.ToSourceVolume"/>
    /// are the same volume.
    /// </summary>
    /// <exception cref="NotSupportedException">A member cannot explain (see <see cref="CanExplain"/>).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="targetClass"/> is not a class.</exception>
    public Explanation ExplainFile(string path, CamMethod method = CamMethod.GradCam, int? targetClass = null)
        => ExplainFileWith(path, method, targetClass);

    /// <summary>
    /// Predicts one file and explains the ensemble's prediction with every member's gradient attribution map
    /// (<see cref="Predictor.Explain(FloatImage, AttributionMethod, int?, AttributionOptions?)"/>), averaged with the weights as
    /// <see cref="ExplainFile(string, CamMethod, int?)"/> averages class-activation maps.
    /// </summary>
    /// <exception cref="NotSupportedException">A member cannot attribute (see <see cref="CanAttribute"/>).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="targetClass"/> is not a class.</exception>
    public Explanation ExplainFile(string path, AttributionMethod method, int? targetClass = null, AttributionOptions? options = null)
        => ExplainFileWith(path, ExplanationMethod.Of(method, options), targetClass);

    private Explanation ExplainFileWith(string path, ExplanationMethod method, int? targetClass)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        CheckExplain(targetClass, method);
        return _members[0].Card.Preprocessing.InputSize.Count != 3
            ? ExplainImage(Decode(m => m.FromFile(path)), method, targetClass)
            : ExplainScan(Decode(m => m.VolumesFromFile(path)), method, targetClass);
    }

    /// <summary>Predicts a 3-D volume (as <see cref="PredictVolume"/>) and explains the ensemble's prediction on the volume's grid (see <see cref="ExplainFile(string, CamMethod, int?)"/>).</summary>
    public Explanation ExplainVolume(NiftiImage volume, CamMethod method = CamMethod.GradCam, int? targetClass = null)
    {
        ArgumentNullException.ThrowIfNull(volume);
        return ExplainVolumes(new[] { volume }, method, targetClass);
    }

    /// <summary>Predicts a 3-D volume and explains the ensemble's prediction with the members' gradient attributions on the volume's grid (see <see cref="ExplainFile(string, AttributionMethod, int?, AttributionOptions?)"/>).</summary>
    public Explanation ExplainVolume(NiftiImage volume, AttributionMethod method, int? targetClass = null, AttributionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(volume);
        return ExplainVolumesWith(new[] { volume }, ExplanationMethod.Of(method, options), targetClass);
    }

    /// <summary>Predicts a multi-channel volume (as <see cref="PredictVolumes"/>) and explains the ensemble's prediction on the first channel's grid (see <see cref="ExplainFile(string, CamMethod, int?)"/>).</summary>
    /// <exception cref="ArgumentException">No channels, or a null one.</exception>
    public Explanation ExplainVolumes(IReadOnlyList<NiftiImage> channels, CamMethod method = CamMethod.GradCam, int? targetClass = null)
        => ExplainVolumesWith(channels, method, targetClass);

    /// <summary>Predicts a multi-channel volume and explains the ensemble's prediction with the members' gradient attributions on the first channel's grid (see <see cref="ExplainFile(string, AttributionMethod, int?, AttributionOptions?)"/>).</summary>
    /// <exception cref="ArgumentException">No channels, or a null one.</exception>
    public Explanation ExplainVolumes(IReadOnlyList<NiftiImage> channels, AttributionMethod method, int? targetClass = null, AttributionOptions? options = null)
        => ExplainVolumesWith(channels, ExplanationMethod.Of(method, options), targetClass);

    private Explanation ExplainVolumesWith(IReadOnlyList<NiftiImage> channels, ExplanationMethod method, int? targetClass)
    {
        Predictor.CheckChannels(channels);
        CheckExplain(targetClass, method);
        return ExplainScan(Decode(m => m.FromVolumes(channels, owned: false, "channels")), method, targetClass);
    }

    /// <summary>
    /// Predicts one [0, 1] image or volume (as <see cref="Predict(FloatImage)"/>) and explains the ensemble's
    /// prediction: the members' maps resized to the largest member input size and averaged with the weights (see
    /// <see cref="ExplainFile(string, CamMethod, int?)"/>).
    /// </summary>
    public Explanation Explain(FloatImage image, CamMethod method = CamMethod.GradCam, int? targetClass = null)
        => ExplainWith(image, method, targetClass);

    /// <summary>
    /// Predicts one [0, 1] image or volume and explains the ensemble's prediction with the members' gradient attribution
    /// maps, resized to the largest member input size and averaged with the weights (see <see cref="ExplainFile(string, AttributionMethod, int?, AttributionOptions?)"/>).
    /// </summary>
    public Explanation Explain(FloatImage image, AttributionMethod method, int? targetClass = null, AttributionOptions? options = null)
        => ExplainWith(image, ExplanationMethod.Of(method, options), targetClass);

    private Explanation ExplainWith(FloatImage image, ExplanationMethod method, int? targetClass)
    {
        ArgumentNullException.ThrowIfNull(image);
        CheckExplain(targetClass, method);
        return ExplainImage(_members.Select(_ => image).ToArray(), method, targetClass);
    }

    private void CheckExplain(int? targetClass, ExplanationMethod method)
    {
        ObjectDisposedException.ThrowIf(_guard.IsDisposed, this);
        method.Check(nameof(method));
        if (targetClass is { } t && (t < 0 || t >= ClassNames.Count))
            throw new ArgumentOutOfRangeException(nameof(targetClass), t, $"The models have {ClassNames.Count} classes.");
        if (method.Cam is { } cam)
        {
            int cannot = Array.FindIndex(_members, m => !m.CanExplainWith(cam));
            if (cannot >= 0)
                throw new NotSupportedException(cam.MapsAttention()
                    ? $"{cam.DisplayName()} needs every member to be a vision transformer; member {cannot} is a {_members[cannot].Card.Architecture} model. Check CanExplainWith first."
                    : $"{cam} needs every member to be a ResNet; member {cannot} is a {_members[cannot].Card.Architecture} model{(_members[cannot].Card.Architecture == "resnet" ? " on another engine" : "")}{(_members[cannot].Card.Architecture == "vit" ? " (map vision transformers with CamMethod.AttentionRollout or CamMethod.GradientAttentionRollout)" : "")}. Check CanExplainWith first, or explain with an AttributionMethod.");
        }
        else
        {
            int cannot = Array.FindIndex(_members, m => !m.CanAttribute);
            if (cannot >= 0)
                throw new NotSupportedException($"Gradient attributions need every member to be a libtorch network; member {cannot} runs on another engine, which gives no gradients. Check CanAttribute first.");
            var attribution = method.Attribution!.Value;
            cannot = Array.FindIndex(_members, m => !m.CanAttributeWith(attribution));
            if (cannot >= 0) throw new NotSupportedException($"Member {cannot} cannot explain with {attribution}: {_members[cannot].AttributionRefusal(attribution)}");
            method.RequireReferences();
        }
    }

    // Images (or volumes without a place in the world): the members' maps of the target class, resized to the largest
    // member input size, averaged with the weights.
    private Explanation ExplainImage(FloatImage[] inputs, ExplanationMethod method, int? targetClass)
    {
        var prediction = Combine(inputs.Select(i => (IReadOnlyList<FloatImage>)new[] { i }).ToArray(), 1)[0];
        int target = targetClass ?? prediction.Label;
        var explanations = _members.Select((m, i) => m.ExplainWith(inputs[i], method, target)).ToArray();
        int rank = explanations[0].MapShape.Count;
        var shape = Enumerable.Range(0, rank).Select(d => explanations.Max(e => e.MapShape[d])).ToArray();
        var sum = new double[shape.Aggregate(1, (a, b) => a * b)];
        var rng = new Random(0);
        for (int m = 0; m < explanations.Length; m++)
        {
            var map = explanations[m].Map;
            if (!explanations[m].MapShape.SequenceEqual(shape))
            {
                ITransform resize = rank == 2 ? new Transforms.Resize(shape[0], shape[1], ResizeMode.Linear) : new Transforms.Resize(shape[0], shape[1], shape[2], ResizeMode.Linear);
                map = resize.Apply(new FloatImage(map, [1, .. explanations[m].MapShape]), rng).Data;
            }
            for (int j = 0; j < sum.Length; j++) sum[j] += _weights[m] * map[j];
        }
        return WithOneMembersDelta(new Explanation(prediction, target, ClassNames[target], ToMap(sum), shape), explanations);
    }

    // An ensemble of one explains with its member's map, whose attributions' convergence delta still holds; several
    // members' maps are averaged after scaling, and no delta holds for the mean.
    private static Explanation WithOneMembersDelta(Explanation combined, Explanation[] explanations) =>
        explanations is [var one] ? combined with { ConvergenceDelta = one.ConvergenceDelta, ScoreChange = one.ScoreChange } : combined;

    // Scans: each member's map of the target class placed back on the scan as given (the first member's source grid),
    // averaged there with the weights.
    private Explanation ExplainScan(Data.Loading.PreparedVolume[] prepared, ExplanationMethod method, int? targetClass)
    {
        var prediction = Combine(prepared.Select(p => (IReadOnlyList<FloatImage>)new[] { p.Image }).ToArray(), 1)[0];
        int target = targetClass ?? prediction.Label;
        var grid = prepared[0].Source;
        var sum = new double[grid.Shape.Aggregate(1, (a, b) => a * b)];
        var explanations = new Explanation[_members.Length];
        for (int m = 0; m < _members.Length; m++)
        {
            explanations[m] = _members[m].ExplainPrepared(prepared[m], method, target);
            var placed = explanations[m].PlacedOn(grid).Voxels;
            for (int j = 0; j < sum.Length; j++) sum[j] += _weights[m] * placed[j];
        }
        // NIfTI voxels run x fastest: as a (D, H, W) = (z, y, x) map, row-major.
        return WithOneMembersDelta(new Explanation(prediction, target, ClassNames[target], ToMap(sum), [grid.Shape[2], grid.Shape[1], grid.Shape[0]])
        {
            InputGrid = grid,
            SourceGrid = grid,
        }, explanations);
    }

    // The weighted mean of maps in [0, 1] as float, clamped against rounding.
    private static float[] ToMap(double[] values) => values.Select(v => (float)Math.Clamp(v, 0, 1)).ToArray();

    /// <summary>
    /// Frees every member. Calls already running on other threads finish first (each member's model is freed when the
    /// last call using it returns); later calls throw <see cref="ObjectDisposedException"/>.
    /// </summary>
    public void Dispose() => _guard.Dispose();
}
