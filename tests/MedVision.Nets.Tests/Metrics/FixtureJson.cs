using System.Text.Json;

namespace MedVision.Nets.Tests.Metrics;

/// <summary>Reads committed JSON fixtures (copied beside the test binaries).</summary>
internal static class FixtureJson
{
    public static JsonElement Load(string fileName) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", fileName))).RootElement;

    /// <summary>The "name" of each fixture case, as the data of a theory over the cases.</summary>
    public static TheoryData<string> Names(IEnumerable<JsonElement> cases)
    {
        var data = new TheoryData<string>();
        foreach (var c in cases) data.Add(c.GetProperty("name").GetString()!);
        return data;
    }

    /// <summary>A JSON array of equal-length number arrays as a matrix.</summary>
    public static double[,] Matrix(JsonElement rows)
    {
        var values = rows.EnumerateArray().Select(r => r.EnumerateArray().Select(e => e.GetDouble()).ToArray()).ToArray();
        var matrix = new double[values.Length, values[0].Length];
        for (int i = 0; i < values.Length; i++)
            for (int j = 0; j < values[i].Length; j++) matrix[i, j] = values[i][j];
        return matrix;
    }
}
