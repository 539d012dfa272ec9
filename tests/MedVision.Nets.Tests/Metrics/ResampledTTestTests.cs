using System.Text.Json;
using MedVision.Nets.Metrics;

namespace MedVision.Nets.Tests.Metrics;

public class ResampledTTestTests
{
    private static readonly Lazy<JsonElement[]> Fixture = new(() => FixtureJson.Load("delong_fixture.json").GetProperty("resampled_ttest").EnumerateArray().ToArray());

    public static TheoryData<string> Cases() => FixtureJson.Names(Fixture.Value);

    // Fixtures/make_delong_fixture.py: numpy's variance and scipy's Student t.
    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_Scipy(string name)
    {
        var c = Fixture.Value.Single(e => e.GetProperty("name").GetString() == name);
        var differences = c.GetProperty("differences").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var result = ResampledTTest.Corrected(differences, c.GetProperty("ratio").GetDouble());
        result.Differences.Should().Equal(differences);
        result.MeanDifference.Should().BeApproximately(c.GetProperty("mean").GetDouble(), 1e-15);
        result.StandardError.Should().BeApproximately(c.GetProperty("se").GetDouble(), 1e-15);
        result.T.Should().BeApproximately(c.GetProperty("t").GetDouble(), 1e-12);
        result.DegreesOfFreedom.Should().Be(differences.Length - 1);
        result.PValue.Should().BeApproximately(c.GetProperty("p").GetDouble(), 1e-10);
        var interval = c.GetProperty("interval").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        result.Interval.Lower.Should().BeApproximately(interval[0], 1e-10);
        result.Interval.Upper.Should().BeApproximately(interval[1], 1e-10);
        result.Warnings.Should().BeEmpty();
    }

    [Fact]
    public void AtTheTablesCriticalValue_PIsFivePercent()
    {
        // Differences 1 ± a, J = 5: mean 1, s² = 4a²/4 = a² for (1 − a, 1, 1, 1, 1 + a) → s² = 2a²/4.
        // Choose a so that t = 1 / √((1/5 + 0.25)·s²) equals t(0.975, 4) = 2.776445105 from the t table.
        const double Critical = 2.776445105197793;
        double s2 = 1 / (Critical * Critical * 0.45);
        double a = Math.Sqrt(2 * s2);
        var result = ResampledTTest.Corrected(new[] { 1 - a, 1, 1, 1, 1 + a }, 0.25);
        result.T.Should().BeApproximately(Critical, 1e-9);
        result.PValue.Should().BeApproximately(0.05, 1e-9);
        result.Interval.Lower.Should().BeApproximately(0, 1e-9, "at p = 0.05 the 95% interval just touches 0");
    }

    [Fact]
    public void TheCorrection_WidensTheStandardErrorByItsFactor()
    {
        double[] d = { 0.02, 0.01, 0.04, 0.03 };
        var plain = ResampledTTest.Corrected(d, 0);
        var corrected = ResampledTTest.Corrected(d, 1.0 / 3);
        (corrected.StandardError / plain.StandardError).Should().BeApproximately(Math.Sqrt((0.25 + (1.0 / 3)) / 0.25), 1e-12);
        corrected.PValue.Should().BeGreaterThan(plain.PValue);
    }

    [Fact]
    public void DifferencesThatDoNotVary_AreSaidSo()
    {
        var zero = ResampledTTest.Corrected(new[] { 0.0, 0.0, 0.0 }, 0.5);
        zero.PValue.Should().Be(1);
        zero.Warnings.Should().ContainSingle().Which.Should().Contain("alike on every fold");
        var constant = ResampledTTest.Corrected(new[] { 0.01, 0.01, 0.01 }, 0.5);
        double.IsNaN(constant.PValue).Should().BeTrue();
        constant.Interval.IsDefined.Should().BeFalse();
        constant.Warnings.Should().ContainSingle().Which.Should().Contain("spread is 0");
    }

    [Fact]
    public void BadInput_IsRefused()
    {
        FluentActions.Invoking(() => ResampledTTest.Corrected(new[] { 0.1 }, 0.25)).Should().Throw<ArgumentException>().WithMessage("*at least two folds*");
        FluentActions.Invoking(() => ResampledTTest.Corrected(new[] { 0.1, double.NaN }, 0.25)).Should().Throw<ArgumentException>().WithMessage("*fold 2 is NaN*");
        FluentActions.Invoking(() => ResampledTTest.Corrected(new[] { 0.1, 0.2 }, -1)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("testToTrainRatio");
        FluentActions.Invoking(() => ResampledTTest.Corrected(new[] { 0.1, 0.2 }, double.PositiveInfinity)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => ResampledTTest.Corrected(new[] { 0.1, 0.2 }, 0.25, level: 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("level");
        FluentActions.Invoking(() => ResampledTTest.Corrected(null!, 0.25)).Should().Throw<ArgumentNullException>();
    }
}
