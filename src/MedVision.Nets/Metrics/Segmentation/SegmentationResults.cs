namespace MedVision.Nets.Metrics.Segmentation;

/// <summary>The measures of one class in one image or scan (NaN where the truth has no voxel of the class).</summary>
/// <param name="Class">The class index.</param>
/// <param name="TruthVoxels">Voxels of the class in the truth.</param>
/// <param name="PredictedVoxels">Voxels of the class in the prediction.</param>
/// <param name="Dice">Dice coefficient.</param>
/// <param name="Iou">Intersection over union.</param>
/// <param name="Hausdorff">Hausdorff distance (spacing units; +∞ when the class was not predicted at all; NaN when surfaces were not measured).</param>
/// <param name="Hausdorff95">95th-percentile Hausdorff distance.</param>
/// <param name="AverageSurfaceDistance">Average symmetric surface distance.</param>
/// <param name="SurfaceDice">Normalised surface Dice at the evaluator's tolerance.</param>
public sealed record SegmentationClassMetrics(int Class, long TruthVoxels, long PredictedVoxels, double Dice, double Iou, double Hausdorff, double Hausdorff95,
    double AverageSurfaceDistance, double SurfaceDice)
{
    /// <summary>Whether the truth holds the class (otherwise every measure is NaN).</summary>
    public bool Present => TruthVoxels > 0;

    /// <summary>Whether the class is in the truth but absent from the prediction.</summary>
    public bool Missed => TruthVoxels > 0 && PredictedVoxels == 0;

    /// <summary>Whether the class was predicted in an image or scan whose truth lacks it (a false-positive finding, which Dice, being NaN there, does not count).</summary>
    public bool Spurious => TruthVoxels == 0 && PredictedVoxels > 0;
}

/// <summary>The measures of every evaluated class in one image or scan.</summary>
public sealed class SegmentationCase
{
    internal SegmentationCase(IReadOnlyList<SegmentationClassMetrics> classes) => Classes = classes;

    /// <summary>One entry per evaluated class, in class order.</summary>
    public IReadOnlyList<SegmentationClassMetrics> Classes { get; }

    /// <summary>The entry of a class.</summary>
    /// <exception cref="KeyNotFoundException">The class was not evaluated (the background, unless included).</exception>
    public SegmentationClassMetrics this[int classIndex] => Classes.FirstOrDefault(c => c.Class == classIndex)
        ?? throw new KeyNotFoundException($"Class {classIndex} was not evaluated; the evaluated classes are {string.Join(", ", Classes.Select(c => c.Class))}.");

    /// <summary>The mean Dice over the classes present in the truth (NaN when none is).</summary>
    public double MeanDice => SegmentationSummary.MeanOf(Classes.Select(c => c.Dice)).Mean;

    /// <summary>
    /// Writes one CSV row per case and evaluated class — <c>case,class,truth_voxels,predicted_voxels,dice,iou,hausdorff,hd95,assd,surface_dice</c>
    /// (nnU-Net's per-case metrics, for finding the cases that fail) — atomically (a temporary file, then a rename).
    /// Numbers are written round-trip in the invariant culture; NaN (a class absent from the truth, or distances not
    /// measured) as <c>nan</c> and +∞ (a class missed altogether) as <c>inf</c>, as pandas and numpy read them.
    /// </summary>
    /// <param name="path">The CSV file.</param>
    /// <param name="cases">The cases, e.g. from <see cref="SegmentationEvaluator.Evaluate(ReadOnlySpan{int}, ReadOnlySpan{int}, IReadOnlyList{int})"/>.</param>
    /// <param name="caseNames">One name per case (e.g. the image's file name), quoted in the CSV where needed.</param>
    /// <param name="classNames">The class names, indexed by class (background first).</param>
    /// <exception cref="ArgumentException">The names do not match the cases, or a case evaluated a class that has no name.</exception>
    public static void WriteCsv(string path, IReadOnlyList<SegmentationCase> cases, IReadOnlyList<string> caseNames, IReadOnlyList<string> classNames)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(cases);
        ArgumentNullException.ThrowIfNull(caseNames);
        ArgumentNullException.ThrowIfNull(classNames);
        if (caseNames.Count != cases.Count) throw new ArgumentException($"{caseNames.Count} case names for {cases.Count} cases.", nameof(caseNames));
        static string Number(double v) => double.IsNaN(v) ? "nan" : double.IsPositiveInfinity(v) ? "inf" : v.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        var text = new System.Text.StringBuilder("case,class,truth_voxels,predicted_voxels,dice,iou,hausdorff,hd95,assd,surface_dice\n");
        for (int i = 0; i < cases.Count; i++)
        {
            var c = cases[i] ?? throw new ArgumentException($"Case {i} is null.", nameof(cases));
            var name = caseNames[i] ?? throw new ArgumentException($"The name of case {i} is null.", nameof(caseNames));
            foreach (var m in c.Classes)
            {
                if (m.Class < 0 || m.Class >= classNames.Count)
                    throw new ArgumentException($"Case {i} evaluated class {m.Class}, but {classNames.Count} class names were given.", nameof(classNames));
                text.Append(EvaluationResult.CsvField(name)).Append(',').Append(EvaluationResult.CsvField(classNames[m.Class] ?? throw new ArgumentException($"Class name {m.Class} is null.", nameof(classNames))))
                    .Append(System.Globalization.CultureInfo.InvariantCulture, $",{m.TruthVoxels},{m.PredictedVoxels},{Number(m.Dice)},{Number(m.Iou)},{Number(m.Hausdorff)},{Number(m.Hausdorff95)},{Number(m.AverageSurfaceDistance)},{Number(m.SurfaceDice)}\n");
            }
        }
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        MedVision.Torch.Serialization.AtomicFile.WriteAllText(path, text.ToString());
    }
}

/// <summary>One class's measures over many cases: means over the cases whose truth holds the class.</summary>
/// <param name="Class">The class index.</param>
/// <param name="Cases">Cases whose truth holds the class (the others are left out).</param>
/// <param name="Missed">Of those, the cases in which the class was not predicted at all (their distances are +∞).</param>
/// <param name="Dice">Mean Dice.</param>
/// <param name="DiceStandardDeviation">Standard deviation of Dice over the cases (n − 1; NaN for fewer than two).</param>
/// <param name="Iou">Mean intersection over union.</param>
/// <param name="Hausdorff95">Mean HD95 (+∞ when a case missed the class).</param>
/// <param name="Hausdorff95Median">Median HD95, which a single miss does not make infinite.</param>
/// <param name="AverageSurfaceDistance">Mean average symmetric surface distance.</param>
/// <param name="SurfaceDice">Mean normalised surface Dice.</param>
/// <param name="AbsentCases">Cases whose truth lacks the class (left out of the means).</param>
/// <param name="Spurious">Of those, the cases in which the class was predicted anyway (false-positive findings).</param>
public sealed record SegmentationClassSummary(int Class, int Cases, int Missed, double Dice, double DiceStandardDeviation, double Iou, double Hausdorff95,
    double Hausdorff95Median, double AverageSurfaceDistance, double SurfaceDice, int AbsentCases = 0, int Spurious = 0);

/// <summary>Per-class means over many cases, and the mean Dice over the classes (the usual headline number).</summary>
public sealed class SegmentationSummary
{
    private SegmentationSummary(int cases, IReadOnlyList<SegmentationClassSummary> classes)
    {
        Cases = cases;
        Classes = classes;
        MeanDice = MeanOf(classes.Select(c => c.Dice)).Mean;
    }

    /// <summary>The number of cases.</summary>
    public int Cases { get; }

    /// <summary>One entry per class, in class order.</summary>
    public IReadOnlyList<SegmentationClassSummary> Classes { get; }

    /// <summary>The mean over classes of each class's mean Dice (classes never present left out).</summary>
    public double MeanDice { get; }

    /// <summary>Summarises cases evaluated with the same classes.</summary>
    /// <exception cref="ArgumentException">No cases, or cases with different classes.</exception>
    public static SegmentationSummary Of(IEnumerable<SegmentationCase> cases)
    {
        ArgumentNullException.ThrowIfNull(cases);
        var list = cases.ToList();
        if (list.Count == 0) throw new ArgumentException("There are no cases to summarise.", nameof(cases));
        if (list.Any(c => c is null)) throw new ArgumentException("A case is null.", nameof(cases));
        var classes = list[0].Classes.Select(c => c.Class).ToArray();
        if (list.Any(c => !c.Classes.Select(m => m.Class).SequenceEqual(classes)))
            throw new ArgumentException("Every case must have been evaluated for the same classes.", nameof(cases));
        var summaries = new List<SegmentationClassSummary>();
        for (int k = 0; k < classes.Length; k++)
        {
            var all = list.Select(c => c.Classes[k]).ToList();
            var present = all.Where(m => m.Present).ToList();
            var (dice, diceSd) = MeanOf(present.Select(m => m.Dice));
            var hd95 = present.Select(m => m.Hausdorff95).Where(v => !double.IsNaN(v)).OrderBy(v => v).ToArray();
            double median = hd95.Length == 0 ? double.NaN : SurfaceDistances.Percentile(hd95, 50);
            summaries.Add(new SegmentationClassSummary(classes[k], present.Count, present.Count(m => m.Missed), dice, diceSd,
                MeanOf(present.Select(m => m.Iou)).Mean, MeanOf(hd95).Mean, median,
                MeanOf(present.Select(m => m.AverageSurfaceDistance)).Mean, MeanOf(present.Select(m => m.SurfaceDice)).Mean,
                all.Count - present.Count, all.Count(m => m.Spurious)));
        }
        return new SegmentationSummary(list.Count, summaries);
    }

    // Mean and sample standard deviation of the values that are not NaN (+∞ kept: a missed structure is infinitely far).
    internal static (double Mean, double StandardDeviation) MeanOf(IEnumerable<double> values)
    {
        var kept = values.Where(v => !double.IsNaN(v)).ToArray();
        if (kept.Length == 0) return (double.NaN, double.NaN);
        double mean = kept.Average();
        if (kept.Length < 2 || double.IsInfinity(mean)) return (mean, double.NaN);
        double ss = kept.Sum(v => (v - mean) * (v - mean));
        return (mean, Math.Sqrt(ss / (kept.Length - 1)));
    }
}
