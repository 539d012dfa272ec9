using System.Globalization;
using MedVision.Nets.Training;
using Spectre.Console;

namespace MedVision.Samples;

/// <summary>What the training samples print while a trainer runs.</summary>
internal static class TrainingConsole
{
    /// <summary>The line of a completed epoch: training loss, validation AUC and ACC, learning rate, seconds.</summary>
    public static string EpochLine(EpochRecord e) => string.Create(CultureInfo.InvariantCulture,
        $"epoch {e.Epoch + 1,3}: train loss {e.TrainLoss:F4} · val AUC {e.Validation.Auc:F4} · val ACC {e.Validation.Acc:F4} · lr {e.LearningRate:G3} · {e.Seconds:F1} s");

    /// <summary>A difference as the samples print it: signed, 4 decimals ("+0.0123", "-0.0045", "0.0000").</summary>
    public static string Signed(double difference) => difference.ToString("+0.0000;-0.0000;0.0000", CultureInfo.InvariantCulture);

    /// <summary>A p-value as the samples print it: 4 decimals, scientific below 1e-4, "n/a" when undefined.</summary>
    public static string PValue(double p) => double.IsNaN(p) ? "n/a" : p.ToString(p < 1e-4 ? "0.0E+0" : "0.0000", CultureInfo.InvariantCulture);

    /// <summary>Progress that prints <see cref="EpochLine"/> as each epoch completes.</summary>
    public static IProgress<TrainingProgress> EpochLines() => new SynchronousProgress<TrainingProgress>(p =>
    {
        if (p.Completed is { } e) AnsiConsole.MarkupLine(EpochLine(e));
    });
}

/// <summary>Reports on the calling thread (Progress&lt;T&gt; would post to the thread pool).</summary>
internal sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
