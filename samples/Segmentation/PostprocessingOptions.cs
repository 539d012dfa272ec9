using System.CommandLine;

namespace MedVision.Samples.Segmentation;

/// <summary>
/// The post-processing options of <c>predict</c> and <c>evaluate</c>: a model file may record which classes keep only
/// their largest connected component (chosen by <c>evaluate --compare-postprocessing --store</c>), which the predictor
/// applies unless <c>--keep-largest</c> (every class) or <c>--no-postprocessing</c> (none) says otherwise.
/// </summary>
internal static class PostprocessingOptions
{
    public static Option<bool> KeepLargest() => new("--keep-largest")
    {
        Description = "Keep only each class's largest connected component (removes stray islands), whatever the model file records.",
    };

    public static Option<bool> None() => new("--no-postprocessing")
    {
        Description = "Ignore the post-processing the model file records (the classes kept to their largest component, stored by evaluate --compare-postprocessing --store).",
    };

    /// <summary>"give one of them" when both are given, else null.</summary>
    public static string? Conflict(bool keepLargest, bool none) => keepLargest && none ? "--keep-largest and --no-postprocessing contradict each other; give one of them" : null;

    /// <summary>
    /// The classes to keep after the options, starting from <paramref name="recorded"/> (the model file's choice, where
    /// the predictor starts), and — unless <paramref name="quiet"/> — a line on the console saying what is applied and why.
    /// </summary>
    public static IReadOnlyList<int> Apply(IReadOnlyList<int> recorded, IReadOnlyList<string> classNames, bool keepLargest, bool none, bool quiet = false)
    {
        var (classes, line) = Resolve(recorded, classNames, keepLargest, none);
        if (line is not null && !quiet) Spectre.Console.AnsiConsole.MarkupLine(Spectre.Console.Markup.Escape(line));
        return classes;
    }

    // The classes to keep and the line saying so (null when nothing is recorded or asked for).
    private static (IReadOnlyList<int> Classes, string? Line) Resolve(IReadOnlyList<int> recorded, IReadOnlyList<string> classNames, bool keepLargest, bool none)
    {
        string Names(IEnumerable<int> classes) => string.Join(", ", classes.Select(k => classNames[k]));
        if (keepLargest) return (Enumerable.Range(1, classNames.Count - 1).ToArray(), $"Post-processing: each class keeps its largest connected component (--keep-largest).");
        if (none) return ([], recorded.Count > 0 ? $"Post-processing off (--no-postprocessing); the model file would keep the largest component of {Names(recorded)}." : null);
        return (recorded, recorded.Count > 0 ? $"Post-processing recorded in the model file: {Names(recorded)} keep{(recorded.Count == 1 ? "s" : "")} only {(recorded.Count == 1 ? "its" : "their")} largest connected component (--no-postprocessing turns it off)." : null);
    }
}
