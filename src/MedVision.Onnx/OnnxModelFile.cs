using System.Text.Json;
using MedVision.Nets.Inference;
using MedVision.Nets.Losses;
using MedVision.Nets.Metrics;
using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Onnx;

/// <summary>
/// Exports a self-describing model file (<see cref="ModelFile.Save"/>) to ONNX for serving without MedVision: the graph
/// takes the preprocessed image batch <c>input</c> (N, C, H, W) or (N, C, D, H, W) and gives <c>logits</c> and
/// <c>probabilities</c> exactly as <see cref="Predictor"/> computes them (softmax of the temperature-scaled logits;
/// sigmoid for multi-label tasks). The model card — class names, task, preprocessing (input size, channels, mean,
/// std), training metrics — travels in the ONNX metadata under <see cref="ModelFile.MetadataKey"/>.
/// </summary>
public static class OnnxModelFile
{
    /// <summary>The input's name in exported model files.</summary>
    public const string InputName = "input";
    /// <summary>The logits output's name.</summary>
    public const string LogitsName = "logits";
    /// <summary>The probabilities output's name.</summary>
    public const string ProbabilitiesName = "probabilities";

    /// <summary>The metadata key that says what the graph's input is: <c>normalized</c> or <c>unit_range</c> (see <see cref="OnnxModelFileOptions.NormalizeInGraph"/>).</summary>
    public const string InputKindKey = "medvision.input";
    /// <summary>The <see cref="InputKindKey"/> value of a graph that takes normalised input.</summary>
    public const string NormalizedInput = "normalized";
    /// <summary>The <see cref="InputKindKey"/> value of a graph that takes pixels scaled to [0, 1] and normalises them itself.</summary>
    public const string UnitRangeInput = "unit_range";

    /// <summary>Exports <paramref name="modelPath"/> to <paramref name="onnxPath"/> (written atomically) and returns the model's card.</summary>
    /// <exception cref="ModelFormatException">The model file is invalid.</exception>
    /// <exception cref="NotSupportedException">The model cannot be exported (a TorchScript model file, for one: its graph is opaque here).</exception>
    public static ModelCard Export(string modelPath, string onnxPath, OnnxModelFileOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelPath);
        ArgumentException.ThrowIfNullOrWhiteSpace(onnxPath);
        var (model, loadedCard) = ModelFile.Load(modelPath);
        using (model)
        {
            if (string.Equals(loadedCard.Architecture, "torchscript", StringComparison.OrdinalIgnoreCase))
                throw new NotSupportedException($"{modelPath} holds a TorchScript module, whose graph cannot be exported to ONNX here; export it from Python with torch.onnx.export.");
            options ??= new OnnxModelFileOptions();
            var pre = loadedCard.Preprocessing;
            var effective = ExportOptions(options, $"{loadedCard.Architecture} for {string.Join(", ", loadedCard.ClassNames)} ({loadedCard.Task}); " + InputDescription(pre, options));
            AddCard(effective, loadedCard, options);
            bool multiLabel = IsMultiLabel(loadedCard);
            double temperature = loadedCard.Temperature;
            OnnxInputPrelude? prelude = options.NormalizeInGraph ? (context, pixels) => Normalize(context, pixels, pre) : null;
            var writer = new OnnxExporter().Build(model, InputShape(pre, options), effective, prelude: prelude, heads: (context, logits) =>
                new[] { (LogitsName, logits), (ProbabilitiesName, ClassProbabilities(context, logits, multiLabel, temperature, loadedCard.HasCoralHead, loadedCard.CoralTemperature)) });
            OnnxFiles.WriteAtomically(onnxPath, writer);
            return loadedCard;
        }
    }

    /// <summary>The metadata key of an ensemble export (<see cref="ExportEnsemble"/>): its members' file names and weights, as JSON.</summary>
    public const string EnsembleKey = "medvision.ensemble";

    /// <summary>The output of an ensemble export that holds each member's probabilities, (N, members, K).</summary>
    public const string MemberProbabilitiesName = "member_probabilities";

    // Ensemble probabilities are clamped to [ε, 1 − ε] before the logarithms that make them logits (ε is representable in float16 too).
    private const float EnsembleEpsilon = 1e-7f;

    /// <summary>
    /// Exports the ensemble of a manifest (<see cref="EnsemblePredictor.SaveManifest(string, IReadOnlyList{string}, IReadOnlyList{double}?)"/>)
    /// to <paramref name="onnxPath"/> as one graph (written atomically), for serving the ensemble where only one ONNX
    /// file fits (ONNX Runtime in another language, Triton, a device). Every member computes its probabilities as its
    /// predictor does (its own temperature; a sigmoid per label for multi-label tasks), and the graph averages them with
    /// the manifest's weights, as <see cref="EnsemblePredictor"/> does: outputs <c>probabilities</c> (N, K), each
    /// member's as <c>member_probabilities</c> (N, members, K), and <c>logits</c> made so that the predictors'
    /// softmax (or sigmoid) gives back the averaged probabilities — the logarithm of the average (its log-odds for
    /// multi-label tasks), after clamping to [1e-7, 1 − 1e-7]. So <c>OnnxRuntimePredictor</c> serves the file as the
    /// ensemble: the card in the metadata is the first member's with temperature 1 and the manifest's conformal
    /// calibration and referral operating point, which were fitted on the averaged probabilities.
    /// </summary>
    /// <returns>The card stored in the file.</returns>
    /// <exception cref="ModelFormatException">The manifest or a member file is invalid.</exception>
    /// <exception cref="ArgumentException">Members of other tasks or class names, or that prepare their input differently (one graph takes one input: export such members one at a time).</exception>
    /// <exception cref="NotSupportedException">A TorchScript member (its graph cannot be exported here).</exception>
    public static ModelCard ExportEnsemble(string manifestPath, string onnxPath, OnnxModelFileOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(manifestPath);
        ArgumentException.ThrowIfNullOrWhiteSpace(onnxPath);
        options ??= new OnnxModelFileOptions();
        var manifest = EnsemblePredictor.ReadManifest(manifestPath);
        using var members = new EnsembleMembers();
        var cards = new List<ModelCard>();
        foreach (var path in manifest.ModelPaths)
        {
            var (model, card) = ModelFile.Load(path);
            members.Add(model);
            if (string.Equals(card.Architecture, "torchscript", StringComparison.OrdinalIgnoreCase))
                throw new NotSupportedException($"{path} holds a TorchScript module, whose graph cannot be exported to ONNX here; export the ensemble's other members one at a time, or this one from Python.");
            var first = cards.Count == 0 ? card : cards[0];
            if (!string.Equals(card.Task, first.Task, StringComparison.OrdinalIgnoreCase) || !card.ClassNames.SequenceEqual(first.ClassNames))
                throw new ArgumentException($"{path} ({card.Task}: {string.Join(", ", card.ClassNames)}) does not predict what {manifest.ModelPaths[0]} predicts ({first.Task}: {string.Join(", ", first.ClassNames)}).", nameof(manifestPath));
            if (Preparation(card.Preprocessing, withNormalization: true) != Preparation(first.Preprocessing, withNormalization: true))
            {
                // Members that differ in their normalisation only (folds normalised by their own training images) share
                // an input of pixels in [0, 1] when each normalises in the graph.
                bool normalizationOnly = Preparation(card.Preprocessing, withNormalization: false) == Preparation(first.Preprocessing, withNormalization: false);
                if (!normalizationOnly || !options.NormalizeInGraph)
                    throw new ArgumentException(normalizationOnly
                        ? $"{path} normalises its input with another mean and standard deviation than {manifest.ModelPaths[0]}: export with NormalizeInGraph (--normalize-in-graph), so that the graph takes pixels in [0, 1] and each member normalises them as it was trained."
                        : $"{path} prepares its input otherwise than {manifest.ModelPaths[0]} (input size, channels or resizing differ), and one graph takes one input: export the members one at a time, and serve them with EnsemblePredictor.", nameof(manifestPath));
            }
            cards.Add(card);
        }

        var pre = cards[0].Preprocessing;
        bool multiLabel = IsMultiLabel(cards[0]);
        double total = manifest.Weights.Sum();
        var weights = manifest.Weights.Select(w => w / total).ToArray();
        var temperatures = cards.Select(c => c.Temperature).ToArray();
        var ensembleCard = JsonSerializer.Deserialize<ModelCard>(JsonSerializer.Serialize(cards[0]))!;
        ensembleCard.Temperature = 1;
        ensembleCard.CoralTemperature = CoralTemperature.GradeProbabilities;
        // The graph's logits are the log of the averaged probabilities, whichever heads the members have.
        if (ensembleCard.ResNet is not null) ensembleCard.ResNet.Head = null;
        // It decides grades as EnsemblePredictor does: by the median when every member does (CORAL heads).
        ensembleCard.OrdinalDecision = cards.All(c => c.OrdinalDecision == OrdinalDecision.Median) ? OrdinalDecision.Median : OrdinalDecision.MostProbable;
        ensembleCard.FormatVersion = ModelFile.RequiredFormatVersion(ensembleCard);
        // Findings: the members' thresholds hold for each member alone, not for the average (EnsemblePredictor reports none).
        (ensembleCard.FindingThresholds, ensembleCard.FindingThresholdsFlips, ensembleCard.FindingThresholdsMixedPrecision) = (null, null, null);
        ensembleCard.Conformal = manifest.Conformal;
        ensembleCard.Referral = manifest.Referral;
        ensembleCard.Metrics = new Dictionary<string, double> { ["ensemble_members"] = cards.Count };

        var effective = ExportOptions(options, $"ensemble of {cards.Count} {cards[0].Task} models for {string.Join(", ", cards[0].ClassNames)}; " + InputDescription(pre, options)
            + " Outputs: probabilities (the members' weighted average), member_probabilities, logits (log of the average).");
        AddCard(effective, ensembleCard, options);
        effective.Metadata[EnsembleKey] = JsonSerializer.Serialize(new
        {
            members = manifest.ModelPaths.Select(Path.GetFileName).ToArray(),
            paths = manifest.ModelPaths.Select(p => Path.GetRelativePath(Path.GetDirectoryName(Path.GetFullPath(manifestPath))!, p)).ToArray(),
            weights,
        });

        // One member's probabilities as its predictor computes them: the reference the graph's are checked against.
        Tensor ReferenceProbabilities(Tensor logits, int i) => multiLabel ? logits.Sigmoid()
            : cards[i].HasCoralHead ? OrdinalDecoding.ToClassProbabilities(logits, temperatures[i], cards[i].CoralTemperature) : (logits / temperatures[i]).Softmax(1);

        new OnnxExporter().ExportGraph(members, onnxPath, new[] { new OnnxGraphInput(InputName, InputShape(pre, options)) }, (context, inputs) =>
        {
            OnnxValue? average = null;
            var each = new List<OnnxValue>();
            for (int i = 0; i < members.Count; i++)
            {
                var x = options.NormalizeInGraph ? Normalize(context, inputs[0], cards[i].Preprocessing) : inputs[0];
                var probabilities = ClassProbabilities(context, context.Call(members[i], x), multiLabel, temperatures[i], cards[i].HasCoralHead, cards[i].CoralTemperature);
                each.Add(context.AddNode("Unsqueeze", new[] { probabilities, context.Int64Constant("axes", 1) }, probabilities.Sample.Unsqueeze(1)));
                var weighted = context.Mul(probabilities, context.Constant("weight", new[] { (float)weights[i] }));
                average = average is null ? weighted : context.Add(average, weighted);
            }
            var logits = EnsembleLogits(context, average!, multiLabel);
            return new[] { (LogitsName, logits), (ProbabilitiesName, average!), (MemberProbabilitiesName, each.Count == 1 ? each[0] : context.Concat(each, 1)) };
        }, inputs =>
        {
            Tensor Prepared(int i)
            {
                var p = cards[i].Preprocessing;
                var shape = NormalizationShape(p, (int)inputs[0].Dim);
                return options.NormalizeInGraph ? (inputs[0] - Tensors.FromArray(p.Mean.ToArray()).Reshape(shape)) / Tensors.FromArray(p.Std.ToArray()).Reshape(shape) : inputs[0];
            }
            var each = Enumerable.Range(0, members.Count).Select(i => ReferenceProbabilities(members[i].Call(Prepared(i)), i)).ToArray();
            var average = each.Select((p, i) => p * weights[i]).Aggregate((a, b) => a + b);
            var clamped = average.Clamp(EnsembleEpsilon, 1 - EnsembleEpsilon);
            var logits = multiLabel ? clamped.Log() - (1 - clamped).Log() : clamped.Log();
            return new[] { logits, average, Tensors.Stack(each, 1) };
        }, effective);
        return ensembleCard;
    }

    // The logits whose softmax (sigmoid per label) is the averaged probabilities: log p, or log p − log(1 − p), of p clamped to [ε, 1 − ε].
    private static OnnxValue EnsembleLogits(OnnxExportContext context, OnnxValue average, bool multiLabel)
    {
        var clamped = context.AddNode("Clip", new[] { average, context.Constant("min", new[] { EnsembleEpsilon }), context.Constant("max", new[] { 1 - EnsembleEpsilon }) },
            average.Sample.Clamp(EnsembleEpsilon, 1 - EnsembleEpsilon));
        var log = context.AddNode("Log", new[] { clamped }, clamped.Sample.Log());
        if (!multiLabel) return log;
        var one = context.Constant("one", new[] { 1f });
        var complement = context.AddNode("Sub", new[] { one, clamped }, 1 - clamped.Sample);
        var logComplement = context.AddNode("Log", new[] { complement }, complement.Sample.Log());
        return context.AddNode("Sub", new[] { log, logComplement }, log.Sample - logComplement.Sample);
    }

    // A card's preparation of the input as JSON, to compare members; without the mean and standard deviation when they may differ.
    private static string Preparation(PreprocessingCard pre, bool withNormalization)
    {
        var json = System.Text.Json.Nodes.JsonNode.Parse(JsonSerializer.Serialize(pre))!.AsObject();
        if (!withNormalization)
            foreach (var key in json.Select(p => p.Key).Where(k => k is "mean" or "std").ToList()) json.Remove(key);
        return json.ToJsonString();
    }

    // A classifier's probabilities as its predictor computes them: a sigmoid per label, or the softmax of the logits
    // over its temperature; for a CORAL head the grades' probabilities of its cumulative logits (under a temperature,
    // the softmax of their logarithms over it, or — CoralTemperature.CumulativeLogits — those of the logits over it).
    private static OnnxValue ClassProbabilities(OnnxExportContext context, OnnxValue logits, bool multiLabel, double temperature, bool coral = false, CoralTemperature coralTemperature = CoralTemperature.GradeProbabilities)
    {
        if (multiLabel) return context.AddNode("Sigmoid", new[] { logits }, logits.Sample.Sigmoid());
        if (coral && coralTemperature == CoralTemperature.CumulativeLogits)
        {
            var cumulative = temperature == 1 ? logits
                : context.AddNode("Div", new[] { logits, context.Constant("temperature", new[] { (float)temperature }) }, logits.Sample / temperature);
            return CoralProbabilities(context, cumulative);
        }
        if (coral)
        {
            var probabilities = CoralProbabilities(context, logits);
            if (temperature == 1) return probabilities;
            var floored = context.AddNode("Clip", new[] { probabilities, context.Constant("floor", new[] { OrdinalDecoding.ProbabilityFloor }), context.NoInput },
                probabilities.Sample.Clamp(min: OrdinalDecoding.ProbabilityFloor));
            logits = context.AddNode("Log", new[] { floored }, floored.Sample.Log());
        }
        var scaled = temperature == 1 ? logits
            : context.AddNode("Div", new[] { logits, context.Constant("temperature", new[] { (float)temperature }) }, logits.Sample / temperature);
        return context.AddNode("Softmax", new[] { scaled }, scaled.Sample.Softmax(1), OnnxAttribute.Int("axis", 1));
    }

    // OrdinalDecoding.ToClassProbabilities in ONNX: with p = sigmoid(logits) (N, K − 1), P = e₀ + p·D, where e₀ = (1, 0, …, 0)
    // and D has −1 on its diagonal and +1 above it (P₀ = 1 − p₀, P_k = p_(k−1) − p_k, P_(K−1) = p_(K−2)); negative
    // differences (crossing thresholds) clipped to 0 and each row renormalised.
    private static OnnxValue CoralProbabilities(OnnxExportContext context, OnnxValue logits)
    {
        int thresholds = (int)logits.Sample.Size(1), grades = thresholds + 1;
        var cumulative = context.AddNode("Sigmoid", new[] { logits }, logits.Sample.Sigmoid());
        var difference = new float[thresholds * grades];
        for (int k = 0; k < thresholds; k++)
        {
            difference[(k * grades) + k] = -1;
            difference[(k * grades) + k + 1] = 1;
        }
        var first = new float[grades];
        first[0] = 1;
        var d = context.Constant("coral_differences", difference, thresholds, grades);
        var e0 = context.Constant("coral_first", first, grades);
        var spread = context.AddNode("MatMul", new[] { cumulative, d }, cumulative.Sample.MatMul(d.Sample));
        var raw = context.Add(spread, e0);
        var clipped = context.Relu(raw);
        var total = context.AddNode("ReduceSum", new[] { clipped, context.Int64Constant("axes", 1) }, clipped.Sample.Sum(1, keepDim: true), OnnxAttribute.Int("keepdims", 1));
        var safe = context.AddNode("Clip", new[] { total, context.Constant("min", new[] { OrdinalDecoding.ProbabilityFloor }), context.NoInput }, total.Sample.Clamp(min: OrdinalDecoding.ProbabilityFloor));
        return context.AddNode("Div", new[] { clipped, safe }, clipped.Sample / safe.Sample);
    }

    private static bool IsMultiLabel(ModelCard card) => Enum.TryParse<MedMnistTask>(card.Task, ignoreCase: true, out var task) && task == MedMnistTask.MultiLabel;

    // The example input (batch, channels, the card's size).
    private static long[] InputShape(PreprocessingCard pre, OnnxModelFileOptions options) =>
        new long[] { options.BatchSize, pre.Channels }.Concat(pre.InputSize.Select(size => (long)size)).ToArray();

    // The graph's input as the description says it: its shape, then how the caller prepares it (and what the graph does).
    private static string InputDescription(PreprocessingCard pre, OnnxModelFileOptions options) =>
        $"input {InputName} (N, {pre.Channels}, {string.Join(", ", pre.InputSize)}){(pre.Modalities is { } m ? $", channels {string.Join(", ", m)}" : "")}: "
        + Geometry(pre) + "pixels scaled to [0, 1]" + PerInput(pre)
        + (options.NormalizeInGraph ? " (the graph normalises them)." : $", then normalised with mean [{Join(pre.Mean)}] and std [{Join(pre.Std)}].");

    // The card (and the class names alone) in the metadata, and which input the graph takes.
    private static void AddCard(OnnxExportOptions effective, ModelCard card, OnnxModelFileOptions options)
    {
        effective.Metadata[ModelFile.MetadataKey] = JsonSerializer.Serialize(card);
        effective.Metadata["medvision.class_names"] = JsonSerializer.Serialize(card.ClassNames);
        effective.Metadata[InputKindKey] = options.NormalizeInGraph ? UnitRangeInput : NormalizedInput;
    }

    /// <summary>The members of an ensemble export, registered as member0, member1, … so that their weights keep their own names below.</summary>
    private sealed class EnsembleMembers : Module
    {
        private readonly List<Module<Tensor, Tensor>> _members = new();

        public int Count => _members.Count;

        public Module<Tensor, Tensor> this[int index] => _members[index];

        public void Add(Module<Tensor, Tensor> member) => _members.Add(RegisterModule($"member{_members.Count}", member));
    }

    /// <summary>
    /// Exports a segmentation model file (<see cref="SegmentationModelFile.Save"/>) to <paramref name="onnxPath"/>
    /// (written atomically) and returns its card. The graph takes the prepared windows <c>input</c> (N, C, window…) —
    /// the card's window; any spatial size that is a multiple of the U-Net's with
    /// <see cref="OnnxModelFileOptions.DynamicSpatialSize"/> — and gives <c>logits</c> (N, classes, …) and
    /// <c>probabilities</c> (softmax over the classes; for a one-channel network the sigmoid). The card travels in the
    /// metadata under <see cref="SegmentationModelFile.MetadataKey"/>, so that <c>OnnxRuntimePredictor.LoadSegmentation</c>
    /// and <c>LoadImageSegmentation</c> prepare scans and images, slide the window and map label maps back as
    /// <see cref="SegmentationPredictor"/> and <see cref="ImageSegmentationPredictor"/> do.
    /// </summary>
    /// <exception cref="ModelFormatException">The model file is invalid.</exception>
    /// <exception cref="ArgumentException">A fixed batch size that cannot take the predictor's batches of windows, or <see cref="OnnxModelFileOptions.NormalizeInGraph"/> (the preparation stays with the predictor).</exception>
    public static SegmentationCard ExportSegmentation(string modelPath, string onnxPath, OnnxModelFileOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelPath);
        ArgumentException.ThrowIfNullOrWhiteSpace(onnxPath);
        options ??= new OnnxModelFileOptions();
        var (model, card) = SegmentationModelFile.Load(modelPath);
        using (model)
        {
            if (!options.DynamicBatch && options.BatchSize != 1)
                throw new ArgumentException($"A fixed batch must be 1 window (the predictors pass up to {card.WindowBatchSize} at a time, fewer at the end); keep DynamicBatch for batches of windows.", nameof(options));
            if (!options.DynamicBatch && card.WindowBatchSize > 1)
                throw new ArgumentException($"The card runs windows in batches of {card.WindowBatchSize}; keep DynamicBatch.", nameof(options));
            if (options.NormalizeInGraph)
                throw new ArgumentException("A segmentation graph takes prepared windows; its preparation (normalisation included) stays with the predictor.", nameof(options));
            var effective = ExportOptions(options, $"{card.SpatialDims}-D U-Net segmenting {string.Join(", ", card.ClassNames)}; input {InputName} (N, {card.InChannels}, "
                + $"{string.Join(", ", card.WindowSize)}): windows of {(card.SpatialDims == 3 ? "scans" : "images")} prepared as the card in the metadata says.");
            effective.Metadata[SegmentationModelFile.MetadataKey] = JsonSerializer.Serialize(card);
            effective.Metadata["medvision.class_names"] = JsonSerializer.Serialize(card.ClassNames);
            effective.Metadata[InputKindKey] = NormalizedInput;
            var shape = new long[] { 1, card.InChannels }.Concat(card.WindowSize.Select(s => (long)s)).ToArray();
            bool sigmoid = card.IsSigmoid;
            var writer = new OnnxExporter().Build(model, shape, effective, heads: (context, logits) =>
            {
                var probabilities = sigmoid
                    ? context.AddNode("Sigmoid", new[] { logits }, logits.Sample.Sigmoid())
                    : context.AddNode("Softmax", new[] { logits }, logits.Sample.Softmax(1), OnnxAttribute.Int("axis", 1));
                return new[] { (LogitsName, logits), (ProbabilitiesName, probabilities) };
            });
            OnnxFiles.WriteAtomically(onnxPath, writer);
            return card;
        }
    }

    // The exporter's options for a model file: the input and logits names, the batch and size choices, the description
    // (the caller's, else one made from the card) and the caller's metadata, to which the card is added.
    private static OnnxExportOptions ExportOptions(OnnxModelFileOptions options, string description)
    {
        var effective = new OnnxExportOptions
        {
            InputName = InputName,
            OutputName = LogitsName,
            DynamicBatch = options.DynamicBatch,
            DynamicSpatialSize = options.DynamicSpatialSize,
            Float16 = options.Float16,
            Description = options.Description ?? description,
            ModelVersion = options.ModelVersion,
        };
        foreach (var (key, value) in options.Metadata) effective.Metadata[key] = value;
        return effective;
    }

    // (x − mean) / std per channel, with the card's one or C values broadcast over (N, C, …).
    private static OnnxValue Normalize(OnnxExportContext context, OnnxValue pixels, PreprocessingCard pre)
    {
        var shape = NormalizationShape(pre, pixels.Rank);
        var mean = context.Constant("mean", pre.Mean.ToArray(), shape);
        var std = context.Constant("std", pre.Std.ToArray(), shape);
        var centred = context.AddNode("Sub", new[] { pixels, mean }, pixels.Sample - mean.Sample);
        return context.AddNode("Div", new[] { centred, std }, centred.Sample / std.Sample);
    }

    // The shape the card's mean and standard deviation (one value, or one per channel) broadcast from over an input of `rank`.
    private static long[] NormalizationShape(PreprocessingCard pre, int rank) =>
        new long[] { 1, pre.Mean.Count == 1 ? 1 : pre.Channels }.Concat(Enumerable.Repeat(1L, rank - 2)).ToArray();

    // The card's resampling to a voxel size, alignment of channels and crop to the foreground (volumes), done before
    // resizing by the predictors, not by the graph.
    private static string Geometry(PreprocessingCard pre)
    {
        var steps = new List<string>();
        if (pre.Spacing is { } spacing) steps.Add($"resampled to {string.Join(" × ", spacing.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)))} mm voxels");
        if (pre.AlignModalities == true) steps.Add("channels on other grids resampled onto the first channel's grid");
        if (pre.CropForeground is { } c)
            steps.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"cropped to their stored values above {c.Threshold}{(c.Margin > 0 ? $" (margin {c.Margin})" : "")}"));
        bool cropOrPad = pre.Fit == "crop_or_pad";
        if (steps.Count == 0) return cropOrPad ? "volumes center-cropped or padded (with their minimum) to the input size instead of resized, " : "";
        return $"volumes {string.Join(", ", steps)} before {(cropOrPad ? "being center-cropped or padded (with their minimum) to the input size" : "resizing")}, ";
    }

    // The card's per-input normalisation, which the graph leaves to its caller (as the predictors apply it).
    private static string PerInput(PreprocessingCard pre) => pre.IntensityNormalization is { } n
        ? $", each input normalised by its own mean and sd{(n.NonZero ? " over its non-zero values (zeros kept)" : "")}{(n.ChannelWise ? ", per channel" : "")}"
        : "";

    private static string Join(IEnumerable<float> values) => string.Join(", ", values.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)));
}
