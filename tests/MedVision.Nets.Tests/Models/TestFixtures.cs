namespace MedVision.Nets.Tests.Models;

/// <summary>Finds the committed fixture files (tests/MedVision.Nets.Tests/Fixtures) from the test binaries' folder.</summary>
internal static class TestFixtures
{
    public static string PathOf(string fileName)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "MedVision.Nets.Tests", "Fixtures", fileName);
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException($"Fixture {fileName} not found above {AppContext.BaseDirectory}.");
    }
}
