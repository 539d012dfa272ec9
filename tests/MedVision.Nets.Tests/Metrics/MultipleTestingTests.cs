using System.Text.Json;
using FluentAssertions;
using MedVision.Nets.Metrics;
using Xunit;

namespace MedVision.Nets.Tests.Metrics;

/// <summary><see cref="MultipleTesting"/> against statsmodels' multipletests (Fixtures/make_multiple_testing_fixture.py).</summary>
public sealed class MultipleTestingTests
{
    private static readonly Lazy<JsonElement[]> Cases = new(() => FixtureJson.Load("multiple_testing_fixture.json").GetProperty("cases").EnumerateArray().ToArray());

    public static TheoryData<string> Names() => FixtureJson.Names(Cases.Value);

    private static double[] Values(JsonElement array) => array.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Null ? double.NaN : e.GetDouble()).ToArray();

    [Theory]
    [MemberData(nameof(Names))]
    public void AdjustedPValuesAreStatsmodels(string name)
    {
        var c = Cases.Value.Single(x => x.GetProperty("name").GetString() == name);
        var p = Values(c.GetProperty("p"));
        foreach (var method in Enum.GetValues<MultipleTestingMethod>())
        {
            var expected = Values(c.GetProperty(method.ToString()));
            var adjusted = MultipleTesting.Adjust(p, method);
            adjusted.Should().HaveCount(p.Length);
            for (int i = 0; i < p.Length; i++)
            {
                if (double.IsNaN(expected[i])) double.IsNaN(adjusted[i]).Should().BeTrue($"{method}: p-value {i} was not a test");
                else adjusted[i].Should().BeApproximately(expected[i], 1e-12, $"{method}, p-value {i}");
            }
        }
    }

    [Fact]
    public void HolmLiesBetweenTheRawAndBonferroniAndBadInputIsRefused()
    {
        double[] p = { 0.038, 0.21, 0.0009, 0.47, 0.012 };
        var holm = MultipleTesting.Adjust(p);
        var bonferroni = MultipleTesting.Adjust(p, MultipleTestingMethod.Bonferroni);
        for (int i = 0; i < p.Length; i++)
        {
            holm[i].Should().BeGreaterThanOrEqualTo(p[i]);
            holm[i].Should().BeLessThanOrEqualTo(bonferroni[i]);
        }
        holm[2].Should().BeApproximately(5 * 0.0009, 1e-15, "the smallest p-value is multiplied by the number of tests");
        MultipleTesting.Adjust(Array.Empty<double>()).Should().BeEmpty();
        FluentActions.Invoking(() => MultipleTesting.Adjust(new[] { 0.5, 1.2 })).Should().Throw<ArgumentOutOfRangeException>().WithMessage("p-value 1 is 1.2; p-values lie in [0, 1]*");
        FluentActions.Invoking(() => MultipleTesting.Adjust(new[] { -0.1 })).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => MultipleTesting.Adjust(p, (MultipleTestingMethod)7)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void DeLongComparisonsAdjustTheirPerClassPValues()
    {
        var random = new Random(3);
        int n = 300;
        var labels = new int[n, 1];
        var a = new double[n, 4];
        var b = new double[n, 4];
        for (int i = 0; i < n; i++)
        {
            labels[i, 0] = i % 4;
            for (int k = 0; k < 4; k++)
            {
                a[i, k] = random.NextDouble() + (k == labels[i, 0] ? 0.6 : 0);
                b[i, k] = random.NextDouble() + (k == labels[i, 0] ? 0.3 : 0);
            }
        }
        var comparison = DeLong.Compare(MedMnistTask.MultiClass, labels, a, b);
        var raw = comparison.PerClass.Select(c => c.PValue).ToArray();
        comparison.AdjustedPerClassPValues().Should().Equal(MultipleTesting.Adjust(raw, MultipleTestingMethod.Holm));
        comparison.AdjustedPerClassPValues(MultipleTestingMethod.BenjaminiHochberg).Should().Equal(MultipleTesting.Adjust(raw, MultipleTestingMethod.BenjaminiHochberg));
        comparison.AdjustedPerClassPValues().Should().OnlyContain(p => p >= 0 && p <= 1);
    }
}
