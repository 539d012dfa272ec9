using MedVision.Nets.Data.Loading;
using MedVision.Nets.Metrics;
using MedVision.Nets.Training;
using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Tests.Training;

public sealed class ClassWeightsTests
{
    [Fact]
    public void Balanced_IsScikitLearnsBalancedWeight()
    {
        // compute_class_weight("balanced", classes=[0, 1, 2], y=[0, 0, 0, 1, 2, 2]) = 6 / (3 · [3, 1, 2]) = [2/3, 2, 1].
        ClassWeights.Balanced([0, 0, 0, 1, 2, 2], 3).Should().BeEquivalentTo(new[] { 2f / 3, 2f, 1f }, o => o.WithStrictOrdering().Using<float>(c => c.Subject.Should().BeApproximately(c.Expectation, 1e-6f)).WhenTypeIs<float>());
        ClassWeights.Balanced([1, 0, 1, 0], 2).Should().Equal(1f, 1f);
    }

    [Fact]
    public void Balanced_RefusesLabelsItCannotWeigh()
    {
        FluentActions.Invoking(() => ClassWeights.Balanced([0, 3], 3)).Should().Throw<ArgumentException>().WithMessage("Label 1 is 3, outside the 3 classes 0 … 2.*");
        FluentActions.Invoking(() => ClassWeights.Balanced([0, 0, 2], 3)).Should().Throw<ArgumentException>().WithMessage("Class 1 has no label among the 3*");
        FluentActions.Invoking(() => ClassWeights.Balanced([], 2)).Should().Throw<ArgumentException>().WithMessage("There are no labels*");
        FluentActions.Invoking(() => ClassWeights.Balanced([0], 0)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void ClassificationTask_WeighsEachImageByItsClass_AsCrossEntropyLossDoes()
    {
        using var scope = Tensors.NewDisposeScope();
        // Identity "network": the images are the logits.
        using var identity = new Identity();
        float[] logits = [2f, 0f, -1f, 0.5f, 0.5f, 0f, -1f, 1f, 3f, 0f, 0f, 0f];
        int[] labels = [0, 2, 1, 1];
        var weights = ClassWeights.Balanced(labels, 3);   // 4 / (3 · [1, 2, 1]) = [4/3, 2/3, 4/3]
        using var batch = new Batch(Tensors.FromArray(logits).Reshape(4, 3), Tensors.FromArray(labels.Select(l => (long)l).ToArray()), new int[4, 1], [0, 1, 2, 3]);
        using var w = Tensors.FromArray(weights);
        using var loss = new ClassificationTask(identity, MedMnistTask.MultiClass, w).ComputeLoss(batch, 0);
        // torch.nn.CrossEntropyLoss(weight=w): Σ w_y · (−log softmax(x)_y) / Σ w_y.
        double numerator = 0, denominator = 0;
        for (int i = 0; i < 4; i++)
        {
            var row = logits.Skip(3 * i).Take(3).Select(v => (double)v).ToArray();
            double logSum = Math.Log(row.Sum(Math.Exp));
            numerator += weights[labels[i]] * (logSum - row[labels[i]]);
            denominator += weights[labels[i]];
        }
        loss.Total.Item<float>().Should().BeApproximately((float)(numerator / denominator), 1e-5f);
        using var plain = new ClassificationTask(identity, MedMnistTask.MultiClass).ComputeLoss(batch, 0);
        plain.Total.Item<float>().Should().NotBeApproximately(loss.Total.Item<float>(), 1e-3f, "the weights change the mean");
    }
}
