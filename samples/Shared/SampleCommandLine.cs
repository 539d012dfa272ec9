using System.CommandLine;
using System.CommandLine.Parsing;
using MedVision.Torch;

namespace MedVision.Samples;

/// <summary>
/// Runs a sample's command line. Bad input (an unknown option, an option value that does not parse or is out of range,
/// a missing or malformed file, an error reported by libtorch) ends the program with a message naming the problem and
/// exit code 2, not a stack trace; any other exception is a bug and keeps its stack trace. Option values are checked
/// while parsing (<see cref="OptionRules"/>), before anything is loaded.
/// </summary>
internal static class SampleCommandLine
{
    public static int Invoke(RootCommand root, string[] args)
    {
        try
        {
            var parsed = root.Parse(args);
            return OptionRules.Problems(parsed) is { Count: > 0 } problems ? ReportProblems(parsed, problems) : parsed.Invoke(Configuration);
        }
        catch (Exception e) when (IsUserError(e))
        {
            return Report(e);
        }
    }

    public static async Task<int> InvokeAsync(RootCommand root, string[] args)
    {
        try
        {
            var parsed = root.Parse(args);
            return OptionRules.Problems(parsed) is { Count: > 0 } problems ? ReportProblems(parsed, problems) : await parsed.InvokeAsync(Configuration);
        }
        catch (Exception e) when (IsUserError(e))
        {
            return Report(e);
        }
    }

    /// <summary>
    /// The first line every sample prints (markup): library, libtorch version (and the CUDA it was built with), threads
    /// and device — and a warning when this libtorch's oneDNN failed MedVision.Torch's gradient check and was turned off
    /// (docs/troubleshooting.md).
    /// </summary>
    public static string Banner(Device device) =>
        $"[bold]MedVision.Nets[/] · libtorch {Tensors.Version}{(Tensors.Cuda.CompiledVersion is { } cuda ? $" (CUDA {cuda})" : "")} · {Tensors.NumThreads} threads · device {device}" +
        (Tensors.OneDnnSelfCheck == OneDnnCheckResult.Failed ? " · [yellow]oneDNN off: this libtorch's oneDNN failed the convolution-gradient check (docs/troubleshooting.md)[/]" : "");

    /// <summary>
    /// The default of every command's --threads: MEDVISION_THREADS when it is a positive number (a launcher's share of
    /// the cores for each of its processes), else the number of processors.
    /// </summary>
    public static int DefaultThreads =>
        int.TryParse(Environment.GetEnvironmentVariable("MEDVISION_THREADS"), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var n) && n > 0 ? n : Environment.ProcessorCount;

    /// <summary>--threads: libtorch intra-op threads per process, <see cref="DefaultThreads"/> by default.</summary>
    public static Option<int> Threads() => new Option<int>("--threads")
    {
        Description = "libtorch intra-op threads per process (default: MEDVISION_THREADS, else the number of processors).",
        DefaultValueFactory = _ => DefaultThreads,
    }.AtLeast(1);

    /// <summary>--float16 of the export commands: the ONNX graph computes in float16 (<c>OnnxModelFileOptions.Float16</c>).</summary>
    public static Option<bool> Float16Export() => new("--float16")
    {
        Description = "The graph computes in float16 (for GPUs' half-precision units: ONNX Runtime's CUDA or DirectML providers, TensorRT): weights stored as float16 (half the file), input and outputs still float32. Outputs differ from float32's by float16's rounding; on a CPU, keep float32.",
    };

    /// <summary>What an export command reports of a float16 graph (empty for float32).</summary>
    public static string Float16Note(bool float16) => float16 ? "; computes in float16 (weights stored as float16), takes and gives float32" : "";

    /// <summary>--tensorboard FOLDER: also write the training's TensorBoard summaries (<paramref name="what"/> says what the sample adds).</summary>
    public static Option<string?> TensorBoard(string what) => new Option<string?>("--tensorboard")
    {
        Description = $"Also write TensorBoard summaries to this folder (step and epoch losses, learning rate, validation measures{what}); view with `tensorboard --logdir FOLDER`.",
        HelpName = "FOLDER",
    }.Must(v => v is null || !string.IsNullOrWhiteSpace(v), "a folder");

    private static InvocationConfiguration Configuration => new() { EnableDefaultExceptionHandler = false };

    // What bad input or a machine without a needed library causes (an unsupported DICOM encoding, libcharls missing):
    // reported in one line with exit code 2, not as a crash with a stack trace.
    // A run whose loss diverged (MedVision.Nets' TrainingDivergedException, named by its type's name because the launcher
    // references MedVision.Torch only) is reported the same way: its message says where and what to change; so are model
    // and weight files that cannot be used (a missing or damaged card, weights that do not fit: each message names the file).
    private static bool IsUserError(Exception e) =>
        e is ArgumentException or IOException or InvalidDataException or UnauthorizedAccessException or TorchException or FormatException
            or NotSupportedException or DllNotFoundException or EntryPointNotFoundException
        || e.GetType().FullName is "MedVision.Nets.Training.TrainingDivergedException" or "MedVision.Nets.Inference.ModelFormatException"
            or "MedVision.Torch.Serialization.SafeTensorsFormatException" or "MedVision.Torch.Serialization.PyTorchFormatException"
            or "MedVision.Torch.Nn.StateDictMismatchException";

    // Unknown options, values that do not parse, values the option rules refuse: every problem on a line of its own,
    // then where the options are described; exit code 2, as for other bad input.
    private static int ReportProblems(ParseResult parsed, IReadOnlyList<string> problems)
    {
        foreach (var problem in problems) Console.Error.WriteLine($"error: {problem}");
        var names = new List<string>();
        for (SymbolResult? r = parsed.CommandResult; r is CommandResult c; r = c.Parent) names.Insert(0, c.Command.Name);
        Console.Error.WriteLine($"Run '{string.Join(' ', names)} --help' for the options.");
        return 2;
    }

    private static int Report(Exception e)
    {
        Console.Error.WriteLine($"error: {Message(e)}");
        return 2;
    }

    // The message without what .NET appends for developers: " (Parameter 'x')" and "Actual value was …".
    internal static string Message(Exception e)
    {
        var message = e.Message;
        if (e is ArgumentOutOfRangeException { ActualValue: not null } range)
            message = message.Replace($"{Environment.NewLine}Actual value was {range.ActualValue}.", "", StringComparison.Ordinal);
        if (e is ArgumentException { ParamName: { } name })
            message = message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal);
        return message.Trim();
    }

    private static readonly string[] ImageExtensions = [".jpg", ".jpeg", ".png"];

    /// <summary>The JPEG and PNG files directly in <paramref name="folder"/>, sorted by name (ordinal): what a sample takes a folder of images to mean.</summary>
    public static List<string> ImageFilesIn(string folder) => ImageFilesIn(folder, recursive: false);

    /// <summary>
    /// The JPEG and PNG files in <paramref name="folder"/>, and with <paramref name="recursive"/> in its sub-folders at
    /// any depth (e.g. class or grade folders), sorted by their path (ordinal).
    /// </summary>
    public static List<string> ImageFilesIn(string folder, bool recursive) =>
        Directory.EnumerateFiles(folder, "*", recursive ? SearchOption.AllDirectories : SearchOption.TopDirectoryOnly)
            .Where(f => ImageExtensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase)).Order(StringComparer.Ordinal).ToList();
}
