using System.CommandLine;
using Spectre.Console;

namespace MedVision.Samples.Mtcsnn;

/// <summary>
/// The <c>summarize</c> command: combines the <c>results.csv</c> files of several <c>compare</c> runs (for example one
/// seed per process or per machine) into one mean ± sd table, without training anything.
/// </summary>
internal static class SummarizeCommand
{
    public static Command Create()
    {
        var inputs = new Argument<string[]>("results") { Description = "results.csv files, or the --output folders of compare runs that hold them.", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string?>("--output") { Description = "Also write the combined per-seed rows to this results.csv." };
        var command = new Command("summarize", "Combine the results.csv of several compare runs into one mean ± sd table.") { inputs, output };
        command.SetAction(r =>
        {
            var outcomes = r.GetValue(inputs)!.SelectMany(Results.Read).ToList();
            var duplicate = outcomes.GroupBy(o => (o.Model, o.Seed)).FirstOrDefault(g => g.Count() > 1);
            if (duplicate is not null)
                throw new ArgumentException($"Seed {duplicate.Key.Seed} of {duplicate.Key.Model} appears in more than one results file; each seed must be counted once.");
            Results.PrintTable(outcomes, "combined runs", "ResNet (baseline)", "MTCSNN");
            if (r.GetValue(output) is { } path)
            {
                Results.Write(path, outcomes);
                AnsiConsole.MarkupLine($"Combined results: {Path.GetFullPath(path)}");
            }
            Results.PrintResultLines(outcomes, "combined", perSeed: false);
            return 0;
        });
        return command;
    }
}
