using MedVision.Torch;

namespace MedVision.Torch.Tests.Support;

/// <summary>Tests that touch process-wide state (RNG, thread count, convolution routing, live-tensor counts) run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "Serial (global libtorch state)";
}

/// <summary>Deterministic data and tolerance assertions shared by the tests.</summary>
public static class H
{
    /// <summary>Deterministic uniform values in [lo, hi) from System.Random (independent of libtorch's RNG).</summary>
    public static double[] Uniform(int n, int seed, double lo = -1, double hi = 1)
    {
        var r = new Random(seed);
        var a = new double[n];
        for (int i = 0; i < n; i++) a[i] = lo + (hi - lo) * r.NextDouble();
        return a;
    }

    public static float[] UniformF(int n, int seed, double lo = -1, double hi = 1)
        => Uniform(n, seed, lo, hi).Select(v => (float)v).ToArray();

    public static long Prod(params long[] shape) => shape.Aggregate(1L, (a, b) => a * b);

    public static double[] ToDoubles(Tensor t)
    {
        using var d = t.To(ScalarType.Float64);
        return d.ToArray<double>();
    }

    /// <summary>Asserts |actual − expected| ≤ atol + rtol·|expected| elementwise.</summary>
    public static void Close(IReadOnlyList<double> actual, IReadOnlyList<double> expected, double atol = 1e-5, double rtol = 1e-5, string what = "")
    {
        actual.Count.Should().Be(expected.Count, "element counts of {0} must agree", what);
        double worst = 0; int at = -1;
        for (int i = 0; i < actual.Count; i++)
        {
            var err = Math.Abs(actual[i] - expected[i]) - rtol * Math.Abs(expected[i]);
            if (double.IsNaN(actual[i]) != double.IsNaN(expected[i])) { worst = double.PositiveInfinity; at = i; break; }
            if (err > worst) { worst = err; at = i; }
        }
        if (worst > atol)
            throw new Xunit.Sdk.XunitException($"{what}: element {at} is {actual[at]:R}, expected {expected[at]:R} (excess error {worst:G3} > atol {atol:G3})");
    }

    public static void Close(Tensor actual, IReadOnlyList<double> expected, double atol = 1e-5, double rtol = 1e-5, string what = "")
        => Close(ToDoubles(actual), expected, atol, rtol, what);

    public static void Close(Tensor actual, Tensor expected, double atol = 1e-5, double rtol = 1e-5, string what = "")
    {
        actual.Shape.Should().Equal(expected.Shape, "shapes of {0} must agree", what);
        Close(ToDoubles(actual), ToDoubles(expected), atol, rtol, what);
    }

    public static Tensor F64(double[] data, params long[] shape) => Tensors.FromArray(data, shape);
    public static Tensor F32(double[] data, params long[] shape) => Tensors.FromArray(data.Select(v => (float)v).ToArray(), shape);
}
