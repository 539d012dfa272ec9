using System.Diagnostics;

namespace MedVision.Nets.Tests.Robustness;

/// <summary>
/// Mutation fuzzing of every file reader (tests/FormatFuzzer, run as a child process so that a native crash fails the
/// test instead of the test host): hundreds of corrupt variants of valid files per format, each of which must either
/// read and be usable or fail with the library's format exception naming the file. Fixed seeds, so a failure
/// reproduces with the command in its message. When written, these runs found: NullReferenceException from DICOM files
/// whose pixel data's form disagreed with the transfer syntax, OverflowException from a NIfTI vox_offset of 1e21,
/// ArgumentException from a NIfTI pixdim of 1e-38, InvalidOperationException from safetensors headers with invalid
/// UTF-8, NullReferenceException from model cards with null values, and a model card describing a million blocks that
/// was built (for minutes) before the weights were compared with it; later, with the enhanced DICOM seeds, OpenJPEG
/// 2.5.0 aborting the process on a corrupt High-Throughput JPEG 2000 frame (an assert in its block decoder), so HTJ2K is
/// no longer handed to 2.5.0 unless allowed (<c>DicomFile.AllowHighThroughputJpeg2000OnOpenJpeg250</c>).
/// </summary>
public sealed class FormatFuzzTests : IClassFixture<FormatFuzzTests.Seeds>
{
    private readonly Seeds _seeds;

    public FormatFuzzTests(Seeds seeds) => _seeds = seeds;

    /// <summary>The generated seed files (JPEG, PNG, npz, npy, safetensors, model and optimizer files).</summary>
    public sealed class Seeds : IDisposable
    {
        public string Dir { get; } = Directory.CreateTempSubdirectory("mvn-fuzz-seeds-").FullName;

        public Seeds()
        {
            var (code, output) = Run("make-seeds", Dir);
            if (code != 0) throw new InvalidOperationException($"make-seeds failed ({code}): {output}");
        }

        public string this[string name] => Path.Combine(Dir, name);

        public void Dispose() => Directory.Delete(Dir, recursive: true);
    }

    internal static (int Code, string Output) Run(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "FormatFuzzer.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            return (-1, $"timed out after 5 minutes\n{stdout}");
        }
        return (process.ExitCode, stdout + stderr.Result);
    }

    private static string Fixture(string relative) => Path.Combine(AppContext.BaseDirectory, "Fixtures", relative);

    private static void Fuzz(string format, int iterations, params string[] seedFiles)
    {
        var args = new[] { format, "--seed", "1", "--iterations", iterations.ToString(System.Globalization.CultureInfo.InvariantCulture) }.Concat(seedFiles).ToArray();
        var (code, output) = Run(args);
        string command = $"dotnet FormatFuzzer.dll {string.Join(' ', args)}";
        // A crash of the process (signal) shows as a code above 128 and no summary line.
        output.Should().Contain($"FUZZ format={format}", $"the fuzzer must finish ({command}; exit {code}):\n{output}");
        code.Should().Be(0, $"every corrupt file must give the library's format exception naming the file ({command}):\n{output}");
        // The fuzzer must actually reach the readers: most mutations fail, some still read.
        var summary = output.Split('\n').Single(l => l.StartsWith("FUZZ ", StringComparison.Ordinal));
        int accepted = int.Parse(summary.Split(' ').Single(p => p.StartsWith("accepted=", StringComparison.Ordinal))[9..], System.Globalization.CultureInfo.InvariantCulture);
        accepted.Should().BeGreaterThan(iterations / 10, summary);
        if (seedFiles.Length == 0)
        {
            // Calls, not files: a good share must also get through and return a result.
            int ran = int.Parse(summary.Split(' ').Single(p => p.StartsWith("read=", StringComparison.Ordinal))[5..], System.Globalization.CultureInfo.InvariantCulture);
            ran.Should().BeGreaterThan(iterations / 20, summary);
        }
    }

    [Fact]
    public void Corrupt_jpeg_and_png_files() =>
        Fuzz("image", 4000, _seeds["grey.jpg"], _seeds["rgb.jpg"], _seeds["grey.png"], _seeds["rgb.png"], Fixture("images/cmyk.jpg"));

    [Fact]
    public void Corrupt_dicom_files() =>
        Fuzz("dicom", 8000, Fixture("dicom/ct_explicit.dcm"), Fixture("dicom/mr_implicit_2f.dcm"), Fixture("dicom/ct_rle.dcm"), Fixture("dicom/ct_deflate.dcm"),
            Fixture("dicom/rgb_jpeg.dcm"), Fixture("dicom/lossless/ct_sv1.dcm"), Fixture("dicom/compressed/ls_ct.dcm"), Fixture("dicom/compressed/j2k_ct.dcm"),
            Fixture("dicom/compressed/ht_mr16.dcm"), Fixture("dicom/ybr/ybr_full_422.dcm"), Fixture("dicom/mono1.dcm"),
            Fixture("dicom/enhanced/enhanced_ct.dcm"), Fixture("dicom/enhanced/enhanced_mr.dcm"), Fixture("dicom/enhanced/enhanced_slabs.dcm"),
            Fixture("dicom/palette/us_palette16.dcm"), Fixture("dicom/palette/palette_segmented.dcm"),
            Fixture("dicom/voi/dx_voilut.dcm"), Fixture("dicom/voi/dx_sigmoid.dcm"), Fixture("dicom/voi/xa_modality_lut.dcm"));

    [Fact]
    public void Corrupt_nifti_files() =>
        Fuzz("nifti", 8000, Fixture("nifti/orient_both.nii"), Fixture("nifti/orient_qform_qfac.nii"), Fixture("nifti/dtype_int64.nii"), Fixture("nifti/dtype_uint16.nii"),
            Fixture("nifti/nifti2_sform.nii"), Fixture("nifti/nifti2_bigendian.nii"), Fixture("nifti/multi_5d.nii"));

    [Fact]
    public void Corrupt_npy_and_npz_files()
    {
        Fuzz("npy", 4000, _seeds["f4.npy"], _seeds["i8.npy"], _seeds["u1.npy"]);
        Fuzz("npz", 3000, _seeds["retinamnist.npz"]);
    }

    [Fact]
    public void Corrupt_safetensors_model_and_optimizer_files()
    {
        Fuzz("safetensors", 4000, _seeds["tensors.safetensors"]);
        Fuzz("model", 1000, _seeds["model.safetensors"]);
        Fuzz("card", 2000, _seeds["model.safetensors"]);
        Fuzz("optimizer", 1000, _seeds["optimizer.safetensors"]);
    }

    // TensorBoard event files (bytes, and every other case one event mutated inside valid CRC-32Cs), every event decoded
    // and its scalars, histograms, images and text used.
    [Fact]
    public void Corrupt_tensorboard_event_files()
    {
        Fuzz("tfevents", 1000, _seeds["summaries.tfevents"]);
    }

    // Ensemble manifests (bytes, and JSON values replaced or removed) beside their two member files, each read, loaded and
    // used on one image (found: a key twice gave an ArgumentException from JsonNode instead of the manifest's exception).
    [Fact]
    public void Corrupt_ensemble_manifests()
    {
        Fuzz("manifest", 600, _seeds["ensemble.json"]);
    }

    // Segmentation model files (bytes, and cards with values replaced by null, negative, huge or wrongly typed ones),
    // each loaded and run on a small scan (label maps on the scan's grid, whole class indices) or, for 2-D networks, image; Decathlon dataset.json
    // files, each read and every listed sample loaded (labels inside the classes, channels as the modalities listed).
    [Fact]
    public void Corrupt_segmentation_model_files_and_decathlon_folders()
    {
        Fuzz("segmodel", 300, _seeds["segmentation.safetensors"], _seeds["segmentation2d.safetensors"]);
        Fuzz("segcard", 300, _seeds["segmentation.safetensors"]);
        Fuzz("segcard", 200, _seeds["segmentation2d.safetensors"]);
        Fuzz("decathlon", 300, _seeds["dataset.json"]);
    }

    // Not files but calls: random tensor operations (views, indexing, reductions, convolutions, pooling, losses, …)
    // with random, mostly invalid arguments must throw .NET exceptions, never crash (found: SIGFPE from groups = 2^32).
    [Fact]
    public void Random_tensor_operations_with_invalid_arguments() => Fuzz("ops", 6000);

    // Every public method of the tensor API (Tensor, Tensors, Functional, Init, GradientClipping, Gradients, and the
    // static losses of MedVision.Nets; found by reflection, so a new op is fuzzed without being listed) with random
    // arguments: undefined enum values, extreme integers, NaN and infinite doubles, disposed tensors. Found: an undefined
    // ScalarType crashed the process, an undefined Reduction silently computed something else, an undefined FanMode
    // silently used fan-out, OverflowExceptions from Split (dim beyond the int range), Item<byte>() (an unclear message)
    // and CoralLoss.CumulativeLabels (a huge class count), which also truncated fractional grades silently.
    [Fact]
    public void Every_public_tensor_method_with_random_arguments() => Fuzz("api", 20000);

    // Every layer built with random arguments, then trained, called, converted, its state dict reloaded. Found: BatchNorm
    // and InstanceNorm constructors that refused their momentum after registering tensors (which nobody could dispose).
    [Fact]
    public void Every_layer_with_random_arguments() => Fuzz("layers", 8000);

    // The metrics with random labels and scores, with an oracle: proportions (AUC, accuracy, sensitivity, …) must lie in
    // [0, 1] or be NaN. Found: OutOfMemoryException for a class count or bin count of 2^31 − 1.
    [Fact]
    public void Every_metric_with_random_labels_and_scores() => Fuzz("metrics", 20000);

    // Random transform pipelines (random builder steps and arguments) applied to random images and volumes, with an
    // oracle: a consistent image comes out, without NaN or infinity. Found: Resize and Crop sizes whose int product
    // overflowed (OverflowException, IndexOutOfRangeException, OutOfMemoryException), and NaN or infinite means,
    // strengths, angles and fill values that were accepted and turned every pixel into NaN.
    [Fact]
    public void Random_transform_pipelines_on_random_images() => Fuzz("transforms", 10000);

    // SGD, Adam and AdamW with random hyper-parameters over random parameters, maybe with a random scheduler, three
    // steps with random gradients and a state round trip; oracle: learning rates stay finite and ≥ 0, parameters stay
    // finite when every argument is. Nothing found (the hyper-parameter checks hold).
    [Fact]
    public void Optimizers_and_schedulers_with_random_hyperparameters() => Fuzz("optim", 20000);

    // ResNets from random builder steps and arguments, built, called on fitting inputs and backpropagated; oracle: one
    // finite output row per sample, and every tensor freed. Found: a ResNet whose construction ran out of memory (a huge
    // stage width) left the layers it had built to the finalizer; a stage of int.MaxValue blocks gave
    // OutOfMemoryException (now at most 1,000 blocks per stage).
    [Fact]
    public void ResNets_from_random_builder_steps() => Fuzz("models", 250);

    // MTCSNN, Siamese ResNets and CDSF built with random options and used (a loss on random grades, a pair of batches,
    // a diagnosis with and without PET); oracles: the loss terms add up (Total = Classification + λ·Difference, zero
    // difference for a batch of one, ⌊N/2⌋ pairs), distances finite, non-negative and equal to Measure, logits of the
    // right shape and finite. Nothing found (seeds 1–7 × 1,000 steps).
    [Fact]
    public void Composite_networks_with_random_options() => Fuzz("networks", 200);

    // A Predictor over a model file with a random task, class count, input size, channels, normalisation and
    // test-time flips, called on raw pixels, images and volumes of random sizes and channel counts, and asked for
    // explanations; oracles: probabilities in [0, 1] (summing to 1 for softmax tasks), label the argmax with the card's
    // name, ordinal grades, maps in [0, 1] of the input size. Found: an image holding NaN or infinity was predicted as
    // class 0 (the argmax of NaN probabilities); it is refused now.
    [Fact]
    public void Predictors_with_random_cards_and_inputs() => Fuzz("predictor", 300);

    // Ensembles of 1–3 predictors of one task with random cards, flips and weights (negative and all-zero sets among
    // them), called on pixels, images and volumes; oracles: the members' and the ensemble's predictions well-formed, the
    // ensemble's probabilities the weighted mean of its members', agreement and spread consistent with them, and each
    // member asked directly giving exactly what the ensemble reports for it (so inputs decoded once per group of alike
    // members are decoded right). Nothing found (seeds 1–3, 2,200 steps).
    [Fact]
    public void Ensembles_of_predictors_with_random_cards() => Fuzz("ensemble", 150);

    // k-fold splits (plain, stratified, grouped, and given splits now and then damaged) and, one case in six, a
    // cross-validation run end to end with a tiny classifier; oracles: every sample validated once, the sides of a
    // fold a partition, fold and class counts within one, groups whole, given splits accepted exactly when an
    // independent check finds them valid, out-of-fold labels and folds those of the splits, files written. Nothing found
    // (seeds 1–4, 3,400 steps; with the "trains and validates" check removed, seed 2 reports it 20 times).
    [Fact]
    public void Cross_validation_splits_and_runs() => Fuzz("crossval", 300);

    // Near-duplicate searches (within a source, between two, nearest images, groups, the split audit) over random
    // images with planted near-copies, random shapes and thresholds, now and then a misshapen image or a NaN; oracle:
    // a brute-force comparison of every pair. Nothing found (seeds 1–4, 16,000 steps); with the nearest search's
    // bound loosened by half, seed 1 reports it in 842 steps of 3,000.
    [Fact]
    public void Near_duplicate_searches_against_brute_force() => Fuzz("duplicates", 400);

    // Conformal calibrations (four scores, marginal and per class, RAPS's regularisation) of random probabilities with
    // ties, zeros and now and then bad input (NaN, negative values, logits, rows not summing to 1, labels out of range,
    // count mismatches, coverages of 0, 1 or NaN); oracles: refused exactly when bad, thresholds, scores and sets those
    // of the definitions computed by brute force, evaluation counts those of the sets, the calibration unchanged through
    // a model card's JSON; and the same images' risk–coverage curve (area the mean risk over coverages, never below the
    // best ranking's), a selective threshold (bound between its calibration risk and the target), and referral
    // operating points (each meets its requirement and no other distinct threshold does better). Nothing found
    // (seeds 1–3, 9,000 steps); with ordinal APS's sets no longer keeping the top grade, seed 1 reports it in 198 steps
    // of 3,000.
    [Fact]
    public void Conformal_sets_against_their_definitions() => Fuzz("conformal", 400);

    // Trainers with random options (optimizer, schedule, epochs, early stopping, clipping, accumulation, averaging,
    // batch mixing, label smoothing, evaluation loaders, checkpoints and a resumed run) over a tiny classifier; oracles:
    // one history record per epoch run, all of them unless stopped early, the best epoch among them, finite losses and
    // learning rates, metrics in [0, 1] or NaN, a progress report per step, a resumed history that continues the saved
    // one. Found: patience running out at the last epoch was reported as an early stop.
    [Fact]
    public void Trainers_with_random_options() => Fuzz("trainer", 300);

    // Sliding-window inference, occlusion sensitivity and Grad-CAM called directly with random settings (windows,
    // overlaps, blendings, σ, padding modes and values; patches, strides, fill values; ResNet stages, methods, target
    // classes); oracles: the blended result of a pointwise network equals the network on the whole input, windows cover
    // every position; maps of the right shape, finite, in [0, 1] when normalised, zero for a model that ignores its
    // input, explaining the classes asked for with their scores; no gradient left on the model. Found: narrow Gaussian
    // blending lost all digits (σ = 0.01·window) or gave NaN (σ = 1e-300); reflect/circular padding beyond what the
    // input allows and pad/fill values beyond float32 surfaced as libtorch errors; a stride near int.MaxValue wrapped.
    [Fact]
    public void Explainers_and_sliding_windows_with_random_settings() => Fuzz("explain", 1000);

    // NiftiImage.Resample/ResampleTo with random volumes, affines (rotations, flips, shears, far offsets), spacings and
    // grids, trilinear or nearest, border or zero padding; oracles: bad spacings and grids that miss the volume refused
    // by name, otherwise the grid's shape and affine with values inside the source's range (nearest: source values).
    [Fact]
    public void Resampling_onto_random_grids() => Fuzz("resample", 2000);

    // DataLoaders with random options and samplers over small in-memory sources, iterated for an epoch; oracle: the
    // batch and sample counts the loader announces. Found: a batch size of int.MaxValue gave an epoch of no batches
    // (an int overflow), weights summing to infinity were accepted, and int.MaxValue samples per epoch gave
    // OutOfMemoryException.
    [Fact]
    public void Data_loaders_with_random_options() => Fuzz("loader", 10000);

    // Null for every reference parameter not annotated nullable, one at a time, over every public constructor and
    // method of the three libraries (not random: all of them); oracle: ArgumentNullException naming that parameter, thrown
    // by the call itself (not later by the task or the sequence it returns). Found: ~80 NullReferenceExceptions (tensor
    // operators and in-place ops, functional ops, activation layers, transforms, the predictor, LineChart), ~40
    // exceptions naming another parameter or thrown by a check that ran first, async methods and an iterator that
    // failed only when awaited or enumerated, constructors and options setters that took null and failed later (a
    // SiameseOutput or MtcsnnLoss that could not be disposed).
    [Fact]
    public void Null_for_every_non_nullable_parameter()
    {
        var (code, output) = Run("nulls", "--script", Fixture("tiny_torchscript_classifier.pt"));
        string command = $"dotnet FormatFuzzer.dll nulls --script {Fixture("tiny_torchscript_classifier.pt")}";
        var summary = output.Split('\n').SingleOrDefault(l => l.StartsWith("NULLS ", StringComparison.Ordinal));
        summary.Should().NotBeNull($"the check must finish ({command}; exit {code}):\n{output}");
        code.Should().Be(0, $"every null must give ArgumentNullException naming the parameter ({command}):\n{output}");
        int Count(string key) => int.Parse(summary!.Split(' ').Single(p => p.StartsWith(key + "=", StringComparison.Ordinal))[(key.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        // It must reach the API: hundreds of cases, nearly all run (a case whose other arguments cannot be made is not run).
        Count("cases").Should().BeGreaterThan(600, summary);
        Count("ok").Should().Be(Count("cases"), summary);
    }

    [Fact]
    public void Corrupt_torch_save_files() =>
        Fuzz("pth", 3000, Fixture("resnet_tiny_basic_small.pth"), Fixture("checkpoint_legacy.pth"));

    [Fact]
    public void Corrupt_torchscript_files() =>
        Fuzz("torchscript", 1000, Fixture("tiny_torchscript_classifier.pt"));
}
