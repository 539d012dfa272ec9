namespace MedVision.Nets.Training;

/// <summary>The loss became NaN or infinite; training stopped at the reported step instead of training through it.</summary>
public sealed class TrainingDivergedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TrainingDivergedException(int epoch, int step, double loss, IReadOnlyDictionary<string, double> terms)
        : base($"The loss became {loss} at epoch {epoch}, step {step} (terms: {string.Join(", ", (terms ?? throw new ArgumentNullException(nameof(terms))).Select(t => $"{t.Key}={t.Value}"))}). Lower the learning rate or check the inputs.")
    {
        Epoch = epoch;
        Step = step;
        Loss = loss;
    }

    /// <summary>Creates the exception for a trainer that counts steps but not epochs (<see cref="Epoch"/> is −1).</summary>
    public TrainingDivergedException(long step, double loss, IReadOnlyDictionary<string, double> terms)
        : base($"The loss became {loss} at step {step} (terms: {string.Join(", ", (terms ?? throw new ArgumentNullException(nameof(terms))).Select(t => $"{t.Key}={t.Value}"))}). Lower the learning rate or check the inputs.")
    {
        Epoch = -1;
        Step = (int)Math.Min(step, int.MaxValue);
        Loss = loss;
    }

    /// <summary>0-based epoch (−1 when the trainer does not count epochs).</summary>
    public int Epoch { get; }
    /// <summary>0-based step within the epoch (or since the trainer was created, when <see cref="Epoch"/> is −1).</summary>
    public int Step { get; }
    /// <summary>The non-finite loss.</summary>
    public double Loss { get; }
}
