namespace MedVision.Torch.Nn;

/// <summary>Gradient clipping (torch.nn.utils.clip_grad_norm_ and clip_grad_value_).</summary>
public static class GradientClipping
{
    /// <summary>
    /// Scales the gradients of <paramref name="parameters"/> in place so that their total norm is at most
    /// <paramref name="maxNorm"/>, as torch.nn.utils.clip_grad_norm_: the total norm is the
    /// <paramref name="normType"/>-norm of the vector of every gradient's norm (the maximum absolute value for
    /// +∞); with <c>clip_coef = max_norm / (total_norm + 1e-6)</c>, gradients are multiplied by clip_coef only when it
    /// is below 1. Parameters without a gradient are ignored.
    /// </summary>
    /// <returns>The total norm of the gradients before clipping (0 when no parameter has a gradient).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxNorm"/> is negative or NaN, or <paramref name="normType"/> is not positive.</exception>
    /// <exception cref="InvalidOperationException"><paramref name="errorIfNonFinite"/> is true and the total norm is NaN or infinite.</exception>
    public static double ClipGradNorm(IEnumerable<Tensor> parameters, double maxNorm, double normType = 2, bool errorIfNonFinite = false)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(maxNorm >= 0)) throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "maxNorm must be ≥ 0.");
        if (!(normType > 0)) throw new ArgumentOutOfRangeException(nameof(normType), normType, "normType must be > 0 (or +∞).");
        using var scope = Torch.NewDisposeScope();
        using var noGrad = Torch.NoGrad();
        var grads = new List<Tensor>();
        foreach (var p in parameters)
        {
            if (p is null) throw new ArgumentException("A parameter is null.", nameof(parameters));
            var g = p.Grad;
            if (g is not null && g.NumElements > 0) grads.Add(g);
        }
        if (grads.Count == 0) return 0;
        var device = grads[0].Device;
        var norms = grads.Select(g => Norm(g, normType).To(ScalarType.Float64, device)).ToArray();
        var stacked = Torch.Stack(norms);
        double total = Norm(stacked, normType).Item();
        if (errorIfNonFinite && !double.IsFinite(total))
            throw new InvalidOperationException($"The total {normType}-norm of the gradients is {total}, so they cannot be clipped.");
        var clipCoef = maxNorm / (total + 1e-6);
        if (clipCoef < 1)
            foreach (var g in grads) g.MulInPlace(clipCoef);
        return total;
    }

    /// <summary>Clamps every gradient of <paramref name="parameters"/> into [−clipValue, clipValue] in place (torch.nn.utils.clip_grad_value_).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="clipValue"/> is negative or NaN.</exception>
    public static void ClipGradValue(IEnumerable<Tensor> parameters, double clipValue)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(clipValue >= 0)) throw new ArgumentOutOfRangeException(nameof(clipValue), clipValue, "clipValue must be ≥ 0.");
        using var scope = Torch.NewDisposeScope();
        using var noGrad = Torch.NoGrad();
        foreach (var p in parameters)
        {
            if (p is null) throw new ArgumentException("A parameter is null.", nameof(parameters));
            p.Grad?.ClampInPlace(-clipValue, clipValue);
        }
    }

    private static Tensor Norm(Tensor t, double p)
    {
        if (double.IsPositiveInfinity(p)) return t.Abs().Max();
        if (p == 2) return t.Norm();
        if (p == 1) return t.Abs().Sum();
        return t.Abs().Pow(p).Sum().Pow(1 / p);
    }
}
