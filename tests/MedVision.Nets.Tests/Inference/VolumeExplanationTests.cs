using MedVision.Nets.Data.Loading;
using MedVision.Nets.Data.Nifti;
using MedVision.Nets.Explainability;
using MedVision.Nets.Inference;
using MedVision.Nets.Metrics;
using MedVision.Nets.Models;
using MedVision.Nets.Transforms;
using MedVision.Torch;

using MedVision.Nets.Tests.Data;

namespace MedVision.Nets.Tests.Inference;

/// <summary>
/// Where a prepared volume lies in the world (the grid <see cref="VolumeFolderSource"/>'s preparation follows through
/// reorienting, resampling, cropping and resizing), and explanations of volumes placed back on the scans they explain.
/// </summary>
[Collection(nameof(NativeMemoryCollection))]
public sealed class VolumeExplanationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mvn-volume-explain-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // Positive and linear in world coordinates: every linear interpolation reproduces it away from the edges.
    private static float Field(double x, double y, double z) => (float)((0.5 * x) - y + (2 * z) + 100);


    // An oblique LPS-ish grid: 20° about z, x and y flipped, 1.1 × 0.9 × 2 mm.
    private static readonly NiftiAffine Oblique = new(new double[,]
    {
        { -1.1 * Math.Cos(0.35), 0.9 * Math.Sin(0.35), 0, 12 },
        { -1.1 * Math.Sin(0.35), -0.9 * Math.Cos(0.35), 0, 9 },
        { 0, 0, 2, -10 },
    });

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    [InlineData(false, true)]
    public void PreparedVolumes_KnowWhereTheirVoxelsLieInTheWorld(bool cropOrPad, bool crop)
    {
        // Reoriented to RAS, resampled to 1.5 mm, cropped to where the field exceeds 110, then resized (or cropped and
        // padded) to 10 × 12 × 9: every voxel of the result away from the edges holds the field at the world position
        // the result's affine gives it.
        var volume = WorldVolume.Sample([20, 18, 12], Oblique, Field);
        var geometry = new VolumeGeometry("RAS", [1.5f, 1.5f, 1.5f], false, crop ? new CropForeground(110) : null);
        ITransform fit = cropOrPad ? new ResizeWithPadOrCrop(9, 12, 10) : new Resize(9, 12, 10, ResizeMode.Linear);
        var prepared = VolumeFolderSource.Prepare([volume], geometry, fit, owned: false, "test");
        prepared.Image.Shape.Should().Equal(1, 9, 12, 10);
        prepared.Grid.Shape.Should().Equal(10, 12, 9);
        prepared.Grid.Affine.AxisCodes.Should().Be("RAS");
        prepared.Source.Affine.Should().Be(volume.Affine);
        prepared.Source.Shape.Should().Equal(20, 18, 12);
        int checkedVoxels = 0;
        for (int z = 1; z < 8; z++)
            for (int y = 1; y < 11; y++)
                for (int x = 1; x < 9; x++)
                {
                    float value = prepared.Image.Data[(((z * 12) + y) * 10) + x];
                    var (wx, wy, wz) = prepared.Grid.Affine.Apply(x, y, z);
                    float expected = Field(wx, wy, wz);
                    if (cropOrPad && value == prepared.Image.Data.Min()) continue; // padding (the minimum), outside the scan
                    // Away from the resampled volume's border, where the border padding holds the edge value.
                    var (i, j, k) = InverseApply(volume.Affine, wx, wy, wz);
                    if (i < 1 || j < 1 || k < 1 || i > 18 || j > 16 || k > 10) continue;
                    value.Should().BeApproximately(expected, 2e-3f * Math.Abs(expected), $"voxel ({x}, {y}, {z}) at ({wx:F2}, {wy:F2}, {wz:F2}) mm");
                    checkedVoxels++;
                }
        checkedVoxels.Should().BeGreaterThan(60, "most interior voxels lie inside the scan");
    }

    // The voxel index of world point (x, y, z) under an affine, by solving the 3×3 system (Cramer's rule).
    private static (double I, double J, double K) InverseApply(NiftiAffine a, double x, double y, double z)
    {
        double[,] m = { { a[0, 0], a[0, 1], a[0, 2] }, { a[1, 0], a[1, 1], a[1, 2] }, { a[2, 0], a[2, 1], a[2, 2] } };
        double[] b = [x - a[0, 3], y - a[1, 3], z - a[2, 3]];
        static double Det(double[,] n) => (n[0, 0] * ((n[1, 1] * n[2, 2]) - (n[1, 2] * n[2, 1]))) - (n[0, 1] * ((n[1, 0] * n[2, 2]) - (n[1, 2] * n[2, 0]))) + (n[0, 2] * ((n[1, 0] * n[2, 1]) - (n[1, 1] * n[2, 0])));
        double det = Det(m);
        var r = new double[3];
        for (int c = 0; c < 3; c++)
        {
            var n = (double[,])m.Clone();
            for (int row = 0; row < 3; row++) n[row, c] = b[row];
            r[c] = Det(n) / det;
        }
        return (r[0], r[1], r[2]);
    }

    private Predictor Model(PreprocessingCard preprocessing)
    {
        Tensors.ManualSeed(5);
        using var model = ResNet.Builder().WithDepth(10).WithWidths(2, 2, 4, 4).ForInput(1, spatialDims: 3).WithSmallInputStem().WithClasses(2).Build();
        var path = Path.Combine(_dir, $"model-{Guid.NewGuid():N}.safetensors");
        ModelFile.Save(path, model, ModelFile.Describe(model, preprocessing, ["healthy", "lesion"], MedMnistTask.Binary));
        return Predictor.Load(path);
    }

    private static float Lesion(double x, double y, double z) => (float)(50 + (100 * Math.Exp(-((((x - 4) * (x - 4)) + ((y + 2) * (y + 2)) + ((z - 3) * (z - 3))) / 30.0))));

    [Fact]
    public void Explanations_OfAVolume_ArePlacedBackOnTheScanAsItWasStored()
    {
        using var predictor = Model(new PreprocessingCard { InputSize = [12, 12, 10], Channels = 1, Mean = [0.5f], Std = [0.5f], Orientation = "RAS", Spacing = [1.5f, 1.5f, 1.5f] });
        var scan = WorldVolume.Sample([20, 18, 12], Oblique, Lesion);
        var path = Path.Combine(_dir, "scan.nii.gz");
        NiftiWriter.Write(path, scan);

        // The explained class whose map is not empty (an untrained network's map of one class can be all zero after the ReLU).
        var explanation = new[] { 0, 1 }.Select(c => predictor.ExplainVolume(scan, targetClass: c)).First(e => e.Map.Max() > 0);
        explanation.MapShape.Should().Equal(12, 12, 10); // (D, H, W) of the input size
        explanation.Prediction.Probabilities.Should().Equal(predictor.PredictVolume(scan).Probabilities);

        var input = explanation.ToInputVolume();
        input.Shape.Should().Equal(10, 12, 12); // (X, Y, Z) = (W, H, D)
        input.Orientation.Should().Be("RAS");
        input.Voxels.Should().Equal(explanation.Map);
        var placed = explanation.ToSourceVolume();
        placed.Shape.Should().Equal(scan.Shape);
        placed.Affine.Should().Be(scan.Affine);
        placed.AffineCode.Should().Be(scan.AffineCode);
        placed.Voxels.Should().OnlyContain(v => v >= 0 && v <= 1 + 1e-6f);
        placed.Voxels.Max().Should().BeGreaterThan(0, "the map lies over the scan");
        // Inside the input's voxel centres, the map trilinear as ResampleTo gives it; the rim beyond them keeps edge values.
        var inside = input.ResampleTo(scan, ResizeMode.Linear, VolumePadding.Zeros).Voxels;
        for (int i = 0; i < inside.Length; i++)
            if (inside[i] != 0) placed.Voxels[i].Should().BeApproximately(inside[i], 1e-6f);
        placed.Voxels.Count(v => v > 0).Should().BeGreaterThanOrEqualTo(inside.Count(v => v > 0));

        // From the file: the same prediction and map as from the volume in memory.
        var fromFile = predictor.ExplainFile(path, targetClass: explanation.TargetClass);
        fromFile.Map.Should().Equal(explanation.Map, (a, e) => Math.Abs(a - e) < 1e-5);
        fromFile.ToSourceVolume().Affine.Should().Be(NiftiReader.Read(path).Affine);

        // The same anatomy stored the other way round (RAS instead of the oblique LPS-like order) is prepared alike, so
        // its map, placed on its own grid and brought to the first scan's, is the same map.
        var stored = scan.Reorient("RAS");
        var other = predictor.ExplainVolume(stored, targetClass: explanation.TargetClass);
        other.Map.Should().Equal(explanation.Map, (a, e) => Math.Abs(a - e) < 1e-5);
        var otherPlaced = other.ToSourceVolume();
        otherPlaced.Affine.Should().Be(stored.Affine);
        otherPlaced.Reorient(scan.Orientation).Voxels.Should().Equal(placed.Voxels, (a, e) => Math.Abs(a - e) < 1e-4);
    }

    [Fact]
    public void Explanations_WithoutAScan_SayWhatIsMissing()
    {
        using var predictor = Model(new PreprocessingCard { InputSize = [8, 8, 8], Channels = 1, Mean = [0.5f], Std = [0.5f] });
        var random = new Random(3);
        var image = new FloatImage(Enumerable.Range(0, 512).Select(_ => (float)random.NextDouble()).ToArray(), 1, 8, 8, 8);
        var explanation = predictor.Explain(image);
        explanation.ToInputVolume().AffineCode.Should().Be(NiftiXformCode.Unknown);
        FluentActions.Invoking(() => explanation.ToSourceVolume()).Should().Throw<InvalidOperationException>().WithMessage("*ExplainFile, ExplainVolume or ExplainVolumes*");
        FluentActions.Invoking(() => explanation.ToVolume(new NiftiImage(new float[8], [2, 2, 2]))).Should().Throw<InvalidOperationException>().WithMessage("*place in the world is unknown*");
        FluentActions.Invoking(() => predictor.ExplainVolumes([])).Should().Throw<ArgumentException>().WithMessage("*at least one channel*");
        var flat = explanation with { MapShape = [8, 8], Map = new float[64] };
        FluentActions.Invoking(() => flat.ToInputVolume()).Should().Throw<InvalidOperationException>().WithMessage("*2-D*");
    }

    [Fact]
    public void PlacedMaps_CoverTheScanOutToTheEdgeOfWhatTheModelSaw()
    {
        // A map of ones on an 8³ input made from a 32³ scan: resized whole, every scan voxel lies within half an input
        // voxel of the input's voxel centres and gets 1; cropped first to x in [8, 24) (then resized), the scan voxels
        // outside the crop get 0.
        var scan = new NiftiAffine(new double[,] { { -1, 0, 0, 10 }, { 0, -1, 0, 20 }, { 0, 0, 1, -5 } });
        var source = new VolumeGrid([32, 32, 32], scan, NiftiXformCode.ScannerAnatomical);
        var prediction = new Prediction([0.5f, 0.5f], 0, "a", null, null);
        Explanation Map(double[] scale, double[] offset) => new(prediction, 0, "a", Enumerable.Repeat(1f, 512).ToArray(), [8, 8, 8])
        {
            InputGrid = new VolumeGrid([8, 8, 8], scan.WithIndexMap(scale, offset), NiftiXformCode.ScannerAnatomical),
            SourceGrid = source,
        };

        var whole = Map([4, 4, 4], [1.5, 1.5, 1.5]).ToSourceVolume(); // (n + 0.5) · 4 − 0.5
        whole.Voxels.Should().OnlyContain(v => Math.Abs(v - 1) < 1e-6, "the rim of the scan was seen by the input's edge voxels");

        // Onto another series of the same session (2 mm, RAS, reaching 4 mm beyond the scan's x = −21.5 edge): the same
        // map placed by world coordinates, 0 where that series lies outside what the model saw.
        var other = new NiftiImage(new float[16 * 16 * 16], [16, 16, 16], null, NiftiDataType.Float32,
            new NiftiAffine(new double[,] { { 2, 0, 0, -25 }, { 0, 2, 0, -11 }, { 0, 0, 2, -5 } }));
        var onOther = Map([4, 4, 4], [1.5, 1.5, 1.5]).ToVolume(other);
        onOther.Shape.Should().Equal(16, 16, 16);
        onOther.Affine.Should().Be(other.Affine);
        for (int x = 0; x < 16; x++)
            onOther[x, 8, 8].Should().Be(x < 2 ? 0f : 1f, $"world x = {(2 * x) - 25} mm ({(x < 2 ? "outside" : "inside")} the scan's −21.5 to 10.5 mm)");
        var cropped = Map([2, 4, 4], [8 + 0.5, 1.5, 1.5]).ToSourceVolume(); // x: 16 voxels from 8, resized to 8
        for (int x = 0; x < 32; x++)
            cropped[x, 16, 16].Should().Be(x is >= 8 and < 24 ? 1f : 0f, $"x = {x}");
    }

    [Fact]
    public void ANearestResize_PlacesVoxelsWhereItTakesThemFrom()
    {
        // PyTorch's "nearest" takes output voxel n from input voxel floor(n · in / out): halving, from voxel 2n exactly.
        var volume = WorldVolume.Sample([20, 20, 12], Oblique, Field);
        var prepared = VolumeFolderSource.Prepare([volume], new VolumeGeometry(null, null, false, null), new Resize(6, 10, 10, ResizeMode.Nearest), owned: false, "test");
        for (int z = 0; z < 6; z++)
            for (int y = 0; y < 10; y++)
                for (int x = 0; x < 10; x++)
                {
                    var (wx, wy, wz) = prepared.Grid.Affine.Apply(x, y, z);
                    var (sx, sy, sz) = volume.Affine.Apply(2 * x, 2 * y, 2 * z);
                    (Math.Abs(wx - sx) + Math.Abs(wy - sy) + Math.Abs(wz - sz)).Should().BeLessThan(1e-9);
                    prepared.Image.Data[(((z * 10) + y) * 10) + x].Should().Be(volume[2 * x, 2 * y, 2 * z]);
                }
    }
}
