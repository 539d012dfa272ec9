using System.Diagnostics;
using System.Text.RegularExpressions;

namespace MedVision.Samples.Tests;

/// <summary>The result of one run of a sample app.</summary>
/// <param name="ExitCode">The process exit code.</param>
/// <param name="Output">Everything written to standard output.</param>
/// <param name="Error">Everything written to standard error.</param>
public sealed record SampleRun(int ExitCode, string Output, string Error)
{
    /// <summary>
    /// Standard output as one line of text: without the terminal styles Spectre.Console writes and with the line breaks
    /// it inserts at 80 columns (when output is redirected) and other runs of white space collapsed to one space.
    /// </summary>
    public string Text => Regex.Replace(Regex.Replace(Output, "\u001b\\[[0-9;]*m", ""), "\\s+", " ");

    /// <summary>Both streams, for assertion messages.</summary>
    public override string ToString() => $"exit code {ExitCode}\n--- stdout ---\n{Output}\n--- stderr ---\n{Error}";

    /// <summary>The <c>RESULT</c> (or other <paramref name="prefix"/>) lines the samples print for scripts, as key=value maps.</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, string>> Lines(string prefix = "RESULT") =>
        Output.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith(prefix + " ", StringComparison.Ordinal))
            .Select(l => (IReadOnlyDictionary<string, string>)l.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
                .Select((part, i) => part.Contains('=') ? (part[..part.IndexOf('=')], part[(part.IndexOf('=') + 1)..]) : ($"#{i}", part))
                .ToDictionary(p => p.Item1, p => p.Item2))
            .ToList();
}

/// <summary>Starts a sample app (copied beside the tests by its project reference) as a user would: <c>dotnet app.dll ...</c>.</summary>
public static class SampleApp
{
    /// <summary>Runs <paramref name="app"/> (e.g. "medmnist") with <paramref name="arguments"/> in <paramref name="workingDirectory"/>.</summary>
    public static Task<SampleRun> RunAsync(string app, string workingDirectory, params string[] arguments)
        => RunAsync(app, workingDirectory, new Dictionary<string, string>(), arguments);

    /// <summary>Runs <paramref name="app"/> with extra environment variables (e.g. MEDVISION_DATA for a cache of its own).</summary>
    public static async Task<SampleRun> RunAsync(string app, string workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, app + ".dll"));
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        info.Environment["NO_COLOR"] = "1";
        info.Environment["MEDVISION_THREADS"] = "1";
        info.Environment["OMP_NUM_THREADS"] = "1";
        foreach (var (name, value) in environment) info.Environment[name] = value;
        using var process = Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{app} {string.Join(' ', arguments)} ran for more than 5 minutes.\n{await output}\n{await error}");
        }

        return new SampleRun(process.ExitCode, await output, await error);
    }
}

/// <summary>A temporary folder deleted after the test class.</summary>
public sealed class TempFolder : IDisposable
{
    /// <summary>The folder's full path.</summary>
    public string Path { get; } = Directory.CreateTempSubdirectory("mvn-samples-").FullName;

    /// <summary>A path inside the folder.</summary>
    public string this[string relative] => System.IO.Path.Combine(Path, relative);

    /// <inheritdoc />
    public void Dispose() => Directory.Delete(Path, recursive: true);
}
