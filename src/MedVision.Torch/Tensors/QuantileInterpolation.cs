namespace MedVision.Torch;

/// <summary>How <see cref="Tensor.Quantile(double, long?, bool, QuantileInterpolation)"/> picks a value between two data points (torch.quantile's interpolation).</summary>
public enum QuantileInterpolation
{
    /// <summary>Linear interpolation between the two neighbours ("linear", the default).</summary>
    Linear = 0,

    /// <summary>The lower neighbour ("lower").</summary>
    Lower = 1,

    /// <summary>The higher neighbour ("higher").</summary>
    Higher = 2,

    /// <summary>The mean of the two neighbours ("midpoint").</summary>
    Midpoint = 3,

    /// <summary>The nearer neighbour, ties to the even index ("nearest").</summary>
    Nearest = 4,
}
