using System.Text.Json.Nodes;
using MedVision.Nets.Data.Images;
using MedVision.Nets.Data.Nifti;
using MedVision.Nets.Data.Segmentation;
using MedVision.Nets.Inference;
using MedVision.Nets.Models;
using MedVision.Torch;
using MedVision.Torch.Tests.Support;

namespace MedVision.Nets.Tests.Inference;

/// <summary>
/// A segmentation ensemble's own post-processing: chosen on the ensemble's averaged predictions (which are no member's),
/// recorded in a manifest beside the member files' hashes (<see cref="SegmentationModelFile.SaveEnsembleManifest"/>),
/// applied by the predictors loaded from it instead of the members' cards — while the members are the files it was
/// chosen with.
/// </summary>
[Collection(GlobalRandomStateCollection.Name)]
public sealed class SegmentationEnsembleManifestTests : IDisposable
{
    private static readonly string[] Classes = ["background", "disc", "cup"];
    private static readonly ImageSegmentationOptions Options = new() { Channels = 3, Size = (16, 16) };
    private readonly string _folder = Directory.CreateTempSubdirectory("mvn-segmanifest-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void TheManifestsPostprocessing_IsAppliedInsteadOfTheMembers_AndTheFolderMovesWhole()
    {
        var a = Save("folds/a.safetensors", seed: 31, keep: [2]);
        var b = Save("folds/b.safetensors", seed: 32, keep: [2]);
        var manifest = Path.Combine(_folder, "ensemble.json");
        var choice = new SegmentationPostprocessingChoice(KeepLargestForeground: true, KeepLargestComponent: [1]);
        SegmentationModelFile.SaveEnsembleManifest(manifest, [a, b], choice);

        var json = JsonNode.Parse(File.ReadAllText(manifest))!;
        ((string?)json["format"]).Should().Be(SegmentationModelFile.EnsembleManifestFormat);
        ((string?)json["members"]![0]!["path"]).Should().Be("folds/a.safetensors", "paths are relative to the manifest's folder");
        ((string?)json["members"]![1]!["sha256"]).Should().Be(Sha256(b));
        ((bool?)json["postprocessing"]!["keep_largest_foreground"]).Should().BeTrue();
        var read = SegmentationModelFile.ReadEnsembleManifest(manifest);
        read.ModelPaths.Should().Equal(Path.GetFullPath(a), Path.GetFullPath(b));
        read.Postprocessing!.KeepLargestComponent.Should().Equal(1);

        using var fromManifest = ImageSegmentationPredictor.LoadManifest(manifest);
        (fromManifest.EnsembleSize, fromManifest.KeepLargestForeground, fromManifest.PostprocessingNote).Should().Be((2, true, null));
        fromManifest.KeepLargestComponentClasses.Should().Equal(1);
        using var ensemble = ImageSegmentationPredictor.LoadEnsemble([a, b]);
        ensemble.KeepLargestComponentClasses.Should().Equal([2], "the members' cards agree on the cup");
        ensemble.KeepLargestForeground.Should().BeFalse();
        // An image whose maps the two choices make different (the untrained networks' maps are in pieces on most).
        using var chosen = ImageSegmentationPredictor.LoadEnsemble([a, b]);
        (chosen.KeepLargestForeground, chosen.KeepLargestComponentClasses) = (true, [1]);
        var image = Enumerable.Range(0, 20).Select(Noise).First(i => !chosen.Predict(i).Labels.ToArray().SequenceEqual(ensemble.Predict(i).Labels.ToArray()));
        fromManifest.Predict(image).Labels.ToArray().Should().Equal(chosen.Predict(image).Labels.ToArray(), "the same networks with the manifest's post-processing")
            .And.NotEqual(ensemble.Predict(image).Labels.ToArray(), "not the members' choice");

        // The folder copied elsewhere: the manifest finds its members beside it.
        var moved = Path.Combine(_folder, "moved");
        Directory.CreateDirectory(Path.Combine(moved, "folds"));
        foreach (var file in new[] { a, b }) File.Copy(file, Path.Combine(moved, "folds", Path.GetFileName(file)));
        File.Copy(manifest, Path.Combine(moved, "ensemble.json"));
        using (var copy = ImageSegmentationPredictor.LoadManifest(Path.Combine(moved, "ensemble.json")))
        {
            copy.PostprocessingNote.Should().BeNull();
            copy.Predict(image).Labels.ToArray().Should().Equal(fromManifest.Predict(image).Labels.ToArray());
        }

        // A manifest that records none leaves it to the members' cards.
        var plain = Path.Combine(_folder, "plain.json");
        SegmentationModelFile.SaveEnsembleManifest(plain, [a, b]);
        SegmentationModelFile.ReadEnsembleManifest(plain).Postprocessing.Should().BeNull();
        using var members2 = ImageSegmentationPredictor.LoadManifest(plain);
        (members2.KeepLargestForeground, members2.KeepLargestComponentClasses.Single()).Should().Be((false, 2));
    }

    [Fact]
    public void Weights_AverageTheMembersProbabilities_AsTheManifestWritesThem()
    {
        var a = Save("wa.safetensors", seed: 41, keep: null);
        var b = Save("wb.safetensors", seed: 42, keep: null);
        var manifest = Path.Combine(_folder, "weighted.json");
        var choice = new SegmentationPostprocessingChoice(false, [2]);
        SegmentationModelFile.SaveEnsembleManifest(manifest, [a, b], choice, weights: [3, 1]);
        var json = JsonNode.Parse(File.ReadAllText(manifest))!;
        ((double?)json["members"]![0]!["weight"], (double?)json["members"]![1]!["weight"]).Should().Be((3.0, 1.0));
        SegmentationModelFile.ReadEnsembleManifest(manifest).Weights.Should().Equal(3, 1);

        // Each class's probability is ¾ of the first member's and ¼ of the second's.
        var image = Noise(5);
        IReadOnlyList<float[]> Probabilities(ImageSegmentationPredictor p) => p.PredictProbabilities(image);
        using var first = ImageSegmentationPredictor.Load(a);
        using var second = ImageSegmentationPredictor.Load(b);
        var (pa, pb) = (Probabilities(first), Probabilities(second));
        using var weighted = ImageSegmentationPredictor.LoadManifest(manifest);
        var pw = Probabilities(weighted);
        for (int k = 0; k < Classes.Length; k++)
            for (int i = 0; i < pw[k].Length; i++)
                pw[k][i].Should().BeApproximately((float)(0.75 * pa[k][i] + 0.25 * pb[k][i]), 1e-5f, "class {0}, pixel {1}", k, i);
        using (var equal = ImageSegmentationPredictor.LoadEnsemble([a, b]))
            Probabilities(equal)[1].Should().NotEqual(pw[1], "equal weights average otherwise");
        using (var onlyFirst = ImageSegmentationPredictor.LoadEnsemble([a, b], weights: [1, 0]))
            onlyFirst.Predict(image).Labels.ToArray().Should().Equal(first.Predict(image).Labels.ToArray(), "a member of weight 0 does not count");

        // The choice holds for the weights it was chosen with: the same weights scaled keep it, others void it.
        long hashedBefore = ManifestFile.FilesHashed;
        SegmentationModelFile.UpdateEnsembleManifest(manifest, m => m with { Weights = [6, 2] }).Should().BeEmpty();
        (ManifestFile.FilesHashed - hashedBefore).Should().Be(2, "each member file is hashed once: to check it, and the same hash recorded");
        SegmentationModelFile.ReadEnsembleManifest(manifest).Postprocessing.Should().NotBeNull();
        SegmentationModelFile.UpdateEnsembleManifest(manifest, m => m with { Weights = null }).Should().ContainSingle()
            .Which.Should().Contain("members or weights have changed");
        var equalNow = SegmentationModelFile.ReadEnsembleManifest(manifest);
        (equalNow.Postprocessing, equalNow.Weights).Should().Be((null, equalNow.Weights));
        equalNow.Weights.Should().Equal(1, 1);

        // Other members with unequal weights left as they were cannot be weighed by guess.
        SegmentationModelFile.UpdateEnsembleManifest(manifest, m => m with { Weights = [3, 1] });
        FluentActions.Invoking(() => SegmentationModelFile.UpdateEnsembleManifest(manifest, m => m with { ModelPaths = [a] }))
            .Should().Throw<ArgumentException>().WithMessage("The manifest weighs its 2 members unequally; give the weights of the 1 new ones too*");

        // Bad weights: refused by name when written, and a manifest file carrying them when it is loaded.
        var bad = Path.Combine(_folder, "bad-weights.json");
        FluentActions.Invoking(() => SegmentationModelFile.SaveEnsembleManifest(bad, [a, b], weights: [1])).Should().Throw<ArgumentException>().WithMessage("1 weights were given for 2 members.*");
        FluentActions.Invoking(() => SegmentationModelFile.SaveEnsembleManifest(bad, [a, b], weights: [1, -1])).Should().Throw<ArgumentOutOfRangeException>().WithMessage("Weight 1 must be finite and non-negative.*");
        FluentActions.Invoking(() => SegmentationModelFile.SaveEnsembleManifest(bad, [a, b], weights: [0, 0])).Should().Throw<ArgumentException>().WithMessage("*all 0*");
        FluentActions.Invoking(() => SegmentationModelFile.SaveEnsembleManifest(bad, [a, b], weights: [1e308, 1e308])).Should().Throw<ArgumentException>().WithMessage("The weights are too large to add up*");
        FluentActions.Invoking(() => ImageSegmentationPredictor.LoadEnsemble([a, b], weights: [double.NaN, 1])).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("weights");
        File.Exists(bad).Should().BeFalse();
        File.WriteAllText(bad, "{ \"format\": \"medvision.segmentation-ensemble\", \"format_version\": 1, \"members\": [{ \"path\": \"wa.safetensors\", \"weight\": \"heavy\" }] }");
        FluentActions.Invoking(() => SegmentationModelFile.ReadEnsembleManifest(bad)).Should().Throw<ModelFormatException>().WithMessage("*bad-weights.json*member 0's \"weight\" is not a number*");
        File.WriteAllText(bad, "{ \"format\": \"medvision.segmentation-ensemble\", \"format_version\": 1, \"members\": [{ \"path\": \"wa.safetensors\", \"weight\": -2 }] }");
        FluentActions.Invoking(() => ImageSegmentationPredictor.LoadManifest(bad)).Should().Throw<ModelFormatException>()
            .WithMessage("*bad-weights.json is not a valid segmentation ensemble manifest: Weight 0 must be finite and non-negative.");
    }

    [Fact]
    public void AChangedMember_VoidsTheChoice_OnLoadingAndOnUpdating()
    {
        var a = Save("a.safetensors", seed: 33, keep: null);
        var b = Save("b.safetensors", seed: 34, keep: null);
        var manifest = Path.Combine(_folder, "ensemble.json");
        SegmentationModelFile.SaveEnsembleManifest(manifest, [a, b], new SegmentationPostprocessingChoice(false, [1, 2]));

        Save("b.safetensors", seed: 35, keep: null);   // member 1 retrained in place
        using (var stale = ImageSegmentationPredictor.LoadManifest(manifest))
        {
            stale.PostprocessingNote.Should().Contain("member 1's model file").And.Contain("has changed since the manifest was written");
            stale.KeepLargestComponentClasses.Should().BeEmpty("the members' cards record nothing");
        }

        // Updating keeps nothing the change carries over unchanged from the old manifest…
        SegmentationModelFile.UpdateEnsembleManifest(manifest, m => m).Should().ContainSingle()
            .Which.Should().Contain("The post-processing was left out: member 1's model file");
        var updated = SegmentationModelFile.ReadEnsembleManifest(manifest);
        updated.Postprocessing.Should().BeNull();
        updated.ModelHashes.Should().Equal(Sha256(a), Sha256(b));
        // …and records a new choice, kept while the members stay.
        SegmentationModelFile.UpdateEnsembleManifest(manifest, m => m with { Postprocessing = new SegmentationPostprocessingChoice(true, []) }).Should().BeEmpty();
        SegmentationModelFile.UpdateEnsembleManifest(manifest, m => m).Should().BeEmpty();
        SegmentationModelFile.ReadEnsembleManifest(manifest).Postprocessing!.KeepLargestForeground.Should().BeTrue();
        using (var fresh = ImageSegmentationPredictor.LoadManifest(manifest)) (fresh.KeepLargestForeground, fresh.PostprocessingNote).Should().Be((true, null));
        SegmentationModelFile.UpdateEnsembleManifest(manifest, m => m with { ModelPaths = [a] }).Should().ContainSingle()
            .Which.Should().Contain("the ensemble's members or weights have changed");
        var alone = SegmentationModelFile.ReadEnsembleManifest(manifest);
        (alone.ModelPaths.Count, alone.Postprocessing).Should().Be((1, null));
    }

    [Fact]
    public void TheScanPredictor_AppliesTheManifestsChoice_AndEachPredictorRefusesTheOthersDimensions()
    {
        Tensors.ManualSeed(27);   // a network whose map of the scan below is in pieces
        using var net = UNet.Builder().ForInput(1, 3).WithFeatures(4, 8).WithInstanceNorm().WithClasses(3).Build();
        var volume = Path.Combine(_folder, "scan.safetensors");
        SegmentationModelFile.Save(volume, net, SegmentationModelFile.Describe(net, new NiftiSegmentationOptions { Orientation = null }, Classes, new SlidingWindowInferer([8, 8, 8])));
        var manifest = Path.Combine(_folder, "scans.json");
        SegmentationModelFile.SaveEnsembleManifest(manifest, [volume], new SegmentationPostprocessingChoice(true, []));
        var random = new Random(8);
        var scan = new NiftiImage(Enumerable.Range(0, 8 * 8 * 8).Select(_ => (float)random.NextDouble()).ToArray(), [8, 8, 8]);
        using var predictor = SegmentationPredictor.LoadManifest(manifest);
        (predictor.EnsembleSize, predictor.KeepLargestForeground).Should().Be((1, true));
        var kept = predictor.Predict([scan]).Voxels.Select(v => (int)v).ToArray();
        predictor.KeepLargestComponent = false;
        var raw = predictor.Predict([scan]).Voxels.Select(v => (int)v).ToArray();
        kept.Should().Equal(ConnectedComponents.KeepLargestForeground(raw, [8, 8, 8], SegmentationPredictor.ComponentConnectivity)).And.NotEqual(raw);

        FluentActions.Invoking(() => ImageSegmentationPredictor.LoadManifest(manifest)).Should().Throw<ModelFormatException>().WithMessage("*scans.json lists a 3-D U-Net; segment scans with SegmentationPredictor.LoadManifest*");
        var images = Path.Combine(_folder, "images.json");
        SegmentationModelFile.SaveEnsembleManifest(images, [Save("image.safetensors", seed: 37, keep: null)]);
        FluentActions.Invoking(() => SegmentationPredictor.LoadManifest(images)).Should().Throw<ModelFormatException>().WithMessage("*images.json lists 2-D U-Nets; segment images with ImageSegmentationPredictor.LoadManifest*");
    }

    [Fact]
    public void BadManifests_AndBadArguments_AreRefusedByName_AndWriteNothing()
    {
        var a = Save("a.safetensors", seed: 38, keep: null);
        var manifest = Path.Combine(_folder, "bad.json");
        void Refused<T>(Action act, string message) where T : Exception
        {
            act.Should().Throw<T>().WithMessage(message);
            File.Exists(manifest).Should().BeFalse("a refused save writes nothing");
        }
        Refused<ArgumentException>(() => SegmentationModelFile.SaveEnsembleManifest(manifest, []), "Give at least one model file.*");
        Refused<ArgumentException>(() => SegmentationModelFile.SaveEnsembleManifest(manifest, [a, Path.Combine(_folder, ".", "a.safetensors")]), "*listed twice (members 0 and 1); each model counts once; give weights to count one more.*");
        Refused<FileNotFoundException>(() => SegmentationModelFile.SaveEnsembleManifest(manifest, [a, Path.Combine(_folder, "none.safetensors")]), "*none.safetensors*does not exist*");
        Refused<ArgumentException>(() => SegmentationModelFile.SaveEnsembleManifest(manifest, [a], new SegmentationPostprocessingChoice(false, [3])),
            "*does not fit the members' 3 classes: keep_largest_component [3] must name foreground classes (1 to 2) once each*");
        Refused<ArgumentException>(() => SegmentationModelFile.SaveEnsembleManifest(manifest, [a], new SegmentationPostprocessingChoice(false, [1, 1])), "*once each*");
        Tensors.ManualSeed(39);
        using (var two = UNet.Builder().ForInput(3, 2).WithFeatures(4, 8).WithInstanceNorm().WithClasses(2).Build())
        {
            var other = Path.Combine(_folder, "two.safetensors");
            SegmentationModelFile.Save(other, two, SegmentationModelFile.Describe(two, Options, ["background", "disc"], new SlidingWindowInferer([16, 16])));
            Refused<ArgumentException>(() => SegmentationModelFile.SaveEnsembleManifest(manifest, [a, other]), "*two.safetensors cannot join an ensemble with*a.safetensors: its class_names differs*");
        }

        // Files that are not manifests, or not ones this library reads.
        void Unreadable(string json, string message)
        {
            File.WriteAllText(manifest, json);
            FluentActions.Invoking(() => SegmentationModelFile.ReadEnsembleManifest(manifest)).Should().Throw<ModelFormatException>().WithMessage(message);
        }
        string Members(string extra = "") => $"\"members\": [{{ \"path\": \"a.safetensors\" }}]{extra}";
        Unreadable("{ not json", "*bad.json is not a segmentation ensemble manifest: it is not JSON*");
        Unreadable($"{{ \"format\": \"medvision.ensemble\", \"format_version\": 1, {Members()} }}", "*bad.json is not a valid segmentation ensemble manifest: its \"format\" is not \"medvision.segmentation-ensemble\"*");
        Unreadable($"{{ \"format\": \"medvision.segmentation-ensemble\", \"format_version\": 2, {Members()} }}", "*segmentation ensemble manifest of format version 2; this library reads versions up to 1. Update MedVision.Nets.*");
        Unreadable("{ \"format\": \"medvision.segmentation-ensemble\", \"format_version\": 1, \"members\": [] }", "*\"members\" is not a non-empty list*");
        Unreadable($"{{ \"format\": \"medvision.segmentation-ensemble\", \"format_version\": 1, {Members(", \"postprocessing\": { \"keep_largest_foreground\": true }")} }}", "*\"postprocessing\" is not a post-processing choice*KeepLargestComponent*");
        Unreadable($"{{ \"format\": \"medvision.segmentation-ensemble\", \"format_version\": 1, {Members(", \"postprocessing\": { \"keep_largest_foreground\": 1, \"keep_largest_component\": [] }")} }}", "*\"postprocessing\" is not a post-processing choice*");
        Unreadable($"{{ \"format\": \"medvision.segmentation-ensemble\", \"format_version\": 1, {Members(", \"postprocessing\": { \"keep_largest_foreground\": false, \"keep_largest_component\": [0] }")} }}", "*keep_largest_component [0] must name foreground classes*");
        Unreadable($"{{ \"format\": \"medvision.segmentation-ensemble\", \"format_version\": 1, {Members()}, {Members()} }}", "*its JSON cannot be read as a manifest*");
        File.WriteAllText(manifest, "{ \"format\": \"medvision.segmentation-ensemble\", \"format_version\": 1, \"members\": [{ \"path\": \"gone.safetensors\" }] }");
        FluentActions.Invoking(() => SegmentationModelFile.ReadEnsembleManifest(manifest)).Should().Throw<FileNotFoundException>().WithMessage("*lists the model file 'gone.safetensors' (member 0), which does not exist*");
        // A class the members do not have is found when they are loaded.
        File.WriteAllText(manifest, $"{{ \"format\": \"medvision.segmentation-ensemble\", \"format_version\": 1, {Members(", \"postprocessing\": { \"keep_largest_foreground\": false, \"keep_largest_component\": [5] }")} }}");
        FluentActions.Invoking(() => ImageSegmentationPredictor.LoadManifest(manifest)).Should().Throw<ModelFormatException>()
            .WithMessage("*bad.json is not a valid segmentation ensemble manifest: its \"postprocessing\" does not fit the members' 3 classes: keep_largest_component [5]*");
        FluentActions.Invoking(() => ImageSegmentationPredictor.LoadManifest(Path.Combine(_folder, "none.json"))).Should().Throw<FileNotFoundException>().WithMessage("*segmentation ensemble manifest*none.json*does not exist*");
    }

    private string Save(string name, int seed, List<int>? keep)
    {
        Tensors.ManualSeed((ulong)seed);
        using var model = UNet.Builder().ForInput(3, 2).WithFeatures(4, 8).WithInstanceNorm().WithClasses(3).Build();
        var card = SegmentationModelFile.Describe(model, Options, Classes, new SlidingWindowInferer([16, 16]));
        card.KeepLargestComponent = keep;
        var path = Path.Combine(_folder, name);
        SegmentationModelFile.Save(path, model, card);
        return path;
    }

    private static string Sha256(string path) => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path))).ToLowerInvariant();

    private static RasterImage Noise(int seed)
    {
        var pixels = new byte[16 * 16 * 3];
        new Random(seed).NextBytes(pixels);
        return new RasterImage(16, 16, 3, pixels);
    }
}
