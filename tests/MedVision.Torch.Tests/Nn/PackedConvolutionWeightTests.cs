using MedVision.Torch;
using MedVision.Torch.Nn;
using MedVision.Torch.Optim;
using MedVision.Torch.Tests.Support;

namespace MedVision.Torch.Tests.Nn;

/// <summary>
/// Conv2d/Conv3d keep a oneDNN-layout copy of the weight for calls without gradients: it must give the plain weight's
/// results, follow every change of the weight, stay out of training, and be freed with the module.
/// </summary>
[Collection(SerialCollection.Name)]
public class PackedConvolutionWeightTests
{
    // A libtorch without oneDNN, or one whose oneDNN failed the self-check (Tensors.OneDnnSelfCheck), packs nothing:
    // the tests then check that every call takes the plain path and still gives the same results.
    private static bool CanPack => Tensors.HasOneDnn && Tensors.OneDnnEnabled;

    private static float[] Plain(Convolution conv, Tensor x)
    {
        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        return Functional.Convolution(x, conv.Weight, conv.Bias, conv.SpatialDims, conv.Stride.ToArray(), conv.Padding.ToArray(), conv.Dilation.ToArray(), conv.Groups)
            .ToArray<float>();
    }

    private static float[] Packed(Convolution conv, Tensor x)
    {
        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        var y = conv.Call(x).ToArray<float>();
        conv.HoldsPackedWeight.Should().Be(CanPack, "a float32 CPU call without gradients uses the packed weight (when oneDNN is on)");
        return y;
    }

    private static void ShouldMatch(float[] actual, float[] expected, string because)
        => H.Close(actual.Select(v => (double)v).ToArray(), expected.Select(v => (double)v).ToArray(), 1e-5, 1e-4, because);

    public static TheoryData<string> Layers => new() { "3x3 pad 1", "1x1 stride 2 no bias", "3x3 dilation 2 groups 4", "3d 3x3x3 pad 1", "3d stride 2 groups 2" };

    private static (Convolution Conv, long[] Input) Make(string layer) => layer switch
    {
        "3x3 pad 1" => (new Conv2d(8, 16, 3, padding: 1), new long[] { 2, 8, 9, 9 }),
        "1x1 stride 2 no bias" => (new Conv2d(8, 16, 1, stride: 2, bias: false), new long[] { 1, 8, 7, 7 }),
        "3x3 dilation 2 groups 4" => (new Conv2d(8, 12, 3, padding: 2, dilation: 2, groups: 4), new long[] { 3, 8, 6, 6 }),
        "3d 3x3x3 pad 1" => (new Conv3d(4, 6, 3, padding: 1), new long[] { 1, 4, 5, 6, 6 }),
        _ => (new Conv3d(4, 6, 3, stride: 2, groups: 2), new long[] { 2, 4, 7, 7, 7 }),
    };

    [Theory]
    [MemberData(nameof(Layers))]
    public void PackedWeight_GivesThePlainWeightsResult(string layer)
    {
        Tensors.ManualSeed(1);
        var (conv, shape) = Make(layer);
        using var _ = conv;
        using var x = Tensors.Randn(shape);
        conv.HoldsPackedWeight.Should().BeFalse();
        ShouldMatch(Packed(conv, x), Plain(conv, x), layer);
        ShouldMatch(Packed(conv, x), Plain(conv, x), layer + ", second call on the kept copy");
    }

    [Fact]
    public void PackedWeight_FollowsInPlaceChangesOptimizerStepsAndLoadedWeights()
    {
        Tensors.ManualSeed(2);
        using var conv = new Conv2d(4, 8, 3, padding: 1);
        using var x = Tensors.Randn(1, 4, 8, 8);
        var before = Packed(conv, x);

        using (Tensors.NoGrad()) conv.Weight.MulInPlace(-2.0);
        var afterInPlace = Packed(conv, x);
        ShouldMatch(afterInPlace, Plain(conv, x), "after an in-place change");
        afterInPlace.Should().NotEqual(before);

        using (var scope = Tensors.NewDisposeScope())
        {
            var sgd = new Sgd(conv.Parameters(), learningRate: 0.5);
            conv.Call(x).Square().Sum().Backward();
            sgd.Step();
        }
        var afterStep = Packed(conv, x);
        ShouldMatch(afterStep, Plain(conv, x), "after an optimizer step");
        afterStep.Should().NotEqual(afterInPlace);

        using var other = new Conv2d(4, 8, 3, padding: 1);
        conv.LoadStateDict(other.StateDict());
        ShouldMatch(Packed(conv, x), Plain(other, x), "after loading another layer's state dict");

        conv.Weight.CopyFrom<float>(new float[conv.Weight.NumElements]);
        var zeroWeight = Packed(conv, x);
        ShouldMatch(zeroWeight, Plain(conv, x), "after CopyFrom");
        zeroWeight.Distinct().Should().BeSubsetOf(conv.Bias!.ToArray<float>(), "a zero weight leaves only the bias");
    }

    [Fact]
    public void PackedWeight_FollowsAConversionRoundTrip()
    {
        // To(...) swaps the weight's data in place without counting a version: float32 → float16 → float32 rounds
        // the weight, and a copy packed before would still hold the unrounded values.
        Tensors.ManualSeed(2);
        using var conv = new Conv2d(8, 16, 3, padding: 1);
        using var x = Tensors.Randn(2, 8, 9, 9);
        var before = Packed(conv, x);
        conv.To(ScalarType.Float16).To(ScalarType.Float32);
        conv.HoldsPackedWeight.Should().BeFalse("To(...) drops the packed copy");
        var after = Packed(conv, x);
        ShouldMatch(after, Plain(conv, x), "the packed copy of the rounded weight");
        after.Zip(before, (a, b) => Math.Abs(a - b)).Max().Should().BeGreaterThan(1e-4f, "float16 rounding changed the weight, so the result must change");
    }

    [Fact]
    public void Training_DoesNotUseTheCopy_AndGradientsStayCorrect()
    {
        Tensors.ManualSeed(3);
        using var conv = new Conv2d(3, 5, 3);
        using var scope = Tensors.NewDisposeScope();
        var x = Tensors.Randn(2, 3, 6, 6);
        var y = conv.Call(x);
        conv.HoldsPackedWeight.Should().BeFalse("the weight needs a gradient");
        y.Sum().Backward();
        conv.Weight.Grad.Should().NotBeNull();

        // a frozen layer fed by a trainable one still needs the plain weight to pass the gradient back
        conv.RequiresGrad(false);
        var xi = Tensors.Randn(2, 3, 6, 6).RequiresGradInPlace();
        conv.Call(xi).Sum().Backward();
        conv.HoldsPackedWeight.Should().BeFalse("the input needs a gradient through this layer");
        xi.Grad.Should().NotBeNull();

        // a frozen weight with a trainable bias still needs the plain path for the bias gradient
        conv.Bias!.RequiresGrad = true;
        conv.Call(Tensors.Randn(2, 3, 6, 6)).Sum().Backward();
        conv.HoldsPackedWeight.Should().BeFalse("the bias needs a gradient");
        conv.Bias.Grad.Should().NotBeNull();

        // a frozen layer whose input needs no gradient can use the copy even with gradients on
        conv.Bias.RequiresGrad = false;
        conv.Call(Tensors.Randn(2, 3, 6, 6));
        conv.HoldsPackedWeight.Should().Be(CanPack);
    }

    [Fact]
    public void Switches_KeepThePlainPath()
    {
        Tensors.ManualSeed(4);
        using var conv = new Conv2d(3, 5, 3);
        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        var x = Tensors.Randn(1, 3, 6, 6);
        var saved = Tensors.PrepackConvolutionWeights;
        try
        {
            Tensors.PrepackConvolutionWeights = false;
            conv.Call(x);
            conv.HoldsPackedWeight.Should().BeFalse("packing is switched off");
            Tensors.PrepackConvolutionWeights = true;
            Tensors.RouteConvolutionsThroughOneDnn = false;
            conv.Call(x);
            conv.HoldsPackedWeight.Should().BeFalse("convolutions are left to libtorch's own choice");
        }
        finally
        {
            Tensors.PrepackConvolutionWeights = saved;
            Tensors.RouteConvolutionsThroughOneDnn = true;
        }
        conv.Call(x);
        conv.HoldsPackedWeight.Should().Be(CanPack);
        conv.ReleasePackedWeight();
        conv.HoldsPackedWeight.Should().BeFalse();
        using var dbl = new Conv2d(3, 5, 3);
        dbl.To(ScalarType.Float64).Should().BeSameAs(dbl);
        dbl.Call(x.To(ScalarType.Float64));
        dbl.HoldsPackedWeight.Should().BeFalse("only float32 weights are packed");
        using var oneD = new Conv1d(3, 5, 3);
        oneD.Call(Tensors.Randn(1, 3, 8));
        oneD.HoldsPackedWeight.Should().BeFalse("1-D convolutions are not packed");
    }

    [Fact]
    public void ConcurrentCalls_GiveTheSerialResults_AndDisposeFreesTheCopy()
    {
        Tensors.ManualSeed(5);
        long baseline = Tensors.LiveTensors;
        var conv = new Conv2d(8, 8, 3, padding: 1);
        using var x = Tensors.Randn(1, 8, 10, 10);
        var serial = Plain(conv, x);
        var results = new float[8][];
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            for (int k = 0; k < 50; k++)
            {
                using var scope = Tensors.NewDisposeScope();
                using var noGrad = Tensors.NoGrad();
                results[i] = conv.Call(x).ToArray<float>();
            }
        });
        foreach (var r in results) ShouldMatch(r, serial, "a concurrent call");
        conv.HoldsPackedWeight.Should().Be(CanPack);
        conv.Dispose();
        Tensors.LiveTensors.Should().Be(baseline + 1, "only the input is still alive once the layer (weight, bias, packed copy) is disposed");
    }
}
