using System.Globalization;
using System.Text.Json.Serialization;
using MedVision.Nets.Metrics;
using MedVision.Nets.Metrics.Conformal;

namespace MedVision.Nets.Inference;

/// <summary>
/// A <see cref="ConformalClassifier"/> stored in a model card (<see cref="ModelCard.Conformal"/>), so that the deployed
/// <see cref="Predictor"/> returns each prediction's conformal set, with the predictor settings it was calibrated under:
/// the thresholds hold only for the probabilities those settings produce.
/// </summary>
public sealed class ConformalCard
{
    /// <summary>The score: "Lac", "Aps", "Raps" or "OrdinalAps" (<see cref="ConformalScore"/>).</summary>
    [JsonPropertyName("score")] public string Score { get; set; } = nameof(ConformalScore.Aps);
    /// <summary>The coverage asked for, 1 − α.</summary>
    [JsonPropertyName("coverage")] public double Coverage { get; set; } = ConformalClassifier.DefaultCoverage;
    /// <summary>Whether each class has its own threshold.</summary>
    [JsonPropertyName("class_conditional")] public bool ClassConditional { get; set; }
    /// <summary>One threshold per class (all equal unless class-conditional); null for +∞ (too few calibration images).</summary>
    [JsonPropertyName("thresholds")] public List<double?> Thresholds { get; set; } = new();
    /// <summary>RAPS's λ (0 for the other scores).</summary>
    [JsonPropertyName("regularization")] public double Regularization { get; set; }
    /// <summary>RAPS's k_reg (0 for the other scores).</summary>
    [JsonPropertyName("regularization_rank")] public int RegularizationRank { get; set; }
    /// <summary>The number of calibration images.</summary>
    [JsonPropertyName("calibration_count")] public int CalibrationCount { get; set; }
    /// <summary>Calibration images per class.</summary>
    [JsonPropertyName("calibration_class_counts")] public List<int> CalibrationClassCounts { get; set; } = new();
    /// <summary>The card's softmax temperature when the calibration was made (it must still be the card's).</summary>
    [JsonPropertyName("temperature")] public double Temperature { get; set; } = 1;
    /// <summary>
    /// For a CORAL head: where <see cref="Temperature"/> applied when the calibration was made — absent for the grades'
    /// probabilities (and for every other head), "cumulative_logits" for the cumulative logits, as the card's
    /// <see cref="ModelCard.CoralTemperatureName"/> (which it must still match).
    /// </summary>
    [JsonPropertyName("coral_temperature")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? CoralTemperatureName { get; set; }
    /// <summary>The test-time flips the calibration's probabilities were predicted with (<see cref="TestTimeFlips"/> names).</summary>
    [JsonPropertyName("flips")] public string Flips { get; set; } = nameof(TestTimeFlips.None);
    /// <summary>Whether the calibration's probabilities were predicted under bfloat16 autocast.</summary>
    [JsonPropertyName("mixed_precision")] public bool MixedPrecision { get; set; }

    /// <summary>Describes <paramref name="conformal"/>, calibrated on the probabilities of a predictor with these settings.</summary>
    /// <param name="conformal">The calibrated classifier.</param>
    /// <param name="temperature">The model card's temperature the probabilities were computed at (a softmax's, or one on a
    /// CORAL head's grade probabilities; for a card whose temperature applies to the cumulative logits, pass its
    /// <see cref="ModelCard.GetTemperatureScaling"/> to the other overload).</param>
    /// <param name="flips">The predictor's test-time flips.</param>
    /// <param name="mixedPrecision">Whether the predictor ran under bfloat16 autocast.</param>
    /// <returns>The card.</returns>
    public static ConformalCard From(ConformalClassifier conformal, double temperature = 1, TestTimeFlips flips = TestTimeFlips.None, bool mixedPrecision = false) =>
        From(conformal, TemperatureScaling.WithTemperature(temperature), flips, mixedPrecision);

    /// <summary>
    /// Describes <paramref name="conformal"/>, calibrated on the probabilities of a predictor with these settings, at the
    /// temperature of <paramref name="scaling"/> and where it applies (a CORAL head's cumulative logits or its grade
    /// probabilities; e.g. <see cref="ModelCard.GetTemperatureScaling"/> of the card the probabilities were predicted with).
    /// </summary>
    /// <param name="conformal">The calibrated classifier.</param>
    /// <param name="scaling">The model card's temperature scaling the probabilities were computed with.</param>
    /// <param name="flips">The predictor's test-time flips.</param>
    /// <param name="mixedPrecision">Whether the predictor ran under bfloat16 autocast.</param>
    /// <returns>The card.</returns>
    public static ConformalCard From(ConformalClassifier conformal, TemperatureScaling scaling, TestTimeFlips flips = TestTimeFlips.None, bool mixedPrecision = false)
    {
        ArgumentNullException.ThrowIfNull(conformal);
        ArgumentNullException.ThrowIfNull(scaling);
        return new ConformalCard
        {
            Score = conformal.Score.ToString(),
            Coverage = conformal.Coverage,
            ClassConditional = conformal.IsClassConditional,
            Thresholds = conformal.Thresholds.Select(t => double.IsPositiveInfinity(t) ? (double?)null : t).ToList(),
            Regularization = conformal.Regularization,
            RegularizationRank = conformal.RegularizationRank,
            CalibrationCount = conformal.CalibrationCount,
            CalibrationClassCounts = conformal.CalibrationClassCounts.ToList(),
            Temperature = scaling.Temperature,
            CoralTemperatureName = TemperatureSetting.NameOf(scaling),
            Flips = flips.ToString(),
            MixedPrecision = mixedPrecision,
        };
    }

    /// <summary>The calibrated classifier this card describes.</summary>
    /// <returns>The classifier.</returns>
    /// <exception cref="ModelFormatException">The card is not a valid calibration.</exception>
    public ConformalClassifier ToClassifier() => ToClassifier("the conformal card", -1);

    /// <summary>The flips the calibration was made with.</summary>
    /// <exception cref="ModelFormatException">The flips are not <see cref="TestTimeFlips"/> names.</exception>
    [JsonIgnore]
    public TestTimeFlips CalibrationFlips => ParseFlips("The conformal card");

    private TestTimeFlips ParseFlips(string source) => PredictorSettings.ParseFlips(Flips, source, "conformal calibration's");

    // The calibration for a predictor with these settings, or null and why not: the thresholds hold only for the
    // probabilities of the flips and precision they were calibrated with. owner: "model file" or "manifest"; user:
    // "predictor" or "ensemble".
    internal ConformalClassifier? For(TestTimeFlips flips, bool mixedPrecision, string owner, string user, out string? note)
    {
        note = PredictorSettings.Mismatch("conformal sets were calibrated", CalibrationFlips, MixedPrecision, flips, mixedPrecision, owner, user,
            "predictions carry no sets. Load it with the calibration's settings, or calibrate again.");
        return note is null ? ToClassifier() : null;
    }

    internal ConformalClassifier ToClassifier(string source, int classCount)
    {
        string Problem(string what) => $"{source}: the conformal calibration {what}";
        if (!Enum.TryParse<ConformalScore>(Score, ignoreCase: true, out var score) || !Enum.IsDefined(score) || int.TryParse(Score, out _))
            throw new ModelFormatException(Problem($"has an unknown score '{Score}' (Lac, Aps, Raps or OrdinalAps)."));
        if (!(Coverage > 0 && Coverage < 1)) throw new ModelFormatException(Problem(string.Create(CultureInfo.InvariantCulture, $"has coverage {Coverage}; it must lie strictly between 0 and 1.")));
        if (Thresholds is null || Thresholds.Count < 2) throw new ModelFormatException(Problem("needs one threshold per class (at least two)."));
        if (classCount >= 0 && Thresholds.Count != classCount)
            throw new ModelFormatException(Problem($"has {Thresholds.Count} thresholds but the model has {classCount} classes."));
        if (Thresholds.Any(t => t is { } v && !(double.IsFinite(v) && v >= -1)))
            throw new ModelFormatException(Problem("has a threshold that is not a finite score (null stands for +∞)."));
        if (!ClassConditional && Thresholds.Distinct().Count() != 1)
            throw new ModelFormatException(Problem("is not class-conditional but its thresholds differ."));
        bool raps = score == ConformalScore.Raps;
        if (!(double.IsFinite(Regularization) && Regularization >= 0) || RegularizationRank < 0 || (!raps && (Regularization != 0 || RegularizationRank != 0)))
            throw new ModelFormatException(Problem("has a regularisation (λ ≥ 0, k_reg ≥ 0) where only RAPS has one."));
        if (CalibrationCount < 1 || CalibrationClassCounts is null || CalibrationClassCounts.Count != Thresholds.Count
                || CalibrationClassCounts.Any(c => c < 0) || CalibrationClassCounts.Sum(c => (long)c) != CalibrationCount)
            throw new ModelFormatException(Problem("needs a positive calibration count that its per-class counts add up to."));
        if (!double.IsFinite(Temperature) || Temperature <= 0) throw new ModelFormatException(Problem("has a temperature that is not a finite positive number."));
        ParseFlips(source);
        return new ConformalClassifier(score, Coverage, ClassConditional, Regularization, RegularizationRank,
            Thresholds.Select(t => t ?? double.PositiveInfinity).ToArray(), CalibrationCount, CalibrationClassCounts.ToArray(), Array.Empty<string>());
    }
}
