using MedVision.Torch;

namespace MedVision.Nets.Losses;

/// <summary>One named, weighted term of a <see cref="LossComposite{TContext}"/>.</summary>
/// <typeparam name="TContext">What the term is computed from.</typeparam>
public sealed class LossTerm<TContext>
{
    private readonly Func<TContext, Tensor> _compute;
    private readonly Func<int, double> _weight;

    internal LossTerm(string name, Func<TContext, Tensor> compute, Func<int, double> weight)
    {
        Name = name;
        _compute = compute;
        _weight = weight;
    }

    /// <summary>The term's name (a key of <see cref="LossValue.Terms"/>).</summary>
    public string Name { get; }

    /// <summary>The unweighted value of the term.</summary>
    public Tensor Compute(TContext context) => _compute(context);

    /// <summary>The term's weight at an epoch.</summary>
    public double WeightAt(int epoch)
    {
        var w = _weight(epoch);
        if (double.IsNaN(w) || double.IsInfinity(w) || w < 0)
            throw new InvalidOperationException($"The weight of loss term '{Name}' at epoch {epoch} is {w}; weights must be finite and non-negative.");
        return w;
    }
}
