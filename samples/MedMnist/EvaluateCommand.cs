using System.CommandLine;
using System.Globalization;
using MedVision.Nets.Data.Loading;
using MedVision.Nets.Data.MedMnist;
using MedVision.Nets.Inference;
using MedVision.Nets.Losses;
using MedVision.Nets.Metrics;
using MedVision.Nets.Plotting;
using MedVision.Nets.Metrics.Clinical;
using MedVision.Nets.Metrics.Selective;
using MedVision.Torch;
using Spectre.Console;

namespace MedVision.Samples.MedMnist;

/// <summary>
/// The <c>evaluate</c> command: a saved model file on the validation and test splits, with calibration before and
/// after temperature scaling fitted on validation, a reliability diagram and a Grad-CAM grid.
/// </summary>
internal static class EvaluateCommand
{
    public static Command Create()
    {
        var models = ModelOptions.Models();
        var dataset = ModelOptions.Dataset("MedMNIST dataset name (default retinamnist, which is shipped).");
        var dataFile = new Option<string?>("--data-file") { Description = "Read the dataset from this .npz file." };
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" }.IsDevice();
        var flips = ModelOptions.Flips();
        var mixedPrecision = ModelOptions.MixedPrecision("Run the network under bfloat16 autocast (faster on CPUs with bfloat16 instructions; probabilities differ from float32 by about 1e-2).");
        var threads = SampleCommandLine.Threads();
        var output = new Option<string>("--output") { Description = "Folder for the reliability diagram and the Grad-CAM grid.", DefaultValueFactory = _ => "runs/evaluate" };
        var targetRisk = new Option<double>("--target-risk") { Description = "Selective prediction: the error rate allowed on the images the model decides (the rest deferred), bounded by a confidence threshold fitted on the validation split (SGR).", DefaultValueFactory = _ => 0.2 }
            .Must(v => v > 0 && v < 1, "strictly between 0 and 1");
        var delta = new Option<double>("--delta") { Description = "Selective prediction: the probability that the bound fails.", DefaultValueFactory = _ => 0.05 }.Must(v => v > 0 && v < 1, "strictly between 0 and 1");
        var referableFrom = new Option<int?>("--referable-from") { Description = "Referral: the lowest grade (class) that is referred, for ordinal and binary datasets (default 2 for ordinal datasets, e.g. referable diabetic retinopathy; 1 for binary ones)." }
            .Must(v => v is null or >= 1, "at least 1");
        var minSensitivity = new Option<double>("--min-sensitivity") { Description = "Referral: the sensitivity the operating point fitted on the validation split must reach.", DefaultValueFactory = _ => 0.8 }
            .Must(v => v > 0 && v <= 1, "in (0, 1]");
        var sensitivityConfidence = OperatingPointOptions.SensitivityConfidence();
        var storeReferral = new Option<bool>("--store-referral")
        {
            Description = "Record the referral operating point chosen on the validation split (--referable-from, --min-sensitivity) in the model file, or in the ensemble manifest, so that predict (and the library's Predictor or EnsemblePredictor) refers each image by it, under these --flips and precision. One model file or one manifest.",
        };
        var command = new Command("evaluate", "Evaluate a model file, or several as an ensemble, on the validation and test splits: AUC, ACC and calibration (before and after temperature scaling).")
        {
            models, dataset, dataFile, device, flips, mixedPrecision, threads, output, targetRisk, delta, referableFrom, minSensitivity, sensitivityConfidence, storeReferral,
        };
        command.Check(r => OperatingPointOptions.Check(r.GetValue(minSensitivity), r.GetValue(sensitivityConfidence)));
        command.Check(r => r.GetValue(storeReferral) && r.GetValue(models)!.Length > 1
            ? "--store-referral records the operating point in one model file or one ensemble manifest; for several --model files, write a manifest (medmnist ensemble) and evaluate it" : null);
        command.SetAction(r => Run(r.GetValue(models)!, r.GetValue(dataset), r.GetValue(dataFile), Device.Parse(r.GetValue(device)!), r.GetValue(flips), r.GetValue(mixedPrecision), r.GetValue(threads), r.GetValue(output)!,
            r.GetValue(targetRisk), r.GetValue(delta), r.GetValue(referableFrom), r.GetValue(minSensitivity), r.GetValue(sensitivityConfidence), r.GetValue(storeReferral)));
        return command;
    }

    private static int Run(string[] models, string? datasetName, string? dataFile, Device device, TestTimeFlips flips, bool mixedPrecision, int threads, string output,
        double targetRisk, double delta, int? referableFrom, double minSensitivity, double? sensitivityConfidence, bool storeReferral)
    {
        Tensors.NumThreads = threads;
        var data = TrainCommand.LoadDataset(datasetName, dataFile);
        var info = data.Info!;
        // One model is an ensemble of one: the same probabilities, and its Grad-CAM grid below.
        var (ensemble, modelPaths) = ModelFiles.LoadEnsemble(models, device, flips, mixedPrecision);
        using var owned = ensemble;
        if (ensemble.ClassNames.Count != info.ClassCount)
            throw new ArgumentException($"The model has {ensemble.ClassNames.Count} classes but {info.Name} has {info.ClassCount}.");
        string Settings(Predictor p) => $"temperature {p.Card.Temperature.ToString("G4", CultureInfo.InvariantCulture)}, flips {flips}{(mixedPrecision ? ", bfloat16 autocast" : "")}";
        if (modelPaths.Length == 1) AnsiConsole.MarkupLine($"Model {Markup.Escape(modelPaths[0])} ({Settings(ensemble.Members[0])}) on {info.Name}");
        else
        {
            AnsiConsole.MarkupLine($"{EnsembleModels.Banner(ensemble)} on {info.Name}:");
            for (int m = 0; m < modelPaths.Length; m++) AnsiConsole.MarkupLine($"  {m + 1}. {Markup.Escape(modelPaths[m])} ({Settings(ensemble.Members[m])})");
        }
        Directory.CreateDirectory(output);
        // The fold models of "cross-validate" trained on the training and validation splits pooled (their cards name
        // their fold): the validation split is not held out for them, so it neither scores nor calibrates them.
        bool validationTrainedOn = EnsembleModels.FromCrossValidation(ensemble);
        if (validationTrainedOn)
            AnsiConsole.MarkupLine("[yellow]Note:[/] these models come from a cross-validation of the training and validation splits pooled: the val row is not held out, and no temperature is fitted on it (cross-validate --calibrate fits each fold's on its own fold).");

        var (valLabels, (valScores, _)) = (data.Validation.Labels, Predict(ensemble, data.Validation));
        var (testLabels, (testScores, memberTestScores)) = (data.Test.Labels, Predict(ensemble, data.Test));
        string F(double v) => v.ToString("F4", CultureInfo.InvariantCulture);
        var table = new Table().AddColumn("split").AddColumn(new TableColumn("AUC").RightAligned()).AddColumn(new TableColumn("ACC").RightAligned());
        table.AddRow(validationTrainedOn ? "val (trained on)" : "val", F(MedMnistEvaluator.GetAuc(info.Task, valLabels, valScores).Value), F(MedMnistEvaluator.GetAcc(info.Task, valLabels, valScores, ensemble.OrdinalDecision)));
        var testAuc = MedMnistEvaluator.GetAuc(info.Task, testLabels, testScores).Value;
        // (the median grade for CORAL models, whose cards decide by it: EnsemblePredictor.OrdinalDecision)
        var testAcc = MedMnistEvaluator.GetAcc(info.Task, testLabels, testScores, ensemble.OrdinalDecision);
        table.AddRow(modelPaths.Length == 1 ? "test" : "test (ensemble)", F(testAuc), F(testAcc));
        var memberAucs = memberTestScores.Select(scores => MedMnistEvaluator.GetAuc(info.Task, testLabels, scores).Value).ToArray();
        var memberAccs = memberTestScores.Select((scores, m) => MedMnistEvaluator.GetAcc(info.Task, testLabels, scores, ensemble.Members[m].Card.OrdinalDecision)).ToArray();
        if (modelPaths.Length > 1)
            for (int m = 0; m < modelPaths.Length; m++) table.AddRow($"test, model {m + 1} alone", F(memberAucs[m]), F(memberAccs[m]));
        AnsiConsole.Write(table);
        WriteTestPredictions(Path.Combine(output, "test-predictions.csv"), info, testLabels, testScores, ensemble.OrdinalDecision);
        if (modelPaths.Length > 1)
        {
            var decisions = (ensemble.OrdinalDecision, ensemble.Members.Select(m => m.Card.OrdinalDecision).ToArray());
            AnsiConsole.Write(Comparisons(info.Task, testLabels, testScores, memberTestScores, decisions));
            AnsiConsole.Write(PairedTests(info.Task, testLabels, testScores, memberTestScores, decisions));
        }

        var name = modelPaths.Length == 1 ? RunName(modelPaths[0]) : "ensemble:" + string.Join(",", modelPaths.Select(RunName));
        var line = string.Create(CultureInfo.InvariantCulture, $"EVALUATION {name} {info.Name} test_auc={testAuc:F4} test_acc={testAcc:F4}");
        if (modelPaths.Length > 1)
            line += string.Create(CultureInfo.InvariantCulture, $" members={modelPaths.Length} member_test_auc={string.Join(",", memberAucs.Select(F))} member_test_acc={string.Join(",", memberAccs.Select(F))}");
        var calibration = Plots.WriteReliabilityDiagram(info, testLabels, testScores, Path.Combine(output, "test-reliability.svg"));
        if (calibration is not null)
        {
            line += string.Create(CultureInfo.InvariantCulture, $" test_ece={calibration.ExpectedCalibrationError:F4} test_brier={calibration.BrierScore:F4} test_nll={calibration.NegativeLogLikelihood:F4}");
            // A model file with its own temperature (--calibrate): also the probabilities at temperature 1 behind the
            // test split's, to show what the stored temperature does on images it was not fitted on.
            if (modelPaths.Length == 1 && ensemble.Members[0].Card is { Temperature: not 1 } calibrated)
            {
                var stored = calibrated.GetTemperatureScaling();
                var uncalibrated = Calibration.Evaluate(info.Task, testLabels, TemperatureFits.Undo(stored, testScores));
                AnsiConsole.MarkupLine(TemperatureFits.Line($"Test calibration at the model file's temperature ({TemperatureFits.Describe(stored)}) — at temperature 1 it would be", uncalibrated));
                line += string.Create(CultureInfo.InvariantCulture, $" card_temperature={stored.Temperature:F4} test_ece_uncalibrated={uncalibrated.ExpectedCalibrationError:F4} test_nll_uncalibrated={uncalibrated.NegativeLogLikelihood:F4}");
            }
            if (validationTrainedOn) AnsiConsole.MarkupLine(TemperatureFits.Line("Test calibration", calibration));
            else
            {
                var scaling = TemperatureFits.Fit(valLabels, valScores, ensemble.OrdinalDecision == OrdinalDecision.Median);
                var scaled = PrintCalibration(info, testLabels, testScores, calibration, scaling);
                line += string.Create(CultureInfo.InvariantCulture, $" temperature={scaling.Temperature:F4} scaled_ece={scaled.ExpectedCalibrationError:F4} scaled_brier={scaled.BrierScore:F4} scaled_nll={scaled.NegativeLogLikelihood:F4}");
            }
        }
        var charts = new List<string>();
        if (calibration is not null) charts.Add("test-reliability.svg");
        if (info.Task != MedMnistTask.MultiLabel) line += Selective(testLabels, testScores, validationTrainedOn ? null : (valLabels, valScores), ensemble.OrdinalDecision, targetRisk, delta, output, charts);
        if (referableFrom is { } given && (given >= info.ClassCount || info.Task is not (MedMnistTask.OrdinalRegression or MedMnistTask.Binary)))
            throw new ArgumentException($"--referable-from {given} needs an ordinal or binary dataset with a grade {given} and a lower one; {info.Name} is {info.Task} with {info.ClassCount} classes.");
        if (storeReferral && info.Task is not (MedMnistTask.OrdinalRegression or MedMnistTask.Binary))
            throw new ArgumentException($"--store-referral needs an ordinal or binary dataset; {info.Name} is {info.Task}.");
        if (storeReferral && validationTrainedOn)
            throw new ArgumentException("--store-referral chooses the operating point on the validation split, which these models trained on.");
        string? manifest = EnsembleModels.ManifestAlone(models);
        if (storeReferral && manifest is null && ModelFiles.IsOnnxFile(modelPaths[0]))
            throw new ArgumentException("--store-referral writes into a model.safetensors; store it there, then export again.");
        if (info.Task is MedMnistTask.OrdinalRegression or MedMnistTask.Binary)
        {
            int from = referableFrom ?? (info.Task == MedMnistTask.Binary ? 1 : Math.Min(2, info.ClassCount - 1));
            var (fields, point) = Referral(testLabels, testScores, validationTrainedOn ? null : (valLabels, valScores), from, minSensitivity, sensitivityConfidence, output, charts);
            line += fields;
            if (storeReferral) StoreReferral(manifest ?? modelPaths[0], manifest is not null, point, from, flips, mixedPrecision);
        }
        var maps = modelPaths.Length == 1 ? Plots.WriteMapGrid(ensemble.Members[0], data.Test, output) : null;
        var full = Path.GetFullPath(output);
        if (maps is { } written) charts.Add(written.File);
        AnsiConsole.MarkupLine($"Written: {string.Join(" ", charts.Prepend("test-predictions.csv").Select(f => Markup.Escape($"{full}/{f}")))}");
        Console.WriteLine(line);
        return 0;
    }

    // Selective prediction on the test split: the risk–coverage curve of the predicted class's probability (the maximum
    // probability; a CORAL model's median grade's), and a threshold fitted on the validation split (when it is held
    // out) to bound the error rate of the images the model decides; returns the EVALUATION line's fields and adds the
    // chart it writes to `written`.
    private static string Selective(int[,] testLabels, double[,] testScores, (int[,] Labels, double[,] Scores)? validation, OrdinalDecision decision, double targetRisk, double delta, string output, List<string> written)
    {
        var c = CultureInfo.InvariantCulture;
        double[] Confidence(double[,] scores) => SelectivePrediction.Confidence(scores, ConfidenceScore.PredictedProbability, decision);
        var (testConfidence, testErrors) = (Confidence(testScores), SelectivePrediction.Errors(testLabels, testScores, decision));
        var curve = RiskCoverageCurve.Compute(testConfidence, testErrors);
        string by = decision == OrdinalDecision.Median ? "the median grade's probability" : "maximum probability";
        TrainingPlots.RiskCoverage(curve, $"Test risk–coverage ({by})").Save(Path.Combine(output, "test-risk-coverage.svg"));
        written.Add("test-risk-coverage.svg");
        string text = string.Create(c, $"Selective prediction (test, by {by}): AURC {curve.Aurc:F4}, E-AURC {curve.ExcessAurc:F4}; error rate {curve.FullCoverageRisk:F4} on every image, {curve.RiskAtCoverage(0.5):F4} on the most confident half");
        string fields = string.Create(c, $" test_aurc={curve.Aurc:F4} test_eaurc={curve.ExcessAurc:F4} test_risk_half={curve.RiskAtCoverage(0.5):F4}");
        if (validation is { } v)
        {
            var control = SelectiveRiskControl.Fit(Confidence(v.Scores), SelectivePrediction.Errors(v.Labels, v.Scores, decision), targetRisk, delta);
            var test = control.Evaluate(testConfidence, testErrors);
            text += control.IsFeasible
                ? string.Create(c, $". For an error rate ≤ {targetRisk:G4} (δ {delta:G4}) the validation split gives threshold {control.Threshold:F4} (validation: {control.Calibration.Accepted} of {control.Calibration.Count} decided, {control.Calibration.Errors} wrong, bound {control.RiskBound:F4}); on the test split it decides {test.Accepted} of {test.Count} ({test.Coverage:P1}) with error rate {test.Risk:F4}, deferring the rest.")
                : string.Create(c, $". No threshold on the {control.Calibration.Count} validation images bounds the error rate below {targetRisk:G4} (δ {delta:G4}): every image would be deferred.");
            fields += control.IsFeasible
                ? string.Create(c, $" sgr_target={targetRisk:G4} sgr_threshold={control.Threshold:F4} sgr_val_coverage={control.Calibration.Coverage:F4} sgr_test_coverage={test.Coverage:F4} sgr_test_risk={test.Risk:F4}")
                : string.Create(c, $" sgr_target={targetRisk:G4} sgr_threshold=none");
        }
        AnsiConsole.MarkupLine(Markup.Escape(text));
        return fields;
    }

    // Referral: grades at or above a cut-off are referred; the risk is their probability. The test split's AUC of that
    // risk and its decision curve, and an operating point fitted on the validation split (when it is held out) for a
    // minimum sensitivity, applied to the test split; returns the EVALUATION line's fields and adds the chart it writes
    // to `written`.
    private static (string Fields, OperatingPoint? Point) Referral(int[,] testLabels, double[,] testScores, (int[,] Labels, double[,] Scores)? validation, int from, double minSensitivity, double? confidence, string output, List<string> written)
    {
        var c = CultureInfo.InvariantCulture;
        var (labels, risks) = MedVision.Nets.Metrics.Clinical.Referral.FromGrades(testLabels, testScores, from);
        if (!labels.Contains(0) || !labels.Contains(1))
        {
            AnsiConsole.MarkupLine($"Referral (grade ≥ {from}): the test split holds only {(labels.Contains(1) ? "referable" : "non-referable")} images; no referral figures.");
            return ("", null);
        }
        double auc = RocAuc.Compute(labels, risks).Value;
        // The curve over thresholds 0.01 … 0.99, drawn, counted and read at 0.1, 0.2 and 0.3.
        var full = DecisionCurve.Compute(labels, risks);
        TrainingPlots.DecisionCurve(full, $"Test decision curve: referral of grade ≥ {from}").Save(Path.Combine(output, "test-decision-curve.svg"));
        written.Add("test-decision-curve.svg");
        int[] at = new[] { 0.1, 0.2, 0.3 }.Select(t => Enumerable.Range(0, full.Thresholds.Count).Single(j => Math.Abs(full.Thresholds[j] - t) < 1e-12)).ToArray();
        var (benefit, referAll) = (at.Select(j => full.NetBenefit[j]).ToArray(), at.Select(j => full.ReferAll[j]).ToArray());
        string text = string.Create(c, $"Referral (grade ≥ {from}; test prevalence {full.Prevalence:P1}): AUC of P(grade ≥ {from}) {auc:F4}; net benefit at risk thresholds 0.1 / 0.2 / 0.3: ")
            + string.Join(" / ", benefit.Select(v => v.ToString("F3", c)))
            + " (refer all: " + string.Join(" / ", referAll.Select(v => v.ToString("F3", c))) + ")"
            + (full.UsefulThresholds.Count == 0 ? "; it beats referring all and referring none at no threshold 0.01–0.99"
                : string.Create(c, $"; it beats referring all and referring none at {full.UsefulThresholds.Count} of the thresholds 0.01–0.99 (lowest {full.UsefulThresholds[0]:G2}, highest {full.UsefulThresholds[^1]:G2})"));
        string fields = string.Create(c, $" referable_from={from} referral_auc={auc:F4} net_benefit_0.1={benefit[0]:F4} net_benefit_0.2={benefit[1]:F4} net_benefit_0.3={benefit[2]:F4} useful_thresholds={full.UsefulThresholds.Count}");
        OperatingPoint? chosen = null;
        if (validation is { } v)
        {
            var (valLabels, valRisks) = MedVision.Nets.Metrics.Clinical.Referral.FromGrades(v.Labels, v.Scores, from);
            if (valLabels.Contains(0) && valLabels.Contains(1))
            {
                var point = chosen = OperatingPointOptions.Choose(valLabels, valRisks, minSensitivity, confidence);
                var test = point.Evaluate(labels, risks);
                text += string.Create(c,
                    $". Operating point ({point.Rule}) on the validation split: refer when P ≥ {point.Threshold:F4} (validation sensitivity {point.Fitted!.Sensitivity:F3}, specificity {point.Fitted.Specificity:F3}); on the test split sensitivity {test.Sensitivity:F3} [{test.SensitivityInterval.Lower:F3}, {test.SensitivityInterval.Upper:F3}], specificity {test.Specificity:F3} [{test.SpecificityInterval.Lower:F3}, {test.SpecificityInterval.Upper:F3}], PPV {test.PositivePredictiveValue:F3}, NPV {test.NegativePredictiveValue:F3}, {test.ReferralRate:P1} referred.");
                fields += string.Create(c, $" op_min_sensitivity={minSensitivity:G4}{(confidence is double level ? $" op_confidence={level:G4}" : "")} op_threshold={point.Threshold:F4} op_test_sensitivity={test.Sensitivity:F4} op_test_specificity={test.Specificity:F4} op_test_referred={test.ReferralRate:F4}");
            }
        }
        AnsiConsole.MarkupLine(Markup.Escape(text));
        return (fields, chosen);
    }

    // --store-referral: the validation operating point into the model file or the ensemble manifest, with the settings
    // its probabilities were predicted under (an ensemble's are averaged at temperature 1: each member applies its own).
    private static void StoreReferral(string path, bool manifest, OperatingPoint? point, int from, TestTimeFlips flips, bool mixedPrecision)
    {
        if (point is null) throw new ArgumentException($"--store-referral: the validation split holds no referable (grade ≥ {from}) or no non-referable image, so no operating point was chosen.");
        if (double.IsNegativeInfinity(point.Threshold))
            throw new ArgumentException($"--store-referral: {point.Rule}; a point that refers every image needs no model. Lower --min-sensitivity or --sensitivity-confidence.");
        if (manifest)
        {
            foreach (var note in EnsemblePredictor.UpdateManifest(path, m => m with { Referral = ReferralCard.From(point, from, 1, flips, mixedPrecision) }))
                AnsiConsole.MarkupLine($"[yellow]Note:[/] {Markup.Escape(note)}");
        }
        else ModelFile.UpdateCard(path, card => card.Referral = ReferralCard.From(point, from, card.GetTemperatureScaling(), flips, mixedPrecision));
        AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"Stored the operating point in {path}: predict refers an image when P(grade ≥ {from}) ≥ {point.Threshold:F4} (with flips {flips}{(mixedPrecision ? " and --mixed-precision" : "")}).")));
    }

    /// <summary>Prints the test calibration before and after <paramref name="scaling"/>; returns the calibration after it.</summary>
    internal static CalibrationResult PrintCalibration(MedMnistInfo info, int[,] testLabels, double[,] testScores, CalibrationResult calibration, TemperatureScaling scaling)
    {
        var scaled = Calibration.Evaluate(info.Task, testLabels, TemperatureFits.Apply(scaling, testScores));
        foreach (var (name, c) in new[] { ("Test calibration", calibration), ($"  after temperature scaling ({TemperatureFits.Describe(scaling)}, fitted on val)", scaled) })
            AnsiConsole.MarkupLine(TemperatureFits.Line(name, c));
        if (TemperatureFits.Note(scaling) is { } note) AnsiConsole.MarkupLine($"[yellow]Note:[/] {Markup.Escape(note)}");
        return scaled;
    }

    /// <summary>
    /// The ensemble against each member on the test split: the AUC and ACC differences with their 95% intervals from a
    /// paired bootstrap (1,000 resamples of the test samples, the same for both; <see cref="BootstrapEstimator.Compare(MedMnistTask, int[,], double[,], double[,], OrdinalDecision, OrdinalDecision, BootstrapOptions?)"/>),
    /// each side's ACC that of its own decision (a CORAL model's median grade), and the p-values of DeLong's and McNemar's tests.
    /// </summary>
    internal static Table Comparisons(MedMnistTask task, int[,] labels, double[,] ensemble, double[][,] members, (OrdinalDecision Ensemble, OrdinalDecision[] Members) decisions)
    {
        static string Cell(double value, ConfidenceInterval ci) => Markup.Escape($"{TrainingConsole.Signed(value)} [{TrainingConsole.Signed(ci.Lower)}, {TrainingConsole.Signed(ci.Upper)}]");
        var table = new Table().Caption("Δ = the ensemble's test metric − the model's; 95% intervals by a paired bootstrap (1,000 resamples of the test samples, the same for both)", new Style(decoration: Decoration.None))
            .AddColumn("ensemble versus").AddColumn(new TableColumn(Markup.Escape("Δ AUC [95% CI]")).RightAligned()).AddColumn(new TableColumn(Markup.Escape("Δ ACC [95% CI]")).RightAligned());
        for (int m = 0; m < members.Length; m++)
        {
            var c = BootstrapEstimator.Compare(task, labels, ensemble, members[m], decisions.Ensemble, decisions.Members[m]);
            table.AddRow($"model {m + 1}", Cell(c.AucDifference, c.AucDifferenceInterval), Cell(c.AccDifference, c.AccDifferenceInterval));
        }
        return table;
    }

    /// <summary>The ensemble against each member on the test split: DeLong's test of the AUCs, McNemar's exact test of the accuracies.</summary>
    internal static Table PairedTests(MedMnistTask task, int[,] labels, double[,] ensemble, double[][,] members, (OrdinalDecision Ensemble, OrdinalDecision[] Members) decisions)
    {
        static string P(double p) => TrainingConsole.PValue(p);
        bool mcnemar = task != MedMnistTask.MultiLabel;
        var table = new Table().AddColumn("ensemble versus").AddColumn(new TableColumn("DeLong p (AUC)").RightAligned());
        if (mcnemar) table.AddColumn(new TableColumn("McNemar p (ACC)").RightAligned());
        for (int m = 0; m < members.Length; m++)
        {
            var row = new List<string> { $"model {m + 1}", P(DeLong.Compare(task, labels, ensemble, members[m]).PValue) };
            if (mcnemar) row.Add(P(McNemar.Compare(task, labels, ensemble, members[m], decisions.Ensemble, decisions.Members[m]).PValue));
            table.AddRow(row.ToArray());
        }
        return table;
    }

    // Every test image's labels and probabilities, and its predicted class (the model's decision: a CORAL model's median
    // grade): index,label,predicted,p_0,… (index,label_0,…,p_0,… for multi-label datasets), written atomically.
    private static void WriteTestPredictions(string path, MedMnistInfo info, int[,] labels, double[,] scores, OrdinalDecision decision)
    {
        bool multiLabel = info.Task == MedMnistTask.MultiLabel;
        int k = scores.GetLength(1), l = labels.GetLength(1);
        var predicted = multiLabel ? null : MedMnistEvaluator.Predict(info.Task, scores, decision);
        var text = new System.Text.StringBuilder("index,");
        text.Append(multiLabel ? string.Join(",", Enumerable.Range(0, l).Select(j => $"label_{j}")) : "label,predicted");
        text.Append(',').AppendJoin(',', Enumerable.Range(0, k).Select(j => $"p_{j}")).Append('\n');
        for (int i = 0; i < scores.GetLength(0); i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"{i},");
            text.AppendJoin(',', Enumerable.Range(0, l).Select(j => labels[i, j].ToString(CultureInfo.InvariantCulture)));
            if (predicted is not null) text.Append(CultureInfo.InvariantCulture, $",{predicted[i]}");
            for (int j = 0; j < k; j++) text.Append(CultureInfo.InvariantCulture, $",{scores[i, j]:R}");
            text.Append('\n');
        }
        MedVision.Torch.Serialization.AtomicFile.WriteAllText(path, text.ToString());
    }

    // The run folder a model file lies in (the train command's --output), naming the model in the EVALUATION line.
    internal static string RunName(string modelPath) => Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(modelPath)))!;

    // The split's probabilities through the ensemble (each model file's preprocessing, temperature and flips), and
    // each member's own.
    internal static (double[,] Scores, double[][,] MemberScores) Predict(EnsemblePredictor ensemble, MedMnistSplitData split)
    {
        var source = new MedMnistImageSource(split);
        int classes = ensemble.ClassNames.Count;
        var scores = new double[split.Count, classes];
        var members = ensemble.Members.Select(_ => new double[split.Count, classes]).ToArray();
        for (int start = 0; start < split.Count; start += 128)
        {
            var images = Enumerable.Range(start, Math.Min(128, split.Count - start)).Select(i => source.Load(i).Image).ToList();
            var predictions = ensemble.Predict(images);
            for (int i = 0; i < predictions.Count; i++)
                for (int k = 0; k < classes; k++)
                {
                    scores[start + i, k] = predictions[i].Probabilities[k];
                    for (int m = 0; m < members.Length; m++) members[m][start + i, k] = predictions[i].Members[m].Probabilities[k];
                }
        }
        return (scores, members);
    }
}
