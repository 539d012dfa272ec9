using System.Text.Json;
using MedVision.Nets.Inference;
using MedVision.Nets.Metrics.Segmentation;
using MedVision.Torch;

namespace MedVision.Nets.Tests.Metrics;

public class SegmentationMetricsTests
{
    // Fixtures/segmentation/make_segmentation_fixture.py: scipy's binary erosion, exact distance transform with
    // sampling, numpy's percentile, and scipy.ndimage.label.
    private static readonly Lazy<JsonElement> Fixture = new(() => FixtureJson.Load("segmentation/segmentation_fixture.json"));

    public static TheoryData<string> SurfaceCases() => FixtureJson.Names(Fixture.Value.GetProperty("surface").EnumerateArray());

    public static TheoryData<string> ComponentCases() => FixtureJson.Names(Fixture.Value.GetProperty("components").EnumerateArray());

    private static JsonElement Case(string kind, string name) => Fixture.Value.GetProperty(kind).EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    private static bool[] Mask(JsonElement e) => e.GetString()!.Select(ch => ch == '1').ToArray();

    private static int[] Ints(JsonElement e) => e.EnumerateArray().Select(v => v.GetInt32()).ToArray();

    private static double Optional(JsonElement c, string name, double otherwise) => c.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : otherwise;

    [Theory]
    [MemberData(nameof(SurfaceCases))]
    public void OverlapAndSurfaceMeasures_MatchScipy(string name)
    {
        var c = Case("surface", name);
        var prediction = Mask(c.GetProperty("prediction"));
        var truth = Mask(c.GetProperty("truth"));
        var shape = Ints(c.GetProperty("shape"));
        var spacing = c.GetProperty("spacing").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        bool truthEmpty = !truth.Contains(true), predictionEmpty = !prediction.Contains(true);

        Same(SegmentationMetrics.Dice(prediction, truth), Optional(c, "dice", double.NaN));
        Same(SegmentationMetrics.Iou(prediction, truth), Optional(c, "iou", double.NaN));
        var surface = SegmentationMetrics.SurfaceDistances(prediction, truth, shape, spacing);
        double undefined = truthEmpty ? double.NaN : double.PositiveInfinity;
        Same(surface.Hausdorff, Optional(c, "hausdorff", undefined));
        Same(surface.Hausdorff95, Optional(c, "hausdorff95", undefined));
        Same(surface.DirectedHausdorffPercentile(95), Optional(c, "directed95", undefined));
        Same(surface.AverageSymmetric, Optional(c, "assd", undefined));
        double tolerance = c.GetProperty("tolerance").GetDouble();
        Same(surface.SurfaceDice(tolerance), Optional(c, "surface_dice", truthEmpty ? double.NaN : 0));
        surface.TruthEmpty.Should().Be(truthEmpty);
        surface.PredictionEmpty.Should().Be(predictionEmpty);
        if (c.TryGetProperty("prediction_to_truth", out var distances))
        {
            var expected = distances.EnumerateArray().Select(v => v.GetDouble()).ToArray();
            surface.PredictionToTruth.Should().HaveCount(expected.Length);
            for (int i = 0; i < expected.Length; i++) surface.PredictionToTruth[i].Should().BeApproximately(expected[i], 1e-9);
        }
    }

    [Fact]
    public void DistanceTransform_EqualsBruteForce_OnRandomAnisotropicGrids()
    {
        var random = new Random(12);
        for (int trial = 0; trial < 20; trial++)
        {
            var shape = trial % 2 == 0 ? new[] { random.Next(1, 7), random.Next(1, 9), random.Next(1, 8) } : new[] { random.Next(1, 12), random.Next(1, 12) };
            var spacing = shape.Select(_ => 0.3 + (random.NextDouble() * 2)).ToArray();
            var grid = Grid.Of(shape, shape.Aggregate(1, (a, s) => a * s), "shape", "values");
            var features = Enumerable.Range(0, (int)grid.Count).Select(_ => random.NextDouble() < 0.08).ToArray();
            var fast = SegmentationMetrics.SquaredDistanceTransform(features, grid, spacing);
            var ci = new int[shape.Length];
            var cj = new int[shape.Length];
            for (int i = 0; i < features.Length; i++)
            {
                double best = double.PositiveInfinity;
                grid.Coordinates(i, ci);
                for (int j = 0; j < features.Length; j++)
                {
                    if (!features[j]) continue;
                    grid.Coordinates(j, cj);
                    double d = 0;
                    for (int a = 0; a < shape.Length; a++) d += Math.Pow((ci[a] - cj[a]) * spacing[a], 2);
                    best = Math.Min(best, d);
                }
                if (double.IsPositiveInfinity(best)) fast[i].Should().Be(double.PositiveInfinity);
                else fast[i].Should().BeApproximately(best, 1e-9, $"trial {trial}, voxel {i}");
            }
        }
    }

    [Fact]
    public void Evaluator_OnLabelMaps_EqualsTheBinaryMeasuresPerClass()
    {
        var c = Case("surface", "blob3d_aniso");
        var shape = Ints(c.GetProperty("shape"));
        var spacing = c.GetProperty("spacing").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var a = Mask(c.GetProperty("prediction"));
        var b = Mask(c.GetProperty("truth"));
        // Class 1 = the fixture's masks; class 2 = their complements' upper half (a second structure).
        int[] Labels(bool[] m, bool[] other) => m.Select((v, i) => v ? 1 : (i < m.Length / 2 && !other[i] ? 2 : 0)).ToArray();
        var prediction = Labels(a, b);
        var truth = Labels(b, a);
        var evaluator = SegmentationEvaluator.ForClasses(3).WithSpacing(spacing).WithSurfaceTolerance(2.0);
        var result = evaluator.Evaluate(prediction, truth, shape);
        result.Classes.Select(m => m.Class).Should().Equal(1, 2);
        foreach (var k in new[] { 1, 2 })
        {
            var p = prediction.Select(v => v == k).ToArray();
            var t = truth.Select(v => v == k).ToArray();
            var surface = SegmentationMetrics.SurfaceDistances(p, t, shape, spacing);
            var m = result[k];
            m.Dice.Should().Be(SegmentationMetrics.Dice(p, t));
            m.Iou.Should().Be(SegmentationMetrics.Iou(p, t));
            m.Hausdorff95.Should().Be(surface.Hausdorff95);
            m.Hausdorff.Should().Be(surface.Hausdorff);
            m.AverageSurfaceDistance.Should().Be(surface.AverageSymmetric);
            m.SurfaceDice.Should().Be(surface.SurfaceDice(2.0));
            m.TruthVoxels.Should().Be(t.Count(v => v));
        }
        result[1].Dice.Should().BeApproximately(c.GetProperty("dice").GetDouble(), 1e-12);
        var withBackground = evaluator.IncludingBackground().WithoutSurfaceDistances().Evaluate(prediction, truth, shape);
        withBackground.Classes.Select(m => m.Class).Should().Equal(0, 1, 2);
        double.IsNaN(withBackground[1].Hausdorff95).Should().BeTrue("surfaces were not measured");
        var missing = () => result[0];
        missing.Should().Throw<KeyNotFoundException>().WithMessage("*Class 0 was not evaluated*");
    }

    [Fact]
    public void Evaluator_OnTensors_TakesTheArgMaxOfScores_AndSummarisesOverCases()
    {
        using var scope = Tensors.NewDisposeScope();
        // Two 1×4×4 scans, classes 0..2; scores put the maximum on the intended label.
        var truth = new long[] { 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 2, 2, 0, 0, /* case 2 */ 0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0 };
        var predicted = (long[])truth.Clone();
        predicted[1] = 0;        // case 1 misses one voxel of class 1
        predicted[12] = 0;       // and one of class 2
        predicted[13] = 0;       // case 1 now misses class 2 entirely
        var scores = new float[2 * 3 * 16];
        for (int n = 0; n < 2; n++)
            for (int v = 0; v < 16; v++) scores[(n * 48) + ((int)predicted[(n * 16) + v] * 16) + v] = 1f;
        var evaluator = SegmentationEvaluator.ForClasses(3);
        var cases = evaluator.Evaluate(Tensors.FromArray(scores, 2, 3, 1, 4, 4), Tensors.FromArray(truth, 2, 1, 1, 4, 4));
        cases.Should().HaveCount(2);
        cases[0][1].Dice.Should().BeApproximately(2.0 * 3 / (3 + 4), 1e-12);
        cases[0][2].Missed.Should().BeTrue();
        cases[0][2].Dice.Should().Be(0);
        cases[0][2].Hausdorff95.Should().Be(double.PositiveInfinity);
        cases[1][1].Dice.Should().Be(1);
        cases[1][1].Hausdorff.Should().Be(0);
        cases[1][2].Present.Should().BeFalse();
        double.IsNaN(cases[1][2].Dice).Should().BeTrue("class 2 is not in case 2's truth");

        var labels = evaluator.Evaluate(Tensors.FromArray(predicted, 2, 1, 4, 4), Tensors.FromArray(truth, 2, 1, 4, 4));
        labels.Select(x => x.MeanDice).Should().Equal(cases.Select(x => x.MeanDice));

        var summary = SegmentationSummary.Of(cases);
        summary.Cases.Should().Be(2);
        summary.Classes[0].Cases.Should().Be(2);
        summary.Classes[0].Dice.Should().BeApproximately(((6.0 / 7) + 1) / 2, 1e-12);
        summary.Classes[1].Cases.Should().Be(1, "only case 1 holds class 2");
        summary.Classes[1].Missed.Should().Be(1);
        summary.Classes[1].Hausdorff95.Should().Be(double.PositiveInfinity);
        summary.Classes[1].AbsentCases.Should().Be(1, "case 2's truth lacks class 2");
        summary.Classes[1].Spurious.Should().Be(0);
        var spurious = evaluator.Evaluate(Tensors.FromArray(predicted.Select((v, i) => i == 31 ? 2L : v).ToArray(), 2, 1, 4, 4), Tensors.FromArray(truth, 2, 1, 4, 4));
        spurious[1][2].Spurious.Should().BeTrue("case 2 predicts class 2 at its last voxel, which its truth lacks");
        SegmentationSummary.Of(spurious).Classes[1].Spurious.Should().Be(1);
        summary.MeanDice.Should().BeApproximately((summary.Classes[0].Dice + 0) / 2, 1e-12);
    }

    [Fact]
    public void BadInput_IsRefusedByName()
    {
        var evaluator = SegmentationEvaluator.ForClasses(3);
        var act = () => evaluator.Evaluate(new[] { 0, 1, 3, 0 }, new[] { 0, 0, 0, 0 }, new[] { 2, 2 });
        act.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*Label 3 is outside [0, 3)*").Which.ParamName.Should().Be("prediction");
        act = () => evaluator.Evaluate(new[] { 0, 1, 2, 0 }, new[] { 0, 0, 0, 0 }, new[] { 2, 3 });
        act.Should().Throw<ArgumentException>().WithMessage("*[2, 3] holds 6 voxels, but 4*");
        act = () => evaluator.Evaluate(new[] { 0, 1, 2, 0 }, new[] { 0, 0, 0 }, new[] { 2, 2 });
        act.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("truth");
        act = () => evaluator.WithSpacing(1, 1, 1).Evaluate(new[] { 0, 1, 2, 0 }, new[] { 0, 0, 0, 0 }, new[] { 2, 2 });
        act.Should().Throw<ArgumentException>().WithMessage("*one spacing per axis (2), got 3*");
        var spacing = () => evaluator.WithSpacing(1, 0);
        spacing.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("spacing");
        var classes = () => SegmentationEvaluator.ForClasses(1);
        classes.Should().Throw<ArgumentOutOfRangeException>();
        using var scope = Tensors.NewDisposeScope();
        var tensors = () => evaluator.Evaluate(Tensors.Zeros(2, 2, 4, 4), Tensors.Zeros(new long[] { 2, 4, 4 }, ScalarType.Int64));
        tensors.Should().Throw<ArgumentException>().WithMessage("*(N, 3, spatial…)*");
        tensors = () => evaluator.Evaluate(Tensors.Full(new long[] { 2, 4, 4 }, 4294967297, ScalarType.Int64), Tensors.Zeros(new long[] { 2, 4, 4 }, ScalarType.Int64));
        tensors.Should().Throw<ArgumentOutOfRangeException>("a label of 2^32 + 1 must not wrap to 1").WithMessage("*outside [0, 3)*");
        tensors = () => evaluator.Evaluate(Tensors.Zeros(new long[] { 2, 4, 4 }, ScalarType.Int64), Tensors.Zeros(2, 4, 4));
        tensors.Should().Throw<ArgumentException>().WithMessage("*integer type*");
        var surface = () => SegmentationMetrics.SurfaceDistances(new bool[4], new bool[4], new[] { 2, 2 }).HausdorffPercentile(101);
        surface.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("percentile");
        var nullShape = () => SegmentationMetrics.SurfaceDistances(new bool[4], new bool[4], null!);
        nullShape.Should().Throw<ArgumentNullException>().Which.ParamName.Should().Be("shape");
        var nullEvaluatorShape = () => evaluator.Evaluate(new int[4], new int[4], null!);
        nullEvaluatorShape.Should().Throw<ArgumentNullException>().Which.ParamName.Should().Be("shape");
        var nullComponents = () => ConnectedComponents.Label(new bool[4], null!);
        nullComponents.Should().Throw<ArgumentNullException>().Which.ParamName.Should().Be("shape");
        var empty = () => SegmentationSummary.Of(Array.Empty<SegmentationCase>());
        empty.Should().Throw<ArgumentException>();
    }

    [Theory]
    [MemberData(nameof(ComponentCases))]
    public void ConnectedComponents_MatchScipyLabel(string name)
    {
        var c = Case("components", name);
        var mask = Mask(c.GetProperty("mask"));
        var shape = Ints(c.GetProperty("shape"));
        var components = ConnectedComponents.Label(mask, shape, (Connectivity)c.GetProperty("connectivity").GetInt32());
        components.Count.Should().Be(c.GetProperty("count").GetInt32());
        components.Labels.Should().Equal(Ints(c.GetProperty("labels")), "scipy numbers components in raster order of their first voxel");
        components.Sizes.Sum().Should().Be(mask.Count(v => v));
    }

    [Fact]
    public void PostProcessing_KeepsTheLargestComponent_OrRemovesSmallOnes()
    {
        // 1-D-like 2-D row: components of sizes 2, 3, 1 (face connectivity).
        var mask = new[] { true, true, false, true, true, true, false, true };
        var shape = new[] { 1, 8 };
        ConnectedComponents.KeepLargest(mask, shape).Should().Equal(false, false, false, true, true, true, false, false);
        ConnectedComponents.RemoveSmallerThan(mask, shape, 2).Should().Equal(true, true, false, true, true, true, false, false);
        ConnectedComponents.KeepLargest(new bool[4], new[] { 2, 2 }).Should().OnlyContain(v => !v);
        // A diagonal pair is two components by faces, one by corners.
        var diagonal = new[] { true, false, false, true };
        ConnectedComponents.Label(diagonal, new[] { 2, 2 }).Count.Should().Be(2);
        ConnectedComponents.Label(diagonal, new[] { 2, 2 }, Connectivity.Full).Count.Should().Be(1);

        var labels = new[] { 1, 1, 0, 2, 1, 0, 2, 2, 0, 1 };
        ConnectedComponents.KeepLargestPerClass(labels, new[] { 1, 10 }).Should().Equal(1, 1, 0, 0, 0, 0, 2, 2, 0, 0);
        ConnectedComponents.KeepLargestPerClass(labels, new[] { 1, 10 }, new[] { 1 }).Should().Equal(new[] { 1, 1, 0, 2, 0, 0, 2, 2, 0, 0 }, "only class 1 is reduced");
        var act = () => ConnectedComponents.KeepLargestPerClass(new[] { 0, -1 }, new[] { 2 });
        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("labels");
        act = () => ConnectedComponents.KeepLargestPerClass(labels, new[] { 1, 10 }, new[] { 0 });
        act.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("classes");
        var shapeMismatch = () => ConnectedComponents.Label(mask, new[] { 3, 3 });
        shapeMismatch.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("mask");
    }

    private static void Same(double actual, double expected)
    {
        if (double.IsNaN(expected)) double.IsNaN(actual).Should().BeTrue($"expected NaN, got {actual}");
        else if (double.IsInfinity(expected)) actual.Should().Be(expected);
        else actual.Should().BeApproximately(expected, 1e-9);
    }

    [Fact]
    public void WriteCsv_WritesEveryCaseAndClass_WithNanForAbsentAndInfForMissedClasses()
    {
        var evaluator = SegmentationEvaluator.ForClasses(3).WithSurfaceTolerance(1);
        // 1×4 images: case 0 finds class 1 exactly and has no class 2; case 1 misses class 2 altogether.
        var first = evaluator.Evaluate(new[] { 0, 1, 1, 0 }, new[] { 0, 1, 1, 0 }, [1, 4]);
        var second = evaluator.Evaluate(new[] { 1, 1, 0, 0 }, new[] { 1, 0, 2, 2 }, [1, 4]);
        var path = Path.Combine(Path.GetTempPath(), $"mv-segcsv-{Guid.NewGuid():N}", "cases.csv");
        try
        {
            SegmentationCase.WriteCsv(path, [first, second], ["a.png", "b, the \"second\".png"], ["background", "disc", "cup"]);
            var lines = File.ReadAllLines(path);
            lines.Should().HaveCount(5);
            lines[0].Should().Be("case,class,truth_voxels,predicted_voxels,dice,iou,hausdorff,hd95,assd,surface_dice");
            lines[1].Should().Be("a.png,disc,2,2,1,1,0,0,0,1");
            lines[2].Should().Be("a.png,cup,0,0,nan,nan,nan,nan,nan,nan");
            lines[3].Should().StartWith("\"b, the \"\"second\"\".png\",disc,1,2,");
            lines[3].Split(',')[5].Should().Be(second[1].Dice.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
            lines[4].Should().Be("\"b, the \"\"second\"\".png\",cup,2,0,0,0,inf,inf,inf,0");
            Directory.GetFiles(Path.GetDirectoryName(path)!).Should().Equal(path);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
        FluentActions.Invoking(() => SegmentationCase.WriteCsv(path, [first], ["a", "b"], ["background", "disc", "cup"]))
            .Should().Throw<ArgumentException>().WithMessage("2 case names for 1 cases*");
        FluentActions.Invoking(() => SegmentationCase.WriteCsv(path, [first], ["a"], ["background", "disc"]))
            .Should().Throw<ArgumentException>().WithMessage("Case 0 evaluated class 2, but 2 class names were given*");
        File.Exists(path).Should().BeFalse();
    }
}
