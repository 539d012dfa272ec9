using System.Runtime.CompilerServices;

namespace MedVision.Torch.Optim;

/// <summary>
/// Loss scaling for float16 mixed precision (torch.cuda.amp.GradScaler): the loss is multiplied by a large factor
/// before backward so that small gradients survive float16, the gradients are divided by it again before the
/// optimizer step, and a step whose gradients hold an infinity or NaN is skipped and the factor lowered; after
/// <see cref="GrowthInterval"/> steps in a row without one the factor is raised. bfloat16 (the CPU's autocast
/// precision) has float32's range and needs no scaler.
/// <code>
/// using (Tensors.Autocast(DeviceType.Cuda)) loss = criterion(model.Call(x), y);
/// scaler.ScaleLoss(loss).Backward();
/// scaler.Step(optimizer);      // unscales, skips the step on inf/NaN gradients
/// scaler.Update();
/// </code>
/// </summary>
public sealed class GradScaler
{
    private readonly ConditionalWeakTable<Optimizer, StepState> _unscaled = new();

    private sealed class StepState
    {
        public bool FoundNonFinite;
    }

    /// <summary>Creates a scaler; the arguments have torch.cuda.amp.GradScaler's meaning and defaults.</summary>
    /// <param name="initScale">The first scale factor.</param>
    /// <param name="growthFactor">Factor applied after <paramref name="growthInterval"/> clean steps (&gt; 1).</param>
    /// <param name="backoffFactor">Factor applied after a step with inf/NaN gradients (in (0, 1)).</param>
    /// <param name="growthInterval">Clean steps before the scale grows (≥ 1).</param>
    /// <param name="enabled">False makes every method a pass-through (the same loop runs in float32).</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of its range.</exception>
    public GradScaler(double initScale = 65536.0, double growthFactor = 2.0, double backoffFactor = 0.5, int growthInterval = 2000, bool enabled = true)
    {
        if (!(initScale > 0) || !double.IsFinite(initScale)) throw new ArgumentOutOfRangeException(nameof(initScale), initScale, "initScale must be positive and finite");
        if (!(growthFactor > 1) || !double.IsFinite(growthFactor)) throw new ArgumentOutOfRangeException(nameof(growthFactor), growthFactor, "growthFactor must be finite and above 1");
        if (!(backoffFactor > 0 && backoffFactor < 1)) throw new ArgumentOutOfRangeException(nameof(backoffFactor), backoffFactor, "backoffFactor must lie in (0, 1)");
        ArgumentOutOfRangeException.ThrowIfLessThan(growthInterval, 1);
        Scale = initScale;
        GrowthFactor = growthFactor;
        BackoffFactor = backoffFactor;
        GrowthInterval = growthInterval;
        Enabled = enabled;
    }

    /// <summary>The current scale factor.</summary>
    public double Scale { get; private set; }

    /// <summary>Factor applied after <see cref="GrowthInterval"/> clean steps.</summary>
    public double GrowthFactor { get; }

    /// <summary>Factor applied after a step with inf/NaN gradients.</summary>
    public double BackoffFactor { get; }

    /// <summary>Clean steps before the scale grows.</summary>
    public int GrowthInterval { get; }

    /// <summary>Clean steps since the scale last changed.</summary>
    public int GrowthTracker { get; private set; }

    /// <summary>Whether the scaler scales (false: a pass-through).</summary>
    public bool Enabled { get; }

    /// <summary>Steps skipped so far because their gradients held an infinity or NaN.</summary>
    public long SkippedSteps { get; private set; }

    /// <summary>The loss multiplied by the scale factor (a new tensor; the loss itself when disabled).</summary>
    public Tensor ScaleLoss(Tensor loss)
    {
        ArgumentNullException.ThrowIfNull(loss);
        return Enabled ? loss * Scale : loss.Alias();
    }

    /// <summary>
    /// Divides the gradients of <paramref name="optimizer"/>'s parameters by the scale factor, in place (call it before
    /// clipping gradients; <see cref="Step"/> calls it when it has not been called). Once per optimizer per step.
    /// </summary>
    /// <returns>True when a gradient holds an infinity or NaN (the step will be skipped).</returns>
    /// <exception cref="InvalidOperationException">Called twice for the same optimizer before <see cref="Update"/>.</exception>
    public bool Unscale(Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        if (!Enabled) return false;
        if (_unscaled.TryGetValue(optimizer, out _))
            throw new InvalidOperationException("Unscale was already called for this optimizer since the last Update.");
        double inverse = 1.0 / Scale;
        bool found = false;
        using (Tensors.NoGrad())
        {
            foreach (var p in optimizer.Parameters)
            {
                using var grad = p.Grad;
                if (grad is null) continue;
                grad.MulInPlace(inverse);
                if (!found)
                {
                    using var finite = grad.IsFinite();
                    using var all = finite.All();
                    found = all.Item() == 0;
                }
            }
        }
        _unscaled.Add(optimizer, new StepState { FoundNonFinite = found });
        return found;
    }

    /// <summary>
    /// Takes the optimizer step on unscaled gradients, unless a gradient holds an infinity or NaN (then the step is
    /// skipped and counted in <see cref="SkippedSteps"/>).
    /// </summary>
    /// <returns>True when the optimizer stepped.</returns>
    public bool Step(Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        if (!Enabled)
        {
            optimizer.Step();
            return true;
        }
        if (!_unscaled.TryGetValue(optimizer, out var state))
        {
            Unscale(optimizer);
            _unscaled.TryGetValue(optimizer, out state);
        }
        if (state!.FoundNonFinite)
        {
            SkippedSteps++;
            return false;
        }
        optimizer.Step();
        return true;
    }

    /// <summary>
    /// Updates the scale factor after this step's optimizers: lowered by <see cref="BackoffFactor"/> when any of them
    /// found inf/NaN gradients, raised by <see cref="GrowthFactor"/> after <see cref="GrowthInterval"/> clean steps.
    /// </summary>
    public void Update()
    {
        if (!Enabled) return;
        bool found = false, any = false;
        foreach (var (_, state) in _unscaled)
        {
            any = true;
            found |= state.FoundNonFinite;
        }
        if (!any) throw new InvalidOperationException("Update needs a step first: call Step (or Unscale) for the optimizers of this iteration.");
        _unscaled.Clear();
        if (found)
        {
            Scale *= BackoffFactor;
            GrowthTracker = 0;
        }
        else if (++GrowthTracker == GrowthInterval)
        {
            Scale *= GrowthFactor;
            GrowthTracker = 0;
        }
    }

    /// <summary>The scale and growth tracker, for checkpoints (torch's scaler.state_dict()).</summary>
    public IReadOnlyDictionary<string, double> GetState() => new Dictionary<string, double>
    {
        ["scale"] = Scale,
        ["growth_tracker"] = GrowthTracker,
    };

    /// <summary>Restores <see cref="GetState"/>'s values.</summary>
    /// <exception cref="ArgumentException">A value is missing or out of range.</exception>
    public void LoadState(IReadOnlyDictionary<string, double> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (!state.TryGetValue("scale", out var scale) || !(scale > 0) || !double.IsFinite(scale))
            throw new ArgumentException("The scaler state needs a positive finite 'scale'.", nameof(state));
        if (!state.TryGetValue("growth_tracker", out var tracker) || tracker < 0 || tracker >= GrowthInterval || tracker != Math.Floor(tracker))
            throw new ArgumentException($"The scaler state needs a 'growth_tracker' in [0, {GrowthInterval}).", nameof(state));
        Scale = scale;
        GrowthTracker = (int)tracker;
    }
}
