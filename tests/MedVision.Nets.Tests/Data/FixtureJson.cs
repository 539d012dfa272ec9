using System.Text.Json;

namespace MedVision.Nets.Tests.Data;

/// <summary>The committed JSON that a fixture script wrote beside its files (Fixtures/…), read once per test class.</summary>
internal static class FixtureJson
{
    /// <summary>The folder of fixture files <paramref name="relative"/> (e.g. "dicom/voi") in the test output.</summary>
    public static string Folder(string relative) => Path.Combine(AppContext.BaseDirectory, "Fixtures", relative);

    /// <summary>A lazily read property (usually "files" or "cases") of the fixture JSON <paramref name="file"/> in <paramref name="folder"/>.</summary>
    public static Lazy<JsonElement> Lazy(string folder, string file, string property) => new(() =>
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, file)));
        return doc.RootElement.GetProperty(property).Clone();
    });

    /// <summary>A (C, H, W) or (C, D, H, W) image written by a fixture script as {"shape": [...], "values": [...]}.</summary>
    public static MedVision.Nets.Transforms.FloatImage FloatImage(JsonElement array) => new(
        array.GetProperty("values").EnumerateArray().Select(v => (float)v.GetDouble()).ToArray(),
        array.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()).ToArray());
}
