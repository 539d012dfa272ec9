using System.Globalization;
using System.Text;

namespace MedVision.Nets.Metrics.Conformal;

/// <summary>Coverage and size of prediction sets among images of one class, or among sets of one size.</summary>
/// <param name="Group">The class, or the set size.</param>
/// <param name="Count">Images in the group.</param>
/// <param name="Covered">Images whose set holds their true class.</param>
/// <param name="MeanSetSize">Mean set size in the group.</param>
public sealed record ConformalGroupCoverage(int Group, int Count, int Covered, double MeanSetSize)
{
    /// <summary>Covered / Count (NaN for an empty group).</summary>
    public double Coverage => Count == 0 ? double.NaN : (double)Covered / Count;
}

/// <summary>
/// How a <see cref="ConformalClassifier"/>'s prediction sets did on labelled images it was not calibrated on: coverage
/// against the coverage asked for, set sizes, and both per true class and per set size — coverage that holds on
/// average can still fail a class (the severe grades) or the hard images (the large sets); the size-stratified
/// violation measures the latter (Angelopoulos et al., ICLR 2021).
/// </summary>
public sealed class ConformalEvaluation
{
    private readonly int[][] _sets;

    internal ConformalEvaluation(double targetCoverage, int[] labels, int[][] sets, int classCount)
    {
        TargetCoverage = targetCoverage;
        _sets = sets;
        ClassCount = classCount;
        Count = labels.Length;
        var sizeCounts = new int[classCount + 1];
        var classCount_ = new int[classCount];
        var classCovered = new int[classCount];
        var classSize = new double[classCount];
        var sizeCovered = new int[classCount + 1];
        int covered = 0;
        double size = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            int y = labels[i];
            int s = sets[i].Length;
            bool hit = Array.BinarySearch(sets[i], y) >= 0;
            covered += hit ? 1 : 0;
            size += s;
            sizeCounts[s]++;
            sizeCovered[s] += hit ? 1 : 0;
            classCount_[y]++;
            classCovered[y] += hit ? 1 : 0;
            classSize[y] += s;
        }
        Covered = covered;
        MeanSetSize = size / Count;
        SizeCounts = sizeCounts;
        ByClass = Enumerable.Range(0, classCount)
            .Select(c => new ConformalGroupCoverage(c, classCount_[c], classCovered[c], classCount_[c] == 0 ? double.NaN : classSize[c] / classCount_[c]))
            .ToArray();
        BySize = Enumerable.Range(0, classCount + 1).Where(s => sizeCounts[s] > 0)
            .Select(s => new ConformalGroupCoverage(s, sizeCounts[s], sizeCovered[s], s))
            .ToArray();
        CoverageInterval = ConfidenceInterval.ClopperPearson(covered, Count, 0.95);
    }

    /// <summary>The coverage asked for (1 − α).</summary>
    public double TargetCoverage { get; }

    /// <summary>The number of classes.</summary>
    public int ClassCount { get; }

    /// <summary>Images evaluated.</summary>
    public int Count { get; }

    /// <summary>Images whose set holds their true class.</summary>
    public int Covered { get; }

    /// <summary>The share of images whose set holds their true class.</summary>
    public double Coverage => (double)Covered / Count;

    /// <summary>Clopper–Pearson (exact binomial) 95% interval of the coverage.</summary>
    public ConfidenceInterval CoverageInterval { get; }

    /// <summary>Mean number of classes per set.</summary>
    public double MeanSetSize { get; }

    /// <summary>Images per set size (index = size, 0 … K).</summary>
    public IReadOnlyList<int> SizeCounts { get; }

    /// <summary>The share of sets with exactly one class — a confident answer.</summary>
    public double SingletonRate => (double)SizeCounts[1] / Count;

    /// <summary>The share of empty sets (only LAC and class-conditional sets can be empty).</summary>
    public double EmptyRate => (double)SizeCounts[0] / Count;

    /// <summary>The share of sets that hold every class — no information.</summary>
    public double FullRate => (double)SizeCounts[ClassCount] / Count;

    /// <summary>Coverage and mean set size per true class (index = class).</summary>
    public IReadOnlyList<ConformalGroupCoverage> ByClass { get; }

    /// <summary>Coverage per set size, for the sizes that occur.</summary>
    public IReadOnlyList<ConformalGroupCoverage> BySize { get; }

    /// <summary>The lowest coverage of a class with images (NaN when none has any).</summary>
    public double WorstClassCoverage
    {
        get
        {
            double worst = double.NaN;
            foreach (var c in ByClass) if (c.Count > 0 && !(c.Coverage >= worst)) worst = c.Coverage;
            return worst;
        }
    }

    /// <summary>Size-stratified coverage violation: the largest |coverage − target| over the set sizes that occur.</summary>
    public double SizeStratifiedViolation => BySize.Max(s => Math.Abs(s.Coverage - TargetCoverage));

    /// <summary>Each image's set, classes ascending (index = image).</summary>
    public IReadOnlyList<IReadOnlyList<int>> Sets => _sets;

    /// <inheritdoc />
    public override string ToString()
    {
        var c = CultureInfo.InvariantCulture;
        var b = new StringBuilder();
        b.Append(c, $"Coverage {Coverage:F4} (target {TargetCoverage:F4}; 95% CI {CoverageInterval.Lower:F4}–{CoverageInterval.Upper:F4}) of {Count} images; ");
        b.Append(c, $"mean set size {MeanSetSize:F3}, singletons {SingletonRate:P1}, empty {EmptyRate:P1}, all classes {FullRate:P1}");
        b.AppendLine();
        foreach (var g in ByClass)
            b.Append(c, $"  class {g.Group}: {g.Count} images, coverage {g.Coverage:F4}, mean size {g.MeanSetSize:F3}").AppendLine();
        foreach (var g in BySize)
            b.Append(c, $"  size {g.Group}: {g.Count} images, coverage {g.Coverage:F4}").AppendLine();
        return b.ToString().TrimEnd();
    }
}
