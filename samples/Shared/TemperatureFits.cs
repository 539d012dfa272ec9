using System.CommandLine;
using System.Globalization;
using MedVision.Nets.Data.Loading;
using MedVision.Nets.Inference;
using MedVision.Nets.Losses;
using MedVision.Nets.Metrics;
using Spectre.Console;

namespace MedVision.Samples;

/// <summary>
/// --calibrate, as the samples that fit a model's temperature on held-out images declare it (medmnist train and
/// cross-validate, fundus-folder and volume-folder train), the fit — a softmax's on its probabilities' logarithms, a
/// CORAL head's on its cumulative logits (which keeps the median grade it predicts) — and the probabilities after it.
/// </summary>
internal static class TemperatureFits
{
    /// <summary>--calibrate, fitted on <paramref name="heldOut"/> (e.g. "the validation split").</summary>
    public static Option<bool> CalibrateOption(string heldOut, string consequence) => new("--calibrate")
    {
        Description = $"Store in the model file the temperature fitted on {heldOut} (single-label models), so that predict reports calibrated probabilities{consequence}; with --head coral, a temperature on the cumulative logits, which keeps the median grades it predicts.",
    };

    /// <summary>
    /// --calibration-fraction F: a stratified share of the training <paramref name="images"/> held out of training for
    /// --calibrate's fit, so that the validation images (which also select the epoch) measure the calibrated model.
    /// </summary>
    public static Option<double?> CalibrationFractionOption(string images) => new Option<double?>("--calibration-fraction")
    {
        Description = $"F: with --calibrate, hold a stratified share F of the training {images} (each class's, seeded by --seed) out of training and fit the temperature on them instead of on the validation {images}, which select the epoch; the validation report's calibration is then measured on {images} the fit did not see (e.g. 0.15).",
        HelpName = "F",
    }.Must(v => v is null || v is > 0 and <= 0.5, "above 0 and at most 0.5");

    /// <summary>Refuses --calibration-fraction without --calibrate.</summary>
    public static void CheckCalibrationFraction(Command command, Option<bool> calibrate, Option<double?> fraction) =>
        command.Check(r => r.GetValue(fraction) is not null && !r.GetValue(calibrate)
            ? "--calibration-fraction holds training images out for --calibrate's temperature; give --calibrate too." : null);

    /// <summary>
    /// --calibration-fraction: the positions (within <paramref name="labels"/>, the training images' classes) that stay
    /// in training and those held out for calibration — round(F × count) of each class, seeded; with
    /// <paramref name="groups"/> (patients) whole groups, about F of each class — refused, naming the class, when a class
    /// would keep no training image, or when the calibration part would be empty.
    /// </summary>
    public static (int[] Train, int[] Calibration) CarveCalibration(IReadOnlyList<int> labels, double fraction, int seed, IReadOnlyList<string> classNames, string images,
        IReadOnlyList<string>? groups = null)
    {
        string Fraction() => fraction.ToString(CultureInfo.InvariantCulture);
        int Held(int count) => (int)Math.Round(fraction * count, MidpointRounding.AwayFromZero);   // as StratifiedHoldout takes
        var counts = labels.GroupBy(l => l).OrderBy(g => g.Key).Select(g => (Class: g.Key, Count: g.Count())).ToArray();
        string NoneHeld() => $"--calibration-fraction {Fraction()} of {labels.Count} training {images} holds out none to fit the temperature on; raise the fraction or add {images}.";
        if (groups is null && counts.Sum(c => Held(c.Count)) == 0) throw new ArgumentException(NoneHeld());
        if (groups is not null && groups.Distinct().Count() < 2)
            throw new ArgumentException($"--calibration-fraction holds whole patients out of training; the {labels.Count} training {images} are of one patient.");
        var (keep, hold) = groups is null ? DataSplits.StratifiedHoldout(labels, fraction, seed) : DataSplits.StratifiedGroupHoldout(labels, groups, fraction, seed);
        if (hold.Length == 0) throw new ArgumentException(NoneHeld());
        foreach (var (k, count) in counts)
            if (!keep.Any(i => labels[i] == k))
                throw new ArgumentException($"--calibration-fraction {Fraction()} would leave class {classNames[k]} no training {images} (its {count} would all be held out for calibration{(groups is null ? "" : ", with their patients")}); lower the fraction or add {images}.");
        return (keep, hold);
    }

    /// <summary>
    /// --calibrate with --calibration-fraction: fits the temperature on the calibration images' probabilities, prints
    /// their calibration before and after it and then the validation images' — measured on images the fit did not see —
    /// and returns it with the calibrated validation probabilities and the RESULT line's fields (calibration_images,
    /// temperature, cal_ece_uncalibrated, cal_ece, val_ece_uncalibrated, val_ece, val_nll).
    /// </summary>
    public static (TemperatureScaling Scaling, double[,] Calibrated, string Fields) FitOnCalibrationAndReport(MedMnistTask task, int[,] calibrationLabels, double[,] calibrationProbabilities,
        int[,] labels, double[,] probabilities, bool onCumulativeLogits, string images)
    {
        var scaling = Fit(calibrationLabels, calibrationProbabilities, onCumulativeLogits);
        int count = calibrationLabels.GetLength(0);
        var (_, fitBefore, fitAfter) = Report(task, calibrationLabels, calibrationProbabilities, scaling,
            $"Calibration {images} ({count}, held out of training)", $"  after temperature scaling ({Describe(scaling)}, fitted on them)");
        var (calibrated, before, after) = Report(task, labels, probabilities, scaling,
            "Validation calibration", $"  at the calibration {images}' temperature (not fitted on these)");
        if (Note(scaling) is { } note) AnsiConsole.MarkupLine($"[yellow]Note:[/] {Markup.Escape(note)}");
        return (scaling, calibrated, string.Create(CultureInfo.InvariantCulture,
            $" calibration_images={count} temperature={scaling.Temperature:F4} cal_ece_uncalibrated={fitBefore.ExpectedCalibrationError:F4} cal_ece={fitAfter.ExpectedCalibrationError:F4} val_ece_uncalibrated={before.ExpectedCalibrationError:F4} val_ece={after.ExpectedCalibrationError:F4} val_nll={after.NegativeLogLikelihood:F4}"));
    }

    /// <summary>
    /// The temperature that calibrates held-out <paramref name="probabilities"/> (as the predictor computes them at
    /// temperature 1); <paramref name="onCumulativeLogits"/> (a CORAL head) on the cumulative logits they come from (exact
    /// while its thresholds stay ordered).
    /// </summary>
    public static TemperatureScaling Fit(int[,] labels, double[,] probabilities, bool onCumulativeLogits) => onCumulativeLogits
        ? TemperatureScaling.FitCumulative(labels, OrdinalDecoding.ToCumulativeLogits(probabilities))
        : TemperatureScaling.FitFromProbabilities(labels, probabilities);

    /// <summary>
    /// --calibrate in a training run: fits the temperature on the held-out <paramref name="probabilities"/>, prints their
    /// calibration before and after it (and a note for a flattening one), and returns it with the calibrated
    /// probabilities and the RESULT line's fields (temperature, val_ece_uncalibrated, val_ece, val_nll).
    /// </summary>
    /// <param name="task">The model's (single-label) task.</param>
    /// <param name="labels">The held-out labels.</param>
    /// <param name="probabilities">Their probabilities at temperature 1.</param>
    /// <param name="onCumulativeLogits">A CORAL head: fit on its cumulative logits.</param>
    /// <param name="heldOut">What the held-out images are, e.g. "photographs: measure it on new ones with evaluate".</param>
    public static (TemperatureScaling Scaling, double[,] Calibrated, string Fields) FitAndReport(MedMnistTask task, int[,] labels, double[,] probabilities, bool onCumulativeLogits, string heldOut)
    {
        var scaling = Fit(labels, probabilities, onCumulativeLogits);
        var (calibrated, before, after) = Report(task, labels, probabilities, scaling,
            "Validation calibration", $"  after temperature scaling ({Describe(scaling)}, fitted on these {heldOut})");
        if (Note(scaling) is { } note) AnsiConsole.MarkupLine($"[yellow]Note:[/] {Markup.Escape(note)}");
        return (scaling, calibrated, string.Create(CultureInfo.InvariantCulture,
            $" temperature={scaling.Temperature:F4} val_ece_uncalibrated={before.ExpectedCalibrationError:F4} val_ece={after.ExpectedCalibrationError:F4} val_nll={after.NegativeLogLikelihood:F4}"));
    }

    // The calibration of probabilities at temperature 1 and after `scaling`, each printed on a line of its own; with the
    // rescaled probabilities.
    private static (double[,] Calibrated, CalibrationResult Before, CalibrationResult After) Report(MedMnistTask task, int[,] labels, double[,] probabilities,
        TemperatureScaling scaling, string beforeName, string afterName)
    {
        var calibrated = Apply(scaling, probabilities);
        var before = Calibration.Evaluate(task, labels, probabilities);
        var after = Calibration.Evaluate(task, labels, calibrated);
        AnsiConsole.MarkupLine(Markup.Escape(Line(beforeName, before)));
        AnsiConsole.MarkupLine(Markup.Escape(Line(afterName, after)));
        return (calibrated, before, after);
    }

    /// <summary>The probabilities at temperature 1 rescaled by <paramref name="scaling"/>, as a predictor with it gives them.</summary>
    public static double[,] Apply(TemperatureScaling scaling, double[,] probabilities) => scaling.OnCumulativeLogits
        ? scaling.ApplyToCumulativeLogits(OrdinalDecoding.ToCumulativeLogits(probabilities))
        : scaling.ApplyToProbabilities(probabilities);

    /// <summary>
    /// A note for a temperature of 100 or more: it flattens the probabilities almost to one value, which says that the
    /// model's scores on the held-out images carry little information (or rank them the wrong way); null otherwise.
    /// </summary>
    public static string? Note(TemperatureScaling scaling) => scaling.Temperature < 100 ? null : string.Create(CultureInfo.InvariantCulture,
        $"the fitted temperature {scaling.Temperature:G4} flattens the probabilities almost to one value: on these held-out images the model's scores carry little information (or rank them the wrong way). Train it longer or on more images before trusting its probabilities.");

    /// <summary>
    /// The probabilities at temperature 1 behind <paramref name="calibrated"/> ones, which a predictor gave at
    /// <paramref name="scaling"/>'s temperature (scaling them by 1 / T where T applied): what the model would say uncalibrated.
    /// </summary>
    public static double[,] Undo(TemperatureScaling scaling, double[,] calibrated) =>
        Apply(TemperatureScaling.WithTemperature(1 / scaling.Temperature, scaling.OnCumulativeLogits), calibrated);

    /// <summary>"T = 1.234" and, for a CORAL head's, " on the cumulative logits".</summary>
    public static string Describe(TemperatureScaling scaling) =>
        string.Create(CultureInfo.InvariantCulture, $"T = {scaling.Temperature:F3}{(scaling.OnCumulativeLogits ? " on the cumulative logits" : "")}");

    /// <summary>
    /// The banner's words for a model file's temperature: ", temperature 1.234" (for a CORAL head, where it applies), or
    /// "" at temperature 1.
    /// </summary>
    public static string OfCard(ModelCard card) => card.Temperature == 1 ? "" : string.Create(CultureInfo.InvariantCulture,
        $", temperature {card.Temperature:G4}{(!card.HasCoralHead ? "" : card.CoralTemperature == CoralTemperature.CumulativeLogits ? " on the cumulative logits" : " on the grade probabilities")}");

    /// <summary>"NAME: ECE … · MCE … · Brier … · NLL … (N bins)".</summary>
    public static string Line(string name, CalibrationResult c) => string.Create(CultureInfo.InvariantCulture,
        $"{name}: ECE {c.ExpectedCalibrationError:F4} · MCE {c.MaximumCalibrationError:F4} · Brier {c.BrierScore:F4} · NLL {c.NegativeLogLikelihood:F4} ({c.Bins.Count} bins)");
}
