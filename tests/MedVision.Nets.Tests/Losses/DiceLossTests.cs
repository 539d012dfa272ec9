using System.Text.Json;
using MedVision.Nets.Losses;
using MedVision.Nets.Tests.Metrics;
using MedVision.Torch;
using MedVision.Torch.Autograd;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Tests.Losses;

public class DiceLossTests
{
    // Fixtures/segmentation/make_segmentation_fixture.py: MONAI's DiceLoss/DiceCELoss formulas in PyTorch, with autograd gradients.
    private static readonly Lazy<JsonElement> Fixture = new(() => FixtureJson.Load("segmentation/segmentation_fixture.json"));

    public static TheoryData<int> DiceCases() => Indices("dice_loss");

    public static TheoryData<int> DiceCrossEntropyCases() => Indices("dice_ce");

    public static TheoryData<int> OverlapCases() => Indices("overlap_losses");

    private static TheoryData<int> Indices(string kind)
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < Fixture.Value.GetProperty(kind).GetArrayLength(); i++) data.Add(i);
        return data;
    }

    private static double[] Numbers(JsonElement e) => e.EnumerateArray().Select(v => v.GetDouble()).ToArray();

    private static long[] Shape(JsonElement e) => e.EnumerateArray().Select(v => v.GetInt64()).ToArray();

    [Theory]
    [MemberData(nameof(DiceCases))]
    public void Dice_MatchesTheReferenceFormula_ValueAndGradient(int index)
    {
        var c = Fixture.Value.GetProperty("dice_loss")[index];
        using var scope = Tensors.NewDisposeScope();
        var shape = Shape(c.GetProperty("shape"));
        var x = Tensors.FromArray(Numbers(c.GetProperty("logits")), shape).RequiresGradInPlace();
        var t = c.GetProperty("target");
        var target = t.GetProperty("kind").GetString() == "float"
            ? Tensors.FromArray(Numbers(t.GetProperty("values")), shape)
            : Tensors.FromArray(t.GetProperty("values").EnumerateArray().Select(v => v.GetInt64()).ToArray(), Shape(t.GetProperty("shape")));
        var activation = c.GetProperty("activation").GetString() switch { "softmax" => DiceActivation.Softmax, "sigmoid" => DiceActivation.Sigmoid, _ => DiceActivation.None };
        var loss = DiceLoss.Compute(x, target, activation, c.GetProperty("include_background").GetBoolean(), c.GetProperty("squared").GetBoolean(),
            c.GetProperty("jaccard").GetBoolean(), c.GetProperty("batch").GetBoolean(), c.GetProperty("smooth_nr").GetDouble(), c.GetProperty("smooth_dr").GetDouble(),
            Enum.Parse<Reduction>(c.GetProperty("reduction").GetString()!, ignoreCase: true));
        loss.Shape.Should().Equal(Shape(c.GetProperty("loss_shape")));
        Close(loss.ToArray<double>(), Numbers(c.GetProperty("loss")), 1e-6);
        Close(Gradients.Compute(loss.Sum(), x).ToArray<double>(), Numbers(c.GetProperty("grad")), 1e-6);
    }

    [Theory]
    [MemberData(nameof(DiceCrossEntropyCases))]
    public void DiceWithCrossEntropy_MatchesMonaisDiceCe(int index)
    {
        var c = Fixture.Value.GetProperty("dice_ce")[index];
        using var scope = Tensors.NewDisposeScope();
        var shape = Shape(c.GetProperty("shape"));
        var x = Tensors.FromArray(Numbers(c.GetProperty("logits")), shape).RequiresGradInPlace();
        var target = Tensors.FromArray(c.GetProperty("target").EnumerateArray().Select(v => v.GetInt64()).ToArray(), shape.Where((_, i) => i != 1).ToArray());
        var weight = c.GetProperty("class_weight").ValueKind == JsonValueKind.Null ? null : Tensors.FromArray(Numbers(c.GetProperty("class_weight")), shape[1]);
        var loss = DiceLoss.WithCrossEntropy(x, target, c.GetProperty("dice_weight").GetDouble(), c.GetProperty("ce_weight").GetDouble(),
            c.GetProperty("include_background").GetBoolean(), classWeight: weight);
        loss.Item().Should().BeApproximately(c.GetProperty("loss").GetDouble(), 1e-6);
        Close(Gradients.Compute(loss, x).ToArray<double>(), Numbers(c.GetProperty("grad")), 1e-6);
    }

    [Theory]
    [MemberData(nameof(OverlapCases))]
    public void TverskyAndGeneralizedDice_MatchMonaisFormulas_ValueAndGradient(int index)
    {
        var c = Fixture.Value.GetProperty("overlap_losses")[index];
        using var scope = Tensors.NewDisposeScope();
        var shape = Shape(c.GetProperty("shape"));
        var x = Tensors.FromArray(Numbers(c.GetProperty("logits")), shape).RequiresGradInPlace();
        var target = Tensors.FromArray(c.GetProperty("target").EnumerateArray().Select(v => v.GetInt64()).ToArray(), shape.Where((_, i) => i != 1).ToArray());
        var activation = c.GetProperty("activation").GetString() == "sigmoid" ? DiceActivation.Sigmoid : DiceActivation.Softmax;
        var reduction = Enum.Parse<Reduction>(c.GetProperty("reduction").GetString()!, ignoreCase: true);
        bool background = c.GetProperty("include_background").GetBoolean(), batch = c.GetProperty("batch").GetBoolean();
        var loss = c.GetProperty("kind").GetString() == "tversky"
            ? DiceLoss.Tversky(x, target, c.GetProperty("alpha").GetDouble(), c.GetProperty("beta").GetDouble(), activation, background, batch, reduction: reduction)
            : DiceLoss.Generalized(x, target, activation, background, batch, reduction: reduction);
        loss.Shape.Should().Equal(Shape(c.GetProperty("loss_shape")));
        Close(loss.ToArray<double>(), Numbers(c.GetProperty("loss")), 1e-6);
        Close(Gradients.Compute(loss.Sum(), x).ToArray<double>(), Numbers(c.GetProperty("grad")), 1e-6);
    }

    [Fact]
    public void Tversky_WithEqualWeightsOfOneHalf_IsTheDiceLoss()
    {
        using var scope = Tensors.NewDisposeScope();
        var logits = Tensors.Randn(2, 3, 5, 4);
        var labels = Tensors.RandInt(0, 3, new long[] { 2, 5, 4 });
        DiceLoss.Tversky(logits, labels, 0.5, 0.5, smoothNumerator: 0, smoothDenominator: 0).Item()
            .Should().BeApproximately(DiceLoss.Compute(logits, labels, smoothNumerator: 0, smoothDenominator: 0).Item(), 1e-6);
        var act = () => DiceLoss.Tversky(logits, labels, alpha: -0.1);
        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("alpha");
        act = () => DiceLoss.Generalized(logits, Tensors.Full(new long[] { 2, 5, 4 }, 3, ScalarType.Int64));
        act.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*Class index 3 is outside [0, 3)*");
    }

    [Fact]
    public void Dice_IsZeroForAPerfectPrediction_AndOneForADisjointOne()
    {
        using var scope = Tensors.NewDisposeScope();
        // One image, two classes, four pixels: truth 0 0 1 1. Probabilities exactly one-hot (activation none).
        var truth = Tensors.FromArray(new long[] { 0, 0, 1, 1 }, 1, 2, 2);
        var perfect = Tensors.FromArray(new double[] { 1, 1, 0, 0, 0, 0, 1, 1 }, 1, 2, 2, 2);
        var swapped = Tensors.FromArray(new double[] { 0, 0, 1, 1, 1, 1, 0, 0 }, 1, 2, 2, 2);
        DiceLoss.Compute(perfect, truth, DiceActivation.None).Item().Should().BeApproximately(0, 1e-5);
        DiceLoss.Compute(swapped, truth, DiceActivation.None).Item().Should().BeApproximately(1, 1e-5);
        // Half right in class 1: p = (0, 1, 0, 1) → I = 1, Σp = 2, Σg = 2 → 1 − 2/4; class 0 the same.
        var half = Tensors.FromArray(new double[] { 1, 0, 1, 0, 0, 1, 0, 1 }, 1, 2, 2, 2);
        DiceLoss.Compute(half, truth, DiceActivation.None, smoothNumerator: 0, smoothDenominator: 0).Item().Should().BeApproximately(0.5, 1e-12);
        DiceLoss.Compute(half, truth, DiceActivation.None, jaccard: true, smoothNumerator: 0, smoothDenominator: 0).Item()
            .Should().BeApproximately(1 - (1.0 / 3), 1e-12, "IoU = 1 / (2 + 2 − 1)");
    }

    [Fact]
    public void ClassIndicesWithAChannelAxis_GiveTheSameLossAsWithout()
    {
        using var scope = Tensors.NewDisposeScope();
        var logits = Tensors.Randn(2, 3, 4, 4);
        var indices = Tensors.RandInt(0, 3, new long[] { 2, 4, 4 });
        var a = DiceLoss.Compute(logits, indices).Item();
        DiceLoss.Compute(logits, indices.Unsqueeze(1)).Item().Should().Be(a);
        DiceLoss.Compute(logits, indices.To(ScalarType.Int32)).Item().Should().Be(a);
        DiceLoss.Compute(logits, indices.OneHot(3).Permute(0, 3, 1, 2).To(ScalarType.Float32)).Item().Should().BeApproximately(a, 1e-6, "a one-hot target is the same target");
    }

    [Fact]
    public void BadTargets_AreRefusedByName()
    {
        using var scope = Tensors.NewDisposeScope();
        var logits = Tensors.Zeros(2, 3, 4, 4);
        var act = () => DiceLoss.Compute(logits, Tensors.Full(new long[] { 2, 4, 4 }, 3, ScalarType.Int64));
        act.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*Class index 3 is outside [0, 3)*").Which.ParamName.Should().Be("target");
        act = () => DiceLoss.Compute(logits, Tensors.Zeros(new long[] { 2, 4, 5 }, ScalarType.Int64));
        act.Should().Throw<ArgumentException>().WithMessage("*Class indices must be (N, spatial…) = (2, 4, 4)*[2, 4, 5]*");
        act = () => DiceLoss.Compute(logits, Tensors.Zeros(2, 4, 4));
        act.Should().Throw<ArgumentException>().WithMessage("*floating-point target must have the output's shape*");
        act = () => DiceLoss.Compute(Tensors.Zeros(2, 1, 4, 4), Tensors.Zeros(new long[] { 2, 4, 4 }, ScalarType.Int64));
        act.Should().Throw<ArgumentException>().WithMessage("*softmax over one channel*");
        act = () => DiceLoss.Compute(Tensors.Zeros(2, 1, 4, 4), Tensors.Zeros(new long[] { 2, 4, 4 }, ScalarType.Int64), DiceActivation.Sigmoid, includeBackground: false);
        act.Should().Throw<ArgumentException>().WithMessage("*background out needs at least two channels*");
        act = () => DiceLoss.Compute(Tensors.Zeros(2, 1, 4, 4), Tensors.Full(new long[] { 2, 4, 4 }, 2, ScalarType.Int64), DiceActivation.Sigmoid);
        act.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*outside [0, 2)*indices 0 or 1*");
        act = () => DiceLoss.Compute(logits, Tensors.Zeros(new long[] { 2, 4, 4 }, ScalarType.Int64), DiceActivation.Sigmoid);
        act.Should().Throw<ArgumentException>().WithMessage("*labels may overlap*");
        act = () => DiceLoss.Compute(Tensors.Zeros(6, 3), Tensors.Zeros(new long[] { 6 }, ScalarType.Int64));
        act.Should().Throw<ArgumentException>().WithMessage("*(N, C, spatial…)*");
        act = () => DiceLoss.Compute(logits, Tensors.Zeros(new long[] { 2, 4, 4 }, ScalarType.Int64), smoothDenominator: double.NaN);
        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("smoothDenominator");
        act = () => DiceLoss.WithCrossEntropy(logits, Tensors.Zeros(2, 4, 4));
        act.Should().Throw<ArgumentException>().WithMessage("*class indices of an integer type*");
        act = () => DiceLoss.WithCrossEntropy(logits, Tensors.Zeros(new long[] { 2, 4, 4 }, ScalarType.Int64), diceWeight: -1);
        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("diceWeight");
        act = () => DiceLoss.WithCrossEntropy(logits, Tensors.Zeros(new long[] { 2, 4, 4 }, ScalarType.Int64), classWeight: Tensors.Ones(2));
        act.Should().Throw<ArgumentException>().WithMessage("*Class weights must be (3)*");
    }

    private static void Close(double[] actual, double[] expected, double tolerance)
    {
        actual.Should().HaveCount(expected.Length);
        for (int i = 0; i < actual.Length; i++) actual[i].Should().BeApproximately(expected[i], tolerance, $"element {i}");
    }
}
