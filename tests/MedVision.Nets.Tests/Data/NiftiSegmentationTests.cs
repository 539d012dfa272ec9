using System.Text.Json;
using MedVision.Nets.Data;
using MedVision.Nets.Data.Nifti;
using MedVision.Nets.Data.Segmentation;
using MedVision.Nets.Inference;
using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Tests.Data;

public sealed class NiftiSegmentationTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "mv-msd-" + Guid.NewGuid().ToString("N"));

    public NiftiSegmentationTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    // An LPS-stored grid (x runs right→left, y anterior→posterior) with 2 mm slices, as DICOM-derived files often are.
    private static NiftiAffine Lps(double sx = 1, double sy = 1, double sz = 2) => new(new double[,]
    {
        { -sx, 0, 0, 10 }, { 0, -sy, 0, 20 }, { 0, 0, sz, -5 }, { 0, 0, 0, 1 },
    });

    // Labels: a box of class 1 and one of class 2; channel 0 = 10 × label, channel 1 = noise.
    private static (NiftiImage[] Channels, NiftiImage Labels) Scan(int seed, NiftiAffine affine, int[] shape)
    {
        var random = new Random(seed);
        int n = shape[0] * shape[1] * shape[2];
        var labels = new float[n];
        var c0 = new float[n];
        var c1 = new float[n];
        int ox = random.Next(0, shape[0] - 4), oy = random.Next(0, shape[1] - 4);
        for (int z = 0; z < shape[2]; z++)
            for (int y = 0; y < shape[1]; y++)
                for (int x = 0; x < shape[0]; x++)
                {
                    int i = x + (shape[0] * (y + (shape[1] * z)));
                    labels[i] = x >= ox && x < ox + 4 && y >= oy && y < oy + 3 ? 1 : x < 2 && y < 2 ? 2 : 0;
                    c0[i] = 10 * labels[i];
                    c1[i] = (float)random.NextDouble();
                }
        var spacing = affine.VoxelSizes.Select(v => (float)v).ToArray();
        return ([new NiftiImage(c0, shape, spacing, affine: affine), new NiftiImage(c1, shape, spacing, affine: affine)],
            new NiftiImage(labels, shape, spacing, NiftiDataType.UInt8, affine));
    }

    private string WriteDecathlon(int subjects, Func<int, NiftiAffine>? labelAffine = null, object? labelsJson = null)
    {
        Directory.CreateDirectory(Path.Combine(_folder, "imagesTr"));
        Directory.CreateDirectory(Path.Combine(_folder, "labelsTr"));
        var training = new List<object>();
        for (int s = 0; s < subjects; s++)
        {
            var (channels, labels) = Scan(s, Lps(), [8, 7, 5]);
            NiftiWriter.WriteVolumes(Path.Combine(_folder, "imagesTr", $"case_{s}.nii.gz"), channels);
            if (labelAffine is not null) labels = new NiftiImage(labels.Voxels, labels.Shape, labels.Spacing, NiftiDataType.UInt8, labelAffine(s));
            NiftiWriter.Write(Path.Combine(_folder, "labelsTr", $"case_{s}.nii.gz"), labels, new NiftiWriteOptions { DataType = NiftiDataType.UInt8 });
            training.Add(new { image = $"./imagesTr/case_{s}.nii.gz", label = $"./labelsTr/case_{s}.nii.gz" });
        }
        var dataset = new { name = "Toy", modality = new Dictionary<string, string> { ["0"] = "T1", ["1"] = "noise" },
            labels = labelsJson ?? new Dictionary<string, string> { ["0"] = "background", ["1"] = "box", ["2"] = "corner" }, training };
        File.WriteAllText(Path.Combine(_folder, "dataset.json"), JsonSerializer.Serialize(dataset));
        return _folder;
    }

    [Fact]
    public void Decathlon_LoadsReorientedPairs_WhoseLabelsMoveWithTheImage()
    {
        var source = NiftiSegmentationSource.FromDecathlon(WriteDecathlon(3));
        source.Count.Should().Be(3);
        source.ClassNames.Should().Equal("background", "box", "corner");
        source.Modalities.Should().Equal("T1", "noise");
        for (int s = 0; s < 3; s++)
        {
            var sample = source.Load(s);
            sample.Image.Shape.Should().Equal(2, 5, 7, 8);
            sample.Labels.Shape.Should().Equal(1, 5, 7, 8);
            sample.Image.Data.AsSpan(0, 280).ToArray().Should().Equal(sample.Labels.Data.Select(v => 10 * v), "channel 0 is 10 × the labels, after reorientation too");
            var stored = NiftiReader.Read(source.Pairs[s].Labels);
            sample.Labels.Data.Should().NotEqual(stored.Voxels, "LPS storage is flipped to RAS");
            sample.Labels.Data.Should().Equal(stored.Reorient("RAS").Voxels);
        }

        // Resampled to 1 mm slices: images trilinear, labels nearest, still whole class indices on one grid.
        var resampled = NiftiSegmentationSource.FromDecathlon(_folder, new NiftiSegmentationOptions { Spacing = [1f, 1f, 1f] }).Load(0);
        resampled.Labels.Shape.Should().Equal(new[] { 1, 9, 7, 8 }, "5 slices 2 mm apart span 8 mm: 9 slices 1 mm apart (MONAI's Spacing shape)");
        resampled.Labels.Data.Distinct().Order().Should().Equal(0f, 1f, 2f);
    }

    [Fact]
    public void Decathlon_RefusesBadFolders_NamingTheFile()
    {
        var act = () => NiftiSegmentationSource.FromDecathlon(_folder);
        act.Should().Throw<DataFormatException>().WithMessage("*no dataset.json*");
        File.WriteAllText(Path.Combine(_folder, "dataset.json"), "{ not json");
        act.Should().Throw<DataFormatException>().WithMessage("*not valid JSON*");
        WriteDecathlon(1, labelsJson: new Dictionary<string, string> { ["0"] = "background", ["2"] = "gap" });
        act.Should().Throw<DataFormatException>().WithMessage("*without gaps*");
        WriteDecathlon(1, labelsJson: new Dictionary<string, string> { ["0"] = "background", ["1"] = "box" });
        var load = () => NiftiSegmentationSource.FromDecathlon(_folder).Load(0);
        load.Should().Throw<DataFormatException>().WithMessage("*case_0.nii.gz*holds 2, which is not a class index in [0, 2)*");
        WriteDecathlon(1);
        var json = File.ReadAllText(Path.Combine(_folder, "dataset.json")).Replace("\"1\":\"noise\"", "\"1\":\"noise\",\"2\":\"T2\"", StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(_folder, "dataset.json"), json);
        load.Should().Throw<DataFormatException>().WithMessage("*imagesTr*case_0.nii.gz*holds 2 volume(s), but dataset.json lists 3 modalities (T1, noise, T2)*");
        WriteDecathlon(1, labelAffine: _ => Lps(sz: 2.5));
        load.Should().Throw<DataFormatException>().WithMessage("*labelsTr*case_0.nii.gz*does not lie on the grid of its image*");
        File.Delete(Path.Combine(_folder, "imagesTr", "case_0.nii.gz"));
        act.Should().Throw<DataFormatException>().WithMessage("*lists './imagesTr/case_0.nii.gz', which does not exist*");
        WriteDecathlon(1);
        var prepare = () => NiftiSegmentationSource.FromDecathlon(_folder).Prepare(null!);
        prepare.Should().Throw<ArgumentNullException>().Which.ParamName.Should().Be("channels");
        var options = () => NiftiSegmentationSource.FromDecathlon(_folder, new NiftiSegmentationOptions { Orientation = "XYZ" });
        options.Should().Throw<ArgumentException>().WithMessage("*'XYZ' is not a set of axis codes*");
    }

    [Fact]
    public void Predictor_MapsTheLabelMapBackOntoTheScansGrid()
    {
        // A "network" that calls a voxel class 1 where channel 0 is positive: the prediction must be the box and corner
        // of the scan, on the scan's own LPS grid with 2 mm slices, after running on a RAS grid of 1 mm.
        var (channels, labels) = Scan(4, Lps(), [8, 8, 6]);
        using var model = new ThresholdNet();
        var predictor = new SegmentationPredictor(model, new NiftiSegmentationOptions(), new SlidingWindowInferer([4, 4, 4], overlap: 0.5));
        var map = predictor.Predict(channels);
        map.IsOnGridOf(channels[0]).Should().BeTrue();
        map.Voxels.Should().Equal(labels.Voxels.Select(v => v > 0 ? 1f : 0f));
        predictor.Classes.Should().Be(2);
        map.SourceDataType.Should().Be(NiftiDataType.UInt8);

        var resampling = new SegmentationPredictor(model, new NiftiSegmentationOptions { Spacing = [1f, 1f, 1f] }, new SlidingWindowInferer([4, 4, 4]));
        var back = resampling.Predict(channels);
        back.IsOnGridOf(channels[0]).Should().BeTrue();
        back.Voxels.Should().Equal(map.Voxels, "the probabilities resampled back onto a 2:1 grid land on its voxels");

        // Coarser than the scan (1.5 mm in-plane where it has 1 mm): the label map is the arg-max of the probabilities
        // brought back onto the scan's grid (trilinear), as nnU-Net exports, not the coarse grid's labels repeated.
        using var ramp = new RampNet();
        var coarse = new SegmentationPredictor(ramp, new NiftiSegmentationOptions { Spacing = [1.5f, 1.5f, 2f] }, new SlidingWindowInferer([8, 8, 8]));
        var coarseMap = coarse.Predict(channels);
        coarseMap.IsOnGridOf(channels[0]).Should().BeTrue();
        var onScan = coarse.PredictProbabilities(channels);
        coarseMap.Voxels.Should().Equal(onScan[0].Voxels.Select((p0, i) => onScan[1].Voxels[i] > p0 ? 1f : 0f));
        coarseMap.Voxels.Should().Contain(0f).And.Contain(1f, "the ramp crosses the boundary inside the scan");

        // Written and read back with the writer: the same labels on the same grid.
        var path = Path.Combine(_folder, "prediction.nii.gz");
        NiftiWriter.Write(path, map, new NiftiWriteOptions { DataType = NiftiDataType.UInt8 });
        var read = NiftiReader.Read(path);
        read.Voxels.Should().Equal(map.Voxels);
        read.Affine[0, 0].Should().Be(-1);

        var largest = new SegmentationPredictor(model, new NiftiSegmentationOptions(), new SlidingWindowInferer([4, 4, 4])) { KeepLargestComponent = true };
        var kept = largest.Predict(channels);
        kept.Voxels.Count(v => v > 0).Should().Be(4 * 3 * 6, "the 4×3 box through all slices is larger than the 2×2 corner");

        // Told its class count, a predictor lists the classes before any prediction, and refuses a network that gives another.
        using var told = new SegmentationPredictor(model, new NiftiSegmentationOptions(), new SlidingWindowInferer([4, 4, 4]), classes: 2) { KeepLargestComponent = true };
        (told.Classes, told.KeepLargestComponentClasses.Count, told.KeepLargestComponentClasses[0]).Should().Be((2, 1, 1));
        told.Predict(channels).Voxels.Should().Equal(kept.Voxels);
        using var wrong = new SegmentationPredictor(model, new NiftiSegmentationOptions(), new SlidingWindowInferer([4, 4, 4]), classes: 3);
        wrong.KeepLargestComponentClasses = [2];
        FluentActions.Invoking(() => wrong.Predict(channels)).Should().Throw<ArgumentException>().WithMessage("*network gives 2 classes, but this predictor segments 3 (as it was created)*");
        FluentActions.Invoking(() => new SegmentationPredictor(model, new NiftiSegmentationOptions(), new SlidingWindowInferer([4, 4, 4]), classes: 1))
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("*at least 2 classes*");
    }

    [Fact]
    public void Predictor_AveragesFlippedCopies_AndGivesEachClassProbability()
    {
        var (channels, _) = Scan(2, Lps(), [8, 8, 6]);
        using var model = new RampNet();
        var predictor = new SegmentationPredictor(model, new NiftiSegmentationOptions { Orientation = null }, new SlidingWindowInferer([8, 8, 6]));
        var plain = predictor.PredictProbabilities(channels);
        plain.Should().HaveCount(2);
        for (int i = 0; i < plain[0].Voxels.Length; i++) (plain[0].Voxels[i] + plain[1].Voxels[i]).Should().BeApproximately(1f, 1e-5f);
        predictor.Predict(channels).Voxels.Should().Equal(plain[0].Voxels.Select((p0, i) => plain[1].Voxels[i] > p0 ? 1f : 0f));

        // The ramp net's class-1 logit grows along x (NIfTI's i, the width axis): flipping it left-right and back gives
        // the mirrored ramp, so the average of the two passes is the same at x and at its mirror X − 1 − x.
        predictor.Flips = TestTimeFlips.Horizontal;
        var averaged = predictor.PredictProbabilities(channels);
        for (int z = 0; z < 6; z++)
            for (int y = 0; y < 8; y++)
                for (int x = 0; x < 8; x++)
                {
                    int at = x + (8 * (y + (8 * z))), mirror = (7 - x) + (8 * (y + (8 * z)));
                    averaged[1].Voxels[at].Should().BeApproximately((plain[1].Voxels[at] + plain[1].Voxels[mirror]) / 2, 1e-5f);
                }
        var flags = () => predictor.Flips = (TestTimeFlips)8;
        flags.Should().Throw<ArgumentOutOfRangeException>();

        // Both from one pass, on a predictor that reorients the LPS scan to RAS (so both are put back on the scan's
        // grid): the label map and the probabilities the two separate calls give.
        var reoriented = new SegmentationPredictor(model, new NiftiSegmentationOptions { Orientation = "RAS" }, new SlidingWindowInferer([8, 8, 6]));
        var (labels, probabilities) = reoriented.PredictWithProbabilities(channels);
        labels.Voxels.Should().Equal(reoriented.Predict(channels).Voxels);
        labels.IsOnGridOf(channels[0]).Should().BeTrue();
        var separate = reoriented.PredictProbabilities(channels);
        probabilities.Should().HaveCount(2);
        for (int k = 0; k < 2; k++) probabilities[k].Voxels.Should().Equal(separate[k].Voxels);
        probabilities[1].Voxels.Should().NotEqual(plain[1].Voxels, "reoriented, the ramp runs the other way along x");
    }

    [Fact]
    public void Predictor_TakesAOneChannelNetwork_AsASigmoidOfTheForeground()
    {
        // One output channel (the threshold net's channel 0 only): a sigmoid, foreground where the logit is positive.
        var (channels, labels) = Scan(6, Lps(), [8, 8, 6]);
        using var model = new OneChannelNet();
        var predictor = new SegmentationPredictor(model, new NiftiSegmentationOptions(), new SlidingWindowInferer([4, 4, 4]));
        predictor.Predict(channels).Voxels.Should().Equal(labels.Voxels.Select(v => v > 0 ? 1f : 0f));
        var probabilities = predictor.PredictProbabilities(channels);
        probabilities.Should().HaveCount(2);
        probabilities[1].Voxels.Should().OnlyContain(p => p >= 0 && p <= 1);
        predictor.Classes.Should().Be(2);
    }

    [Fact]
    public void Predictor_RefusesBadScans()
    {
        using var model = new ThresholdNet();
        var predictor = new SegmentationPredictor(model, new NiftiSegmentationOptions(), new SlidingWindowInferer([4, 4, 4]));
        var (a, _) = Scan(1, Lps(), [8, 8, 6]);
        var (b, _) = Scan(1, Lps(sz: 3), [8, 8, 6]);
        var act = () => predictor.Predict([a[0], b[0]]);
        act.Should().Throw<ArgumentException>().WithMessage("*different grids*");
        act = () => predictor.Predict(Array.Empty<NiftiImage>());
        act.Should().Throw<ArgumentException>().WithMessage("*at least one channel*");
        var window = () => new SegmentationPredictor(model, new NiftiSegmentationOptions(), new SlidingWindowInferer([4, 4]));
        window.Should().Throw<ArgumentException>().WithMessage("*three sizes*");
    }

    [Fact]
    public void AResampledScan_GetsTheArgMaxOfItsProbabilitiesBroughtBack_NotTheCoarseGridsLabelsRepeated()
    {
        // A scan of 1 mm voxels whose left half is structure 1 and right half structure 2 (channel value 1 or 2), segmented
        // on a 2 mm grid by a net that gives each structure 0.55 where it is and background 0.45 everywhere. Brought back
        // onto the scan's grid, the voxels between a structure-1 and a structure-2 voxel of the coarse grid are mixtures in
        // which neither structure reaches background's 0.45: background, as nnU-Net's export of resampled probabilities
        // gives. Nearest-neighbour labels would repeat 1 and 2 up to the border and never give 0 here.
        int[] shape = [8, 2, 2];
        var voxels = new float[8 * 2 * 2];
        for (int i = 0; i < voxels.Length; i++) voxels[i] = i % 8 < 4 ? 1 : 2;
        var scan = new NiftiImage(voxels, shape, [1f, 1f, 1f]);
        using var model = new MixtureNet();
        var predictor = new SegmentationPredictor(model, new NiftiSegmentationOptions { Orientation = null, Spacing = [2f, 1f, 1f] }, new SlidingWindowInferer([4, 4, 4]));
        var map = predictor.Predict([scan]);
        map.IsOnGridOf(scan).Should().BeTrue();
        var row = map.Voxels.Take(8).ToArray();
        // The coarse grid's centres lie on x = 0, 2, 4, 6: x = 3 is half structure 1, half structure 2; x = 7, past the
        // last centre, takes the nearest (the coarse labels put back by nearest neighbour with zero padding gave 1 1 1 2 2 2 2 0).
        row.Should().Equal([1, 1, 1, 0, 2, 2, 2, 2], "between the structures the brought-back probabilities favour neither");
        var probabilities = predictor.PredictProbabilities([scan]);
        for (int i = 0; i < voxels.Length; i++) (probabilities[0].Voxels[i] + probabilities[1].Voxels[i] + probabilities[2].Voxels[i]).Should().BeApproximately(1f, 1e-5f, "the scan's edge included");
        map.Voxels.Should().Equal(Enumerable.Range(0, voxels.Length).Select(i => (float)Enumerable.Range(0, 3).MaxBy(k => probabilities[k].Voxels[i])));
    }

    // Background's logit log 0.45; structure k's log 0.55 where channel 0 is k, far lower elsewhere.
    private sealed class MixtureNet : Module<Tensor, Tensor>
    {
        public override Tensor Forward(Tensor input)
        {
            using var scope = Tensors.NewDisposeScope();
            var value = input.Narrow(1, 0, 1);
            var background = value * 0 + Math.Log(0.45);
            Tensor Structure(double k) => (value - k).Pow(2) * -20 + Math.Log(0.55);
            return scope.MoveToOuter(Tensors.Cat(new[] { background, Structure(1), Structure(2) }, 1));
        }
    }

    // Class 1's logit = 0.2 × x (the width index), class 0's = 0.7: the output depends on position, not on the scan.
    private sealed class RampNet : Module<Tensor, Tensor>
    {
        public override Tensor Forward(Tensor input)
        {
            using var scope = Tensors.NewDisposeScope();
            long width = input.Size(4);
            var ramp = Tensors.Arange(0, width).To(ScalarType.Float32).Reshape(1, 1, 1, 1, width) * 0.2;
            var zero = input.Narrow(1, 0, 1) * 0;
            return scope.MoveToOuter(Tensors.Cat(new[] { zero + 0.7, zero + ramp }, 1));
        }
    }

    private sealed class OneChannelNet : Module<Tensor, Tensor>
    {
        public override Tensor Forward(Tensor input) => input.Narrow(1, 0, 1) - 1;
    }

    private sealed class ThresholdNet : Module<Tensor, Tensor>
    {
        public override Tensor Forward(Tensor input)
        {
            using var scope = Tensors.NewDisposeScope();
            var c0 = input.Narrow(1, 0, 1);
            return scope.MoveToOuter(Tensors.Cat(new[] { -c0, c0 }, 1));
        }
    }
}
