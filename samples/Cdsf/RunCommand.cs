using System.CommandLine;
using System.Globalization;
using MedVision.Nets.Blocks;
using MedVision.Nets.Explainability;
using MedVision.Nets.Metrics;
using MedVision.Nets.Models;
using MedVision.Torch;
using MedVision.Torch.Nn;
using MedVision.Torch.Optim;
using MedVision.Torch.Serialization;
using MedVision.Torch.TensorBoard;
using Spectre.Console;

namespace MedVision.Samples.Cdsf;

/// <summary>
/// The <c>run</c> command (also the default): trains CDSF (Pan et al., MICCAI 2021) with <see cref="CdsfTrainer"/> on
/// the training subjects that have both modalities, and a diagnosis-only baseline (the same MDM trained on real pairs
/// with the same order and optimizer), and an MRI-only baseline (the same architecture on MRI alone, trained the same
/// way). On the held-out subjects it reports diagnosis AUC/ACC with real PET, with synthetic PET, from MRI alone, and
/// for the subjects whose PET is missing (CDSF: synthetic PET; pair baseline: PET filled with zeros; MRI-only: MRI),
/// and the synthetic PET's PSNR and SSIM against the real one.
/// </summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var data = new Option<string?>("--data") { Description = "Folder with <subject>_mri.nii.gz and <subject>_pet.nii.gz (PET may be missing). Without it: built-in synthetic phantoms." };
        var labels = new Option<string?>("--labels") { Description = "Labels CSV for --data (default: <data>/labels.csv)." };
        var idColumn = new Option<string>("--id-column") { Description = "Subject column of the labels CSV.", DefaultValueFactory = _ => "subject" };
        var labelColumn = new Option<string>("--label-column") { Description = "Label column (class index) of the labels CSV.", DefaultValueFactory = _ => "label" };
        var subjects = new Option<int>("--subjects") { Description = "Phantom subjects to generate (without --data).", DefaultValueFactory = _ => 100 }.AtLeast(8);
        var missing = new Option<double>("--missing-pet") { Description = "Fraction of phantom subjects whose PET is withheld (without --data).", DefaultValueFactory = _ => 0.25 }.Fraction(allowZero: true);
        var size = new Option<int>("--size") { Description = "Edge of the cubic volumes (divisible by 4, at least 36); NIfTI volumes are resampled to it.", DefaultValueFactory = _ => 36 }.Must(v => v % 4 == 0 && v >= Mdm.MinimumVolumeSize, $"divisible by 4 and at least {Mdm.MinimumVolumeSize} (e.g. 36)");
        var testFraction = new Option<double>("--test-fraction") { Description = "Fraction of each class held out for evaluation.", DefaultValueFactory = _ => 0.34 }.Fraction(allowZero: false);
        var epochs = new Option<int>("--epochs") { Description = "Training epochs.", DefaultValueFactory = _ => 20 }.AtLeast(1);
        var batch = new Option<int>("--batch") { Description = "Subjects per step.", DefaultValueFactory = _ => 4 }.AtLeast(2, "batch normalisation needs two subjects");
        var blocks = new Option<int>("--residual-blocks") { Description = "Residual blocks in the synthesis module (the paper: 6).", DefaultValueFactory = _ => 6 }.Between(1, 1000);
        var defaults = new CdsfTrainingOptions();
        var synthesisLr = new Option<double>("--synthesis-lr") { Description = "Adam learning rate of the synthesis module (ISM).", DefaultValueFactory = _ => defaults.SynthesisLearningRate }.Positive();
        var diagnosisLr = new Option<double>("--diagnosis-lr") { Description = "Adam learning rate of the diagnosis modules (CDSF's MDM and the baseline).", DefaultValueFactory = _ => defaults.DiagnosisLearningRate }.Positive();
        var voxelWeight = new Option<double>("--voxel-weight") { Description = "Weight of the ISM's voxel-wise L1 to the real PET.", DefaultValueFactory = _ => defaults.VoxelWeight }.NonNegative();
        var featureWeight = new Option<double>("--feature-weight") { Description = "Weight of the ISM's feature-consistency term (MDM features of the real vs the synthetic pair).", DefaultValueFactory = _ => defaults.FeatureWeight }.NonNegative();
        var classificationWeight = new Option<double>("--classification-weight") { Description = "Weight of the MDM's cross-entropy on the synthetic pair in the ISM's loss.", DefaultValueFactory = _ => defaults.ClassificationWeight }.NonNegative();
        var seed = new Option<int>("--seed") { Description = "Seed of the phantoms, the split, the weights and the order.", DefaultValueFactory = _ => 0 };
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => "cpu" }.IsDevice();
        var threads = SampleCommandLine.Threads();
        var output = new Option<string>("--output") { Description = "Folder for results.csv.", DefaultValueFactory = _ => "runs/cdsf" };
        var tensorBoard = new Option<string?>("--tensorboard")
        {
            Description = "Also write TensorBoard summaries to this folder: each epoch's CDSF losses (diagnosis cross-entropy, voxel L1, feature consistency) and the baselines' cross-entropies, then the held-out AUCs, PSNR and SSIM, and a synthetic PET slice beside the real one; view with `tensorboard --logdir FOLDER`.",
            HelpName = "FOLDER",
        }.Must(v => v is null || !string.IsNullOrWhiteSpace(v), "a folder");
        var command = new Command("run", "Train CDSF, a diagnosis-only baseline and an MRI-only baseline and evaluate diagnosis and synthesis on held-out subjects.")
        {
            data, labels, idColumn, labelColumn, subjects, missing, size, testFraction, epochs, batch, blocks, synthesisLr, diagnosisLr, voxelWeight, featureWeight, classificationWeight, seed, device, threads, output,
            tensorBoard,
        };
        command.SetAction(r => Run(new Settings(r.GetValue(data), r.GetValue(labels), r.GetValue(idColumn)!, r.GetValue(labelColumn)!, r.GetValue(subjects),
            r.GetValue(missing), r.GetValue(size), r.GetValue(testFraction), r.GetValue(epochs), r.GetValue(batch), r.GetValue(blocks), r.GetValue(synthesisLr), r.GetValue(diagnosisLr),
            (r.GetValue(voxelWeight), r.GetValue(featureWeight), r.GetValue(classificationWeight)),
            r.GetValue(seed), Device.Parse(r.GetValue(device)!), r.GetValue(threads), r.GetValue(output)!, r.GetValue(tensorBoard))));
        return command;
    }

    private sealed record Settings(string? Data, string? Labels, string IdColumn, string LabelColumn, int Subjects, double MissingPet, int Size,
        double TestFraction, int Epochs, int Batch, int ResidualBlocks, double SynthesisLearningRate, double DiagnosisLearningRate,
        (double Voxel, double Feature, double Classification) Weights, int Seed, Device Device, int Threads, string Output, string? TensorBoard);

    private sealed record Row(string Model, string Condition, int Subjects, double Auc, double Acc);

    private sealed record LocalisationRow(string Model, string Condition, int Subjects, int Hits, double Energy, double Chance);

    // The MDM block whose activation Grad-CAM maps: block 3 sees 9³ positions of a 36³ volume (block 5 only 3³).
    private const int LocalisationBlock = 3;

    private static int Run(Settings s)
    {
        Tensors.NumThreads = s.Threads;
        AnsiConsole.MarkupLine(SampleCommandLine.Banner(s.Device));

        IReadOnlyList<Subject> all;
        if (s.Data is not null)
        {
            all = SubjectLoader.FromNifti(s.Data, s.Labels ?? Path.Combine(s.Data, "labels.csv"), s.IdColumn, s.LabelColumn, s.Size, out int skipped, out int aligned, out int unaligned);
            AnsiConsole.MarkupLine(Markup.Escape($"NIfTI folder {Path.GetFullPath(s.Data)}: {all.Count} subjects ({all.Count(x => x.Pet is null)} without PET), {skipped} skipped (no MRI or no label); resampled to {s.Size}³"
                + (aligned > 0 ? $"; {aligned} PET volume(s) on another grid resampled onto their MRI's first" : "")));
            if (unaligned > 0)
                AnsiConsole.MarkupLine(Markup.Escape($"warning: {unaligned} PET volume(s) lie on another grid than their MRI but their files record no orientation (qform/sform codes 0): each was resized on its own, so the pairs may not line up voxel for voxel."));
        }
        else
        {
            all = SubjectLoader.FromPhantoms(s.Subjects, s.Size, s.Seed, s.MissingPet);
            AnsiConsole.MarkupLine($"No --data: {all.Count} synthetic phantoms ({s.Size}³, seed {s.Seed}; label 1 = lesion darkening MRI and reducing PET uptake), PET withheld from {all.Count(x => x.Pet is null)}");
        }
        int classes = all.Max(x => x.Label) + 1;
        if (classes < 2) throw new InvalidDataException("Diagnosis needs at least two classes among the subjects.");

        // Stratified split: a seeded shuffle within each class, the first test-fraction held out.
        var random = new Random(s.Seed);
        var test = all.GroupBy(x => x.Label).SelectMany(g => g.OrderBy(_ => random.Next()).Take(Math.Max(1, (int)Math.Round(s.TestFraction * g.Count())))).ToHashSet();
        var train = all.Where(x => !test.Contains(x) && x.Pet is not null).ToList();
        var testWithPet = all.Where(x => test.Contains(x) && x.Pet is not null).ToList();
        var testWithoutPet = all.Where(x => test.Contains(x) && x.Pet is null).ToList();
        AnsiConsole.MarkupLine($"Training on {train.Count} subjects with both modalities; held out: {testWithPet.Count} with PET, {testWithoutPet.Count} without");
        if (train.Count < 2) throw new InvalidDataException("Fewer than two training subjects have both MRI and PET.");

        var volume = new long[] { s.Size, s.Size, s.Size };
        Tensors.ManualSeed((ulong)s.Seed);
        using var cdsf = MedVision.Nets.Models.Cdsf.Builder().ForVolume(s.Size, s.Size, s.Size).WithClasses(classes).WithResidualBlocks(s.ResidualBlocks).Build();
        cdsf.To(s.Device);
        Tensors.ManualSeed((ulong)s.Seed);
        using var baseline = new Mdm(volume, classes, NormalizationKind.Batch);
        baseline.To(s.Device);
        Tensors.ManualSeed((ulong)s.Seed);
        using var mriOnly = new Mdm(volume, classes, NormalizationKind.Batch, inputChannels: 1);
        mriOnly.To(s.Device);
        AnsiConsole.MarkupLine($"CDSF: ISM {cdsf.Synthesis.ParameterCount():N0} + MDM {cdsf.Diagnosis.ParameterCount():N0} parameters · baseline MDM {baseline.ParameterCount():N0} · MRI-only MDM {mriOnly.ParameterCount():N0} · Adam {s.SynthesisLearningRate.ToString("G3", CultureInfo.InvariantCulture)} (ISM), {s.DiagnosisLearningRate.ToString("G3", CultureInfo.InvariantCulture)} (MDM) · ISM loss weights {s.Weights.Voxel.ToString(CultureInfo.InvariantCulture)} (voxel), {s.Weights.Feature.ToString(CultureInfo.InvariantCulture)} (feature), {s.Weights.Classification.ToString(CultureInfo.InvariantCulture)} (classification) · batch {s.Batch} · {s.Epochs} epochs");

        using var trainer = CdsfTrainer.For(cdsf).WithLearningRates(s.SynthesisLearningRate, s.DiagnosisLearningRate)
            .WithLossWeights(s.Weights.Voxel, s.Weights.Feature, s.Weights.Classification).Build();
        using var baselineOptimizer = new Adam(baseline.Parameters(), s.DiagnosisLearningRate);
        using var mriOnlyOptimizer = new Adam(mriOnly.Parameters(), s.DiagnosisLearningRate);
        using var board = s.TensorBoard is null ? null : new SummaryWriter(s.TensorBoard);
        for (int epoch = 0; epoch < s.Epochs; epoch++)
        {
            var started = DateTime.UtcNow;
            var order = train.OrderBy(_ => random.Next()).ToList();
            double diagnosis = 0, voxel = 0, feature = 0, baselineLoss = 0, mriOnlyLoss = 0;
            int steps = 0;
            for (int start = 0; start < order.Count; start += s.Batch)
            {
                var chunk = order.Skip(start).Take(s.Batch).ToList();
                if (chunk.Count < 2) continue; // batch normalisation needs two subjects
                using var scope = Tensors.NewDisposeScope();
                var mri = Stack(chunk.Select(x => x.Mri), s);
                var pet = Stack(chunk.Select(x => x.Pet!), s);
                var labelTensor = Tensors.FromArray(chunk.Select(x => (long)x.Label).ToArray()).To(s.Device);
                var losses = trainer.Step(mri, pet, labelTensor);
                diagnosis += losses.DiagnosisTotal;
                voxel += losses.Voxel;
                feature += losses.FeatureConsistency;

                baselineLoss += ClassifierStep(baseline, baselineOptimizer, MedVision.Nets.Models.Cdsf.Pair(mri, pet), labelTensor);
                mriOnlyLoss += ClassifierStep(mriOnly, mriOnlyOptimizer, mri, labelTensor);
                steps++;
            }
            if (board is not null)
            {
                board.AddScalar("cdsf/diagnosis_cross_entropy", diagnosis / steps, epoch);
                board.AddScalar("cdsf/voxel_l1", voxel / steps, epoch);
                board.AddScalar("cdsf/feature_consistency", feature / steps, epoch);
                board.AddScalars("diagnosis_cross_entropy", new Dictionary<string, double> { ["cdsf"] = diagnosis / steps, ["baseline"] = baselineLoss / steps, ["mri_only"] = mriOnlyLoss / steps }, epoch);
                board.Flush();
            }
            AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture,
                $"epoch {epoch + 1,3}: CDSF diagnosis CE {diagnosis / steps:F4} · voxel L1 {voxel / steps:F4} · feature {feature / steps:F4} · baseline CE {baselineLoss / steps:F4} · MRI-only CE {mriOnlyLoss / steps:F4} · {(DateTime.UtcNow - started).TotalSeconds:F1} s"));
        }

        cdsf.Eval();
        baseline.Eval();
        mriOnly.Eval();
        // The baseline has no way to synthesise PET: a missing PET becomes the background value (−1) everywhere.
        Tensor BaselineWithoutPet(Tensor mri) => baseline.Probabilities(MedVision.Nets.Models.Cdsf.Pair(mri, Tensors.ZerosLike(mri) - 1));
        var rows = new List<Row>();
        double psnr = double.NaN, ssim = double.NaN;
        using (Tensors.NoGrad())
        {
            if (testWithPet.Count > 0)
            {
                rows.Add(Evaluate("CDSF", "real PET", testWithPet, classes, s, (mri, pet) => cdsf.Diagnose(mri, pet)));
                rows.Add(Evaluate("CDSF", "synthetic PET", testWithPet, classes, s, (mri, _) => cdsf.Diagnose(mri)));
                rows.Add(Evaluate("baseline", "real PET", testWithPet, classes, s, (mri, pet) => baseline.Probabilities(MedVision.Nets.Models.Cdsf.Pair(mri, pet!))));
                // The same subjects as if their PET were missing: the larger comparison of the two ways of coping.
                rows.Add(Evaluate("baseline", "PET withheld (zeros)", testWithPet, classes, s, (mri, _) => BaselineWithoutPet(mri)));
                rows.Add(Evaluate("MRI-only", "not used", testWithPet, classes, s, (mri, _) => mriOnly.Probabilities(mri)));
                (psnr, ssim) = SynthesisQuality(cdsf, testWithPet, s);
            }
            if (testWithoutPet.Count > 0)
            {
                rows.Add(Evaluate("CDSF", "missing PET (synthesised)", testWithoutPet, classes, s, (mri, _) => cdsf.Diagnose(mri)));
                rows.Add(Evaluate("baseline", "missing PET (zeros)", testWithoutPet, classes, s, (mri, _) => BaselineWithoutPet(mri)));
                rows.Add(Evaluate("MRI-only", "missing PET (not used)", testWithoutPet, classes, s, (mri, _) => mriOnly.Probabilities(mri)));
            }
        }

        string F(double v) => double.IsNaN(v) ? "n/a" : v.ToString("F4", CultureInfo.InvariantCulture);
        var table = new Table().Title("Diagnosis on held-out subjects").AddColumn("model").AddColumn("PET").AddColumn(new TableColumn("subjects").RightAligned())
            .AddColumn(new TableColumn("AUC").RightAligned()).AddColumn(new TableColumn("ACC").RightAligned());
        foreach (var r in rows) table.AddRow(r.Model, r.Condition, r.Subjects.ToString(CultureInfo.InvariantCulture), F(r.Auc), F(r.Acc));
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"Synthesis on {testWithPet.Count} held-out subjects (intensities in [[0, 1]]): PSNR {F(psnr)} dB · SSIM {F(ssim)} (uniform 7³ window)");

        // Where do the diagnosis networks look? Grad-CAM of the lesion class on each held-out lesion phantom, against the
        // lesion's region (1.5 radii: where PET uptake falls); the pointing game and the share of the map's energy inside.
        var lesioned = testWithPet.Where(x => x.LesionMask is not null).ToList();
        var localisation = new List<LocalisationRow>();
        if (lesioned.Count > 0)
        {
            Tensor SyntheticPair(Tensor mri) { using (Tensors.NoGrad()) return MedVision.Nets.Models.Cdsf.Pair(mri, cdsf.Synthesize(mri)); }
            localisation.Add(Localise("CDSF", "real PET", cdsf.Diagnosis, lesioned, s, (mri, pet) => MedVision.Nets.Models.Cdsf.Pair(mri, pet)));
            localisation.Add(Localise("CDSF", "synthetic PET", cdsf.Diagnosis, lesioned, s, (mri, _) => SyntheticPair(mri)));
            localisation.Add(Localise("baseline", "real PET", baseline, lesioned, s, (mri, pet) => MedVision.Nets.Models.Cdsf.Pair(mri, pet)));
            localisation.Add(Localise("MRI-only", "not used", mriOnly, lesioned, s, (mri, _) => mri));
            var where = new Table().Title($"Lesion localisation: Grad-CAM (class 1, MDM block {LocalisationBlock}) on {lesioned.Count} held-out lesion subjects")
                .AddColumn("model").AddColumn("PET").AddColumn(new TableColumn("pointing game").RightAligned())
                .AddColumn(new TableColumn("energy inside").RightAligned()).AddColumn(new TableColumn("chance").RightAligned());
            foreach (var r in localisation)
                where.AddRow(r.Model, r.Condition, $"{r.Hits}/{r.Subjects}", F(r.Energy), F(r.Chance));
            AnsiConsole.Write(where);
        }

        if (board is not null) WriteSummaries(board, cdsf, rows, psnr, ssim, testWithPet, s);

        var csv = Path.Combine(Path.GetFullPath(s.Output), "results.csv");
        AtomicFile.WriteAllText(csv, string.Join('\n', new[] { "model,pet,subjects,auc,acc,psnr,ssim" }
            .Concat(rows.Select(r => $"{r.Model},{r.Condition},{r.Subjects},{F(r.Auc)},{F(r.Acc)},,"))
            .Append($"ISM,synthetic vs real PET,{testWithPet.Count},,,{F(psnr)},{F(ssim)}")) + "\n");
        AnsiConsole.MarkupLine($"Results: {csv}");
        string source = s.Data is null ? "phantoms" : "nifti";
        foreach (var r in rows)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"RESULT {r.Model.ToLowerInvariant()} {source} pet={Key(r.Condition)} seed={s.Seed} epochs={s.Epochs} subjects={r.Subjects} auc={F(r.Auc)} acc={F(r.Acc)}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RESULT synthesis {source} seed={s.Seed} epochs={s.Epochs} subjects={testWithPet.Count} psnr={F(psnr)} ssim={F(ssim)}"));
        foreach (var r in localisation)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"RESULT localisation {r.Model.ToLowerInvariant()} pet={Key(r.Condition)} seed={s.Seed} subjects={r.Subjects} pointing_hits={r.Hits} energy_inside={F(r.Energy)} chance={F(r.Chance)}"));
        return 0;
    }

    // The held-out measures at the last epoch, and the middle axial slice of the first held-out subject's real PET beside
    // its synthetic one (intensities from [−1, 1] to [0, 1]).
    private static void WriteSummaries(SummaryWriter board, MedVision.Nets.Models.Cdsf cdsf, List<Row> rows, double psnr, double ssim, List<Subject> testWithPet, Settings s)
    {
        long last = s.Epochs - 1;
        foreach (var r in rows.Where(r => !double.IsNaN(r.Auc)))
            board.AddScalar($"test_auc/{r.Model.ToLowerInvariant().Replace(' ', '_')}/{Key(r.Condition)}", r.Auc, last);
        if (!double.IsNaN(psnr)) board.AddScalar("synthesis/psnr_db", psnr, last);
        if (!double.IsNaN(ssim)) board.AddScalar("synthesis/ssim", ssim, last);
        if (testWithPet.Count == 0) return;
        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        var mri = Stack(testWithPet.Take(1).Select(x => x.Mri), s);
        var real = Stack(testWithPet.Take(1).Select(x => x.Pet!), s);
        var synthetic = cdsf.Synthesize(mri);
        long middle = real.Shape[2] / 2;
        var pair = Tensors.Cat([real.Select(2, middle), synthetic.Select(2, middle)], dim: 3)[0]; // (1, H, 2W): real | synthetic
        board.AddImage("synthesis/pet_real_vs_synthetic", ((pair + 1) / 2).Clamp(0, 1).Cpu(), last);
        board.Flush();
    }

    private static string Key(string condition) => condition switch
    {
        "real PET" => "real",
        "synthetic PET" => "synthetic",
        "missing PET (synthesised)" => "missing-synthesised",
        "missing PET (zeros)" => "missing-zeros",
        "PET withheld (zeros)" => "withheld-zeros",
        "not used" => "unused",
        "missing PET (not used)" => "missing-unused",
        _ => condition.Replace(' ', '-'),
    };

    /// <summary>One supervised step of a diagnosis-only classifier; returns its cross-entropy.</summary>
    private static double ClassifierStep(Mdm classifier, Adam optimizer, Tensor input, Tensor labels)
    {
        classifier.Train();
        optimizer.ZeroGrad();
        var loss = Functional.CrossEntropy(classifier.Call(input), labels);
        loss.Backward();
        optimizer.Step();
        return loss.Item();
    }

    /// <summary>(N, 1, S, S, S) on the device, intensities mapped from [0, 1] to the ISM's tanh range [−1, 1].</summary>
    private static Tensor Stack(IEnumerable<float[]> volumes, Settings s)
    {
        var list = volumes.ToList();
        int n = s.Size * s.Size * s.Size;
        var data = new float[list.Count * n];
        for (int i = 0; i < list.Count; i++)
            for (int j = 0; j < n; j++) data[i * n + j] = list[i][j] * 2 - 1;
        return Tensors.FromArray(data, list.Count, 1, s.Size, s.Size, s.Size).To(s.Device);
    }

    private static Row Evaluate(string model, string condition, List<Subject> subjects, int classes, Settings s, Func<Tensor, Tensor?, Tensor> probabilities)
    {
        var scores = new double[subjects.Count, classes];
        for (int start = 0; start < subjects.Count; start += s.Batch)
        {
            var chunk = subjects.Skip(start).Take(s.Batch).ToList();
            using var scope = Tensors.NewDisposeScope();
            var mri = Stack(chunk.Select(x => x.Mri), s);
            var pet = chunk.All(x => x.Pet is not null) ? Stack(chunk.Select(x => x.Pet!), s) : null;
            var p = probabilities(mri, pet).To(Device.Cpu).ToArray<float>();
            for (int i = 0; i < chunk.Count; i++)
                for (int k = 0; k < classes; k++) scores[start + i, k] = p[i * classes + k];
        }
        var labels = subjects.Select(x => x.Label).ToArray();
        var task = classes == 2 ? MedMnistTask.Binary : MedMnistTask.MultiClass;
        bool bothClasses = labels.Distinct().Count() > 1;
        var auc = bothClasses ? MedMnistEvaluator.GetAuc(task, labels, scores).Value : double.NaN;
        return new Row(model, condition, subjects.Count, auc, MedMnistEvaluator.GetAcc(task, labels, scores));
    }

    private static LocalisationRow Localise(string model, string condition, Mdm mdm, List<Subject> subjects, Settings s, Func<Tensor, Tensor, Tensor> input)
    {
        var gradCam = new GradCam(mdm, mdm.BlockActivation(LocalisationBlock));
        int hits = 0;
        double energy = 0, chance = 0;
        foreach (var subject in subjects)
        {
            using var scope = Tensors.NewDisposeScope();
            var x = input(Stack(new[] { subject.Mri }, s), Stack(new[] { subject.Pet! }, s));
            using var maps = gradCam.Compute(x, new long[] { 1 });
            var map = maps.ToArray(0);
            if (Localization.PointingGameHit(map, subject.LesionMask!)) hits++;
            energy += Localization.EnergyInside(map, subject.LesionMask!);
            chance += Localization.Fraction(subject.LesionMask!);
        }
        return new LocalisationRow(model, condition, subjects.Count, hits, energy / subjects.Count, chance / subjects.Count);
    }

    private static (double Psnr, double Ssim) SynthesisQuality(MedVision.Nets.Models.Cdsf cdsf, List<Subject> subjects, Settings s)
    {
        int n = s.Size * s.Size * s.Size;
        double psnr = 0, ssim = 0;
        foreach (var subject in subjects)
        {
            using var scope = Tensors.NewDisposeScope();
            var synthetic = cdsf.Synthesize(Stack(new[] { subject.Mri }, s)).To(Device.Cpu).ToArray<float>();
            var mapped = new float[n];
            for (int j = 0; j < n; j++) mapped[j] = (synthetic[j] + 1) / 2;
            psnr += ImageQuality.Psnr(subject.Pet, mapped, dataRange: 1);
            ssim += ImageQuality.Ssim3D(subject.Pet, mapped, s.Size, s.Size, s.Size, dataRange: 1);
        }
        return (psnr / subjects.Count, ssim / subjects.Count);
    }
}
