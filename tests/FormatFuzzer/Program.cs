// Mutation fuzzer for the file readers: every corrupt file must give a clear .NET exception naming the file — never a
// native crash, a hang, an unrelated runtime exception (IndexOutOfRange, NullReference, Overflow, …) or a silent result
// built from garbage that later fails somewhere else.
//   FormatFuzzer <format> --seed S --iterations N [--report K] seed-file...
//   FormatFuzzer check <format> file        (reads one file, e.g. a kept failing case, and prints the outcome)
//   FormatFuzzer make-seeds DIR             (writes small valid files of the formats that have no test fixture)
// format: image (JPEG/PNG), dicom, nifti, npy, npz, safetensors, model (model files), card (model files with mutated
// cards), segmodel (segmentation model files), segcard (segmentation model files with mutated cards), decathlon
// (Medical Segmentation Decathlon dataset.json files), torchscript, optimizer, manifest (ensemble manifests beside
// their members), segmanifest (segmentation ensemble manifests beside theirs), tfevents (TensorBoard event files).
// Each iteration takes a seed file, applies 1–4 random mutations (bit flips, interesting integers, truncation,
// insertion, deletion, chunk duplication), reads the result, and — when it reads — uses it (decodes every frame,
// converts every array, …). Exit code 0 when every failure was an accepted exception; 1 with a report otherwise.
// Prints "FUZZ format=… iterations=… accepted=… read=… bad=…" and, for each bad outcome kind, one example.
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using MedVision.Nets.Data;
using MedVision.Nets.Data.Dicom;
using MedVision.Nets.Data.Images;
using MedVision.Nets.Data.MedMnist;
using MedVision.Nets.Data.Nifti;
using MedVision.Nets.Data.Npy;
using MedVision.Nets.Inference;
using MedVision.Nets.Metrics;
using MedVision.Torch;
using MedVision.Torch.Jit;
using MedVision.Torch.Nn;
using MedVision.Torch.Optim;
using MedVision.Torch.Serialization;

if (args.Length < 1) { Console.Error.WriteLine("usage: FormatFuzzer <format> --seed S --iterations N seed-file... | FormatFuzzer make-seeds DIR"); return 2; }
string format = args[0];
if (format == "make-seeds")
{
    MakeSeeds(args[1]);
    return 0;
}
if (format == "check")
{
    // Reads one file (e.g. a kept failing case) without mutating it and prints what happened in full.
    try
    {
        Exercise(args[1], args[2], File.ReadAllBytes(args[2]));
        Console.WriteLine("read");
    }
    catch (Exception e)
    {
        Console.WriteLine($"{(Accepted(e, args[2]) ? "accepted" : "BAD")}: {e}");
    }
    return 0;
}
int seed = 1, iterations = 200, report = 5;
var seeds = new List<string>();
for (int a = 1; a < args.Length; a++)
{
    switch (args[a])
    {
        case "--seed": seed = int.Parse(args[++a], CultureInfo.InvariantCulture); break;
        case "--iterations": iterations = int.Parse(args[++a], CultureInfo.InvariantCulture); break;
        case "--report": report = int.Parse(args[++a], CultureInfo.InvariantCulture); break;
        default: seeds.Add(args[a]); break;
    }
}
if (format == "ops") return RunOps("ops", OpsFuzz.Step, seed, iterations, report);
if (format == "api") return RunOps("api", ApiFuzz.Step, seed, iterations, report);
if (format == "layers") return RunOps("layers", ApiFuzz.LayerStep, seed, iterations, report);
if (format == "metrics") return RunOps("metrics", ApiFuzz.MetricStep, seed, iterations, report);
if (format == "transforms") return RunOps("transforms", ApiFuzz.TransformStep, seed, iterations, report);
if (format == "optim") return RunOps("optim", ApiFuzz.OptimStep, seed, iterations, report);
if (format == "models") return RunOps("models", ApiFuzz.ModelStep, seed, iterations, report);
if (format == "loader") return RunOps("loader", ApiFuzz.LoaderStep, seed, iterations, report);
if (format == "networks") return RunOps("networks", ApiFuzz.NetworkStep, seed, iterations, report);
if (format == "predictor") return RunOps("predictor", ApiFuzz.PredictorStep, seed, iterations, report);
if (format == "ensemble") return RunOps("ensemble", ApiFuzz.EnsembleStep, seed, iterations, report);
if (format == "crossval") return RunOps("crossval", ApiFuzz.CrossValidationStep, seed, iterations, report);
if (format == "duplicates") return RunOps("duplicates", ApiFuzz.DuplicateStep, seed, iterations, report);
if (format == "conformal") return RunOps("conformal", ApiFuzz.ConformalStep, seed, iterations, report);
if (format == "trainer") return RunOps("trainer", ApiFuzz.TrainerStep, seed, iterations, report);
if (format == "explain") return RunOps("explain", ApiFuzz.ExplainStep, seed, iterations, report);
if (format == "resample") return RunOps("resample", ApiFuzz.ResampleStep, seed, iterations, report);
if (format == "api-list") { ApiFuzz.List(); return 0; }
if (format == "nulls") return NullFuzz.Run(ScriptArgument(args));
if (format == "nulls-list") return NullFuzz.List(ScriptArgument(args));
if (seeds.Count == 0) { Console.Error.WriteLine("no seed files"); return 2; }
Tensors.NumThreads = 1;
var rng = new Random(seed);
var work = Directory.CreateTempSubdirectory("mvfuzz-");
var seedBytes = seeds.Select(File.ReadAllBytes).ToArray();
// "card": structured mutations of a model file's card (JSON values replaced by null, negative, huge, wrongly typed
// ones), written back with the seed's weights; byte mutations almost never produce such cards.
// "manifest": the member model files beside each case, so that the manifest's relative paths resolve.
if (format is "manifest" or "segmanifest")
    foreach (var member in Directory.GetFiles(Path.GetDirectoryName(Path.GetFullPath(seeds[0]))!, format == "manifest" ? "member*.safetensors" : "segmember*.safetensors"))
        File.Copy(member, Path.Combine(work.FullName, Path.GetFileName(member)));
long liveAtStart = Tensors.LiveTensors;
SafeTensorDictionary? cardWeights = format is "card" or "segcard" ? SafeTensors.Load(seeds[0]) : null;
string cardKey = format == "segcard" ? SegmentationModelFile.MetadataKey : ModelFile.MetadataKey;
int accepted = 0, read = 0;
var bad = new Dictionary<string, (int Count, string Example)>();
bool trace = Environment.GetEnvironmentVariable("FUZZ_TRACE") == "1"; // names each case on stderr before reading it
try
{
    for (int it = 0; it < iterations; it++)
    {
        int which = rng.Next(seeds.Count);
        byte[] data = cardWeights is not null ? MutateCard(cardWeights, cardKey, rng)
            // manifests: every other case a structured change of the JSON, the others byte mutations
            : format is "manifest" or "segmanifest" && it % 2 == 0 ? System.Text.Encoding.UTF8.GetBytes(MutateJson(System.Text.Encoding.UTF8.GetString(seedBytes[which]), rng).ToJsonString())
            : Mutate(seedBytes[which], rng);
        string ext = Path.GetExtension(seeds[which]);
        if (seeds[which].EndsWith(".nii.gz", StringComparison.Ordinal)) ext = ".nii.gz";
        // Compressed containers: mutate the content, then compress it again (else nearly every mutation is a CRC error).
        if (ext == ".nii.gz") data = Gzip(Mutate(Gunzip(seedBytes[which]), rng));
        // torch.save archives: every other case mutates the pickle inside and zips it again with valid CRC-32s, so the
        // pickle reader itself meets the damage (a raw mutation of it is caught by the checksum).
        // (Legacy-format files are one stream of pickles without checksums: the raw mutation reaches the reader already.)
        if (ext == ".pth" && it % 2 == 0 && seedBytes[which] is [(byte)'P', (byte)'K', ..]) data = MutatePickle(seedBytes[which], rng);
        // TensorBoard event files: every other case mutates one event inside and frames it again with valid CRC-32Cs, so
        // the event decoder itself meets the damage (a raw mutation is caught by the checksums).
        if (format == "tfevents" && it % 2 == 0) data = MutateEventRecord(seedBytes[which], rng);
        string path = Path.Combine(work.FullName, $"case{it}{ext}");
        File.WriteAllBytes(path, data);
        if (trace) Console.Error.WriteLine($"case {it}: {path}");
        var watch = Stopwatch.StartNew();
        try
        {
            Exercise(format, path, data);
            read++;
        }
        catch (Exception e) when (Accepted(e, path))
        {
            accepted++;
        }
        catch (Exception e)
        {
            string kind = $"{e.GetType().Name} at {TopFrame(e)}";
            string example = $"case {it} (seed file {seeds[which]}, kept as {Keep(path, it)}): {e.GetType().FullName}: {e.Message}";
            bad[kind] = bad.TryGetValue(kind, out var b) ? (b.Count + 1, b.Example) : (1, example);
        }
        if (watch.Elapsed > TimeSpan.FromSeconds(20))
        {
            string kind = "slow (over 20 s)";
            bad[kind] = bad.TryGetValue(kind, out var b) ? (b.Count + 1, b.Example) : (1, $"case {it}, kept as {Keep(path, it)}: {watch.Elapsed.TotalSeconds:F1} s");
        }
        File.Delete(path);
    }
}
finally
{
    work.Delete(recursive: true);
    cardWeights?.Dispose();
}
return Report(format, seed, iterations, accepted, read, bad, liveAtStart, report);

// "ops": random tensor operations with random arguments (OpsFuzz), in place of files; "api": every public method of
// the tensor API with random arguments (ApiFuzz.Step); "layers": every layer built with random arguments and used
// (ApiFuzz.LayerStep).
static int RunOps(string format, Action<Random> step, int seed, int iterations, int report)
{
    Tensors.NumThreads = 1;
    var rng = new Random(seed);
    long liveAtStart = Tensors.LiveTensors;
    int accepted = 0, ran = 0;
    var bad = new Dictionary<string, (int Count, string Example)>();
    bool trace = Environment.GetEnvironmentVariable("FUZZ_TRACE") == "1";
    for (int it = 0; it < iterations; it++)
    {
        if (trace) Console.Error.WriteLine($"case {it}");
        long liveBefore = Tensors.LiveTensors;
        try
        {
            step(rng);
            ran++;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or NotSupportedException
                                  || (format is not "metrics" and not "transforms" and not "loader" and not "explain" && e is TorchException or IndexOutOfRangeException or StateDictMismatchException) // the tensor indexer, as arrays
                                  || (e is OverflowException && e.Message.Contains("does not fit in", StringComparison.Ordinal)) // Item<byte>() of 300
                                  || e is TorchOutOfMemoryException) // a window or patch of a billion elements
        {
            accepted++;
            if (trace) Console.Error.WriteLine($"  accepted {e.GetType().Name}: {e.Message.Split('\n')[0]}");
        }
        catch (Exception e)
        {
            string kind = $"{e.GetType().Name} at {TopFrame(e)}";
            bad[kind] = bad.TryGetValue(kind, out var b) ? (b.Count + 1, b.Example) : (1, $"case {it} (replay: --seed {seed} --iterations {it + 1}): {e.GetType().FullName}: {e.Message}");
        }
        // Every tensor of a step lives in its scope or its module, so each step must end where it began.
        if (Tensors.LiveTensors != liveBefore)
        {
            string kind = $"leaked tensors in a step ({(format == "ops" ? "op" : ApiFuzz.Last)})";
            string example = $"case {it} (replay: --seed {seed} --iterations {it + 1}): {Tensors.LiveTensors - liveBefore} tensors";
            bad[kind] = bad.TryGetValue(kind, out var b) ? (b.Count + 1, b.Example) : (1, example);
        }
    }
    return Report(format, seed, iterations, accepted, ran, bad, liveAtStart, report);
}

// The summary line the tests read ("FUZZ format=… accepted=… read=… bad=…"), then one example of each bad outcome; the
// exit code: 0 when nothing was bad (leaked tensors count as bad).
static int Report(string format, int seed, int iterations, int accepted, int read, Dictionary<string, (int Count, string Example)> bad, long liveAtStart, int report)
{
    long leaked = Tensors.LiveTensors - liveAtStart;
    if (leaked != 0) bad["leaked tensors"] = ((int)leaked, $"{leaked} tensors alive after the run");
    Console.WriteLine($"FUZZ format={format} seed={seed} iterations={iterations} accepted={accepted} read={read} bad={bad.Values.Sum(b => b.Count)}");
    foreach (var (kind, (count, example)) in bad.OrderByDescending(b => b.Value.Count).Take(report))
    {
        Console.WriteLine($"BAD {count}× {kind}");
        Console.WriteLine($"    {example}");
    }
    return bad.Count == 0 ? 0 : 1;
}

// Reads the file as a user of the format would, and uses what it read.
static void Exercise(string format, string path, byte[] data)
{
    switch (format)
    {
        case "image":
            {
                var image = ImageCodec.Decode(data, path);
                _ = image.WithChannels(3).Resize(7, 5);
                break;
            }
        case "dicom":
            {
                var file = DicomFile.Read(data, path);
                _ = (file.Modality, file.PixelSpacing, file.ImagePositionPatient, file.ImageOrientationPatient, file.Window, file.InstanceNumber);
                for (int f = 0; f < file.NumberOfFrames; f++) _ = (file.GetFrameInfo(f), file.GetFrame(f));
                _ = file.ToRasterImage();
                if (file.Channels == 1)
                {
                    // the frames as a volume: ordered by their positions, with spacing and the patient affine
                    try
                    {
                        var series = DicomSeries.FromFrames(file, Enumerable.Range(0, file.NumberOfFrames));
                        _ = (series.ToVolume(), series.PatientAffine());
                    }
                    catch (DataFormatException) when (file.NumberOfFrames > 1)
                    {
                        // frames that are not one volume: the folder reader splits them into volumes (echoes, time
                        // points, stacks) by their frame content, or refuses them
                        var folder = Directory.CreateDirectory(path + ".series").FullName;
                        File.Copy(path, Path.Combine(folder, Path.GetFileName(path)));
                        foreach (var volume in DicomSeries.ReadFolder(folder)) _ = (volume.ToVolume(), volume.Subset);
                    }
                }
                break;
            }
        case "nifti":
            {
                foreach (var image in NiftiReader.ReadVolumes(path)) _ = image.Reorient("RAS");
                break;
            }
        case "npy":
            {
                using var stream = new MemoryStream(data);
                Use(NpyFormat.Read(stream, path));
                break;
            }
        case "npz":
            {
                using (var archive = NpzArchive.Open(path))
                {
                    foreach (var name in new[] { "train_images", "train_labels", "val_images", "val_labels", "test_images", "test_labels" })
                    {
                        if (archive.Contains(name)) Use(archive.Read(name));
                    }
                }
                var dataset = MedMnistDataset.Load(path, new MedMnistLoadOptions { Info = MedMnistCatalog.RetinaMnist });
                foreach (var split in new[] { MedMnistSplit.Train, MedMnistSplit.Validation, MedMnistSplit.Test })
                {
                    var s = dataset.GetSplit(split);
                    if (s.Count > 0) _ = s.GetImage(s.Count - 1);
                }
                break;
            }
        case "tfevents":
            {
                // Every event decoded, every value used as TensorBoard would use it.
                foreach (var e in MedVision.Torch.TensorBoard.EventFileReader.Read(path))
                    foreach (var v in e.Values)
                    {
                        if (v.Histogram is { } h && h.BucketLimits.Count != h.BucketCounts.Count) throw new InvalidOperationException("a histogram with unpaired buckets was read");
                        if (v.Image is { } image) _ = image.Encoded.Length + image.Height * image.Width;
                        _ = v.Text?.Length;
                    }
                _ = MedVision.Torch.TensorBoard.EventFileReader.ReadScalars(path).Count;
                break;
            }
        case "safetensors":
            {
                using var dict = SafeTensors.Load(data);
                foreach (var (_, t) in dict)
                {
                    using var sum = t.Sum();
                    _ = sum.Item<double>();
                }
                break;
            }
        case "model" or "card":
            {
                var (model, card) = ModelFile.Load(path);
                using (model) { _ = card.Architecture; }
                using var predictor = Predictor.Load(path);
                break;
            }
        case "manifest":
            {
                // Read, loaded and used on one image of the members' input size; the probabilities must be a distribution.
                var manifest = EnsemblePredictor.ReadManifest(path);
                using var ensemble = EnsemblePredictor.LoadManifest(path);
                if (ensemble.Members.Count != manifest.ModelPaths.Count) throw new InvalidOperationException("the ensemble is not the manifest's");
                var input = ensemble.Members[0].Card.Preprocessing;
                int width = input.InputSize[1], height = input.InputSize[0];
                var pixels = Enumerable.Range(0, width * height * input.Channels).Select(i => (byte)(i * 11 % 256)).ToArray();
                var prediction = ensemble.PredictPixels(pixels, width, height, input.Channels);
                double sum = prediction.Probabilities.Sum(p => (double)p);
                if (!(Math.Abs(sum - 1) < 1e-3)) throw new InvalidOperationException($"the probabilities sum to {sum}");
                if (ensemble.Referral is { } referral && prediction.Referred != prediction.ReferralRisk >= referral.Threshold)
                    throw new InvalidOperationException("the referral decision is not the risk against the threshold");
                break;
            }
        case "segmanifest":
            {
                // Read, loaded and used on one small grey image: a map of the image's size, of the members' classes.
                var manifest = SegmentationModelFile.ReadEnsembleManifest(path);
                using var ensemble = ImageSegmentationPredictor.LoadManifest(path);
                if (ensemble.EnsembleSize != manifest.ModelPaths.Count) throw new InvalidOperationException("the ensemble is not the manifest's");
                if (ensemble.KeepLargestComponentClasses.Any(k => k < 1 || k >= ensemble.ClassNames.Count)) throw new InvalidOperationException("a kept class is not a foreground class");
                var pixels = Enumerable.Range(0, 13 * 9).Select(i => (byte)(i * 7 % 256)).ToArray();
                var map = ensemble.Predict(new MedVision.Nets.Data.Images.RasterImage(13, 9, 1, pixels));
                if (map.Width != 13 || map.Height != 9) throw new InvalidOperationException("the map does not have the image's size");
                if (map.Labels.ToArray().Any(l => l >= ensemble.ClassNames.Count)) throw new InvalidOperationException("the map holds a label that is not a class");
                break;
            }
        case "segmodel" or "segcard":
            {
                if (SegmentationModelFile.ReadCard(path).SpatialDims == 2)
                {
                    // A 2-D network: loaded and used on a small RGB image, prepared as the card says.
                    using var images = ImageSegmentationPredictor.Load(path);
                    var pixels = Enumerable.Range(0, 13 * 9 * 3).Select(i => (byte)(i * 7 % 256)).ToArray();
                    var map = images.Predict(new MedVision.Nets.Data.Images.RasterImage(13, 9, 3, pixels));
                    if (map.Width != 13 || map.Height != 9) throw new InvalidOperationException("the map does not have the image's size");
                    if (map.ClassNames.Count != images.ClassNames.Count) throw new InvalidOperationException("the map's classes are not the predictor's");
                    break;
                }
                // Loaded and used on a small two-channel scan with 1.5 mm slices, prepared as the card says.
                using var predictor = SegmentationPredictor.Load(path);
                var card = predictor.Card!;
                int[] shape = [12, 10, 8];
                var scan = Enumerable.Range(0, card.InChannels).Select(c => new NiftiImage(
                    Enumerable.Range(0, 960).Select(i => (float)((i * (c + 3)) % 17)).ToArray(), shape, [1f, 1f, 1.5f])).ToList();
                var labels = predictor.Predict(scan);
                if (!labels.IsOnGridOf(scan[0])) throw new InvalidOperationException("the label map is not on the scan's grid");
                if (labels.Voxels.Any(v => v < 0 || v >= card.ClassNames.Count || v != MathF.Floor(v)))
                    throw new InvalidOperationException("the label map holds a value that is not a class index");
                break;
            }
        case "decathlon":
            {
                // The mutated dataset.json in a task folder of its own (the seed lists absolute image and label paths).
                var folder = Directory.CreateDirectory(path + ".task").FullName;
                File.WriteAllBytes(Path.Combine(folder, "dataset.json"), data);
                var source = MedVision.Nets.Data.Segmentation.NiftiSegmentationSource.FromDecathlon(folder);
                for (int i = 0; i < source.Count; i++)
                {
                    var sample = source.Load(i);
                    if (sample.Labels.Data.Any(v => v < 0 || v >= source.ClassNames.Count))
                        throw new InvalidOperationException("a label outside the classes was accepted");
                    if (sample.Image.Channels != source.Modalities.Count && source.Modalities is not ["image"])
                        throw new InvalidOperationException("the image's channels differ from the listed modalities");
                }
                break;
            }
        case "torchscript":
            {
                using var module = ScriptModule.Load(path);
                _ = ScriptModule.ReadExtraFiles(path);
                break;
            }
        case "optimizer":
            {
                using var state = OptimizerState.Load(path);
                break;
            }
        case "pth":
            {
                using var dict = PyTorchFile.LoadStateDict(path);
                using (var scope = Tensors.NewDisposeScope())
                    foreach (var (_, t) in dict) _ = t.To(ScalarType.Float64).Sum().Item<double>();
                _ = dict.Metadata.Count;
                break;
            }
        default:
            throw new ArgumentException($"unknown format '{format}'");
    }
}

// Small valid files of the formats the tests have no fixture for: JPEG/PNG (grey and RGB), a MedMNIST-like npz (stored,
// so that mutations reach the npy headers), safetensors, a model file and an optimizer state.
static void MakeSeeds(string dir)
{
    Directory.CreateDirectory(dir);
    var rng = new Random(3);
    byte[] Pixels(int n) { var b = new byte[n]; rng.NextBytes(b); return b; }
    var grey = new RasterImage(12, 9, 1, Pixels(12 * 9));
    var rgb = new RasterImage(10, 8, 3, Pixels(10 * 8 * 3));
    File.WriteAllBytes(Path.Combine(dir, "grey.jpg"), ImageCodec.EncodeJpeg(grey));
    File.WriteAllBytes(Path.Combine(dir, "rgb.jpg"), ImageCodec.EncodeJpeg(rgb, quality: 70));
    File.WriteAllBytes(Path.Combine(dir, "grey.png"), ImageCodec.EncodePng(grey));
    File.WriteAllBytes(Path.Combine(dir, "rgb.png"), ImageCodec.EncodePng(rgb));
    // A TensorBoard event file with an image, a histogram in 4 bins and text (the test fixtures have no image).
    var board = Path.Combine(dir, "board");
    using (var writer = new MedVision.Torch.TensorBoard.SummaryWriter(board))
    using (var image = Tensors.FromArray(Pixels(3 * 4 * 5), 3, 4, 5))
    {
        writer.AddImage("image", image, 1);
        writer.AddHistogram("histogram", [1.0, 2.5, 2.5, 7.0], 2, bins: 4);
        writer.AddText("text", "note", 3);
    }
    File.Copy(Directory.GetFiles(board).Single(), Path.Combine(dir, "summaries.tfevents"), overwrite: true);
    Directory.Delete(board, recursive: true);
    NpyArray Images(int n) => NpyArray.FromBytes(Pixels(n * 4 * 4 * 3), n, 4, 4, 3);
    NpyArray Labels(int n) => NpyArray.FromInt64(Enumerable.Range(0, n).Select(i => (long)(i % 5)).ToArray(), n, 1);
    NpzArchive.Write(Path.Combine(dir, "retinamnist.npz"), new Dictionary<string, NpyArray>
    {
        ["train_images"] = Images(3), ["train_labels"] = Labels(3),
        ["val_images"] = Images(2), ["val_labels"] = Labels(2),
        ["test_images"] = Images(2), ["test_labels"] = Labels(2),
    }, compress: false);
    foreach (var (name, array) in new[] { ("f4.npy", NpyArray.FromSingle(new[] { 1f, 2f, 3f, 4f, 5f, 6f }, 2, 3)), ("i8.npy", Labels(4)), ("u1.npy", Images(1)) })
    {
        using var file = File.Create(Path.Combine(dir, name));
        NpyFormat.Write(file, array);
    }
    using (var a = Tensors.FromArray(new float[] { 1, 2, 3, 4, 5, 6 }, new long[] { 2, 3 }))
    using (var b = Tensors.FromArray(new long[] { 7, 8 }, new long[] { 2 }))
    {
        SafeTensors.Save(Path.Combine(dir, "tensors.safetensors"), new Dictionary<string, Tensor> { ["a"] = a, ["b.c"] = b }, new Dictionary<string, string> { ["format"] = "pt" });
    }
    Tensors.ManualSeed(4);
    using (var model = MedVision.Nets.Models.ResNet.Builder().WithDepth(18).WithWidths(2, 2, 2, 2).ForInput(channels: 1).WithSmallInputStem().WithClasses(3).Build())
    {
        var card = ModelFile.Describe(model, new PreprocessingCard { InputSize = new() { 8, 8 }, Channels = 1, Mean = new() { 0.5f }, Std = new() { 0.5f }, Resize = "linear" },
            new[] { "a", "b", "c" }, MedMnistTask.MultiClass, new Dictionary<string, double> { ["val_auc"] = 0.5 });
        // Fields that mutations should reach too: 8-bit resizing (format 7) and a referral decision.
        card.Preprocessing.ResizeEightBit = true;
        card.Referral = ReferralCard.From(MedVision.Nets.Metrics.Clinical.OperatingPoint.AtSensitivity([0, 1, 0, 1, 1], [0.2, 0.8, 0.3, 0.6, 0.4], 0.6), referableFrom: 1);
        ModelFile.Save(Path.Combine(dir, "model.safetensors"), model, card);
        card.Preprocessing.ResizeEightBit = null;
        card.Referral = null;
        card.FormatVersion = 1;
        // An ensemble manifest of two members (this network and one of other weights) with a conformal calibration and a
        // referral operating point, for manifest.
        ModelFile.Save(Path.Combine(dir, "member1.safetensors"), model, card);
        using (var other = MedVision.Nets.Models.ResNet.Builder().WithDepth(18).WithWidths(2, 2, 2, 2).ForInput(channels: 1).WithSmallInputStem().WithClasses(3).Build())
            ModelFile.Save(Path.Combine(dir, "member2.safetensors"), other, card);
        var calibration = MedVision.Nets.Metrics.Conformal.ConformalClassifier.Create().WithCoverage(0.8)
            .Calibrate([0, 1, 2, 0, 1], new double[,] { { 0.6, 0.3, 0.1 }, { 0.2, 0.7, 0.1 }, { 0.1, 0.2, 0.7 }, { 0.5, 0.4, 0.1 }, { 0.3, 0.5, 0.2 } });
        EnsemblePredictor.SaveManifest(Path.Combine(dir, "ensemble.json"), [Path.Combine(dir, "member1.safetensors"), Path.Combine(dir, "member2.safetensors")], [1.0, 2.0],
            ConformalCard.From(calibration), ReferralCard.From(MedVision.Nets.Metrics.Clinical.OperatingPoint.AtSensitivity([0, 1, 0, 1, 1], [0.2, 0.8, 0.3, 0.6, 0.4], 0.6), referableFrom: 1));
        using var optimizer = new Adam(model.Parameters().Take(2).ToList(), learningRate: 0.01);
        using (var x = Tensors.Randn(2, 1, 8, 8))
        using (var loss = model.Forward(x).Sum())
        {
            loss.Backward();
        }
        optimizer.Step();
        using var state = optimizer.GetState();
        state.Save(Path.Combine(dir, "optimizer.safetensors"));
    }
    // A segmentation model file (2 channels, LPS, 1 mm, instance norm, interpolation, post-processing) and a 2-D one for segmodel and segcard, and a
    // Decathlon task of two phantoms whose dataset.json names its files by absolute paths, for decathlon.
    using (var unet = MedVision.Nets.Models.UNet.Builder().ForInput(2, 3).WithFeatures(2, 4).WithInstanceNorm().WithUpsampling(MedVision.Nets.Models.UNetUpsampling.Interpolation).WithClasses(3).Build())
    {
        var preparation = new MedVision.Nets.Data.Segmentation.NiftiSegmentationOptions
        {
            Orientation = "LPS", Spacing = [1f, 1f, 1f], Normalization = new MedVision.Nets.Transforms.NormalizeIntensity(nonZero: true, channelWise: true),
        };
        // The foreground as one, then class b, keep only their largest component (keep_largest_foreground, format 4;
        // keep_largest_component), so mutations reach those fields too.
        var card = SegmentationModelFile.Describe(unet, preparation, ["background", "a", "b"], new SlidingWindowInferer([4, 4, 4], overlap: 0.25), ["MRI", "PET"]);
        card.KeepLargestComponent = [2];
        card.KeepLargestForeground = true;
        SegmentationModelFile.Save(Path.Combine(dir, "segmentation.safetensors"), unet, card);
    }
    // A 2-D sigmoid network for grey images resized to 12×10 with a mean and standard deviation, windows in batches of two.
    using (var unet = MedVision.Nets.Models.UNet.Builder().ForInput(1, 2).WithFeatures(2, 4).WithClasses(1).Build())
    {
        var preparation = new MedVision.Nets.Data.Segmentation.ImageSegmentationOptions { Channels = 1, Size = (12, 10), Normalization = new MedVision.Nets.Transforms.Normalize([0.5f], [0.25f]) };
        var card2d = SegmentationModelFile.Describe(unet, preparation, ["background", "vessel"], new SlidingWindowInferer([4, 4], overlap: 0.5, windowBatchSize: 2));
        SegmentationModelFile.Save(Path.Combine(dir, "segmentation2d.safetensors"), unet, card2d);
        // A segmentation ensemble manifest of this network and one of other weights, recording post-processing, for segmanifest.
        SegmentationModelFile.Save(Path.Combine(dir, "segmember1.safetensors"), unet, card2d);
        using (var other = MedVision.Nets.Models.UNet.Builder().ForInput(1, 2).WithFeatures(2, 4).WithClasses(1).Build())
            SegmentationModelFile.Save(Path.Combine(dir, "segmember2.safetensors"), other, card2d);
        SegmentationModelFile.SaveEnsembleManifest(Path.Combine(dir, "segmentation-ensemble.json"), [Path.Combine(dir, "segmember1.safetensors"), Path.Combine(dir, "segmember2.safetensors")],
            new SegmentationPostprocessingChoice(KeepLargestForeground: true, KeepLargestComponent: [1]));
    }
    var task = Directory.CreateDirectory(Path.Combine(dir, "decathlon-files")).FullName;
    var entries = new List<string>();
    foreach (var subject in new MedVision.Nets.Data.Synthetic.PhantomGenerator(size: 8, seed: 1).Generate(0, 2))
    {
        int[] shape = [8, 8, 8];
        var image = Path.Combine(task, $"s{subject.Index}.nii.gz");
        var labels = Path.Combine(task, $"s{subject.Index}_seg.nii.gz");
        NiftiWriter.WriteVolumes(image, [new NiftiImage(subject.Mri, shape), new NiftiImage(subject.Pet, shape)]);
        NiftiWriter.Write(labels, new NiftiImage(subject.LesionMask(1.5).Select((v, i) => v ? 1f : i % 50 == 0 ? 2f : 0f).ToArray(), shape), new NiftiWriteOptions { DataType = NiftiDataType.UInt8 });
        entries.Add($"{{\"image\": {System.Text.Json.JsonSerializer.Serialize(image)}, \"label\": {System.Text.Json.JsonSerializer.Serialize(labels)}}}");
    }
    File.WriteAllText(Path.Combine(dir, "dataset.json"),
        $"{{\"name\": \"fuzz\", \"modality\": {{\"0\": \"MRI\", \"1\": \"PET\"}}, \"labels\": {{\"0\": \"background\", \"1\": \"lesion\", \"2\": \"dots\"}}, \"training\": [{string.Join(", ", entries)}]}}");
    // A card of format 5 (MedicalNet's layout: stage strides and dilations, zero-padding shortcut; each volume resampled to
    // a voxel size, cropped to its foreground, normalised over its non-zero voxels and cropped or padded) for the card fuzzer.
    using (var model = MedVision.Nets.Models.MedicalNet.CreateBuilder(18).WithWidths(2, 2, 4, 4).WithClasses(2).Build())
    {
        var card = ModelFile.Describe(model, new PreprocessingCard
            {
                InputSize = new() { 8, 8, 8 }, Channels = 1, Mean = new() { 0f }, Std = new() { 1f }, Resize = "linear",
                IntensityNormalization = new IntensityNormalizationCard { NonZero = true },
                CropForeground = new ForegroundCropCard { Threshold = 0, Margin = 2 },
                Spacing = new() { 1.5f, 1.5f, 2f }, AlignModalities = true, Fit = "crop_or_pad", IntensityPercentiles = new() { 0.5, 99.5 },
            },
            new[] { "a", "b" }, MedMnistTask.MultiClass);
        ModelFile.Save(Path.Combine(dir, "model-medicalnet.safetensors"), model, card);
    }
}

static void Use(NpyArray array)
{
    switch (array.DType)
    {
        case NpyDType.Float32 or NpyDType.Float64: _ = array.ToSingleArray(); _ = array.ToDoubleArray(); break;
        default:
            // Narrowing conversions refuse values outside the target range (documented); that is the caller's data, not a
            // corrupt file.
            try { _ = array.ToInt32Array(); } catch (InvalidOperationException e) when (e.Message.Contains("outside the", StringComparison.Ordinal)) { }
            try { _ = array.ToByteArray(); } catch (InvalidOperationException e) when (e.Message.Contains("outside the", StringComparison.Ordinal)) { }
            break;
    }
}

// Accepted: the library's format exceptions (and NotSupportedException for valid files of an unsupported kind) whose
// message names the file.
static bool Accepted(Exception e, string path)
{
    // FileNotFoundException: a file the input names (a manifest's member) that does not exist, said with the input's name.
    bool kind = e is DataFormatException or MedVision.Torch.TensorBoard.TensorBoardFormatException or SafeTensorsFormatException or ModelFormatException or PyTorchFormatException or NotSupportedException or TorchException or InvalidDataException
        or FileNotFoundException;
    if (!kind) return false;
    // In-memory inputs (safetensors from bytes, npy from a stream) have no file name to give.
    return e is SafeTensorsFormatException || e.Message.Contains(Path.GetFileName(path), StringComparison.Ordinal);
}

static string? ScriptArgument(string[] args)
{
    int at = Array.IndexOf(args, "--script");
    return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
}

static string TopFrame(Exception e)
{
    var frames = new StackTrace(e, false).GetFrames()
        .Select(f => f.GetMethod())
        .Where(m => m?.DeclaringType?.Namespace?.StartsWith("MedVision", StringComparison.Ordinal) == true)
        .Select(m => $"{m!.DeclaringType!.Name}.{m.Name}")
        .Take(3)
        .ToList();
    return frames.Count == 0 ? "?" : string.Join(" < ", frames);
}

static string Keep(string path, int it)
{
    string kept = Path.Combine(Path.GetTempPath(), $"mvfuzz-case{it}-{Path.GetFileName(path)}");
    File.Copy(path, kept, overwrite: true);
    return kept;
}

static byte[] Mutate(byte[] source, Random rng)
{
    var data = new List<byte>(source);
    int count = 1 + rng.Next(4);
    for (int m = 0; m < count && data.Count > 0; m++)
    {
        int at = rng.Next(data.Count);
        switch (rng.Next(7))
        {
            case 0: // bit flips
                for (int k = 1 + rng.Next(8); k > 0; k--) { int i = rng.Next(data.Count); data[i] ^= (byte)(1 << rng.Next(8)); }
                break;
            case 1: // an interesting byte
                data[at] = new byte[] { 0, 1, 0x7F, 0x80, 0xFF, (byte)'<', (byte)'{', (byte)'"' }[rng.Next(8)];
                break;
            case 2: // an interesting integer of 2, 4 or 8 bytes, either byte order
                {
                    long[] values = { 0, -1, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, unchecked((int)0x80000000), 0x100000, 1L << 40, long.MaxValue, long.MinValue };
                    long v = values[rng.Next(values.Length)];
                    int size = new[] { 2, 4, 8 }[rng.Next(3)];
                    bool big = rng.Next(2) == 0;
                    for (int i = 0; i < size && at + i < data.Count; i++)
                    {
                        int shift = 8 * (big ? size - 1 - i : i);
                        data[at + i] = (byte)(v >> shift);
                    }
                    break;
                }
            case 3: // truncation
                data.RemoveRange(at, data.Count - at);
                break;
            case 4: // insertion of random bytes
                {
                    var bytes = new byte[1 + rng.Next(16)];
                    rng.NextBytes(bytes);
                    data.InsertRange(at, bytes);
                    break;
                }
            case 5: // deletion
                data.RemoveRange(at, Math.Min(data.Count - at, 1 + rng.Next(16)));
                break;
            default: // duplicate a chunk elsewhere
                {
                    int len = Math.Min(data.Count - at, 1 + rng.Next(64));
                    var chunk = data.GetRange(at, len);
                    data.InsertRange(rng.Next(data.Count), chunk);
                    break;
                }
        }
    }
    return data.ToArray();
}

static byte[] MutateCard(SafeTensorDictionary weights, string metadataKey, Random rng)
{
    var card = MutateJson(weights.Metadata[metadataKey], rng);
    var metadata = weights.Metadata.ToDictionary(p => p.Key, p => p.Value);
    metadata[metadataKey] = card.ToJsonString();
    return SafeTensors.ToBytes(weights, metadata);
}

// One or two values of a JSON document replaced by null, negative, zero, huge, NaN-as-text, empty or wrongly typed
// ones, or removed: the structured changes byte mutations almost never make (model cards, ensemble manifests).
static System.Text.Json.Nodes.JsonNode MutateJson(string json, Random rng)
{
    var card = System.Text.Json.Nodes.JsonNode.Parse(json)!;
    for (int m = 1 + rng.Next(2); m > 0; m--)
    {
        // every value in the document, with the object or array holding it
        var slots = new List<(System.Text.Json.Nodes.JsonNode Parent, object Key)>();
        void Collect(System.Text.Json.Nodes.JsonNode node)
        {
            if (node is System.Text.Json.Nodes.JsonObject o)
                foreach (var (k, v) in o.ToList()) { slots.Add((o, k)); if (v is not null) Collect(v); }
            else if (node is System.Text.Json.Nodes.JsonArray a)
                for (int i = 0; i < a.Count; i++) { slots.Add((a, i)); if (a[i] is { } v) Collect(v); }
        }
        Collect(card);
        var (parent, key) = slots[rng.Next(slots.Count)];
        System.Text.Json.Nodes.JsonNode? value = rng.Next(12) switch
        {
            0 => null,
            1 => -1,
            2 => 0,
            3 => 1_000_000,
            4 => int.MaxValue,
            5 => 1e300,
            6 => double.NaN.ToString(CultureInfo.InvariantCulture),
            7 => "",
            8 => new System.Text.Json.Nodes.JsonArray(),
            9 => new System.Text.Json.Nodes.JsonObject(),
            10 => "resnet",
            _ => 3,
        };
        if (key is string k)
        {
            if (rng.Next(8) == 0) ((System.Text.Json.Nodes.JsonObject)parent).Remove(k);
            else parent[k] = value;
        }
        else parent[(int)key] = value;
    }
    return card;
}

// A torch.save archive whose data.pkl is mutated, written again as torch.save writes it (entries stored, not compressed).
static byte[] MutatePickle(byte[] archive, Random rng)
{
    using var input = new ZipArchive(new MemoryStream(archive), ZipArchiveMode.Read);
    using var output = new MemoryStream();
    using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        foreach (var entry in input.Entries)
        {
            using var source = entry.Open();
            using var content = new MemoryStream();
            source.CopyTo(content);
            var bytes = entry.FullName.EndsWith("/data.pkl", StringComparison.Ordinal) ? Mutate(content.ToArray(), rng) : content.ToArray();
            using var target = zip.CreateEntry(entry.FullName, CompressionLevel.NoCompression).Open();
            target.Write(bytes);
        }
    return output.ToArray();
}

// One record of a (valid) event file mutated and framed again: length, masked CRC-32C of it, data, masked CRC-32C.
static byte[] MutateEventRecord(byte[] file, Random rng)
{
    var records = new List<byte[]>();
    for (int at = 0; at + 12 <= file.Length;)
    {
        int length = (int)BitConverter.ToUInt64(file, at);
        records.Add(file[(at + 12)..(at + 12 + length)]);
        at += 16 + length;
    }
    int which = rng.Next(records.Count);
    records[which] = Mutate(records[which], rng);
    using var output = new MemoryStream();
    foreach (var data in records)
    {
        var header = BitConverter.GetBytes((ulong)data.Length);
        output.Write(header);
        output.Write(BitConverter.GetBytes(MaskedCrc32C(header)));
        output.Write(data);
        output.Write(BitConverter.GetBytes(MaskedCrc32C(data)));
    }
    return output.ToArray();
}

static uint MaskedCrc32C(byte[] data)
{
    uint crc = 0xFFFFFFFFu;
    foreach (var b in data)
    {
        crc ^= b;
        for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0x82F63B78u ^ (crc >> 1) : crc >> 1;
    }
    crc ^= 0xFFFFFFFFu;
    return unchecked(((crc >> 15) | (crc << 17)) + 0xA282EAD8u);
}

static byte[] Gunzip(byte[] data)
{
    using var input = new GZipStream(new MemoryStream(data), CompressionMode.Decompress);
    using var output = new MemoryStream();
    input.CopyTo(output);
    return output.ToArray();
}

static byte[] Gzip(byte[] data)
{
    using var output = new MemoryStream();
    using (var gz = new GZipStream(output, CompressionLevel.Fastest)) gz.Write(data);
    return output.ToArray();
}
