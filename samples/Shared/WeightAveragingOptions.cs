using System.CommandLine;

namespace MedVision.Samples;

/// <summary>
/// --ema and --ema-warmup, the exponential moving average of the weights, as every training sample declares them
/// (the classification samples through OptimizationCommandLine, the segmentation sample through its recipe options).
/// </summary>
internal static class WeightAveragingOptions
{
    /// <summary>--ema DECAY.</summary>
    public static Option<double?> Ema() => new Option<double?>("--ema")
    {
        Description = "DECAY: keep an exponential moving average of the weights (updated after every optimizer step), validated, selected and saved instead of the last step's weights. It keeps DECAY^steps of the initial weights: 0.9 suits a few hundred steps, 0.99 a few thousand, 0.999 tens of thousands (or add --ema-warmup).",
    }.Must(v => v is null || (v >= 0 && v < 1), "a decay in [0, 1)");

    /// <summary>--ema-warmup.</summary>
    public static Option<bool> EmaWarmup() => new("--ema-warmup")
    {
        Description = "With --ema: lower the decay of the first steps to (1 + n)/(10 + n), so the average forgets the initial weights whatever the decay.",
    };

    /// <summary>The refusal of --ema-warmup without --ema; null when the two fit.</summary>
    public static string? Check(bool warmup, double? decay) => warmup && decay is null ? "--ema-warmup warms up the weight average of --ema; give --ema DECAY too." : null;
}
