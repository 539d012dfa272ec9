using MedVision.Nets.Losses;
using MedVision.Nets.Data.Loading;
using MedVision.Nets.Metrics;
using MedVision.Nets.Training;
using MedVision.Torch;
using MedVision.Torch.Nn;
using F = MedVision.Torch.Nn.Functional;

namespace MedVision.Nets.Tests.Training;

[Collection(GlobalRandomStateCollection.Name)]
public sealed class BatchMixingTests
{
    private static double[] D(Tensor t) => t.To(ScalarType.Float64).ToArray<double>();

    [Theory]
    [InlineData(0.2)]
    [InlineData(2.0)]
    public void Lambda_FollowsBetaAlphaAlpha(double alpha)
    {
        Tensors.ManualSeed(1);
        var draws = Enumerable.Range(0, 4000).Select(_ => BatchMixing.SampleBeta(alpha)).ToArray();
        draws.Should().OnlyContain(x => x >= 0 && x <= 1);
        double mean = draws.Average(), variance = draws.Select(x => (x - mean) * (x - mean)).Average();
        mean.Should().BeApproximately(0.5, 0.02);
        variance.Should().BeApproximately(1 / (4 * (2 * alpha + 1)), 0.012, "Var Beta(α, α) = 1 / (4 (2α + 1))");
    }

    [Fact]
    public void Mixup_IsTheConvexCombinationWithAPermutation_AndReproducibleUnderASeed()
    {
        using var scope = Tensors.NewDisposeScope();
        var images = Tensors.Randn(8, 3, 5, 5);
        Tensors.ManualSeed(3);
        var (mixed, partners, lambda) = BatchMixing.Mixup(0.4).Apply(images)!.Value;
        D(partners).Select(v => (int)v).Should().BeEquivalentTo(Enumerable.Range(0, 8));
        var expected = images * lambda + images.IndexSelect(0, partners) * (1 - lambda);
        D(mixed).Zip(D(expected), (a, b) => Math.Abs(a - b)).Max().Should().BeLessThan(1e-6);
        lambda.Should().BeInRange(0, 1);

        Tensors.ManualSeed(3);
        var again = BatchMixing.Mixup(0.4).Apply(images)!.Value;
        again.Lambda.Should().Be(lambda);
        D(again.Partners).Should().Equal(D(partners));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void CutMix_PastesOneBoxFromThePartner_WhoseAreaIsOneMinusLambda(int spatial)
    {
        using var scope = Tensors.NewDisposeScope();
        Tensors.ManualSeed((ulong)spatial);
        var shape = spatial == 2 ? new long[] { 6, 2, 12, 10 } : new long[] { 6, 1, 8, 6, 7 };
        var images = Tensors.Randn(shape);
        int voxels = (int)shape.Skip(2).Aggregate(1L, (a, b) => a * b), channels = (int)shape[1];
        for (int trial = 0; trial < 10; trial++)
        {
            var (mixed, partners, lambda) = BatchMixing.CutMix(1.0).Apply(images)!.Value;
            var own = D(images);
            var partner = D(images.IndexSelect(0, partners));
            var result = D(mixed);
            var p = D(partners).Select(v => (int)v).ToArray();
            for (int n = 0; n < shape[0]; n++)
            {
                if (p[n] == n) continue; // mixed with itself: nothing to see
                int fromPartner = 0;
                for (int v = 0; v < voxels; v++)
                {
                    bool isPartner = true, isOwn = true;
                    for (int c = 0; c < channels; c++)
                    {
                        int i = (n * channels + c) * voxels + v;
                        isPartner &= result[i] == partner[i];
                        isOwn &= result[i] == own[i];
                    }
                    (isPartner || isOwn).Should().BeTrue("every voxel comes whole from one of the two images");
                    if (isPartner && !isOwn) fromPartner++;
                }
                ((double)fromPartner / voxels).Should().BeApproximately(1 - lambda, 1e-12, "λ is corrected to the box's exact area");
            }
        }
    }

    private sealed class Linear2 : Module<Tensor, Tensor>
    {
        private readonly Linear _fc;
        public Linear2(int classes) => _fc = RegisterModule("fc", new Linear(2 * 4 * 4, classes));
        public override Tensor Forward(Tensor input) => _fc.Call(input.Flatten(1));
    }

    private static Batch MakeBatch(Tensor images, Tensor labels, int[,] values) => new(images, labels, values, Enumerable.Range(0, values.GetLength(0)).ToArray());

    [Fact]
    public void ClassificationLoss_IsLambdaWeightedOverBothLabels_OnlyInTraining()
    {
        using var scope = Tensors.NewDisposeScope();
        Tensors.ManualSeed(4);
        using var model = new Linear2(3);
        var images = Tensors.Randn(6, 2, 4, 4);
        var labels = Tensors.FromArray(new long[] { 0, 1, 2, 0, 1, 2 });
        using var batch = MakeBatch(images, labels, new int[6, 1]);
        var task = new ClassificationTask(model, MedMnistTask.MultiClass).WithBatchMixing(BatchMixing.Mixup(0.3));
        task.Mixing!.Kind.Should().Be(BatchMixingKind.Mixup);

        Tensors.ManualSeed(10);
        var (mixed, partners, lambda) = BatchMixing.Mixup(0.3).Apply(images)!.Value;
        var logits = model.Call(mixed);
        double expected = lambda * F.CrossEntropy(logits, labels).Item() + (1 - lambda) * F.CrossEntropy(logits, labels.IndexSelect(0, partners)).Item();
        Tensors.ManualSeed(10);
        using var value = task.ComputeLoss(batch, 0);
        value.Total.Item().Should().BeApproximately(expected, 1e-6);
        value.Terms["cross_entropy"].Should().BeApproximately(expected, 1e-6);
        lambda.Should().NotBe(1.0);

        model.Eval();
        using var evaluation = task.ComputeLoss(batch, 0);
        evaluation.Total.Item().Should().BeApproximately(F.CrossEntropy(model.Call(images), labels).Item(), 1e-6, "evaluation batches are not mixed");
    }

    [Fact]
    public void CoralLoss_IsLambdaWeightedOverBothGrades_OnlyInTraining()
    {
        using var scope = Tensors.NewDisposeScope();
        Tensors.ManualSeed(4);
        using var model = new Linear2(3);   // 3 cumulative logits: 4 grades
        var images = Tensors.Randn(6, 2, 4, 4);
        var grades = Tensors.FromArray(new long[] { 0, 1, 2, 3, 1, 2 });
        using var batch = MakeBatch(images, grades, new int[6, 1]);
        var task = new CoralTask(model).WithBatchMixing(BatchMixing.Mixup(0.3));
        task.Mixing!.Kind.Should().Be(BatchMixingKind.Mixup);

        Tensors.ManualSeed(10);
        var (mixed, partners, lambda) = BatchMixing.Mixup(0.3).Apply(images)!.Value;
        var logits = model.Call(mixed);
        double expected = lambda * CoralLoss.Compute(logits, grades).Item() + (1 - lambda) * CoralLoss.Compute(logits, grades.IndexSelect(0, partners)).Item();
        Tensors.ManualSeed(10);
        using var value = task.ComputeLoss(batch, 0);
        value.Total.Item().Should().BeApproximately(expected, 1e-6);
        value.Terms["coral"].Should().BeApproximately(expected, 1e-6);
        lambda.Should().NotBe(1.0);

        model.Eval();
        using var evaluation = task.ComputeLoss(batch, 0);
        evaluation.Total.Item().Should().BeApproximately(CoralLoss.Compute(model.Call(images), grades).Item(), 1e-6, "evaluation batches are not mixed");
    }

    [Fact]
    public void MultiLabelLoss_UsesTheMixedLabelVectors()
    {
        using var scope = Tensors.NewDisposeScope();
        Tensors.ManualSeed(5);
        using var model = new Linear2(4);
        var images = Tensors.Randn(5, 2, 4, 4);
        var labels = Tensors.FromArray(new float[] { 1, 0, 0, 1, 0, 1, 1, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 1 }, 5, 4);
        using var batch = MakeBatch(images, labels, new int[5, 4]);
        var task = new ClassificationTask(model, MedMnistTask.MultiLabel).WithBatchMixing(BatchMixing.CutMix());

        Tensors.ManualSeed(11);
        var (mixed, partners, lambda) = BatchMixing.CutMix().Apply(images)!.Value;
        var soft = labels * lambda + labels.IndexSelect(0, partners) * (1 - lambda);
        double expected = F.BinaryCrossEntropyWithLogits(model.Call(mixed), soft).Item();
        Tensors.ManualSeed(11);
        using var value = task.ComputeLoss(batch, 0);
        value.Total.Item().Should().BeApproximately(expected, 1e-6);
    }

    [Fact]
    public void BadSettings_AreRefused_AndSingleSamplesStayUnmixed()
    {
        var alpha = () => BatchMixing.Mixup(0);
        alpha.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*α*");
        var probability = () => BatchMixing.CutMix(1, probability: 0);
        probability.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*probability*");
        using var scope = Tensors.NewDisposeScope();
        BatchMixing.Mixup().Apply(Tensors.Zeros(1, 3, 4, 4)).Should().BeNull();
        var flat = () => BatchMixing.Mixup().Apply(Tensors.Zeros(4, 3));
        flat.Should().Throw<ArgumentException>().WithMessage("*(N, C, H, W)*");
    }
}
