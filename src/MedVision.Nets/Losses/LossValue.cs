using MedVision.Torch;

namespace MedVision.Nets.Losses;

/// <summary>The result of a <see cref="LossComposite{TContext}"/>: the weighted total (for backward) and every term's unweighted value.</summary>
public sealed class LossValue : IDisposable
{
    internal LossValue(Tensor total, IReadOnlyDictionary<string, double> terms, IReadOnlyDictionary<string, double> weights)
    {
        Total = total;
        Terms = terms;
        Weights = weights;
    }

    /// <summary>Σ weight·term, attached to the autograd graph.</summary>
    public Tensor Total { get; }

    /// <summary>Each term's unweighted value, by name.</summary>
    public IReadOnlyDictionary<string, double> Terms { get; }

    /// <summary>Each term's weight when it was computed.</summary>
    public IReadOnlyDictionary<string, double> Weights { get; }

    /// <summary>Disposes <see cref="Total"/>.</summary>
    public void Dispose() => Total.Dispose();
}
