using System.Globalization;
using System.Text.Json.Serialization;
using MedVision.Nets.Metrics;
using MedVision.Nets.Metrics.Clinical;

namespace MedVision.Nets.Inference;

/// <summary>
/// A screening decision stored in a model card (<see cref="ModelCard.Referral"/>): refer an image when its risk — the
/// probability of the referable classes, Σ_{k ≥ <see cref="ReferableFrom"/>} p_k (<see cref="Referral.FromGrades(int[], double[,], int)"/>)
/// — reaches <see cref="Threshold"/>, the <see cref="OperatingPoint"/> chosen on held-out images for the programme's
/// requirement. The deployed <see cref="Predictor"/> then gives each prediction its risk and decision
/// (<see cref="Prediction.ReferralRisk"/>, <see cref="Prediction.Referred"/>). Like a conformal calibration it holds
/// only for the probabilities it was chosen on, so it records the temperature, flips and precision they were predicted
/// with; for the same reason an <see cref="EnsemblePredictor"/>, whose averaged probabilities are no member's, gives no
/// referral decision from its members' cards — its manifest records one chosen on the averaged probabilities
/// (<see cref="EnsemblePredictor.SaveManifest(string, IReadOnlyList{string}, IReadOnlyList{double}?, ConformalCard?, ReferralCard?)"/>).
/// </summary>
public sealed class ReferralCard
{
    /// <summary>The first referable class (e.g. grade 2, moderate diabetic retinopathy; 1 for a binary model).</summary>
    [JsonPropertyName("referable_from")] public int ReferableFrom { get; set; } = 1;

    /// <summary>An image is referred when its risk is at least this (a probability in [0, 1]).</summary>
    [JsonPropertyName("threshold")] public double Threshold { get; set; } = 0.5;

    /// <summary>How the threshold was chosen, in words (<see cref="OperatingPoint.Rule"/>).</summary>
    [JsonPropertyName("rule")] public string Rule { get; set; } = "";

    /// <summary>The number of held-out images the threshold was chosen on (0 when set by hand).</summary>
    [JsonPropertyName("held_out_count")] public int HeldOutCount { get; set; }

    /// <summary>The sensitivity on those images; null when set by hand.</summary>
    [JsonPropertyName("sensitivity")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? Sensitivity { get; set; }

    /// <summary>The specificity on those images; null when set by hand.</summary>
    [JsonPropertyName("specificity")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? Specificity { get; set; }

    /// <summary>
    /// The Clopper–Pearson 95% interval (lower, upper) of <see cref="Sensitivity"/>: how far the held-out images pin it
    /// down (on a few dozen images, widely); null when set by hand.
    /// </summary>
    [JsonPropertyName("sensitivity_interval")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<double>? SensitivityInterval { get; set; }

    /// <summary>The Clopper–Pearson 95% interval (lower, upper) of <see cref="Specificity"/>; null when set by hand.</summary>
    [JsonPropertyName("specificity_interval")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<double>? SpecificityInterval { get; set; }

    /// <summary>The card's softmax temperature when the threshold was chosen (it must still be the card's).</summary>
    [JsonPropertyName("temperature")] public double Temperature { get; set; } = 1;

    /// <summary>
    /// For a CORAL head: where <see cref="Temperature"/> applied when the threshold was chosen — absent for the grades'
    /// probabilities (and for every other head), "cumulative_logits" for the cumulative logits, as the card's
    /// <see cref="ModelCard.CoralTemperatureName"/> (which it must still match).
    /// </summary>
    [JsonPropertyName("coral_temperature")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? CoralTemperatureName { get; set; }

    /// <summary>The test-time flips the held-out probabilities were predicted with (<see cref="TestTimeFlips"/> names).</summary>
    [JsonPropertyName("flips")] public string Flips { get; set; } = nameof(TestTimeFlips.None);

    /// <summary>Whether the held-out probabilities were predicted under bfloat16 autocast.</summary>
    [JsonPropertyName("mixed_precision")] public bool MixedPrecision { get; set; }

    /// <summary>
    /// Describes <paramref name="point"/>, chosen on the risks of the classes from <paramref name="referableFrom"/> on,
    /// computed from the probabilities of a predictor with these settings.
    /// </summary>
    /// <param name="point">The operating point (its threshold finite: a point that refers no image cannot be deployed).</param>
    /// <param name="referableFrom">The first referable class (≥ 1).</param>
    /// <param name="temperature">The model card's temperature the probabilities were computed at (a softmax's, or one on a
    /// CORAL head's grade probabilities; for a card whose temperature applies to the cumulative logits, pass its
    /// <see cref="ModelCard.GetTemperatureScaling"/> to the other overload).</param>
    /// <param name="flips">The predictor's test-time flips.</param>
    /// <param name="mixedPrecision">Whether the predictor ran under bfloat16 autocast.</param>
    /// <exception cref="ArgumentException">The threshold is not a probability (e.g. +∞: the requirement could only be met by referring none; −∞: only by referring all).</exception>
    public static ReferralCard From(OperatingPoint point, int referableFrom, double temperature = 1, TestTimeFlips flips = TestTimeFlips.None, bool mixedPrecision = false) =>
        From(point, referableFrom, TemperatureScaling.WithTemperature(temperature), flips, mixedPrecision);

    /// <summary>
    /// Describes <paramref name="point"/>, chosen on the risks of the classes from <paramref name="referableFrom"/> on,
    /// computed from the probabilities of a predictor with these settings, at the temperature of
    /// <paramref name="scaling"/> and where it applies (a CORAL head's cumulative logits or its grade probabilities; e.g.
    /// <see cref="ModelCard.GetTemperatureScaling"/> of the card the probabilities were predicted with).
    /// </summary>
    /// <param name="point">The operating point (its threshold finite: a point that refers no image cannot be deployed).</param>
    /// <param name="referableFrom">The first referable class (≥ 1).</param>
    /// <param name="scaling">The model card's temperature scaling the probabilities were computed with.</param>
    /// <param name="flips">The predictor's test-time flips.</param>
    /// <param name="mixedPrecision">Whether the predictor ran under bfloat16 autocast.</param>
    /// <exception cref="ArgumentException">The threshold is not a probability (e.g. +∞: the requirement could only be met by referring none; −∞: only by referring all).</exception>
    public static ReferralCard From(OperatingPoint point, int referableFrom, TemperatureScaling scaling, TestTimeFlips flips = TestTimeFlips.None, bool mixedPrecision = false)
    {
        ArgumentNullException.ThrowIfNull(point);
        ArgumentNullException.ThrowIfNull(scaling);
        ArgumentOutOfRangeException.ThrowIfLessThan(referableFrom, 1);
        if (!(point.Threshold >= 0 && point.Threshold <= 1))
            throw new ArgumentException(point.Threshold switch
            {
                double.PositiveInfinity => $"The operating point's threshold +∞ is not a probability ({point.Rule}); a point that refers no image cannot be deployed.",
                double.NegativeInfinity => $"The operating point's threshold −∞ is not a probability ({point.Rule}); a point that refers every image needs no model.",
                var t => string.Create(CultureInfo.InvariantCulture, $"The operating point's threshold {t} is not a probability ({point.Rule})."),
            }, nameof(point));
        return new ReferralCard
        {
            ReferableFrom = referableFrom,
            Threshold = point.Threshold,
            Rule = point.Rule,
            HeldOutCount = point.Fitted?.Count ?? 0,
            Sensitivity = point.Fitted is { } f && double.IsFinite(f.Sensitivity) ? f.Sensitivity : null,
            Specificity = point.Fitted is { } g && double.IsFinite(g.Specificity) ? g.Specificity : null,
            SensitivityInterval = point.Fitted?.SensitivityInterval is { IsDefined: true } se ? [se.Lower, se.Upper] : null,
            SpecificityInterval = point.Fitted?.SpecificityInterval is { IsDefined: true } sp ? [sp.Lower, sp.Upper] : null,
            Temperature = scaling.Temperature,
            CoralTemperatureName = TemperatureSetting.NameOf(scaling),
            Flips = flips.ToString(),
            MixedPrecision = mixedPrecision,
        };
    }

    /// <summary>
    /// The held-out measures in words, e.g. "on 120 held-out images: sensitivity 0.812 [0.636, 0.928], specificity 0.540
    /// [0.437, 0.640]"; "set by hand" when there are none.
    /// </summary>
    public string DescribeHeldOut()
    {
        if (HeldOutCount == 0) return "set by hand";
        static string Measure(string name, double? value, List<double>? interval) => value is not double v ? ""
            : string.Create(CultureInfo.InvariantCulture, $"{name} {v:F3}{(interval is [var lo, var hi] ? $" [{lo:F3}, {hi:F3}]" : "")}");
        var parts = new[] { Measure("sensitivity", Sensitivity, SensitivityInterval), Measure("specificity", Specificity, SpecificityInterval) }.Where(t => t.Length > 0);
        return $"on {HeldOutCount} held-out images: {string.Join(", ", parts)}";
    }

    /// <summary>The risk of one prediction's probabilities: the sum of the referable classes'.</summary>
    public double Risk(IReadOnlyList<float> probabilities)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        double risk = 0;
        for (int k = ReferableFrom; k < probabilities.Count; k++) risk += probabilities[k];
        return risk;
    }

    // The decision for a predictor with these settings, or null and why not (the threshold holds only for the
    // probabilities of the flips and precision it was chosen with).
    internal ReferralCard? For(TestTimeFlips flips, bool mixedPrecision, string owner, string user, out string? note)
    {
        var chosen = PredictorSettings.ParseFlips(Flips, "The referral card", "referral threshold's");
        note = PredictorSettings.Mismatch("referral threshold was chosen", chosen, MixedPrecision, flips, mixedPrecision, owner, user,
            "predictions carry no referral decision. Load it with those settings, or choose the threshold again.");
        return note is null ? this : null;
    }

    internal void Validate(string source, int classCount, ModelCard? card)
    {
        string Problem(string what) => $"{source}: the referral {what}";
        if (ReferableFrom < 1 || ReferableFrom >= classCount)
            throw new ModelFormatException(Problem($"starts at class {ReferableFrom}; it must be a class from 1 to {classCount - 1} (class 0 is never referable)."));
        if (!(Threshold >= 0 && Threshold <= 1)) throw new ModelFormatException(Problem(string.Create(CultureInfo.InvariantCulture, $"threshold {Threshold} is not a probability in [0, 1].")));
        if (Rule is null) throw new ModelFormatException(Problem("has no rule."));
        if (HeldOutCount < 0) throw new ModelFormatException(Problem("has a negative held-out count."));
        if (Sensitivity is { } se && !(se >= 0 && se <= 1) || Specificity is { } sp && !(sp >= 0 && sp <= 1))
            throw new ModelFormatException(Problem("has a sensitivity or specificity outside [0, 1]."));
        foreach (var (name, interval) in new[] { ("sensitivity", SensitivityInterval), ("specificity", SpecificityInterval) })
        {
            if (interval is not null && (interval.Count != 2 || !(interval[0] >= 0 && interval[0] <= interval[1] && interval[1] <= 1)))
                throw new ModelFormatException(Problem($"{name} interval must be (lower, upper) with 0 ≤ lower ≤ upper ≤ 1."));
        }
        if (!double.IsFinite(Temperature) || Temperature <= 0) throw new ModelFormatException(Problem("has a temperature that is not a finite positive number."));
        TemperatureSetting.CheckHeld(Temperature, CoralTemperatureName, card, source, "the referral's ", "referral threshold was chosen", "the threshold does not hold for these probabilities: choose it again.");
        PredictorSettings.ParseFlips(Flips, source, "referral threshold's");
    }
}

/// <summary>The predictor settings a stored calibration or threshold holds for: its flips and precision.</summary>
internal static class PredictorSettings
{
    public static TestTimeFlips ParseFlips(string? text, string source, string what) =>
        text is not null && !int.TryParse(text, out _) && Enum.TryParse<TestTimeFlips>(text, ignoreCase: true, out var f)
            && AreKnown(f)
            ? f
            : throw new ModelFormatException($"{source}: the {what} flips '{text}' are not test-time flips (None, Horizontal, Vertical, Depth).");

    // Whether every flag of `flips` is a test-time flip (None, Horizontal, Vertical, Depth).
    public static bool AreKnown(TestTimeFlips flips) => (flips & ~(TestTimeFlips.Horizontal | TestTimeFlips.Vertical | TestTimeFlips.Depth)) == 0;

    // Throws for flips that are not test-time flips (an argument of a public method).
    public static void CheckFlips(TestTimeFlips flips, string parameterName)
    {
        if (!AreKnown(flips)) throw new ArgumentOutOfRangeException(parameterName, flips, "Unknown flips.");
    }

    // Null when the settings are those of the calibration; else why the calibration does not apply, ending with `consequence`.
    public static string? Mismatch(string what, TestTimeFlips calibratedFlips, bool calibratedMixed, TestTimeFlips flips, bool mixedPrecision, string owner, string user, string consequence) =>
        calibratedFlips == flips && calibratedMixed == mixedPrecision ? null
            : $"The {owner}'s {what} with flips {calibratedFlips}{(calibratedMixed ? " under bfloat16 autocast" : "")}; "
              + $"this {user} uses flips {flips}{(mixedPrecision ? " under bfloat16 autocast" : "")}, whose probabilities it does not hold for: {consequence}";
}
