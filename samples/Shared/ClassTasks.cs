using System.Globalization;
using MedVision.Nets.Metrics;

namespace MedVision.Samples;

/// <summary>
/// The task of a folder's (or a table's) classes, as fundus-folder and volume-folder train choose it with --task
/// auto|ordinal|multi-class.
/// </summary>
internal static class ClassTasks
{
    /// <summary>
    /// The task of class sub-folders or a table's class column: two classes train a binary model; three or more an
    /// ordinal one when <paramref name="task"/> says so or when they are named 0, 1, 2, … in order (grades), else a
    /// multi-class one. <paramref name="source"/> names the classes' origin in messages ("the class folders of DIR").
    /// </summary>
    public static MedMnistTask Choose(string task, IReadOnlyList<string> names, string source)
    {
        if (names.Count < 2)
            throw new ArgumentException($"A classifier needs at least two classes; {source} give {names.Count} ({string.Join(", ", names)}).");
        if (names.Count == 2)
            return task == "auto" ? MedMnistTask.Binary
                : throw new ArgumentException($"--task {task} applies to three or more classes; the two of {source} ({names[0]}, {names[1]}) train a binary model.");
        bool grades = names.Select((n, k) => n == k.ToString(CultureInfo.InvariantCulture)).All(named => named);
        // Folders sort by name: 0/ … 10/ would put 10 before 2, so numbered grades must sort as numbers do.
        var numbers = names.Select(n => int.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out int v) ? v : (int?)null).ToArray();
        if (task == "ordinal" && numbers.All(v => v is not null) && numbers.Zip(numbers.Skip(1)).Any(p => p.First >= p.Second))
            throw new ArgumentException($"--task ordinal reads the class folders as grades in their name order ({string.Join(", ", names)}), which is not their numeric order: name them so that both agree (e.g. 00, 01, …, 10).");
        return task switch
        {
            "ordinal" => MedMnistTask.OrdinalRegression,
            "multi-class" => MedMnistTask.MultiClass,
            _ => grades ? MedMnistTask.OrdinalRegression : MedMnistTask.MultiClass,
        };
    }
}
