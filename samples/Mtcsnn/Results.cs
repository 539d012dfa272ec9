using System.Globalization;
using MedVision.Torch.Serialization;
using Spectre.Console;

namespace MedVision.Samples.Mtcsnn;

/// <summary>One model trained with one seed: the selected epoch (1-based), its validation AUC and the test metrics.</summary>
internal sealed record Outcome(string Model, int Seed, int BestEpoch, double ValAuc, double TestAuc, double TestAcc, double TestKappa);

/// <summary>
/// Reading, writing and summarising per-seed outcomes (<c>results.csv</c>), shared by <c>compare</c> and <c>summarize</c>.
/// </summary>
internal static class Results
{
    private const string Header = "model,seed,best_epoch,val_auc,test_auc,test_acc,test_qwk";
    private static readonly string[] Models = ["resnet", "mtcsnn"];

    /// <summary>Writes the outcomes atomically (a temporary file renamed into place).</summary>
    public static void Write(string path, IEnumerable<Outcome> outcomes) =>
        AtomicFile.WriteAllText(path, string.Join('\n', new[] { Header }.Concat(outcomes.Select(o =>
            string.Create(CultureInfo.InvariantCulture, $"{o.Model},{o.Seed},{o.BestEpoch},{o.ValAuc:F6},{o.TestAuc:F6},{o.TestAcc:F6},{o.TestKappa:F6}")))) + "\n");

    /// <summary>Reads a <c>results.csv</c> written by <see cref="Write"/>; a malformed file is named in the exception.</summary>
    public static List<Outcome> Read(string path)
    {
        if (Directory.Exists(path)) path = Path.Combine(path, "results.csv");
        if (!File.Exists(path)) throw new FileNotFoundException($"No results file at '{path}' (expected the results.csv written by 'compare').", path);
        var lines = File.ReadAllLines(path).Where(l => l.Length > 0).ToArray();
        if (lines.Length == 0 || lines[0].Trim() != Header)
            throw new InvalidDataException($"'{path}' is not a results file: its header should be '{Header}'.");
        var outcomes = new List<Outcome>();
        for (int i = 1; i < lines.Length; i++)
        {
            var f = lines[i].Split(',');
            try
            {
                if (f.Length != 7 || !Models.Contains(f[0])) throw new FormatException();
                double D(int k) => double.Parse(f[k], NumberStyles.Float, CultureInfo.InvariantCulture);
                outcomes.Add(new Outcome(f[0], int.Parse(f[1], CultureInfo.InvariantCulture), int.Parse(f[2], CultureInfo.InvariantCulture), D(3), D(4), D(5), D(6)));
            }
            catch (FormatException)
            {
                throw new InvalidDataException($"'{path}' line {i + 1} is malformed: '{lines[i]}'.");
            }
        }
        return outcomes;
    }

    /// <summary>Prints mean ± sd (sample standard deviation over the seeds; none for a single seed) of each model.</summary>
    public static void PrintTable(IReadOnlyList<Outcome> outcomes, string setting, string baselineName, string mtcsnnName)
    {
        int seeds = outcomes.Select(o => o.Seed).Distinct().Count();
        var table = new Table().Title($"RetinaMNIST test split — {setting}, {seeds} seed(s), mean ± sd")
            .AddColumn("model").AddColumn(new TableColumn("seeds").RightAligned()).AddColumn(new TableColumn("test AUC").RightAligned())
            .AddColumn(new TableColumn("test ACC").RightAligned()).AddColumn(new TableColumn("test QWK").RightAligned());
        foreach (var (model, rows) in ByModel(outcomes))
        {
            table.AddRow(model == "resnet" ? baselineName : mtcsnnName, rows.Count.ToString(CultureInfo.InvariantCulture),
                MeanSd(rows.Select(o => o.TestAuc)), MeanSd(rows.Select(o => o.TestAcc)), MeanSd(rows.Select(o => o.TestKappa)));
        }
        AnsiConsole.Write(table);
    }

    /// <summary>Machine-readable <c>RESULT</c> lines: one per model and seed (when asked) and one summary per model.</summary>
    public static void PrintResultLines(IReadOnlyList<Outcome> outcomes, string setting, bool perSeed)
    {
        if (perSeed)
        {
            foreach (var o in outcomes)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"RESULT {o.Model} retinamnist {setting} seed={o.Seed} best_epoch={o.BestEpoch} test_auc={o.TestAuc:F4} test_acc={o.TestAcc:F4} test_qwk={o.TestKappa:F4}"));
        }
        foreach (var (model, rows) in ByModel(outcomes))
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"RESULT {model} retinamnist {setting} seeds={rows.Count} test_auc_mean={rows.Average(o => o.TestAuc):F4} test_auc_sd={Sd(rows.Select(o => o.TestAuc))} test_acc_mean={rows.Average(o => o.TestAcc):F4} test_acc_sd={Sd(rows.Select(o => o.TestAcc))} test_qwk_mean={rows.Average(o => o.TestKappa):F4} test_qwk_sd={Sd(rows.Select(o => o.TestKappa))}"));
        }
    }

    /// <summary>The outcomes of each model that has any, baseline first.</summary>
    private static IEnumerable<(string Model, List<Outcome> Rows)> ByModel(IEnumerable<Outcome> outcomes) =>
        Models.Select(model => (model, outcomes.Where(o => o.Model == model).ToList())).Where(g => g.Item2.Count > 0);

    /// <summary>Sample standard deviation (n − 1) formatted to 4 decimals, or "n/a" for fewer than two values.</summary>
    private static string Sd(IEnumerable<double> values)
    {
        var v = values.ToArray();
        if (v.Length < 2) return "n/a";
        double mean = v.Average();
        return Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1)).ToString("F4", CultureInfo.InvariantCulture);
    }

    private static string MeanSd(IEnumerable<double> values)
    {
        var v = values.ToArray();
        string mean = v.Average().ToString("F4", CultureInfo.InvariantCulture);
        return v.Length < 2 ? mean : $"{mean} ± {Sd(v)}";
    }
}
