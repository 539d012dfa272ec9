using System.Security;
using MedVision.Torch.Serialization;

namespace MedVision.Nets.Plotting;

/// <summary>
/// A chart rendered as a self-contained SVG document by the library's own writer (no plotting package): the base of
/// <see cref="LineChart"/> and <see cref="ConfusionMatrixChart"/>. Files are written atomically, as SVG and, where the
/// <c>rsvg-convert</c> tool is installed, as PNG.
/// </summary>
public abstract class SvgChart
{
    /// <summary>Creates a chart with a title.</summary>
    protected SvgChart(string? title) => Title = title ?? "";

    /// <summary>Chart title.</summary>
    public string Title { get; }

    /// <summary>Renders the chart as an SVG document.</summary>
    public abstract string ToSvg();

    /// <summary>Writes the SVG atomically.</summary>
    public void Save(string path) => AtomicFile.WriteAllText(path, ToSvg());

    /// <summary>
    /// Writes the chart as PNG through the <c>rsvg-convert</c> tool (Debian package librsvg2-bin) when it is installed;
    /// returns false, writing nothing, when it is not. The PNG is written atomically.
    /// </summary>
    public bool TrySavePng(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var converter = FindOnPath("rsvg-convert");
        if (converter is null) return false;
        var svg = Path.GetTempFileName();
        try
        {
            File.WriteAllText(svg, ToSvg());
            AtomicFile.Write(path, output =>
            {
                var start = new System.Diagnostics.ProcessStartInfo(converter) { RedirectStandardOutput = true, RedirectStandardError = true };
                start.ArgumentList.Add("--format=png");
                start.ArgumentList.Add(svg);
                using var process = System.Diagnostics.Process.Start(start) ?? throw new InvalidOperationException("rsvg-convert did not start.");
                var errors = process.StandardError.ReadToEndAsync();
                process.StandardOutput.BaseStream.CopyTo(output);
                process.WaitForExit();
                if (process.ExitCode != 0) throw new InvalidOperationException($"rsvg-convert failed ({process.ExitCode}): {errors.Result}");
            });
            return true;
        }
        finally
        {
            File.Delete(svg);
        }
    }

    /// <summary>The longest class or series name a chart shows; longer ones end in "…".</summary>
    internal const int MaxNameLength = 24;

    /// <summary><paramref name="name"/> cut to <see cref="MaxNameLength"/> characters.</summary>
    internal static string ShortenName(string name) => name.Length <= MaxNameLength ? name : name[..(MaxNameLength - 1)] + "…";

    /// <summary>Text escaped for SVG content and attribute values.</summary>
    protected static string Escape(string text) => SecurityElement.Escape(text) ?? "";

    private static string? FindOnPath(string tool)
        => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, tool)).FirstOrDefault(File.Exists);
}
