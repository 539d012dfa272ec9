using System.CommandLine;

namespace MedVision.Samples.Segmentation;

/// <summary>
/// The post-processing options of <c>predict</c> and <c>evaluate</c>: a model file may record whether the foreground as
/// one, and which classes, keep only their largest connected component (chosen by <c>evaluate --compare-postprocessing
/// --store</c>), which the predictor applies unless <c>--keep-largest</c> (every class, not the foreground step) or
/// <c>--no-postprocessing</c> (none) says otherwise.
/// </summary>
internal static class PostprocessingOptions
{
    public static Option<bool> KeepLargest() => new("--keep-largest")
    {
        Description = "Keep only each class's largest connected component (removes stray islands), instead of what the model file or ensemble manifest records.",
    };

    public static Option<bool> None() => new("--no-postprocessing")
    {
        Description = "Ignore the post-processing the model file or ensemble manifest records (the foreground and the classes kept to their largest component, stored by evaluate --compare-postprocessing --store).",
    };

    /// <summary>"give one of them" when both are given, else null.</summary>
    public static string? Conflict(bool keepLargest, bool none) => keepLargest && none ? "--keep-largest and --no-postprocessing contradict each other; give one of them" : null;

    /// <summary>
    /// The post-processing after the options — the classes kept to their largest component and whether the foreground
    /// as one is first — starting from what the model file records (<paramref name="recorded"/>,
    /// <paramref name="recordedForeground"/>: where the predictor starts; <paramref name="source"/> says where, e.g. "the
    /// manifest"), and — unless <paramref name="quiet"/> — a line on the console saying what is applied and why.
    /// </summary>
    public static (IReadOnlyList<int> Classes, bool Foreground) Apply(IReadOnlyList<int> recorded, bool recordedForeground, IReadOnlyList<string> classNames, bool keepLargest, bool none, string source, bool quiet = false)
    {
        var (classes, foreground, line) = Resolve(recorded, recordedForeground, classNames, keepLargest, none, source);
        if (line is not null && !quiet) Spectre.Console.AnsiConsole.MarkupLine(Spectre.Console.Markup.Escape(line));
        return (classes, foreground);
    }

    // The post-processing and the line saying so (null when nothing is recorded or asked for).
    private static (IReadOnlyList<int> Classes, bool Foreground, string? Line) Resolve(IReadOnlyList<int> recorded, bool recordedForeground, IReadOnlyList<string> classNames, bool keepLargest, bool none, string source)
    {
        string Describe(IReadOnlyList<int> classes, bool foreground) => string.Join(", then ", new[]
        {
            foreground ? "the foreground as one keeps its largest connected component" : null,
            classes.Count > 0 ? $"{string.Join(", ", classes.Select(k => classNames[k]))} keep{(classes.Count == 1 ? "s" : "")} only {(classes.Count == 1 ? "its" : "their")} largest connected component" : null,
        }.Where(t => t is not null));
        bool anything = recorded.Count > 0 || recordedForeground;
        if (keepLargest) return (Enumerable.Range(1, classNames.Count - 1).ToArray(), false, "Post-processing: each class keeps its largest connected component (--keep-largest).");
        if (none) return ([], false, anything ? $"Post-processing off (--no-postprocessing); {source} would have {Describe(recorded, recordedForeground)}." : null);
        return (recorded, recordedForeground, anything ? $"Post-processing recorded in {source}: {Describe(recorded, recordedForeground)} (--no-postprocessing turns it off)." : null);
    }
}
