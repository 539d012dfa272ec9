// The "conformal" mode: ConformalClassifier against the definitions, by brute force over classes; and selective prediction.
using MedVision.Nets.Inference;
using MedVision.Nets.Metrics.Conformal;

internal static partial class ApiFuzz
{
    /// <summary>
    /// Random calibration and test probabilities (2–7 classes, 0–60 calibration and 1–30 test images; rounded to a
    /// grid now and then so that classes and images tie, with zeros) and labels drawn from them, a random score,
    /// coverage, class-conditioning and RAPS regularisation; now and then bad input (a NaN, a negative value, logits,
    /// a row that does not sum to 1, a label out of range, a count mismatch, a coverage of 0, 1 or NaN, a
    /// regularisation for another score). Oracles: refused exactly when the input is bad; otherwise every threshold is
    /// the ⌈(n+1)(1−α)⌉-th smallest calibration score of its class (or of all), every score is the definition's, every
    /// set is {y : s_y ≤ q̂_y}, plus the most probable class for the cumulative scores, an interval for ordinal APS;
    /// the evaluation's counts are those of the sets; the calibration survives a model card's JSON.
    /// </summary>
    public static void ConformalStep(Random rng)
    {
        int k = rng.Next(2, 8);
        int nCal = rng.Next(0, 61), nTest = rng.Next(1, 31);
        bool grid = rng.Next(3) == 0;
        (int[] Labels, double[,] P) Draw(int n)
        {
            var labels = new int[n];
            var p = new double[n, k];
            for (int i = 0; i < n; i++)
            {
                var w = Enumerable.Range(0, k).Select(_ => Math.Pow(rng.NextDouble(), rng.Next(1, 5))).ToArray();
                if (grid) w = w.Select(v => Math.Round(v * 4) / 4).ToArray();
                if (w.Sum() == 0) w[rng.Next(k)] = 1;
                double sum = w.Sum(), u = rng.NextDouble(), cumulative = 0;
                labels[i] = k - 1;
                for (int j = 0; j < k; j++) p[i, j] = w[j] / sum;
                for (int j = 0; j < k - 1; j++)
                    if (u < (cumulative += p[i, j])) { labels[i] = j; break; }
            }
            return (labels, p);
        }
        var (calY, calP) = Draw(nCal);
        var (testY, testP) = Draw(nTest);
        var score = (ConformalScore)rng.Next(4);
        double coverage = rng.Next(15) == 0 ? new[] { 0, 1, double.NaN, -0.2 }[rng.Next(4)] : new[] { 0.5, 0.8, 0.9, 0.95, rng.NextDouble() }[rng.Next(5)];
        bool conditional = rng.Next(3) == 0;
        double? lambda = score == ConformalScore.Raps || rng.Next(20) == 0 ? (rng.Next(3) == 0 ? null : rng.NextDouble() * 0.3) : null;
        int kReg = rng.Next(0, 3);
        string bad = "";
        int damage = nCal > 0 ? rng.Next(24) : 99;
        int row = nCal > 0 ? rng.Next(nCal) : 0;
        switch (damage)
        {
            case 0: calP[row, rng.Next(k)] = double.NaN; bad = "NaN"; break;
            case 1: calP[row, 0] = -0.3; calP[row, 1] += 0.3; bad = "negative"; break;
            case 2: for (int j = 0; j < k; j++) calP[row, j] = (rng.NextDouble() * 6) - 3; bad = "logits"; break;
            case 3: calP[row, 0] *= 1.5; calP[row, 0] += 0.01; bad = "sum"; break;
            case 4: calY[row] = rng.Next(2) == 0 ? k : -1; bad = "label"; break;
            case 5: calY = calY[1..]; bad = "count"; break;
        }
        bool badCoverage = !(coverage > 0 && coverage < 1);
        bool badLambda = lambda is not null && score != ConformalScore.Raps;
        bool valid = bad == "" && nCal > 0 && !badCoverage && !badLambda;
        // A NaN, a negative value or logits may leave a row summing to 1 only by a fluke; each is bad by itself.
        var steps = $"k {k}, {nCal} calibration / {nTest} test{(grid ? " on a grid" : "")}, {score}, coverage {coverage}, per class {conditional}, λ {lambda?.ToString() ?? "-"} k_reg {kReg}{(bad == "" ? "" : ", bad " + bad)}";

        Last = "ConformalClassifierBuilder";
        ConformalClassifier conformal;
        try
        {
            var builder = ConformalClassifier.Create();
            builder.WithScore(score).WithCoverage(coverage).ClassConditional(conditional);
            if (lambda is { } l) builder.WithRegularization(l, kReg);
            conformal = builder.Calibrate(calY, calP);
        }
        catch (Exception e) when (valid && e is ArgumentException or InvalidOperationException)
        {
            throw new ArithmeticException($"{steps}: refused good input: {e.Message}");
        }
        if (!valid) throw new ArithmeticException($"{steps}: accepted bad input");

        double lam = score == ConformalScore.Raps ? lambda ?? ConformalClassifier.DefaultRegularization : 0;
        int kr = score == ConformalScore.Raps ? (lambda is null ? ConformalClassifier.DefaultRegularizationRank : kReg) : 0;
        double[] Row(double[,] p, int i) => Enumerable.Range(0, k).Select(j => p[i, j]).ToArray();
        // The definition: the order (probability descending, ties by class; or the interval grown from the top grade),
        // the class's position in it, and its score.
        int[] Order(double[] p)
        {
            if (score != ConformalScore.OrdinalAps) return Enumerable.Range(0, k).OrderByDescending(j => p[j]).ThenBy(j => j).ToArray();
            int top = Enumerable.Range(0, k).First(j => p[j] == p.Max());
            var order = new List<int> { top };
            int lo = top, hi = top;
            while (order.Count < k)
            {
                double left = lo > 0 ? p[lo - 1] : double.NegativeInfinity, right = hi < k - 1 ? p[hi + 1] : double.NegativeInfinity;
                order.Add(left >= right ? --lo : ++hi);
            }
            return order.ToArray();
        }
        double Score(double[] p, int y)
        {
            var order = Order(p);
            int position = Array.IndexOf(order, y);
            double mass = order.Take(position + 1).Sum(c => p[c]);
            return score switch
            {
                ConformalScore.Lac => 1 - p[y],
                ConformalScore.Raps => mass + (lam * Math.Max(0, position + 1 - kr)),
                _ => mass,
            };
        }
        var calScores = Enumerable.Range(0, nCal).Select(i => Score(Row(calP, i), calY[i])).ToArray();
        double Quantile(IEnumerable<double> scores)
        {
            var sorted = scores.OrderBy(v => v).ToArray();
            int rank = (int)Math.Ceiling(((sorted.Length + 1) * (decimal)coverage) - 0.000000001m);
            return rank > sorted.Length ? double.PositiveInfinity : sorted[rank - 1];
        }
        var q = Enumerable.Range(0, k).Select(c => conditional ? Quantile(calScores.Where((_, i) => calY[i] == c)) : Quantile(calScores)).ToArray();
        for (int c = 0; c < k; c++)
            if (!(q[c] == conformal.Thresholds[c] || Math.Abs(q[c] - conformal.Thresholds[c]) < 1e-12))
                throw new ArithmeticException($"{steps}: threshold of class {c} is {conformal.Thresholds[c]}, the definition's {q[c]}");
        if (conformal.Warnings.Count != (conditional ? q.Count(double.IsPositiveInfinity) : q[0] == double.PositiveInfinity ? 1 : 0))
            throw new ArithmeticException($"{steps}: {conformal.Warnings.Count} warnings for {q.Count(double.IsPositiveInfinity)} infinite thresholds");

        Last = "ConformalClassifier.PredictSets";
        var sets = conformal.PredictSets(testP);
        for (int i = 0; i < nTest; i++)
        {
            var p = Row(testP, i);
            var s = Enumerable.Range(0, k).Select(y => Score(p, y)).ToArray();
            // Scores within rounding of their threshold may fall either way (sums in another order): not compared.
            var unclear = Enumerable.Range(0, k).Where(y => double.IsFinite(q[y]) && Math.Abs(s[y] - q[y]) < 1e-9).ToHashSet();
            var expected = Enumerable.Range(0, k).Where(y => s[y] <= q[y]).ToHashSet();
            if (score != ConformalScore.Lac) expected.Add(Order(p)[0]);
            if (conditional && score == ConformalScore.OrdinalAps && expected.Count > 0)
                expected = Enumerable.Range(expected.Min(), expected.Max() - expected.Min() + 1).ToHashSet();
            if (unclear.Count == 0 && !expected.SetEquals(sets[i]))
                throw new ArithmeticException($"{steps}: test image {i}: set [{string.Join(", ", sets[i])}], the definition's [{string.Join(", ", expected.Order())}]");
            if (!sets[i].SequenceEqual(sets[i].Order().Distinct())) throw new ArithmeticException($"{steps}: set [{string.Join(", ", sets[i])}] not ascending");
            if (score == ConformalScore.OrdinalAps && sets[i].Length > 0 && sets[i][^1] - sets[i][0] + 1 != sets[i].Length)
                throw new ArithmeticException($"{steps}: ordinal set [{string.Join(", ", sets[i])}] is not an interval");
            if (score != ConformalScore.Lac && sets[i].Length == 0) throw new ArithmeticException($"{steps}: empty {score} set");
        }

        Last = "ConformalClassifier.Evaluate";
        var evaluation = conformal.Evaluate(testY, testP);
        int covered = Enumerable.Range(0, nTest).Count(i => sets[i].Contains(testY[i]));
        if (evaluation.Covered != covered || evaluation.SizeCounts.Sum() != nTest || evaluation.ByClass.Sum(g => g.Covered) != covered
                || evaluation.BySize.Sum(g => g.Count) != nTest || Math.Abs(evaluation.MeanSetSize - sets.Average(x => x.Length)) > 1e-12
                || !(evaluation.CoverageInterval.Lower <= evaluation.Coverage && evaluation.Coverage <= evaluation.CoverageInterval.Upper))
            throw new ArithmeticException($"{steps}: evaluation counts differ from the sets ({evaluation.Covered} covered against {covered})");

        Last = "ConformalCard";
        var card = System.Text.Json.JsonSerializer.Deserialize<ConformalCard>(System.Text.Json.JsonSerializer.Serialize(ConformalCard.From(conformal)))!;
        var again = card.ToClassifier().PredictSets(testP);
        for (int i = 0; i < nTest; i++)
            if (!again[i].SequenceEqual(sets[i])) throw new ArithmeticException($"{steps}: the card's calibration gives test image {i} another set");
        // Selective prediction of the same images: the curve's area is the mean of its risks at every coverage m / N,
        // never below the best ranking's; a threshold's bound lies between its calibration risk and the target.
        Last = "RiskCoverageCurve";
        var curve = MedVision.Nets.Metrics.Selective.RiskCoverageCurve.Compute(testY, testP, (MedVision.Nets.Metrics.Selective.ConfidenceScore)rng.Next(3));
        double mean = Enumerable.Range(1, nTest).Average(m => curve.RiskAtCoverage((double)m / nTest));
        if (Math.Abs(mean - curve.Aurc) > 1e-9 || curve.ExcessAurc < -1e-12 || curve.Coverages[^1] != 1
                || curve.Coverages.Zip(curve.Coverages.Skip(1)).Any(x => x.Second <= x.First) || curve.Thresholds.Zip(curve.Thresholds.Skip(1)).Any(x => x.Second >= x.First))
            throw new ArithmeticException($"{steps}: risk-coverage curve inconsistent (AURC {curve.Aurc}, mean risk {mean}, excess {curve.ExcessAurc})");
        Last = "SelectiveRiskControl";
        var confidence = MedVision.Nets.Metrics.Selective.SelectivePrediction.Confidence(calP);
        var errors = MedVision.Nets.Metrics.Selective.SelectivePrediction.Errors(calY, calP);
        double target = 0.05 + (rng.NextDouble() * 0.9);
        var control = MedVision.Nets.Metrics.Selective.SelectiveRiskControl.Fit(confidence, errors, target, 0.01 + (rng.NextDouble() * 0.3));
        if (control.IsFeasible && !(control.Calibration.Risk <= control.RiskBound && control.RiskBound < target && control.Evaluate(confidence, errors) == control.Calibration))
            throw new ArithmeticException($"{steps}: selective threshold {control}");
        if (!control.IsFeasible && (control.Calibration.Accepted != 0 || control.Accepts(confidence.Max())))
            throw new ArithmeticException($"{steps}: an infeasible selective threshold accepts images");
        // Referral at a random cut-off grade: operating points meet their requirement, and no higher threshold (a
        // distinct score) does for sensitivity, no lower one for specificity; net benefit within its bounds.
        Last = "OperatingPoint";
        int from = rng.Next(1, k);
        var (refer, risk) = MedVision.Nets.Metrics.Clinical.Referral.FromGrades(testY, testP, from);
        if (refer.Contains(0) && refer.Contains(1))
        {
            double minimum = rng.Next(4) == 0 ? 1 : 0.05 + (rng.NextDouble() * 0.95);
            var bySensitivity = MedVision.Nets.Metrics.Clinical.OperatingPoint.AtSensitivity(refer, risk, minimum);
            var bySpecificity = MedVision.Nets.Metrics.Clinical.OperatingPoint.AtSpecificity(refer, risk, minimum);
            var youden = MedVision.Nets.Metrics.Clinical.OperatingPoint.Youden(refer, risk);
            if (!(bySensitivity.Fitted!.Sensitivity >= minimum) || risk.Any(t => t > bySensitivity.Threshold && MedVision.Nets.Metrics.Clinical.OperatingPoint.AtThreshold(t).Evaluate(refer, risk).Sensitivity >= minimum))
                throw new ArithmeticException($"{steps}: sensitivity point {bySensitivity} for {minimum}");
            if (!(bySpecificity.Fitted!.Specificity >= minimum) || risk.Any(t => t < bySpecificity.Threshold && MedVision.Nets.Metrics.Clinical.OperatingPoint.AtThreshold(t).Evaluate(refer, risk).Specificity >= minimum))
                throw new ArithmeticException($"{steps}: specificity point {bySpecificity} for {minimum}");
            // The sensitivity bound: the point's lower bound reaches the minimum, it refers at least as many as the plain
            // point, and no higher distinct score's bound reaches it; when none does, every image is referred.
            if (minimum < 1)
            {
                double delta = 0.01 + (rng.NextDouble() * 0.3);
                var bound = MedVision.Nets.Metrics.Clinical.OperatingPoint.AtSensitivityBound(refer, risk, minimum, delta);
                int positives = refer.Count(v => v == 1);
                double Lower(double threshold) => MedVision.Nets.Metrics.Clinical.OperatingPoint.AtThreshold(threshold).Evaluate(refer, risk) is var o && o.TruePositives > 0
                    ? MathNet.Numerics.Distributions.Beta.InvCDF(o.TruePositives, positives - o.TruePositives + 1, delta) : 0;
                if (double.IsNegativeInfinity(bound.Threshold) ? risk.Any(t => Lower(t) >= minimum) || bound.Fitted!.ReferralRate != 1
                    : !(Lower(bound.Threshold) >= minimum) || bound.Threshold > bySensitivity.Threshold || risk.Any(t => t > bound.Threshold && Lower(t) >= minimum))
                    throw new ArithmeticException($"{steps}: sensitivity bound {bound} for {minimum} at δ {delta}");
            }
            double j = youden.Fitted!.Sensitivity + youden.Fitted.Specificity - 1;
            if (risk.Any(t => MedVision.Nets.Metrics.Clinical.OperatingPoint.AtThreshold(t).Evaluate(refer, risk) is var o && o.Sensitivity + o.Specificity - 1 > j + 1e-12))
                throw new ArithmeticException($"{steps}: Youden point {youden} is not the best");
            var decision = MedVision.Nets.Metrics.Clinical.DecisionCurve.Compute(refer, risk);
            if (decision.NetBenefit.Any(b => b > decision.Prevalence + 1e-12))
                throw new ArithmeticException($"{steps}: a net benefit above the prevalence");
        }
        if (!conditional)
        {
            var spread = conformal.CoverageDistribution(0.9);
            if (!(spread.Lower <= spread.Upper && spread.Lower >= 0 && spread.Upper <= 1)) throw new ArithmeticException($"{steps}: coverage distribution {spread}");
        }
    }
}
