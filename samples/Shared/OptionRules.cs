using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace MedVision.Samples;

/// <summary>
/// Range checks for option values, run while the command line is parsed: a bad value is reported as
/// "--name must be …, got …" before anything is loaded or trained, together with every other bad value of the same
/// command line; then the checks that involve several options (<see cref="Check"/>). SampleCommandLine prints every
/// problem (<see cref="Problems"/>) and exits with code 2.
/// </summary>
internal static class OptionRules
{
    /// <summary>The value must be at least <paramref name="minimum"/>.</summary>
    public static Option<int> AtLeast(this Option<int> option, int minimum, string? why = null) =>
        option.Check(v => v >= minimum, $"at least {minimum}{Why(why)}");

    /// <summary>When given, the value must be at least <paramref name="minimum"/>.</summary>
    public static Option<int?> AtLeast(this Option<int?> option, int minimum) =>
        option.Check(v => v is not { } x || x >= minimum, $"at least {minimum}");

    /// <summary>The value must lie in [<paramref name="minimum"/>, <paramref name="maximum"/>].</summary>
    public static Option<int> Between(this Option<int> option, int minimum, int maximum) =>
        option.Check(v => v >= minimum && v <= maximum, $"in {minimum}…{maximum}");

    /// <summary>The value must be one of <paramref name="values"/>.</summary>
    public static Option<int> OneOf(this Option<int> option, params int[] values) =>
        option.Check(values.Contains, Choice(values.Select(v => v.ToString(CultureInfo.InvariantCulture))));

    /// <summary>The value must be one of <paramref name="values"/> (ignoring case).</summary>
    public static Option<string> OneOf(this Option<string> option, params string[] values) =>
        option.Check(v => v is not null && values.Contains(v, StringComparer.OrdinalIgnoreCase), Choice(values));

    /// <summary>The value must be a positive finite number.</summary>
    public static Option<double> Positive(this Option<double> option) =>
        option.Check(v => v > 0 && double.IsFinite(v), "a positive number");

    /// <summary>When given, the value must be a positive finite number.</summary>
    public static Option<double?> Positive(this Option<double?> option) =>
        option.Check(v => v is not { } x || (x > 0 && double.IsFinite(x)), "a positive number");

    /// <summary>The value must be a finite number, zero or more.</summary>
    public static Option<double> NonNegative(this Option<double> option) =>
        option.Check(v => v >= 0 && double.IsFinite(v), "a finite number ≥ 0");

    /// <summary>The value, when given, must be a finite number, zero or more.</summary>
    public static Option<double?> NonNegative(this Option<double?> option) =>
        option.Check(v => v is not { } x || (x >= 0 && double.IsFinite(x)), "a finite number ≥ 0");

    /// <summary>The value must be a fraction: in [0, 1) or, without zero, in (0, 1).</summary>
    public static Option<double> Fraction(this Option<double> option, bool allowZero) =>
        option.Check(v => (allowZero ? v >= 0 : v > 0) && v < 1, allowZero ? "in [0, 1)" : "in (0, 1)");

    // Checks that involve several options, per command. They run after parsing (when every option has its value, given
    // or default) and only when no option had a bad value of its own: System.CommandLine's command validators see
    // defaults as absent.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Command, List<Func<ParseResult, string?>>> CrossChecks = new();

    /// <summary>A check that involves several options of a command (e.g. the rank below the world size): an error message, or null.</summary>
    public static Command Check(this Command command, Func<ParseResult, string?> error)
    {
        CrossChecks.GetOrCreateValue(command).Add(error);
        return command;
    }

    /// <summary>
    /// Makes the cross-option checks of <paramref name="command"/> apply to <paramref name="alias"/> too: a root command
    /// that shares the command's options and runs it when its name is left out.
    /// </summary>
    public static Command WithChecksOf(this Command alias, Command command)
    {
        if (CrossChecks.TryGetValue(command, out var checks)) CrossChecks.GetOrCreateValue(alias).AddRange(checks);
        return alias;
    }

    /// <summary>
    /// Every problem of a parsed command line: System.CommandLine's (unknown options, values that do not parse, values
    /// the option rules refuse), or else those of the cross-option checks of the command run and its parents.
    /// </summary>
    public static IReadOnlyList<string> Problems(ParseResult parsed)
    {
        if (parsed.Errors.Count > 0) return parsed.Errors.Select(e => e.Message).ToList();
        // --help asks for the options, not for a run: the checks of a run's options (which may need options --help
        // leaves out, such as --data or a required --model) do not apply.
        if (parsed.Action is System.CommandLine.Help.HelpAction) return [];
        var problems = new List<string>();
        for (SymbolResult? r = parsed.CommandResult; r is CommandResult c; r = c.Parent)
            if (CrossChecks.TryGetValue(c.Command, out var checks))
                problems.AddRange(checks.Select(check => check(parsed)).OfType<string>());
        return problems;
    }

    /// <summary>The value as the user typed it (or the default), for messages.</summary>
    public static string Show<T>(T value) => value switch
    {
        double d => d.ToString(CultureInfo.InvariantCulture),
        null => "nothing",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

    /// <summary>The value must be a device: cpu, cuda or cuda:N.</summary>
    public static Option<string> IsDevice(this Option<string> option) =>
        option.Check(v =>
        {
            try
            {
                _ = MedVision.Torch.Device.Parse(v);
                return true;
            }
            catch (FormatException)
            {
                return false;
            }
        }, "cpu, cuda or cuda:N");

    /// <summary>The value must be a named value of the enum (for a [Flags] enum, a combination of its flags), not a number outside it.</summary>
    public static Option<T> Known<T>(this Option<T> option) where T : struct, Enum
    {
        bool flags = typeof(T).IsDefined(typeof(FlagsAttribute), false);
        long all = Enum.GetValues<T>().Aggregate(0L, (a, v) => a | Convert.ToInt64(v, CultureInfo.InvariantCulture));
        return option.Check(v => flags ? (Convert.ToInt64(v, CultureInfo.InvariantCulture) & ~all) == 0 : Enum.IsDefined(v),
            string.Join(", ", Enum.GetNames<T>()[..^1]) + " or " + Enum.GetNames<T>()[^1] + (flags ? " (or several, comma-separated)" : ""));
    }

    /// <summary>The value must satisfy <paramref name="valid"/>; the message says it must be <paramref name="requirement"/>.</summary>
    public static Option<T> Must<T>(this Option<T> option, Func<T, bool> valid, string requirement) => option.Check(valid, requirement);

    private static Option<T> Check<T>(this Option<T> option, Func<T, bool> valid, string requirement)
    {
        option.Validators.Add(result =>
        {
            T value;
            try
            {
                value = result.GetValueOrDefault<T>();
            }
            catch (InvalidOperationException)
            {
                return; // the value did not parse; System.CommandLine says so
            }
            if (!valid(value)) result.AddError($"{option.Name} must be {requirement}, got {Show(value)}.");
        });
        return option;
    }

    private static string Choice(IEnumerable<string> values)
    {
        var list = values.ToList();
        return list.Count == 1 ? list[0] : $"{string.Join(", ", list.Take(list.Count - 1))} or {list[^1]}";
    }

    private static string Why(string? why) => why is null ? "" : $" ({why})";
}
