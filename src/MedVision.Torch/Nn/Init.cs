namespace MedVision.Torch.Nn;

/// <summary>Weight initialisers (torch.nn.init), filling a tensor in place without recording gradients.</summary>
public static class Init
{
    /// <summary>The recommended gain for a nonlinearity (torch.nn.init.calculate_gain).</summary>
    public static double CalculateGain(Nonlinearity nonlinearity, double negativeSlope = 0.01) => nonlinearity switch
    {
        Nonlinearity.Linear or Nonlinearity.Sigmoid => 1.0,
        Nonlinearity.Tanh => 5.0 / 3.0,
        Nonlinearity.Relu => Math.Sqrt(2.0),
        Nonlinearity.LeakyRelu => Math.Sqrt(2.0 / (1 + negativeSlope * negativeSlope)),
        _ => throw new ArgumentOutOfRangeException(nameof(nonlinearity)),
    };

    /// <summary>Fan-in and fan-out of a weight: (size(1)·receptive field, size(0)·receptive field).</summary>
    public static (long FanIn, long FanOut) CalculateFanInAndFanOut(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var shape = tensor.CachedShape;
        if (shape.Length < 2) throw new ArgumentException($"Fan in and fan out need a tensor with at least 2 dimensions, got {shape.Length}.", nameof(tensor));
        long receptive = 1;
        for (int i = 2; i < shape.Length; i++) receptive *= shape[i];
        return (shape[1] * receptive, shape[0] * receptive);
    }

    /// <summary>Fills with U(low, high).</summary>
    public static Tensor Uniform(Tensor tensor, double low = 0, double high = 1)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (!(high >= low)) throw new ArgumentException($"Uniform needs low ≤ high, got [{low}, {high}].");
        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        var r = Tensors.Rand(tensor.CachedShape, tensor.ScalarType, tensor.Device);
        tensor.CopyInPlace(r * (high - low) + low);
        return tensor;
    }

    /// <summary>Fills with N(mean, std²).</summary>
    public static Tensor Normal(Tensor tensor, double mean = 0, double std = 1)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (std < 0) throw new ArgumentOutOfRangeException(nameof(std), std, "standard deviation must be non-negative");
        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        var r = Tensors.Randn(tensor.CachedShape, tensor.ScalarType, tensor.Device);
        tensor.CopyInPlace(r * std + mean);
        return tensor;
    }

    /// <summary>
    /// Fills with N(mean, std²) truncated to [<paramref name="a"/>, <paramref name="b"/>] (absolute bounds, as PyTorch's
    /// <c>trunc_normal_</c>): values outside are drawn again until none is. Used by vision transformers' patch embeddings.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative or non-finite std, or bounds that do not hold a part of the distribution (a ≥ b, or more than 6 standard deviations from the mean).</exception>
    public static Tensor TruncNormal(Tensor tensor, double mean = 0, double std = 1, double a = -2, double b = 2)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (!(std >= 0) || !double.IsFinite(std) || !double.IsFinite(mean)) throw new ArgumentOutOfRangeException(nameof(std), std, "The mean must be finite and the standard deviation finite and non-negative.");
        if (!(a < b) || (std > 0 && (b < mean - 6 * std || a > mean + 6 * std)) || (std == 0 && (mean < a || mean > b)))
            throw new ArgumentOutOfRangeException(nameof(a), a, $"The bounds [{a}, {b}] must hold part of N({mean}, {std}²).");
        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        var x = Tensors.Randn(tensor.CachedShape, tensor.ScalarType, tensor.Device) * std + mean;
        for (int round = 0; ; round++)
        {
            var outside = (x < a) | (x > b);
            if (outside.Any().Item() == 0) break;
            if (round == 1000) throw new InvalidOperationException("Truncated normal sampling did not converge.");
            x = Tensors.Where(outside, Tensors.Randn(tensor.CachedShape, tensor.ScalarType, tensor.Device) * std + mean, x);
        }
        tensor.CopyInPlace(x);
        return tensor;
    }

    /// <summary>Fills with a constant.</summary>
    public static Tensor Constant(Tensor tensor, double value)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        using var noGrad = Tensors.NoGrad();
        return tensor.FillInPlace(value);
    }

    /// <summary>Fills with zeros.</summary>
    public static Tensor Zeros(Tensor tensor) => Constant(tensor, 0);

    /// <summary>Fills with ones.</summary>
    public static Tensor Ones(Tensor tensor) => Constant(tensor, 1);

    /// <summary>Kaiming (He) uniform: U(−b, b) with b = gain·√(3 / fan).</summary>
    public static Tensor KaimingUniform(Tensor tensor, double a = 0, FanMode mode = FanMode.FanIn, Nonlinearity nonlinearity = Nonlinearity.LeakyRelu)
    {
        var fan = Fan(tensor, mode);
        var bound = CalculateGain(nonlinearity, a) * Math.Sqrt(3.0 / fan);
        return Uniform(tensor, -bound, bound);
    }

    /// <summary>Kaiming (He) normal: N(0, std²) with std = gain / √fan.</summary>
    public static Tensor KaimingNormal(Tensor tensor, double a = 0, FanMode mode = FanMode.FanIn, Nonlinearity nonlinearity = Nonlinearity.LeakyRelu)
    {
        var fan = Fan(tensor, mode);
        return Normal(tensor, 0, CalculateGain(nonlinearity, a) / Math.Sqrt(fan));
    }

    /// <summary>Xavier (Glorot) uniform: U(−b, b) with b = gain·√(6 / (fan_in + fan_out)).</summary>
    public static Tensor XavierUniform(Tensor tensor, double gain = 1.0)
    {
        var (fanIn, fanOut) = CalculateFanInAndFanOut(tensor);
        var bound = gain * Math.Sqrt(6.0 / (fanIn + fanOut));
        return Uniform(tensor, -bound, bound);
    }

    /// <summary>Xavier (Glorot) normal: N(0, std²) with std = gain·√(2 / (fan_in + fan_out)).</summary>
    public static Tensor XavierNormal(Tensor tensor, double gain = 1.0)
    {
        var (fanIn, fanOut) = CalculateFanInAndFanOut(tensor);
        return Normal(tensor, 0, gain * Math.Sqrt(2.0 / (fanIn + fanOut)));
    }

    private static long Fan(Tensor tensor, FanMode mode)
    {
        var (fanIn, fanOut) = CalculateFanInAndFanOut(tensor);
        var fan = Guard.Defined(mode) == FanMode.FanIn ? fanIn : fanOut;
        if (fan == 0) throw new ArgumentException("Cannot initialise a tensor with a zero-sized fan.", nameof(tensor));
        return fan;
    }

    /// <summary>PyTorch's default for Linear and Conv layers: Kaiming uniform with a = √5 (bound 1/√fan_in) and bias U(−1/√fan_in, 1/√fan_in).</summary>
    internal static void DefaultLinearOrConv(Tensor weight, Tensor? bias)
    {
        KaimingUniform(weight, Math.Sqrt(5));
        if (bias is null) return;
        var (fanIn, _) = CalculateFanInAndFanOut(weight);
        var bound = fanIn > 0 ? 1.0 / Math.Sqrt(fanIn) : 0;
        Uniform(bias, -bound, bound);
    }
}
