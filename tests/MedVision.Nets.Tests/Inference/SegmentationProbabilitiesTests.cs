using MedVision.Nets.Data.Nifti;
using MedVision.Nets.Inference;

namespace MedVision.Nets.Tests.Inference;

/// <summary>Saved predictions of one scan merged: their probabilities averaged, and the label map of the mean (nnU-Net's nnUNetv2_ensemble).</summary>
public sealed class SegmentationProbabilitiesTests
{
    private static readonly NiftiAffine Grid = new(new double[,] { { -1, 0, 0, 4 }, { 0, -1, 0, 2 }, { 0, 0, 2, -3 }, { 0, 0, 0, 1 } });

    // Three classes on a 4×1×1 row: the probabilities of each voxel given, class by class.
    private static IReadOnlyList<NiftiImage> Prediction(params float[][] classes) =>
        classes.Select(c => new NiftiImage(c, [4, 1, 1], [1f, 1f, 2f], NiftiDataType.Float32, Grid)).ToList();

    [Fact]
    public void TheMean_IsTakenVoxelByVoxel_WithWeights_AndItsArgMaxIsTheLabelMap()
    {
        var a = Prediction([0.6f, 0.2f, 0.1f, 0.5f], [0.3f, 0.7f, 0.1f, 0.1f], [0.1f, 0.1f, 0.8f, 0.4f]);
        var b = Prediction([0.2f, 0.6f, 0.1f, 0.1f], [0.7f, 0.3f, 0.1f, 0.2f], [0.1f, 0.1f, 0.8f, 0.7f]);
        var mean = SegmentationProbabilities.Average([a, b]);
        mean.Should().HaveCount(3);
        mean[0].Voxels.Should().Equal([0.4f, 0.4f, 0.1f, 0.3f], (x, y) => Math.Abs(x - y) < 1e-6f);
        mean[2].Voxels.Should().Equal([0.1f, 0.1f, 0.8f, 0.55f], (x, y) => Math.Abs(x - y) < 1e-6f);
        mean[0].IsOnGridOf(a[0]).Should().BeTrue();
        // Voxel 0: 0.4 / 0.5 / 0.1 → class 1; voxel 1: 0.4 / 0.5 → 1; voxel 2: 2; voxel 3: 0.3 / 0.15 / 0.55 → 2.
        var labels = SegmentationProbabilities.Labels(mean);
        labels.Voxels.Should().Equal(1f, 1f, 2f, 2f);
        labels.SourceDataType.Should().Be(NiftiDataType.UInt8);
        labels.IsOnGridOf(a[0]).Should().BeTrue();

        // Weighted 3:1, a prevails on voxel 0: background 0.5 against class 1 0.4.
        var weighted = SegmentationProbabilities.Average([a, b], [3, 1]);
        weighted[0].Voxels[0].Should().BeApproximately(0.5f, 1e-6f);
        SegmentationProbabilities.Labels(weighted).Voxels.Should().Equal(0f, 1f, 2f, 2f);
        SegmentationProbabilities.Average([a, b], [1, 0])[1].Voxels.Should().Equal(a[1].Voxels, "a zero weight leaves a prediction out");

        // Post-processing on the merged map: class 2 in two pieces keeps its larger (voxels 2–3 here are one piece).
        var split = Prediction([0.1f, 0.8f, 0.1f, 0.1f], [0.1f, 0.1f, 0.1f, 0.1f], [0.8f, 0.1f, 0.8f, 0.8f]);
        SegmentationProbabilities.Labels(split).Voxels.Should().Equal(2f, 0f, 2f, 2f);
        SegmentationProbabilities.Labels(split, new SegmentationPostprocessingChoice(false, [2])).Voxels.Should().Equal(0f, 0f, 2f, 2f);
    }

    [Fact]
    public void ImagePredictions_AverageAsScansDo_AndGiveAMapOfTheirSize()
    {
        // 2 × 2 images, 3 classes: planes of 4 values (x fastest).
        IReadOnlyList<float[]> a = [[0.6f, 0.2f, 0.1f, 0.5f], [0.3f, 0.7f, 0.1f, 0.1f], [0.1f, 0.1f, 0.8f, 0.4f]];
        IReadOnlyList<float[]> b = [[0.2f, 0.6f, 0.1f, 0.1f], [0.7f, 0.3f, 0.1f, 0.2f], [0.1f, 0.1f, 0.8f, 0.7f]];
        var mean = SegmentationProbabilities.AverageImages([a, b], 2, 2);
        mean[0].Should().Equal([0.4f, 0.4f, 0.1f, 0.3f], (x, y) => Math.Abs(x - y) < 1e-6f);
        var map = SegmentationProbabilities.ImageMap(mean, 2, 2, ["background", "disc", "cup"]);
        (map.Height, map.Width).Should().Be((2, 2));
        map.Labels.ToArray().Should().Equal(1, 1, 2, 2);
        SegmentationProbabilities.ImageMap(SegmentationProbabilities.AverageImages([a, b], 2, 2, [3, 1]), 2, 2, ["background", "disc", "cup"]).Labels.ToArray().Should().Equal(0, 1, 2, 2);
        // Class 2 in two pieces on a 1 × 4 row keeps its larger with post-processing.
        IReadOnlyList<float[]> split = [[0.1f, 0.8f, 0.1f, 0.1f], [0.1f, 0.1f, 0.1f, 0.1f], [0.8f, 0.1f, 0.8f, 0.8f]];
        SegmentationProbabilities.ImageMap(split, 1, 4, ["background", "disc", "cup"], new SegmentationPostprocessingChoice(false, [2])).Labels.ToArray().Should().Equal(0, 0, 2, 2);
        FluentActions.Invoking(() => SegmentationProbabilities.AverageImages([a, b], 1, 3)).Should().Throw<ArgumentException>().WithMessage("Prediction 0's plane 0 has 4 values, not 1×3*");
        FluentActions.Invoking(() => SegmentationProbabilities.AverageImages([a, [a[0], a[1]]], 2, 2)).Should().Throw<ArgumentException>().WithMessage("Prediction 1 has 2 classes and prediction 0 has 3*");
        FluentActions.Invoking(() => SegmentationProbabilities.ImageMap(mean, 2, 2, ["background", "disc"])).Should().Throw<ArgumentException>().WithMessage("2 class names were given for 3 probability planes*");
    }

    [Fact]
    public void PredictionsThatDoNotFit_AreRefusedByName()
    {
        var a = Prediction([0.6f, 0.2f, 0.1f, 0.5f], [0.4f, 0.8f, 0.9f, 0.5f]);
        var three = Prediction([0.6f, 0.2f, 0.1f, 0.5f], [0.3f, 0.7f, 0.1f, 0.1f], [0.1f, 0.1f, 0.8f, 0.4f]);
        var elsewhere = new[] { a[0], new NiftiImage(a[1].Voxels, [4, 1, 1], [1f, 1f, 2f], NiftiDataType.Float32, NiftiAffine.FromSpacing([1f, 1f, 2f])) };
        FluentActions.Invoking(() => SegmentationProbabilities.Average([])).Should().Throw<ArgumentException>().WithMessage("Give at least one prediction's probabilities.*");
        FluentActions.Invoking(() => SegmentationProbabilities.Average([a, three])).Should().Throw<ArgumentException>().WithMessage("Prediction 1 has 3 classes and prediction 0 has 2*");
        FluentActions.Invoking(() => SegmentationProbabilities.Average([a, elsewhere])).Should().Throw<ArgumentException>().WithMessage("Prediction 1's volume 1 (4×1×1) is not on the grid of prediction 0's*");
        FluentActions.Invoking(() => SegmentationProbabilities.Average([[a[0]]])).Should().Throw<ArgumentException>().WithMessage("Prediction 0 has 1 probability volume(s)*");
        FluentActions.Invoking(() => SegmentationProbabilities.Average([a, a], [1])).Should().Throw<ArgumentException>().WithMessage("1 weights were given for 2 predictions*");
        FluentActions.Invoking(() => SegmentationProbabilities.Average([a, a], [1, double.NaN])).Should().Throw<ArgumentOutOfRangeException>().WithMessage("Weight 1 must be finite and non-negative*");
        FluentActions.Invoking(() => SegmentationProbabilities.Average([a, a], [0, 0])).Should().Throw<ArgumentException>().WithMessage("The weights are all 0; at least one of the predictions must count*");
        FluentActions.Invoking(() => SegmentationProbabilities.Labels(a, new SegmentationPostprocessingChoice(false, [2]))).Should().Throw<ArgumentException>()
            .WithMessage("The post-processing does not fit 2 classes: keep_largest_component [2] must name foreground classes (1 to 1) once each*");
    }
}
