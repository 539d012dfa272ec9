using System.Text.Json;
using MedVision.Nets.Losses;
using MedVision.Nets.Tests.Metrics;
using MedVision.Nets.Training;
using MedVision.Torch;
using MedVision.Torch.Autograd;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Tests.Losses;

public class FocalLossTests
{
    private static readonly Lazy<JsonElement> Fixture = new(() => FixtureJson.Load("focal_fixture.json"));

    public static TheoryData<int> SigmoidCases() => Indices("sigmoid");

    public static TheoryData<int> SoftmaxCases() => Indices("softmax");

    private static TheoryData<int> Indices(string kind)
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < Fixture.Value.GetProperty(kind).GetArrayLength(); i++) data.Add(i);
        return data;
    }

    private static double[] Numbers(JsonElement e) => e.EnumerateArray().SelectMany(v => v.ValueKind == JsonValueKind.Array ? Numbers(v) : new[] { v.GetDouble() }).ToArray();

    private static Reduction ReductionOf(JsonElement c) => Enum.Parse<Reduction>(c.GetProperty("reduction").GetString()!, ignoreCase: true);

    // Fixtures/make_focal_fixture.py: torchvision.ops.sigmoid_focal_loss, loss and gradient.
    [Theory]
    [MemberData(nameof(SigmoidCases))]
    public void Sigmoid_MatchesTorchvision(int index)
    {
        var c = Fixture.Value.GetProperty("sigmoid")[index];
        using var scope = Tensors.NewDisposeScope();
        var x = Tensors.FromArray(Numbers(c.GetProperty("logits")), 4, 3).RequiresGradInPlace();
        var t = Tensors.FromArray(Numbers(c.GetProperty("target")), 4, 3);
        double? alpha = c.GetProperty("alpha").ValueKind == JsonValueKind.Null ? null : c.GetProperty("alpha").GetDouble();
        var loss = FocalLoss.Sigmoid(x, t, alpha, c.GetProperty("gamma").GetDouble(), ReductionOf(c));
        Close(loss.ToArray<double>(), Numbers(c.GetProperty("loss")));
        Close(Gradients.Compute(loss.Sum(), x).ToArray<double>(), Numbers(c.GetProperty("grad")));
    }

    // The softmax focal loss written with torch ops; with gamma 0 it equals F.cross_entropy (recorded beside it).
    [Theory]
    [MemberData(nameof(SoftmaxCases))]
    public void Softmax_MatchesPyTorch_AndIsCrossEntropyAtGammaZero(int index)
    {
        var c = Fixture.Value.GetProperty("softmax")[index];
        using var scope = Tensors.NewDisposeScope();
        var x = Tensors.FromArray(Numbers(c.GetProperty("logits")), 6, 4).RequiresGradInPlace();
        var y = Tensors.FromArray(c.GetProperty("target").EnumerateArray().Select(e => e.GetInt64()).ToArray(), 6);
        var weight = c.GetProperty("weight").ValueKind == JsonValueKind.Null ? null : Tensors.FromArray(Numbers(c.GetProperty("weight")), 4);
        double gamma = c.GetProperty("gamma").GetDouble();
        var loss = FocalLoss.Softmax(x, y, gamma, weight, ReductionOf(c));
        Close(loss.ToArray<double>(), Numbers(c.GetProperty("loss")));
        Close(Gradients.Compute(loss.Sum(), x).ToArray<double>(), Numbers(c.GetProperty("grad")));
        if (gamma == 0)
        {
            Close(loss.ToArray<double>(), Numbers(c.GetProperty("cross_entropy")));
            Close(loss.ToArray<double>(), Functional.CrossEntropy(x, y, weight, reduction: ReductionOf(c)).ToArray<double>());
        }
    }

    [Fact]
    public void LargerGamma_DownWeightsConfidentCorrectSamplesMost()
    {
        using var scope = Tensors.NewDisposeScope();
        var logits = Tensors.FromArray(new[] { 4f, 0f, 0f, 0.2f, 0f, 0f }, 2, 3);  // sample 0 confident, sample 1 unsure
        var target = Tensors.FromArray(new long[] { 0, 0 }, 2);
        var ce = FocalLoss.Softmax(logits, target, gamma: 0, reduction: Reduction.None).ToArray<float>();
        var focal = FocalLoss.Softmax(logits, target, gamma: 2, reduction: Reduction.None).ToArray<float>();
        (focal[0] / ce[0]).Should().BeLessThan(0.01f);
        (focal[1] / ce[1]).Should().BeGreaterThan(0.3f);
    }

    [Fact]
    public void BadInput_GetsClearExceptions()
    {
        using var scope = Tensors.NewDisposeScope();
        var logits = Tensors.Randn(3, 4);
        var target = Tensors.FromArray(new long[] { 0, 1, 2 }, 3);
        FluentActions.Invoking(() => FocalLoss.Softmax(logits, target, gamma: -1)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*gamma*");
        FluentActions.Invoking(() => FocalLoss.Softmax(logits, Tensors.FromArray(new long[] { 0, 4, 1 }, 3))).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*class 4 is outside [0, 4)*");
        FluentActions.Invoking(() => FocalLoss.Softmax(logits, Tensors.FromArray(new long[] { 0, 1 }, 2))).Should().Throw<ArgumentException>().WithMessage("*(N) = (3)*");
        FluentActions.Invoking(() => FocalLoss.Softmax(logits, target.To(ScalarType.Float32))).Should().Throw<ArgumentException>().WithMessage("*int64*");
        FluentActions.Invoking(() => FocalLoss.Softmax(logits, target, weight: Tensors.Ones(3))).Should().Throw<ArgumentException>().WithMessage("*Class weights must be (4)*");
        FluentActions.Invoking(() => FocalLoss.Sigmoid(logits, Tensors.Zeros(3, 3))).Should().Throw<ArgumentException>().WithMessage("*logits' shape*");
        FluentActions.Invoking(() => FocalLoss.Sigmoid(logits, Tensors.Zeros(3, 4), alpha: 1.5)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*alpha*");
    }

    [Fact]
    public void ClassificationTask_TrainsWithAFocalLossComposite()
    {
        Tensors.ManualSeed(0);
        using var model = new Linear(5, 3);
        var loss = LossComposite.For<(Tensor Logits, Tensor Labels)>().Add("focal", o => FocalLoss.Softmax(o.Logits, o.Labels, gamma: 2)).Build();
        var task = new ClassificationTask(model, MedVision.Nets.Metrics.MedMnistTask.MultiClass, loss);
        using var scope = Tensors.NewDisposeScope();
        var images = Tensors.Randn(8, 5);
        var labels = Tensors.FromArray(new long[] { 0, 1, 2, 0, 1, 2, 0, 1 }, 8);
        using var batch = new MedVision.Nets.Data.Loading.Batch(images, labels, new int[8, 1], Enumerable.Range(0, 8).ToArray());
        var value = task.ComputeLoss(batch, epoch: 0);
        using var noGrad = Tensors.NoGrad();
        value.Total.Item().Should().BeApproximately(FocalLoss.Softmax(model.Call(images), labels, gamma: 2).Item(), 1e-6);
        value.Terms.Should().ContainKey("focal");
    }

    private static void Close(double[] actual, double[] expected)
    {
        actual.Should().HaveCount(expected.Length);
        for (int i = 0; i < actual.Length; i++) actual[i].Should().BeApproximately(expected[i], 1e-10, $"element {i}");
    }
}
