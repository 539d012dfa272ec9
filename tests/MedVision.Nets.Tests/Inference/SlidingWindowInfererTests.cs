using MedVision.Nets.Inference;
using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Tests.Inference;

/// <summary>Runs alone: one test seeds libtorch's generator and one counts live tensors, both process-wide.</summary>
[Collection(GlobalRandomStateCollection.Name)]
public sealed class SlidingWindowInfererTests
{
    private static void Close(Tensor actual, Tensor expected, double tolerance, string what)
    {
        actual.Shape.Should().Equal(expected.Shape, what);
        var a = actual.To(ScalarType.Float64).ToArray<double>();
        var e = expected.To(ScalarType.Float64).ToArray<double>();
        for (int i = 0; i < a.Length; i++)
            a[i].Should().BeApproximately(e[i], tolerance, "{0}, element {1}", what, i);
    }

    [Theory]
    // image, window, overlap → starts along the axis, hand-computed from MONAI's dense_patch_slices:
    // interval = floor(window (1 − overlap)) (the window when it spans the axis), steps until a window reaches the
    // edge, and the last start is moved back so that it ends at the edge.
    [InlineData(10, 4, 0.5, new[] { 0, 2, 4, 6 })]
    [InlineData(10, 4, 0.25, new[] { 0, 3, 6 })]
    [InlineData(11, 4, 0.25, new[] { 0, 3, 6, 7 })]
    [InlineData(8, 3, 0.0, new[] { 0, 3, 5 })]
    [InlineData(4, 4, 0.9, new[] { 0 })]
    [InlineData(5, 4, 0.9, new[] { 0, 1 })]
    public void WindowStarts_FollowMonaisPlacement(int image, int window, double overlap, int[] expected)
    {
        SlidingWindowInferer.WindowStarts(new[] { image }, new[] { window }, overlap).Select(s => s[0]).Should().Equal(expected);
    }

    [Fact]
    public void WindowStarts_AreRowMajorProducts_AndCoverEveryVoxel()
    {
        SlidingWindowInferer.WindowStarts(new[] { 5, 6 }, new[] { 4, 4 }, 0.5)
            .Should().BeEquivalentTo(new[] { new[] { 0, 0 }, new[] { 0, 2 }, new[] { 1, 0 }, new[] { 1, 2 } }, o => o.WithStrictOrdering());
        var random = new Random(3);
        for (int trial = 0; trial < 50; trial++)
        {
            int window = random.Next(1, 9), image = window + random.Next(0, 20);
            double overlap = random.NextDouble() * 0.95;
            var starts = SlidingWindowInferer.WindowStarts(new[] { image }, new[] { window }, overlap).Select(s => s[0]).ToArray();
            var covered = new bool[image];
            foreach (var s in starts)
            {
                s.Should().BeInRange(0, image - window);
                for (int i = s; i < s + window; i++) covered[i] = true;
            }
            covered.Should().AllBeEquivalentTo(true, "image {0}, window {1}, overlap {2}", image, window, overlap);
            starts.Should().BeInAscendingOrder().And.OnlyHaveUniqueItems();
            starts[^1].Should().Be(image - window, "the last window ends at the edge");
        }
    }

    [Theory]
    [InlineData(WindowBlending.Constant)]
    [InlineData(WindowBlending.Gaussian)]
    public void AnElementwiseNetwork_GivesTheWholeInputsResult_In3D(WindowBlending blending)
    {
        using var scope = Tensors.NewDisposeScope();
        Tensors.ManualSeed(5);
        var volume = Tensors.Randn(2, 1, 9, 10, 7);
        var inferer = new SlidingWindowInferer(new[] { 4, 4, 4 }, overlap: 0.25, windowBatchSize: 3, blending: blending);
        var result = inferer.Infer(volume, x => x * 2 + 1);
        Close(result, volume * 2 + 1, 1e-5, $"{blending} blending");
    }

    [Fact]
    public void InputsSmallerThanTheWindow_ArePaddedAndCropped()
    {
        using var scope = Tensors.NewDisposeScope();
        Tensors.ManualSeed(6);
        var image = Tensors.Randn(1, 2, 3, 5);
        var seen = new List<long[]>();
        var inferer = new SlidingWindowInferer(new[] { 4, 8 }, padding: PaddingMode.Replicate);
        var result = inferer.Infer(image, x => { seen.Add(x.Shape); return x.Sigmoid(); });
        seen.Should().ContainSingle().Which.Should().Equal(1, 2, 4, 8);
        Close(result, image.Sigmoid(), 1e-6, "padded 2-D input");
    }

    [Fact]
    public void APointwiseConvolution_ChangesChannels_AndEqualsTheWholeVolumePass()
    {
        using var scope = Tensors.NewDisposeScope();
        Tensors.ManualSeed(7);
        using var conv = new Conv3d(2, 3, 1);
        conv.Eval();
        var volume = Tensors.Randn(1, 2, 12, 11, 13);
        using var noGrad = Tensors.NoGrad();
        var result = new SlidingWindowInferer(new[] { 5, 6, 4 }, overlap: 0.5, windowBatchSize: 4, blending: WindowBlending.Gaussian).Infer(volume, conv);
        Close(result, conv.Call(volume), 1e-5, "1×1×1 convolution");
    }

    [Fact]
    public void OverlapsAreWeightedAverages_ConstantOrGaussian()
    {
        // a 1×6 image, windows 1×4 at x = 0 and x = 2; window k outputs the constant 10 + k everywhere
        using var scope = Tensors.NewDisposeScope();
        var image = Tensors.Zeros(1, 1, 1, 6);
        Tensor Constant(Tensor x, ref int k) => Tensors.Full(x.Shape, 10 + k++);

        int k = 0;
        var constant = new SlidingWindowInferer(new[] { 1, 4 }, overlap: 0.5).Infer(image, x => Constant(x, ref k));
        constant.ToArray<float>().Should().Equal(10f, 10f, 10.5f, 10.5f, 11f, 11f);

        k = 0;
        var gaussian = new SlidingWindowInferer(new[] { 1, 4 }, overlap: 0.5, blending: WindowBlending.Gaussian, sigmaScale: 0.125)
            .Infer(image, x => Constant(x, ref k)).ToArray<float>();
        // σ = 0.125 · 4 = 0.5; window centre 1.5; x = 2 is 0.5 from window 0's centre and 1.5 from window 1's
        double near = Math.Exp(-0.25 / (2 * 0.25)), far = Math.Exp(-2.25 / (2 * 0.25));
        gaussian[2].Should().BeApproximately((float)((10 * near + 11 * far) / (near + far)), 1e-5f);
        gaussian[3].Should().BeApproximately((float)((10 * far + 11 * near) / (near + far)), 1e-5f);
        gaussian[0].Should().Be(10f);
        gaussian[5].Should().Be(11f);
    }

    [Fact]
    public void NarrowGaussians_RaiseFarWeightsToOneThousandth_AsMonaiDoes()
    {
        // Found by FormatFuzzer's explain mode: with σ = 0.01 · window the far weights were float32's smallest values,
        // and output × weight kept none of the output's digits (a pointwise network came out wrong by up to 0.5);
        // with σ = 1e-300 every weight underflowed and the result was NaN.
        using var scope = Tensors.NewDisposeScope();
        var image = Tensors.Zeros(1, 1, 1, 6);
        Tensor Constant(Tensor x, ref int k) => Tensors.Full(x.Shape, 10 + k++);
        int k = 0;
        var narrow = new SlidingWindowInferer(new[] { 1, 4 }, overlap: 0.5, blending: WindowBlending.Gaussian, sigmaScale: 0.01)
            .Infer(image, x => Constant(x, ref k)).ToArray<float>();
        // x = 2 is 0.5 from window 0's centre (weight 1) and 1.5 from window 1's (weight e^-7000, raised to 0.001)
        narrow[2].Should().BeApproximately((float)((10 + (11 * 1e-3)) / (1 + 1e-3)), 1e-5f);
        narrow[3].Should().BeApproximately((float)(((10 * 1e-3) + 11) / (1 + 1e-3)), 1e-5f);

        var input = Tensors.Randn(1, 2, 9, 7);
        foreach (double sigma in new[] { 1e-300, 0.01, 1e300 })
        {
            var identity = new SlidingWindowInferer(new[] { 4, 3 }, overlap: 0.25, blending: WindowBlending.Gaussian, sigmaScale: sigma).Infer(input, x => x * 1);
            identity.AllClose(input, 1e-5, 1e-6).Should().BeTrue($"σ scale {sigma} blends a pointwise network's outputs into the same values");
        }
    }

    [Fact]
    public void PaddingThatCannotBeDone_IsRefusedByName_BeforeAnyWindowRuns()
    {
        // Found by FormatFuzzer's explain mode: libtorch's "Padding size should be less than the corresponding input
        // dimension" and "value cannot be converted to type float without overflow" surfaced from F.Pad.
        using var scope = Tensors.NewDisposeScope();
        var image = Tensors.Randn(1, 1, 3, 3);
        int calls = 0;
        Tensor Count(Tensor x) { calls++; return x; }
        FluentActions.Invoking(() => new SlidingWindowInferer(new[] { 8, 3 }, padding: PaddingMode.Reflect).Infer(image, Count))
            .Should().Throw<ArgumentException>().WithMessage("Reflect padding of axis 0 (size 3) to the window's 8 needs 3 values on one side; it can add at most 2*");
        FluentActions.Invoking(() => new SlidingWindowInferer(new[] { 3, 10 }, padding: PaddingMode.Circular).Infer(image, Count))
            .Should().Throw<ArgumentException>().WithMessage("Circular padding of axis 1*at most 3*");
        FluentActions.Invoking(() => new SlidingWindowInferer(new[] { 4, 4 }, padValue: 1e300).Infer(image, Count))
            .Should().Throw<ArgumentException>().WithMessage("*padding value 1E+300*Float32*").Which.ParamName.Should().Be("input");
        FluentActions.Invoking(() => new SlidingWindowInferer(new[] { 4, 4 }, padding: (PaddingMode)9))
            .Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("padding");
        calls.Should().Be(0);

        // what can be done is done: reflection as far as it reaches, wrap-around once, a huge value for float64
        new SlidingWindowInferer(new[] { 5, 3 }, padding: PaddingMode.Reflect).Infer(image, x => x).AllClose(image).Should().BeTrue();
        new SlidingWindowInferer(new[] { 3, 9 }, padding: PaddingMode.Circular).Infer(image, x => x).AllClose(image).Should().BeTrue();
        var wide = image.To(ScalarType.Float64);
        new SlidingWindowInferer(new[] { 4, 4 }, padValue: 1e300).Infer(wide, x => x).AllClose(wide).Should().BeTrue();
    }

    [Fact]
    public void WindowStarts_NearIntMaxValue_DoNotWrap()
    {
        SlidingWindowInferer.WindowStarts(new[] { 2_000_000_000 }, new[] { 1_500_000_000 }, 0).Select(s => s[0]).Should().Equal(0, 500_000_000);
        SlidingWindowInferer.WindowStarts(new[] { int.MaxValue }, new[] { int.MaxValue - 1 }, 0.5).Select(s => s[0]).Should().Equal(0, 1);
    }

    [Fact]
    public void BadSettingsAndNetworks_GiveClearExceptions_AndNothingLeaks()
    {
        var window = () => new SlidingWindowInferer(new[] { 4 });
        window.Should().Throw<ArgumentException>().WithMessage("*2-D*3-D*");
        var overlap = () => new SlidingWindowInferer(new[] { 4, 4 }, overlap: 1);
        overlap.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*overlap*");
        var batch = () => new SlidingWindowInferer(new[] { 4, 4 }, windowBatchSize: 0);
        batch.Should().Throw<ArgumentOutOfRangeException>();
        var negative = () => new SlidingWindowInferer(new[] { 4, 0 });
        negative.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*positive*");
        var starts = () => SlidingWindowInferer.WindowStarts(new[] { 3 }, new[] { 4 }, 0.25);
        starts.Should().Throw<ArgumentException>().WithMessage("*no larger than the image*");

        long before = Tensors.LiveTensors;
        using (var image = Tensors.Zeros(1, 1, 8, 8))
        using (var flat = Tensors.Zeros(1, 8, 8))
        {
            var inferer = new SlidingWindowInferer(new[] { 4, 4 });
            var rank = () => inferer.Infer(flat, x => x);
            rank.Should().Throw<ArgumentException>().WithMessage("*4-D input*");
            var shrinking = () => inferer.Infer(image, x => x.Narrow(3, 0, 2));
            shrinking.Should().Throw<InvalidOperationException>().WithMessage("*[1, 1, 4, 2]*windows' spatial size*");
            using (var result = inferer.Infer(image, x => x + 1)) result.ToArray<float>().Should().AllBeEquivalentTo(1f);
        }
        Tensors.LiveTensors.Should().Be(before, "every intermediate tensor is freed");
    }
}
