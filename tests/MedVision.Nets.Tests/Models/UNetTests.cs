using MedVision.Nets.Blocks;
using MedVision.Nets.Losses;
using MedVision.Nets.Models;
using MedVision.Torch;
using MedVision.Torch.Nn;
using MedVision.Torch.Optim;
using MedVision.Torch.Serialization;

namespace MedVision.Nets.Tests.Models;

[Collection(GlobalRandomStateCollection.Name)]
public class UNetTests
{
    // Fixtures/segmentation/make_unet_fixture.py: the same network in PyTorch (same state-dict keys), eval-mode forward.
    [Theory]
    [InlineData("segmentation/unet_2d_batch_transposed.safetensors", 7523L)]
    [InlineData("segmentation/unet_3d_instance_interp.safetensors", 4538L)]
    public void Output_MatchesPyTorchWithTheSameWeights(string fixture, long parameters)
    {
        using var tensors = SafeTensors.Load(TestFixtures.PathOf(fixture));
        using var model = fixture.Contains("2d", StringComparison.Ordinal)
            ? UNet.Builder().ForInput(2).WithFeatures(4, 8, 16).WithClasses(3).Build()
            : UNet.Builder().ForInput(1, spatialDims: 3).WithFeatures(4, 8).WithInstanceNorm().WithLeakyReLU(0.1).WithUpsampling(UNetUpsampling.Interpolation).WithClasses(2).Build();
        model.ParameterCount().Should().Be(parameters, "PyTorch's count for the same network");
        var weights = tensors.Where(kv => kv.Key is not ("input" or "expected")).ToDictionary(kv => kv.Key, kv => kv.Value);
        model.LoadStateDict(weights, strict: true);
        model.Eval();
        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        var output = model.Call(tensors["input"]);
        output.Shape.Should().Equal(tensors["expected"].Shape);
        (output - tensors["expected"]).Abs().Max().Item().Should().BeLessThan(1e-4);
    }

    [Fact]
    public void DefaultNetwork_KeepsTheInputSize_AndSummarisesEveryLevel()
    {
        using var model = UNet.Builder().ForInput(1).WithClasses(4).Build();
        model.Features.Should().Equal(32, 64, 128, 256, 512);
        model.SizeMultiple.Should().Be(16);
        var summary = model.Summary(1, 1, 32, 48);
        summary.TotalParameters.Should().Be(model.ParameterCount());
        summary.Rows.Single(r => r.Name == "encoder4").OutputShape.Should().Equal(1, 512, 2, 3);
        summary.Rows.Single(r => r.Name == "upsample4").OutputShape.Should().Equal(1, 256, 4, 6);
        summary.Rows.Single(r => r.Name == "decoder0").OutputShape.Should().Equal(1, 32, 32, 48);
        summary.Rows.Single(r => r.Name == "head").OutputShape.Should().Equal(1, 4, 32, 48);
    }

    [Fact]
    public void BadInput_IsRefusedWithTheSizeItNeeds()
    {
        using var model = UNet.Builder().ForInput(2, 3).WithFeatures(4, 8, 16).WithClasses(2).Build();
        using var scope = Tensors.NewDisposeScope();
        var act = () => model.Call(Tensors.Zeros(1, 2, 8, 8, 6));
        act.Should().Throw<ArgumentException>().WithMessage("*multiple of 4*[8, 8, 6]*").Which.ParamName.Should().Be("input");
        act = () => model.Call(Tensors.Zeros(1, 1, 8, 8, 8));
        act.Should().Throw<ArgumentException>().WithMessage("*(N, 2, D, H, W)*[1, 1, 8, 8, 8]*");
        act = () => model.Call(Tensors.Zeros(1, 2, 8, 8));
        act.Should().Throw<ArgumentException>().WithMessage("*(N, 2, D, H, W)*");
    }

    [Fact]
    public void Builder_RefusesOptionsThatCannotWork()
    {
        var act = () => UNet.Builder().WithFeatures(8);
        act.Should().Throw<ArgumentException>().WithMessage("*2 to 8 levels*").Which.ParamName.Should().Be("features");
        act = () => UNet.Builder().WithFeatures(8, 0);
        act.Should().Throw<ArgumentException>().WithMessage("*[8, 0]*");
        act = () => UNet.Builder().WithBaseFeatures(4096, 6);
        act.Should().Throw<ArgumentException>().WithMessage("*exceed 65536*");
        act = () => UNet.Builder().ForInput(1, 4);
        act.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("spatialDims");
        act = () => UNet.Builder().WithDropout(1);
        act.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("rate");
        act = () => UNet.Builder().WithLeakyReLU(double.NaN);
        act.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("negativeSlope");
        var ctor = () => new UNet(new UNetOptions { Features = new[] { 4 } });
        ctor.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("Features");
        var builder = UNet.Builder().WithBaseFeatures(2, 2);
        builder.Build().Dispose();
        var reuse = () => builder.Build();
        reuse.Should().Throw<InvalidOperationException>();
        UNet.Builder().WithBaseFeatures(8, 3).Build().Features.Should().Equal(8, 16, 32);
    }

    [Fact]
    public void Training_WithDiceAndCrossEntropy_LearnsToSegmentBrightSquares()
    {
        // Each image: noise plus one bright square at a random place; the label is the square. A small U-Net must
        // learn it in a few dozen Adam steps: the held-out Dice rises from chance to near 1.
        Tensors.ManualSeed(3);   // the initial weights: seeded, so that the run does not depend on the tests before it
        using var model = UNet.Builder().ForInput(1).WithFeatures(8, 16).WithClasses(2).Build();
        using var optimizer = new Adam(model.Parameters(), 0.01);
        var random = new Random(7);
        (Tensor Images, Tensor Labels) Batch(int n)
        {
            var images = new float[n * 16 * 16];
            var labels = new long[n * 16 * 16];
            for (int i = 0; i < n; i++)
            {
                int y0 = random.Next(0, 11), x0 = random.Next(0, 11), size = random.Next(3, 6);
                for (int y = 0; y < 16; y++)
                    for (int x = 0; x < 16; x++)
                    {
                        bool inside = y >= y0 && y < y0 + size && x >= x0 && x < x0 + size;
                        images[(i * 256) + (y * 16) + x] = (float)(random.NextDouble() * 0.6) + (inside ? 0.7f : 0f);
                        labels[(i * 256) + (y * 16) + x] = inside ? 1 : 0;
                    }
            }
            return (Tensors.FromArray(images, n, 1, 16, 16), Tensors.FromArray(labels, n, 16, 16));
        }

        double HeldOutDice()
        {
            using var scope = Tensors.NewDisposeScope();
            using var noGrad = Tensors.NoGrad();
            model.Eval();
            var (images, labels) = Batch(16);
            var predicted = model.Call(images).ArgMax(1);
            var cases = MedVision.Nets.Metrics.Segmentation.SegmentationEvaluator.ForClasses(2).WithoutSurfaceDistances().Evaluate(predicted, labels);
            model.Train();
            return MedVision.Nets.Metrics.Segmentation.SegmentationSummary.Of(cases).MeanDice;
        }

        double before = HeldOutDice();
        for (int step = 0; step < 60; step++)
        {
            using var scope = Tensors.NewDisposeScope();
            var (images, labels) = Batch(8);
            optimizer.ZeroGrad();
            var loss = DiceLoss.WithCrossEntropy(model.Call(images), labels);
            loss.Backward();
            optimizer.Step();
        }
        double after = HeldOutDice();
        before.Should().BeLessThan(0.5);
        after.Should().BeGreaterThan(0.85, $"held-out Dice before training {before:F3}");
    }

    [Fact]
    public void DeepSupervision_GivesLogitsAtEveryHeadsResolution_AndLeavesForwardUnchanged()
    {
        Tensors.ManualSeed(21);
        using var model = UNet.Builder().ForInput(1).WithFeatures(2, 4, 4, 8, 8).WithInstanceNorm().WithClasses(3).WithDeepSupervision().Build();
        model.DeepSupervisionHeads.Should().Be(2, "nnU-Net's choice for five levels: every decoder output below full resolution but the coarsest");
        model.Options.DeepSupervisionHeads.Should().Be(2);
        var names = model.NamedParameters().Select(p => p.Name).ToList();
        names.Should().Contain(["supervision1.weight", "supervision1.bias", "supervision2.weight", "supervision2.bias"]).And.NotContain(n => n.StartsWith("supervision3"));
        model.Eval();
        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        var x = Tensors.Randn(2, 1, 32, 48);
        var outputs = model.ForwardWithDeepSupervision(x);
        outputs.Select(o => o.Shape).Should().BeEquivalentTo(new[] { new long[] { 2, 3, 32, 48 }, [2, 3, 16, 24], [2, 3, 8, 12] }, o => o.WithStrictOrdering());
        (outputs[0] - model.Forward(x)).Abs().Max().Item().Should().Be(0, "the full-resolution output is Forward's");
        // The heads are the 1×1 convolutions of the decoder's features at their level: the same weights without heads give the same logits.
        using var plain = new UNet(new UNetOptions { Features = new[] { 2, 4, 4, 8, 8 }, Normalization = NormalizationKind.Instance, NumClasses = 3 });
        plain.LoadStateDict(model.StateDict().Where(kv => !kv.Key.StartsWith("supervision")).ToDictionary(kv => kv.Key, kv => kv.Value), strict: true);
        plain.Eval();
        (plain.Forward(x) - outputs[0]).Abs().Max().Item().Should().Be(0);
        using var threeD = UNet.Builder().ForInput(2, 3).WithFeatures(2, 4, 4).WithDeepSupervision().Build();
        threeD.DeepSupervisionHeads.Should().Be(1, "at least one head");
        threeD.ForwardWithDeepSupervision(Tensors.Zeros(1, 2, 8, 8, 16)).Select(o => o.Shape).Should().BeEquivalentTo(new[] { new long[] { 1, 2, 8, 8, 16 }, [1, 2, 4, 4, 8] }, o => o.WithStrictOrdering());
        var act = () => plain.ForwardWithDeepSupervision(x);
        act.Should().Throw<InvalidOperationException>().WithMessage("*no deep supervision heads*WithDeepSupervision*");
    }

    [Fact]
    public void DeepSupervision_RefusesHeadsTheDecoderCannotHave()
    {
        var act = () => UNet.Builder().WithFeatures(2, 4).WithDeepSupervision().Build();
        act.Should().Throw<ArgumentException>().WithMessage("*at least three levels*has 2*");
        act = () => UNet.Builder().WithFeatures(2, 4, 8, 16).WithDeepSupervision(3).Build();
        act.Should().Throw<ArgumentException>().WithMessage("*4 levels has 2 decoder output(s) below full resolution*0 to 2*got 3*");
        var zero = () => UNet.Builder().WithDeepSupervision(0);
        zero.Should().Throw<ArgumentException>().WithMessage("*at least one head*");
        var options = () => new UNet(new UNetOptions { DeepSupervisionHeads = -1 });
        options.Should().Throw<ArgumentException>().WithParameterName("DeepSupervisionHeads");
        using var explicitHeads = UNet.Builder().WithFeatures(2, 4, 8, 16).WithDeepSupervision(2).Build();
        explicitHeads.DeepSupervisionHeads.Should().Be(2);
        explicitHeads.Options.Clone().DeepSupervisionHeads.Should().Be(2);
    }
}
