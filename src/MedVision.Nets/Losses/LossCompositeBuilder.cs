using MedVision.Torch;

namespace MedVision.Nets.Losses;

/// <summary>Builds a <see cref="LossComposite{TContext}"/>: add named terms with weights or weight schedules, then <see cref="Build"/>.</summary>
/// <typeparam name="TContext">What the terms are computed from.</typeparam>
public sealed class LossCompositeBuilder<TContext>
{
    private readonly List<LossTerm<TContext>> _terms = new();
    private bool _built;

    /// <summary>Adds a term with a constant weight.</summary>
    public LossCompositeBuilder<TContext> Add(string name, Func<TContext, Tensor> term, double weight = 1.0)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(term);
        if (double.IsNaN(weight) || double.IsInfinity(weight) || weight < 0)
            throw new ArgumentOutOfRangeException(nameof(weight), weight, "a loss weight must be finite and non-negative");
        return Add(name, term, _ => weight);
    }

    /// <summary>Adds a term whose weight depends on the epoch (e.g. a warm-up).</summary>
    public LossCompositeBuilder<TContext> Add(string name, Func<TContext, Tensor> term, Func<int, double> weightSchedule)
    {
        ThrowIfBuilt();
        ArgumentNullException.ThrowIfNull(name);
        if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("A loss term needs a name.", nameof(name));
        ArgumentNullException.ThrowIfNull(term);
        ArgumentNullException.ThrowIfNull(weightSchedule);
        if (_terms.Any(t => t.Name == name)) throw new ArgumentException($"A loss term named '{name}' was already added.", nameof(name));
        _terms.Add(new LossTerm<TContext>(name, term, weightSchedule));
        return this;
    }

    /// <summary>Adds a term whose weight rises linearly from 0 to <paramref name="weight"/> over <paramref name="warmUpEpochs"/> epochs.</summary>
    public LossCompositeBuilder<TContext> AddWithWarmUp(string name, Func<TContext, Tensor> term, double weight, int warmUpEpochs)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(term);
        ArgumentOutOfRangeException.ThrowIfNegative(warmUpEpochs);
        if (!double.IsFinite(weight) || weight < 0) throw new ArgumentOutOfRangeException(nameof(weight), weight, "a loss weight must be finite and non-negative");
        return Add(name, term, epoch => warmUpEpochs == 0 ? weight : weight * Math.Min(1.0, (epoch + 1) / (double)warmUpEpochs));
    }

    /// <summary>Creates the composite; the builder cannot be used afterwards.</summary>
    public LossComposite<TContext> Build()
    {
        ThrowIfBuilt();
        if (_terms.Count == 0) throw new InvalidOperationException("A loss composite needs at least one term.");
        _built = true;
        return new LossComposite<TContext>(_terms.ToArray());
    }

    private void ThrowIfBuilt()
    {
        if (_built) throw new InvalidOperationException("This builder has already built its composite; start a new one with LossComposite.For<T>().");
    }
}
