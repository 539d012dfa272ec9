using MedVision.Nets.Metrics;
using System.Text.Json;

namespace MedVision.Nets.Tests.Metrics;

/// <summary>Reads Fixtures/metric_fixtures.json, written by make_metric_fixtures.py from scikit-learn.</summary>
internal static class MetricFixture
{
    public const double Tolerance = 1e-9;

    private static readonly Lazy<JsonDocument> Document = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "metric_fixtures.json"))));

    public static JsonElement Root => Document.Value.RootElement;

    public static IEnumerable<JsonElement> Cases => Root.GetProperty("cases").EnumerateArray();

    public static JsonElement Case(string name) => Cases.Single(c => c.GetProperty("name").GetString() == name);

    public static TheoryData<string> Names(Func<JsonElement, bool> filter)
    {
        var data = new TheoryData<string>();
        foreach (var c in Cases.Where(filter))
        {
            data.Add(c.GetProperty("name").GetString()!);
        }

        return data;
    }

    public static MedMnistTask Task(JsonElement c) => Enum.Parse<MedMnistTask>(c.GetProperty("task").GetString()!);

    public static double Number(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Number => e.GetDouble(),
        JsonValueKind.String => e.GetString() switch
        {
            "NaN" => double.NaN,
            "Infinity" => double.PositiveInfinity,
            "-Infinity" => double.NegativeInfinity,
            var s => throw new FormatException($"Not a number: {s}"),
        },
        _ => throw new FormatException($"Not a number: {e}"),
    };

    public static double[] Vector(JsonElement e) => e.EnumerateArray().Select(Number).ToArray();

    public static int[] IntVector(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();

    public static double[,] Matrix(JsonElement e)
    {
        var rows = e.EnumerateArray().Select(Vector).ToArray();
        var m = new double[rows.Length, rows[0].Length];
        for (int i = 0; i < rows.Length; i++)
        {
            for (int j = 0; j < rows[i].Length; j++)
            {
                m[i, j] = rows[i][j];
            }
        }

        return m;
    }

    public static int[,] IntMatrix(JsonElement e)
    {
        var rows = e.EnumerateArray().Select(IntVector).ToArray();
        var m = new int[rows.Length, rows[0].Length];
        for (int i = 0; i < rows.Length; i++)
        {
            for (int j = 0; j < rows[i].Length; j++)
            {
                m[i, j] = rows[i][j];
            }
        }

        return m;
    }

    public static double[] Column(double[,] m, int j) => Enumerable.Range(0, m.GetLength(0)).Select(i => m[i, j]).ToArray();

    public static int[] Column(int[,] m, int j) => Enumerable.Range(0, m.GetLength(0)).Select(i => m[i, j]).ToArray();

    public static void ShouldMatch(double actual, double expected, string because)
    {
        if (double.IsNaN(expected))
        {
            actual.Should().Be(double.NaN, because);
        }
        else if (double.IsInfinity(expected))
        {
            actual.Should().Be(expected, because);
        }
        else
        {
            actual.Should().BeApproximately(expected, Tolerance, because);
        }
    }

    public static void ShouldMatch(IReadOnlyList<double> actual, IReadOnlyList<double> expected, string because)
    {
        actual.Count.Should().Be(expected.Count, because);
        for (int i = 0; i < expected.Count; i++)
        {
            ShouldMatch(actual[i], expected[i], $"{because} [{i}]");
        }
    }
}
