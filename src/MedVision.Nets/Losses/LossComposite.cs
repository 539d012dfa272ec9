using MedVision.Torch;

namespace MedVision.Nets.Losses;

/// <summary>
/// A weighted sum of named loss terms over a model's outputs (for example cross-entropy + 0.5·MSE for MTCSNN, or
/// L1 + feature consistency + cross-entropy for CDSF). <see cref="Compute"/> returns the total for backward and each
/// term's value for logging. Weights may follow a per-epoch schedule (warm-up of a term). Build one with
/// <see cref="LossComposite.For{TContext}"/>.
/// </summary>
/// <typeparam name="TContext">What the terms are computed from (model outputs and targets).</typeparam>
public sealed class LossComposite<TContext>
{
    private readonly IReadOnlyList<LossTerm<TContext>> _terms;

    internal LossComposite(IReadOnlyList<LossTerm<TContext>> terms) => _terms = terms;

    /// <summary>The terms in the order they were added.</summary>
    public IReadOnlyList<LossTerm<TContext>> Terms => _terms;

    /// <summary>The epoch the weight schedules are evaluated at (0-based); set it at the start of each epoch.</summary>
    public int Epoch { get; set; }

    /// <summary>The current weight of a term.</summary>
    public double WeightOf(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var term = _terms.FirstOrDefault(t => t.Name == name) ?? throw new KeyNotFoundException($"No loss term is named '{name}'.");
        return term.WeightAt(Epoch);
    }

    /// <summary>Computes every term and their weighted sum. The returned total belongs to the caller's dispose scope.</summary>
    public LossValue Compute(TContext context)
    {
        var values = new Dictionary<string, double>(_terms.Count);
        var weights = new Dictionary<string, double>(_terms.Count);
        Tensor? total = null, first = null;
        using (var scope = Tensors.NewDisposeScope())
        {
            foreach (var term in _terms)
            {
                var weight = term.WeightAt(Epoch);
                weights[term.Name] = weight;
                var value = term.Compute(context) ?? throw new InvalidOperationException($"Loss term '{term.Name}' returned null.");
                if (value.NumElements != 1)
                    throw new InvalidOperationException($"Loss term '{term.Name}' must be a scalar, got shape [{string.Join(", ", value.Shape)}].");
                using (Tensors.NoGrad())
                {
                    using var detached = value.Detach();
                    values[term.Name] = detached.Item();
                }
                first ??= value;
                if (weight == 0) continue;
                var weighted = weight == 1 ? value : value * weight;
                total = total is null ? weighted : total + weighted;
            }
            // Every weight 0 (a term switched on later, say): zero, but still a function of the terms, as 0 · loss is in
            // PyTorch, so that backward runs (giving zero gradients) instead of failing on a constant.
            total ??= first! * 0;
            scope.MoveToOuter(total);
        }
        return new LossValue(total, values, weights);
    }
}

/// <summary>Entry point of the loss-composite builder.</summary>
public static class LossComposite
{
    /// <summary>Starts a composite whose terms read a <typeparamref name="TContext"/>.</summary>
    public static LossCompositeBuilder<TContext> For<TContext>() => new();
}
