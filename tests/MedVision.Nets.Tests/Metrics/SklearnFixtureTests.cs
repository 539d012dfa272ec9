using System.Text.Json;
using MedVision.Nets.Metrics;
using static MedVision.Nets.Tests.Metrics.MetricFixture;

namespace MedVision.Nets.Tests.Metrics;

/// <summary>Compares every metric with scikit-learn's values stored in the fixture (within 1e-9).</summary>
public class SklearnFixtureTests
{
    public static TheoryData<string> AllCases => Names(_ => true);

    public static TheoryData<string> SingleLabelCases => Names(c => c.TryGetProperty("labels", out _));

    public static TheoryData<string> MultiLabelCases => Names(c => c.TryGetProperty("multi_labels", out _));

    [Fact]
    public void FixtureCoversTheRequiredSets()
    {
        var names = Cases.Select(c => c.GetProperty("name").GetString()).ToList();
        names.Should().Contain(new[] { "binary_all_ties", "binary_perfect", "binary_inverted", "multiclass_absent_class", "ordinal_retina_like_5", "multilabel_14" });
        Case("multilabel_14").GetProperty("multi_labels")[0].GetArrayLength().Should().Be(14);
        Case("ordinal_retina_like_5").GetProperty("scores")[0].GetArrayLength().Should().Be(5);
    }

    [Theory]
    [MemberData(nameof(SingleLabelCases))]
    public void MedMnistAucAndAccMatchSingleLabel(string name)
    {
        var c = Case(name);
        var e = c.GetProperty("expected");
        var task = Task(c);
        int[] labels = IntVector(c.GetProperty("labels"));
        double[,] scores = Matrix(c.GetProperty("scores"));

        AucResult auc = c.TryGetProperty("float32", out _)
            ? MedMnistEvaluator.GetAuc(task, labels, ToFloat(scores))
            : MedMnistEvaluator.GetAuc(task, labels, scores);
        double acc = c.TryGetProperty("float32", out _)
            ? MedMnistEvaluator.GetAcc(task, labels, ToFloat(scores))
            : MedMnistEvaluator.GetAcc(task, labels, scores);

        ShouldMatch(auc.Value, Number(e.GetProperty("medmnist_auc")), "medmnist AUC");
        ShouldMatch(auc.PerClass.Select(r => r.Value).ToList(), Vector(e.GetProperty("per_class_auc")), "per-class AUC");
        ShouldMatch(acc, Number(e.GetProperty("medmnist_acc")), "medmnist ACC");
        auc.Warnings.Should().HaveCount(e.GetProperty("medmnist_raises").GetBoolean() ? 1 : 0);
        foreach (var r in auc.PerClass.Where(r => !r.IsDefined))
        {
            r.Reason.Should().Contain("only one class present");
        }

        // The N×1 label matrix (medmnist's storage) gives the same numbers.
        var column = new int[labels.Length, 1];
        for (int i = 0; i < labels.Length; i++)
        {
            column[i, 0] = labels[i];
        }

        ShouldMatch(MedMnistEvaluator.GetAuc(task, column, scores).Value, auc.Value, "N×1 labels");
    }

    [Theory]
    [MemberData(nameof(MultiLabelCases))]
    public void MedMnistAucAndAccMatchMultiLabel(string name)
    {
        var c = Case(name);
        var e = c.GetProperty("expected");
        int[,] labels = IntMatrix(c.GetProperty("multi_labels"));
        double[,] scores = Matrix(c.GetProperty("scores"));

        var auc = MedMnistEvaluator.GetAuc(MedMnistTask.MultiLabel, labels, scores);
        ShouldMatch(auc.Value, Number(e.GetProperty("medmnist_auc")), "medmnist AUC");
        ShouldMatch(auc.PerClass.Select(r => r.Value).ToList(), Vector(e.GetProperty("per_class_auc")), "per-label AUC");
        ShouldMatch(MedMnistEvaluator.GetAcc(MedMnistTask.MultiLabel, labels, scores), Number(e.GetProperty("medmnist_acc")), "medmnist ACC");

        int[][] jagged = Enumerable.Range(0, labels.GetLength(0))
            .Select(i => Enumerable.Range(0, labels.GetLength(1)).Select(j => labels[i, j]).ToArray()).ToArray();
        ShouldMatch(MedMnistEvaluator.GetAuc(MedMnistTask.MultiLabel, jagged, ToFloat(scores)).Value, auc.Value, "jagged labels, float scores");
        ShouldMatch(MedMnistEvaluator.GetAcc(MedMnistTask.MultiLabel, jagged, scores), Number(e.GetProperty("medmnist_acc")), "jagged labels");
    }

    [Theory]
    [MemberData(nameof(SingleLabelCases))]
    public void ClinicalMetricsMatch(string name)
    {
        var c = Case(name);
        var e = c.GetProperty("expected");
        var task = Task(c);
        int[] labels = IntVector(c.GetProperty("labels"));
        double[,] scores = Matrix(c.GetProperty("scores"));
        int[] predicted = MedMnistEvaluator.Predict(task, scores);
        predicted.Should().Equal(IntVector(e.GetProperty("predicted")));
        int k = task == MedMnistTask.Binary ? 2 : scores.GetLength(1);

        var m = ClassificationMetrics.Compute(labels, predicted, k);

        var expectedCm = e.GetProperty("confusion_matrix").EnumerateArray().Select(IntVector).ToArray();
        for (int i = 0; i < k; i++)
        {
            for (int j = 0; j < k; j++)
            {
                m.ConfusionMatrix[i, j].Should().Be(expectedCm[i][j], $"confusion [{i},{j}]");
            }
        }

        ShouldMatch(m.Accuracy, Number(e.GetProperty("accuracy")), "accuracy");
        ShouldMatch(m.Precision, Vector(e.GetProperty("precision")), "precision");
        ShouldMatch(m.Sensitivity, Vector(e.GetProperty("recall")), "recall");
        ShouldMatch(m.F1, Vector(e.GetProperty("f1")), "f1");
        ShouldMatch(m.Specificity, Vector(e.GetProperty("specificity")), "specificity");
        m.Support.Select(s => (int)s).Should().Equal(IntVector(e.GetProperty("support")));
        ShouldMatch(m.MacroPrecision, Number(e.GetProperty("precision_macro")), "macro precision");
        ShouldMatch(m.MacroSensitivity, Number(e.GetProperty("recall_macro")), "macro recall");
        ShouldMatch(m.MacroF1, Number(e.GetProperty("f1_macro")), "macro f1");
        ShouldMatch(m.MacroSpecificity, Number(e.GetProperty("specificity_macro")), "macro specificity");
        ShouldMatch(m.WeightedPrecision, Number(e.GetProperty("precision_weighted")), "weighted precision");
        ShouldMatch(m.WeightedSensitivity, Number(e.GetProperty("recall_weighted")), "weighted recall");
        ShouldMatch(m.WeightedF1, Number(e.GetProperty("f1_weighted")), "weighted f1");
        ShouldMatch(m.WeightedSpecificity, Number(e.GetProperty("specificity_weighted")), "weighted specificity");
        ShouldMatch(m.BalancedAccuracy, Number(e.GetProperty("balanced_accuracy")), "balanced accuracy");
        ShouldMatch(m.Kappa.Value, Number(e.GetProperty("kappa")), "kappa");
        ShouldMatch(m.LinearKappa.Value, Number(e.GetProperty("kappa_linear")), "linear kappa");
        ShouldMatch(m.QuadraticKappa.Value, Number(e.GetProperty("kappa_quadratic")), "quadratic kappa");
        ShouldMatch(m.MeanAbsoluteError, Number(e.GetProperty("mae")), "MAE");
    }

    [Theory]
    [MemberData(nameof(AllCases))]
    public void RocAndPrecisionRecallCurvesMatch(string name)
    {
        var c = Case(name);
        var e = c.GetProperty("expected");
        double[,] scores = Matrix(c.GetProperty("scores"));
        int checkedCurves = 0;
        foreach (var curve in e.GetProperty("roc_curves").EnumerateArray())
        {
            var (labels, column) = Component(c, scores, curve.GetProperty("component").GetInt32());
            bool drop = curve.GetProperty("drop_intermediate").GetBoolean();
            var roc = RocCurve.Compute(labels, column, drop);
            string what = $"ROC component {curve.GetProperty("component").GetInt32()} drop={drop}";
            ShouldMatch(roc.FalsePositiveRates, Vector(curve.GetProperty("fpr")), what + " fpr");
            ShouldMatch(roc.TruePositiveRates, Vector(curve.GetProperty("tpr")), what + " tpr");
            ShouldMatch(roc.Thresholds, Vector(curve.GetProperty("thresholds")), what + " thresholds");
            bool undefinedRate = roc.FalsePositiveRates.Concat(roc.TruePositiveRates).Any(double.IsNaN);
            (roc.Warnings.Count > 0).Should().Be(undefinedRate, what + " warnings");
            checkedCurves++;
        }

        foreach (var curve in e.GetProperty("pr_curves").EnumerateArray())
        {
            var (labels, column) = Component(c, scores, curve.GetProperty("component").GetInt32());
            var pr = PrecisionRecallCurve.Compute(labels, column);
            string what = $"PR component {curve.GetProperty("component").GetInt32()}";
            ShouldMatch(pr.Precision, Vector(curve.GetProperty("precision")), what + " precision");
            ShouldMatch(pr.Recall, Vector(curve.GetProperty("recall")), what + " recall");
            ShouldMatch(pr.Thresholds, Vector(curve.GetProperty("thresholds")), what + " thresholds");
            checkedCurves++;
        }

        checkedCurves.Should().BeGreaterThan(0);
    }

    [Theory]
    [MemberData(nameof(SingleLabelCases))]
    public void OneVsRestCurveHelpersAgreeWithBinaryForm(string name)
    {
        var c = Case(name);
        if (Task(c) == MedMnistTask.Binary)
        {
            return;
        }

        int[] labels = IntVector(c.GetProperty("labels"));
        double[,] scores = Matrix(c.GetProperty("scores"));
        var e = c.GetProperty("expected");
        var curve = e.GetProperty("roc_curves")[0];
        int k = curve.GetProperty("component").GetInt32();
        var roc = RocCurve.OneVsRest(labels, scores, k, curve.GetProperty("drop_intermediate").GetBoolean());
        ShouldMatch(roc.TruePositiveRates, Vector(curve.GetProperty("tpr")), "one-vs-rest tpr");
        ShouldMatch(roc.FalsePositiveRates, Vector(curve.GetProperty("fpr")), "one-vs-rest fpr");
        var pr = PrecisionRecallCurve.OneVsRest(labels, scores, e.GetProperty("pr_curves")[0].GetProperty("component").GetInt32());
        ShouldMatch(pr.Precision, Vector(e.GetProperty("pr_curves")[0].GetProperty("precision")), "one-vs-rest precision");
        ShouldMatch(RocAuc.OneVsRest(labels, scores, k).Value, Vector(e.GetProperty("per_class_auc"))[k], "one-vs-rest AUC");
    }

    [Theory]
    [MemberData(nameof(MultiLabelCases))]
    public void PerLabelCurvesAndAucMatchScikitLearn(string name)
    {
        var c = Case(name);
        int[,] labels = IntMatrix(c.GetProperty("multi_labels"));
        double[,] scores = Matrix(c.GetProperty("scores"));
        var e = c.GetProperty("expected");
        int checkedCurves = 0;
        foreach (var curve in e.GetProperty("roc_curves").EnumerateArray())
        {
            int j = curve.GetProperty("component").GetInt32();
            var roc = RocCurve.ForLabel(labels, scores, j, curve.GetProperty("drop_intermediate").GetBoolean());
            ShouldMatch(roc.FalsePositiveRates, Vector(curve.GetProperty("fpr")), $"label {j} fpr");
            ShouldMatch(roc.TruePositiveRates, Vector(curve.GetProperty("tpr")), $"label {j} tpr");
            ShouldMatch(roc.Thresholds, Vector(curve.GetProperty("thresholds")), $"label {j} thresholds");
            checkedCurves++;
        }

        foreach (var curve in e.GetProperty("pr_curves").EnumerateArray())
        {
            int j = curve.GetProperty("component").GetInt32();
            var pr = PrecisionRecallCurve.ForLabel(labels, scores, j);
            ShouldMatch(pr.Precision, Vector(curve.GetProperty("precision")), $"label {j} precision");
            ShouldMatch(pr.Recall, Vector(curve.GetProperty("recall")), $"label {j} recall");
            checkedCurves++;
        }

        double[] perLabel = Vector(e.GetProperty("per_class_auc"));
        for (int j = 0; j < perLabel.Length; j++)
        {
            var auc = RocAuc.ForLabel(labels, scores, j);
            ShouldMatch(auc.Value, perLabel[j], $"label {j} AUC");
            (auc.Warnings.Count > 0).Should().Be(double.IsNaN(perLabel[j]), $"label {j} warns exactly when its AUC is undefined");
        }

        checkedCurves.Should().BeGreaterThan(0);
    }

    [Theory]
    [MemberData(nameof(SingleLabelCases))]
    public void ModelEvaluatorReportsTheSameValues(string name)
    {
        var c = Case(name);
        var e = c.GetProperty("expected");
        var task = Task(c);
        var result = ModelEvaluator.Evaluate(task, IntVector(c.GetProperty("labels")), Matrix(c.GetProperty("scores")), new BootstrapOptions { Resamples = 0 });

        ShouldMatch(result["AUC"].Value, Number(e.GetProperty("medmnist_auc")), "AUC");
        ShouldMatch(result["ACC"].Value, Number(e.GetProperty("medmnist_acc")), "ACC");
        ShouldMatch(result["Balanced accuracy"].Value, Number(e.GetProperty("balanced_accuracy")), "balanced accuracy");
        ShouldMatch(result["F1 (macro)"].Value, Number(e.GetProperty("f1_macro")), "macro F1");
        ShouldMatch(result["Precision (weighted)"].Value, Number(e.GetProperty("precision_weighted")), "weighted precision");
        ShouldMatch(result["Cohen's kappa"].Value, Number(e.GetProperty("kappa")), "kappa");
        ShouldMatch(result["Sensitivity[class 1]"].Value, Vector(e.GetProperty("recall"))[1], "class-1 sensitivity");
        if (task == MedMnistTask.OrdinalRegression)
        {
            ShouldMatch(result["Cohen's kappa (quadratic)"].Value, Number(e.GetProperty("kappa_quadratic")), "QWK");
            ShouldMatch(result["Mean absolute error"].Value, Number(e.GetProperty("mae")), "MAE");
        }

        result.Metrics.Should().OnlyContain(m => m.Interval == null);
    }

    [Fact]
    public void QuantileMatchesNumpy()
    {
        var q = Root.GetProperty("quantiles");
        var values = Vector(q.GetProperty("values"));
        Array.Sort(values);
        var qs = Vector(q.GetProperty("q"));
        var expected = Vector(q.GetProperty("expected"));
        for (int i = 0; i < qs.Length; i++)
        {
            ShouldMatch(BootstrapEstimator.Quantile(values, qs[i]), expected[i], $"quantile {qs[i]}");
        }
    }

    private static (int[] Labels, double[] Scores) Component(JsonElement c, double[,] scores, int component)
    {
        if (c.TryGetProperty("multi_labels", out var ml))
        {
            return (Column(IntMatrix(ml), component), Column(scores, component));
        }

        int[] labels = IntVector(c.GetProperty("labels"));
        if (Task(c) == MedMnistTask.Binary)
        {
            return (labels, Column(scores, scores.GetLength(1) - 1));
        }

        return (labels.Select(l => l == component ? 1 : 0).ToArray(), Column(scores, component));
    }

    private static float[,] ToFloat(double[,] m)
    {
        var f = new float[m.GetLength(0), m.GetLength(1)];
        for (int i = 0; i < m.GetLength(0); i++)
        {
            for (int j = 0; j < m.GetLength(1); j++)
            {
                f[i, j] = (float)m[i, j];
            }
        }

        return f;
    }
}
