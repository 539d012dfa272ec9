using System.CommandLine;
using System.Globalization;
using MedVision.Nets.Data.Loading;
using MedVision.Nets.Data.MedMnist;
using MedVision.Nets.Data.Quality;
using MedVision.Torch.Serialization;
using Spectre.Console;

namespace MedVision.Samples.MedMnist;

/// <summary>
/// The <c>audit</c> command: are a MedMNIST dataset's splits what they claim? Near-duplicate images within and between
/// the training, validation and test splits (an exact search by mean absolute difference), pairs whose labels differ,
/// and how close each validation and test image comes to the training split.
/// </summary>
internal static class AuditCommand
{
    public static Command Create()
    {
        var dataset = ModelOptions.Dataset("MedMNIST dataset name (default retinamnist, which is shipped; others are downloaded from Zenodo into the cache).");
        var dataFile = ModelOptions.DataFile();
        var maxDifference = new Option<double>("--max-difference")
        {
            Description = "Largest mean absolute difference of two images' pixel values (scaled to [0, 1]) for them to count as near-duplicates; 0: exact duplicates only.",
            DefaultValueFactory = _ => NearDuplicates.DefaultMaxDifference,
        }.Must(v => v >= 0 && double.IsFinite(v), "finite and at least 0");
        var output = new Option<string>("--output") { Description = "Folder for near-duplicates.csv (every pair) and nearest-training.csv (each validation and test image's nearest training image).", DefaultValueFactory = _ => "runs/medmnist-audit" };
        var failOnLeakage = new Option<bool>("--fail-on-leakage") { Description = "Exit with code 1 when a near-duplicate pair crosses splits (for data pipelines that must not pass a leaking split)." };
        var command = new Command("audit", "Check a MedMNIST dataset's splits: near-duplicate images within and between train, val and test, label conflicts, and each held-out image's distance to the training split.")
        {
            dataset, dataFile, maxDifference, output, failOnLeakage,
        };
        command.SetAction(r => Run(r.GetValue(dataset), r.GetValue(dataFile), r.GetValue(maxDifference), r.GetValue(output)!, r.GetValue(failOnLeakage)));
        return command;
    }

    private static int Run(string? datasetName, string? dataFile, double maxDifference, string output, bool failOnLeakage)
    {
        var data = TrainCommand.LoadDataset(datasetName, dataFile);
        var info = data.Info!;
        var splits = new (string Name, MedMnistImageSource Source)[]
        {
            ("train", new MedMnistImageSource(data.Train)), ("val", new MedMnistImageSource(data.Validation)), ("test", new MedMnistImageSource(data.Test)),
        };
        AnsiConsole.MarkupLine($"Dataset [green]{info.Name}[/] ({info.Task}): train {data.Train.Count}, val {data.Validation.Count}, test {data.Test.Count} · licence {info.License}");
        var builder = SplitAudit.Create().WithMaxDifference(maxDifference);
        foreach (var (name, source) in splits) builder.AddSplit(name, source);
        var audit = builder.Run();

        string F(double v) => v.ToString("F4", CultureInfo.InvariantCulture);
        var pairs = new Table().Title(Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"Near-duplicates: mean absolute difference ≤ {maxDifference:G4}")))
            .AddColumn("splits").AddColumn(new TableColumn("pairs").RightAligned()).AddColumn(new TableColumn("images").RightAligned())
            .AddColumn(new TableColumn("labels differ").RightAligned());
        foreach (var (i, j) in new[] { (0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2) })
        {
            var (a, b) = (splits[i].Name, splits[j].Name);
            var between = audit.Between(a, b);
            string images = i == j ? audit.ImagesWithDuplicates(a, a).ToString(CultureInfo.InvariantCulture)
                : $"{audit.ImagesWithDuplicates(a, b)} + {audit.ImagesWithDuplicates(b, a)}";
            pairs.AddRow(i == j ? $"within {a}" : $"{a}–{b}", between.Count.ToString(CultureInfo.InvariantCulture), images, between.Count(d => !d.LabelsAgree).ToString(CultureInfo.InvariantCulture));
        }
        AnsiConsole.Write(pairs);

        // How close the held-out images come to the training split: leakage shows as a cluster of tiny distances.
        var nearest = new Dictionary<string, IReadOnlyList<NearestImage>>();
        var distances = new Table().Title("Each held-out image's nearest training image")
            .AddColumn("split").AddColumn(new TableColumn("min").RightAligned()).AddColumn(new TableColumn("5%").RightAligned())
            .AddColumn(new TableColumn("median").RightAligned()).AddColumn(new TableColumn("≤ max").RightAligned());
        foreach (var (name, source) in splits.Skip(1))
        {
            var found = nearest[name] = NearDuplicates.Nearest(source, splits[0].Source);
            var sorted = found.Select(n => n.Difference).Order().ToArray();
            distances.AddRow(name, F(sorted[0]), F(Quantile(sorted, 0.05)), F(Quantile(sorted, 0.5)), sorted.Count(d => d <= maxDifference).ToString(CultureInfo.InvariantCulture));
        }
        AnsiConsole.Write(distances);

        if (audit.LabelConflicts.Count > 0)
        {
            var conflicts = new Table().Title("Near-duplicates with different labels (first 10)")
                .AddColumn("first").AddColumn("second").AddColumn(new TableColumn("difference").RightAligned()).AddColumn("labels");
            foreach (var d in audit.LabelConflicts.Take(10))
                conflicts.AddRow($"{d.FirstSplit} {d.FirstIndex}", $"{d.SecondSplit} {d.SecondIndex}", F(d.Difference), $"{string.Join(';', d.FirstLabels)} vs {string.Join(';', d.SecondLabels)}");
            AnsiConsole.Write(conflicts);
        }

        var pairsFile = Path.Combine(output, "near-duplicates.csv");
        audit.WriteCsv(pairsFile);
        var nearestFile = Path.Combine(output, "nearest-training.csv");
        WriteNearest(nearestFile, nearest);
        AnsiConsole.MarkupLine(Markup.Escape($"Pairs: {Path.GetFullPath(pairsFile)} · nearest training images: {Path.GetFullPath(nearestFile)}"));
        AnsiConsole.MarkupLine(audit.IsClean ? "[green]No near-duplicate crosses splits.[/]" : $"[red]{audit.CrossSplit.Count} near-duplicate pair(s) cross splits[/]: a model may be scored on images it trained on.");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT audit {info.Name} max_difference={maxDifference:G4} pairs={audit.Duplicates.Count} within_train={audit.Between("train", "train").Count} within_val={audit.Between("val", "val").Count} within_test={audit.Between("test", "test").Count} cross_split={audit.CrossSplit.Count} label_conflicts={audit.LabelConflicts.Count} val_nearest_train_min={F(nearest["val"].Min(n => n.Difference))} test_nearest_train_min={F(nearest["test"].Min(n => n.Difference))}"));
        return failOnLeakage && !audit.IsClean ? 1 : 0;
    }

    // numpy's default (linear) quantile of sorted values.
    private static double Quantile(double[] sorted, double q)
    {
        double position = q * (sorted.Length - 1);
        int low = (int)Math.Floor(position);
        int high = Math.Min(low + 1, sorted.Length - 1);
        return sorted[low] + (position - low) * (sorted[high] - sorted[low]);
    }

    private static void WriteNearest(string path, Dictionary<string, IReadOnlyList<NearestImage>> nearest)
    {
        var lines = nearest.SelectMany(kv => kv.Value.Select((n, i) => string.Create(CultureInfo.InvariantCulture, $"{kv.Key},{i},{n.Index},{n.Difference:R}")));
        AtomicFile.WriteAllText(path, string.Join('\n', lines.Prepend("split,index,nearest_train_index,difference")) + "\n");
    }
}
