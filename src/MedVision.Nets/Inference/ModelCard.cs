using System.Text.Json.Serialization;
using Decision = MedVision.Nets.Metrics.OrdinalDecision;

namespace MedVision.Nets.Inference;

/// <summary>
/// Everything needed to rebuild and use a saved model without code that knows it in advance: architecture and options,
/// preprocessing, class names, task type, the library version and the training metrics of the selected epoch.
/// Stored as JSON in the safetensors header (key <see cref="ModelFile.MetadataKey"/>), or in a sidecar JSON file.
/// </summary>
public sealed class ModelCard
{
    /// <summary>
    /// The newest format version this library reads. It writes the oldest version that describes a model, so older
    /// readers keep reading what they can rebuild: 1; 2 for a ResNet with a stem kernel or stride of its own, torchvision's
    /// replace_stride_with_dilation, stage strides, stage dilations or the zero-padding shortcut (MedicalNet's layout),
    /// or a volume intensity window, which a version-1 reader would silently build or scale without; 3 for a per-input
    /// <see cref="PreprocessingCard.IntensityNormalization"/> or a volume's <see cref="PreprocessingCard.CropForeground"/>,
    /// which a version-2 reader would skip; 4 for modalities; 5 for a volume's spacing, aligned modalities, crop-or-pad
    /// fit or intensity percentiles; 6 for channel-wise intensity scaling; 7 for images resized as 8-bit pixels
    /// (<see cref="PreprocessingCard.ResizeEightBit"/>); 8 for a vision transformer (architecture "vit"); 9 for a ResNet
    /// with a CORAL ordinal head (<see cref="ResNetCard.Head"/>), whose K − 1 cumulative logits an older reader would
    /// take for class logits; 10 for a temperature on a CORAL head's cumulative logits (<see cref="CoralTemperature"/>),
    /// which an older reader would apply to the grades' probabilities.
    /// </summary>
    public const int CurrentFormatVersion = 10;

    /// <summary>Format version of the card: the oldest that describes it (see <see cref="ModelFile.RequiredFormatVersion"/>); readers refuse newer ones than theirs.</summary>
    [JsonPropertyName("format_version")] public int FormatVersion { get; set; } = 1;
    /// <summary>
    /// Architecture name: "resnet" (rebuilt from <see cref="ResNet"/> and safetensors weights), "vit" (rebuilt from
    /// <see cref="Vit"/>; card format 8) or "torchscript" (the network is the TorchScript file itself).
    /// </summary>
    [JsonPropertyName("architecture")] public string Architecture { get; set; } = "resnet";
    /// <summary>ResNet options (when <see cref="Architecture"/> is "resnet"; absent otherwise).</summary>
    [JsonPropertyName("resnet")] public ResNetCard? ResNet { get; set; }
    /// <summary>Vision-transformer options (when <see cref="Architecture"/> is "vit"; absent otherwise).</summary>
    [JsonPropertyName("vit")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public VisionTransformerCard? Vit { get; set; }
    /// <summary>How raw inputs become the network's input.</summary>
    [JsonPropertyName("preprocessing")] public PreprocessingCard Preprocessing { get; set; } = new();
    /// <summary>Class names, index = class.</summary>
    [JsonPropertyName("class_names")] public List<string> ClassNames { get; set; } = new();
    /// <summary>Task type: binary, multi-class, multi-label or ordinal-regression (MedMnistTask names).</summary>
    [JsonPropertyName("task")] public string Task { get; set; } = "MultiClass";
    /// <summary>Version of the library that wrote the file.</summary>
    [JsonPropertyName("library_version")] public string LibraryVersion { get; set; } = "";
    /// <summary>
    /// The softmax temperature T the predictor divides the logits by (1: none). Set it to a
    /// <see cref="Metrics.TemperatureScaling"/> fitted on validation data to make the predicted probabilities
    /// calibrated; predictions (the arg-max) do not change. Single-label tasks only. For a CORAL head
    /// (<see cref="HasCoralHead"/>) it applies where <see cref="CoralTemperature"/> says: by default to the logarithms of
    /// its class probabilities (p_k^(1/T), renormalised, which is what <see cref="Metrics.TemperatureScaling.FitFromProbabilities(int[], double[,])"/>
    /// fits), or to its cumulative logits (what <see cref="Metrics.TemperatureScaling.FitCumulative(int[], double[,])"/> fits;
    /// the only temperature a card deciding by the median grade may hold, since it keeps that grade).
    /// </summary>
    [JsonPropertyName("temperature")] public double Temperature { get; set; } = 1;
    /// <summary>
    /// Conformal prediction sets calibrated on held-out images (<see cref="Metrics.Conformal.ConformalClassifier"/>), with
    /// the predictor settings they hold for; null when there are none. Single-label tasks only. An older reader ignores it
    /// and predicts as before, without sets.
    /// </summary>
    [JsonPropertyName("conformal")] public ConformalCard? Conformal { get; set; }
    /// <summary>
    /// A screening decision chosen on held-out images (<see cref="ReferralCard"/>: refer when the probability of the
    /// referable classes reaches a threshold), with the predictor settings it holds for; null when there is none.
    /// Single-label tasks only. An older reader ignores it and predicts as before, without decisions.
    /// </summary>
    [JsonPropertyName("referral")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ReferralCard? Referral { get; set; }
    /// <summary>
    /// For a multi-label model: the probability at which each finding (class, in order) is reported, e.g. chosen per
    /// finding on held-out images (Youden's J, or the most specific threshold with a minimum sensitivity); predictions then carry their findings (<see cref="Prediction.Findings"/>).
    /// Null when none were recorded. An older reader ignores it and predicts as before, without findings.
    /// </summary>
    [JsonPropertyName("finding_thresholds")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<double>? FindingThresholds { get; set; }
    /// <summary>
    /// The test-time flips (<see cref="TestTimeFlips"/> names) of the probabilities the <see cref="FindingThresholds"/>
    /// were chosen on; absent: none. A predictor with other flips reports no findings (<see cref="Predictor.FindingThresholdsNote"/> says why).
    /// </summary>
    [JsonPropertyName("finding_thresholds_flips")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? FindingThresholdsFlips { get; set; }
    /// <summary>
    /// Whether the <see cref="FindingThresholds"/> were chosen on probabilities computed under bfloat16 autocast; absent:
    /// float32. A predictor of the other precision reports no findings.
    /// </summary>
    [JsonPropertyName("finding_thresholds_mixed_precision")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? FindingThresholdsMixedPrecision { get; set; }

    /// <summary>
    /// Records each finding's threshold (<see cref="FindingThresholds"/>) with the predictor settings of the held-out
    /// probabilities they were chosen on, which a predictor must share to report findings by them.
    /// </summary>
    /// <param name="thresholds">One probability strictly between 0 and 1 per class (finding), in order.</param>
    /// <param name="flips">The test-time flips the held-out probabilities were predicted with.</param>
    /// <param name="mixedPrecision">Whether they were predicted under bfloat16 autocast.</param>
    public void SetFindingThresholds(IReadOnlyList<double> thresholds, TestTimeFlips flips = TestTimeFlips.None, bool mixedPrecision = false)
    {
        ArgumentNullException.ThrowIfNull(thresholds);
        PredictorSettings.CheckFlips(flips, nameof(flips));
        FindingThresholds = thresholds.ToList();
        FindingThresholdsFlips = flips == TestTimeFlips.None ? null : flips.ToString();
        FindingThresholdsMixedPrecision = mixedPrecision ? true : null;
    }
    /// <summary>
    /// How the predictor decides an ordinal model's grade from its probabilities: absent (or "most_probable") for the
    /// most probable grade; "median" for the median grade — CORAL's own prediction, which <see cref="ModelFile.Describe(Models.ResNet, PreprocessingCard, IReadOnlyList{string}, Metrics.MedMnistTask, IReadOnlyDictionary{string, double}?)"/>
    /// writes for a CORAL head (<see cref="OrdinalDecision"/> reads and sets it). Ordinal tasks only; "median" needs card
    /// format 9 (an older reader would decide by the most probable grade) and temperature 1 (a temperature on the grade
    /// probabilities keeps the most probable grade but moves the median) or one on a CORAL head's cumulative logits
    /// (<see cref="CoralTemperature"/>), which keeps it.
    /// </summary>
    [JsonPropertyName("ordinal_decision")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? OrdinalDecisionName { get; set; }

    /// <summary>The decision <see cref="OrdinalDecisionName"/> names (<see cref="Decision.MostProbable"/> when absent); setting it sets the name.</summary>
    [JsonIgnore]
    public Decision OrdinalDecision
    {
        get => string.Equals(OrdinalDecisionName, MedianDecision, StringComparison.OrdinalIgnoreCase) ? Decision.Median : Decision.MostProbable;
        set => OrdinalDecisionName = value switch
        {
            Decision.Median => MedianDecision,
            Decision.MostProbable => null,
            _ => throw new ArgumentOutOfRangeException(nameof(value), value, "Unknown ordinal decision."),
        };
    }

    /// <summary>
    /// For a CORAL head: where <see cref="Temperature"/> applies — absent (or "grade_probabilities") for the grades'
    /// probabilities, "cumulative_logits" for the K − 1 cumulative logits (card format 10). <see cref="CoralTemperature"/> reads and sets it.
    /// </summary>
    [JsonPropertyName("coral_temperature")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? CoralTemperatureName { get; set; }

    /// <summary>
    /// Where a CORAL head's <see cref="Temperature"/> applies (<see cref="CoralTemperatureName"/>;
    /// <see cref="Losses.CoralTemperature.GradeProbabilities"/> when absent); setting it sets the name. The predictor,
    /// the ONNX export and ensembles follow it (<see cref="Losses.OrdinalDecoding.ToClassProbabilities(MedVision.Torch.Tensor, double, Losses.CoralTemperature)"/>).
    /// </summary>
    [JsonIgnore]
    public Losses.CoralTemperature CoralTemperature
    {
        get => string.Equals(CoralTemperatureName, CumulativeLogitsTemperature, StringComparison.OrdinalIgnoreCase) ? Losses.CoralTemperature.CumulativeLogits : Losses.CoralTemperature.GradeProbabilities;
        set => CoralTemperatureName = value switch
        {
            Losses.CoralTemperature.CumulativeLogits => CumulativeLogitsTemperature,
            Losses.CoralTemperature.GradeProbabilities => null,
            _ => throw new ArgumentOutOfRangeException(nameof(value), value, "Unknown CORAL temperature scaling."),
        };
    }

    /// <summary>The <see cref="CoralTemperatureName"/> of a temperature on the cumulative logits.</summary>
    public const string CumulativeLogitsTemperature = "cumulative_logits";

    /// <summary>
    /// Stores a fitted temperature: <see cref="Temperature"/>, and for a CORAL head where it applies (a
    /// <see cref="Metrics.TemperatureScaling.FitCumulative(int[], double[,])"/> fit: the cumulative logits).
    /// </summary>
    /// <exception cref="ArgumentException">A fit on cumulative logits for a card without a CORAL head.</exception>
    public void SetTemperature(Metrics.TemperatureScaling scaling)
    {
        ArgumentNullException.ThrowIfNull(scaling);
        if (scaling.OnCumulativeLogits && !HasCoralHead)
            throw new ArgumentException("The temperature was fitted on a CORAL head's cumulative logits; this card describes no CORAL head.", nameof(scaling));
        Temperature = scaling.Temperature;
        CoralTemperature = scaling.OnCumulativeLogits ? Losses.CoralTemperature.CumulativeLogits : Losses.CoralTemperature.GradeProbabilities;
    }

    /// <summary>
    /// The card's temperature scaling: <see cref="Temperature"/>, on a CORAL head's cumulative logits when
    /// <see cref="CoralTemperature"/> says so — what a calibration made on this card's probabilities records
    /// (<see cref="ReferralCard.From(Metrics.Clinical.OperatingPoint, int, Metrics.TemperatureScaling, TestTimeFlips, bool)"/>,
    /// <see cref="ConformalCard.From(Metrics.Conformal.ConformalClassifier, Metrics.TemperatureScaling, TestTimeFlips, bool)"/>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The temperature is not a finite positive number.</exception>
    public global::MedVision.Nets.Metrics.TemperatureScaling GetTemperatureScaling() =>
        global::MedVision.Nets.Metrics.TemperatureScaling.WithTemperature(Temperature, CoralTemperature == Losses.CoralTemperature.CumulativeLogits);

    /// <summary>The <see cref="OrdinalDecisionName"/> of the median decision.</summary>
    public const string MedianDecision = "median";

    /// <summary>
    /// True when the card describes a ResNet with a CORAL ordinal head (<see cref="ResNetCard.Head"/> "coral"): the
    /// network gives K − 1 cumulative logits, which the predictor turns into the K grades' probabilities
    /// (<see cref="Losses.OrdinalDecoding.ToClassProbabilities(MedVision.Torch.Tensor)"/>). Not stored: it reads the ResNet options.
    /// </summary>
    [JsonIgnore]
    public bool HasCoralHead => string.Equals(ResNet?.Head, ResNetCard.CoralHead, StringComparison.OrdinalIgnoreCase);

    /// <summary>Training metrics of the selected epoch (e.g. val_auc, val_acc, best_epoch).</summary>
    [JsonPropertyName("metrics")] public Dictionary<string, double> Metrics { get; set; } = new();
}
