using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Explainability;

/// <summary>
/// GradientSHAP (Lundberg and Lee's SHAP, as Captum's <c>GradientShap</c> approximates it; with training images as the
/// baselines it is the "expected gradients" of Erion et al., Nature Machine Intelligence 2021): the expected value of
/// gradient × (input − baseline), the gradient taken at a random point between a baseline drawn from a reference
/// distribution and the input (optionally with Gaussian noise added). Where <see cref="IntegratedGradients"/> needs one
/// baseline and answers "why this prediction rather than the baseline's", GradientSHAP averages over a distribution of
/// baselines — typically a few dozen training images — so the attributions explain the prediction against the data
/// the model has seen, and approximate SHAP values when the model is close to linear between the points.
/// </summary>
/// <remarks>
/// Each draw picks a baseline uniformly, a point α uniformly in [0, 1) and, when <see cref="NoiseLevel"/> is above
/// zero, a Gaussian noise added to the input, all on the CPU from a generator seeded with <see cref="Seed"/>, sample by
/// sample and draw by draw, so a computation is reproducible and does not depend on <see cref="BatchSize"/>.
/// <see cref="Attributions.ConvergenceDeltas"/> holds, per sample, the attributions' sum minus the mean change of the
/// target logit from the drawn baseline to the (noisy) input over the draws: it shrinks as <see cref="Samples"/> grows
/// and is exactly zero for a model that is linear in its input. The model must be in evaluation mode; its parameters'
/// gradients are left untouched.
/// </remarks>
public sealed class GradientShap
{
    private readonly InputGradients _gradients;

    /// <summary>GradientSHAP of a classifier's logits.</summary>
    /// <param name="model">The classifier (logits (N, classes)), in evaluation mode.</param>
    /// <param name="samples">Draws per sample (Captum's <c>n_samples</c>), 1 to 100,000.</param>
    /// <param name="noiseLevel">The standard deviation of the noise added to the input, in the input's units (Captum's <c>stdevs</c>); 0 for none.</param>
    /// <param name="batchSize">Draws per forward and backward pass.</param>
    /// <param name="seed">Seeds the draws.</param>
    public GradientShap(Module<Tensor, Tensor> model, int samples = 5, double noiseLevel = 0.0, int batchSize = 64, int seed = 0)
        : this((model ?? throw new ArgumentNullException(nameof(model))).Call, model, samples, noiseLevel, batchSize, seed)
    {
    }

    /// <summary>GradientSHAP of the logits (N, classes) a function computes from an input batch.</summary>
    /// <inheritdoc cref="GradientShap(Module{Tensor, Tensor}, int, double, int, int)"/>
    public GradientShap(Func<Tensor, Tensor> forward, int samples = 5, double noiseLevel = 0.0, int batchSize = 64, int seed = 0)
        : this(forward ?? throw new ArgumentNullException(nameof(forward)), null, samples, noiseLevel, batchSize, seed)
    {
    }

    private GradientShap(Func<Tensor, Tensor> forward, Module? model, int samples, double noiseLevel, int batchSize, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(samples, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(samples, 100_000);
        if (!(noiseLevel >= 0 && double.IsFinite(noiseLevel)))
            throw new ArgumentOutOfRangeException(nameof(noiseLevel), noiseLevel, "The noise's standard deviation must be finite and ≥ 0.");
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        _gradients = new InputGradients(forward, model, nameof(GradientShap));
        Samples = samples;
        NoiseLevel = noiseLevel;
        BatchSize = batchSize;
        Seed = seed;
    }

    /// <summary>Draws per sample.</summary>
    public int Samples { get; }

    /// <summary>The standard deviation of the noise added to the input, in the input's units.</summary>
    public double NoiseLevel { get; }

    /// <summary>Draws per forward and backward pass.</summary>
    public int BatchSize { get; }

    /// <summary>The draws' seed.</summary>
    public int Seed { get; }

    /// <summary>The attributions of every sample of <paramref name="input"/> for its target class, of the input's shape, type and device.</summary>
    /// <param name="input">The preprocessed batch, floating point, (N, C, H, W), (N, C, D, H, W) or (N, …).</param>
    /// <param name="baselines">The reference distribution: B ≥ 1 samples of the input's sample shape (e.g. preprocessed training images; zeros and a blurred copy are common too).</param>
    /// <param name="targetClasses">The class per sample; null for each sample's predicted class.</param>
    /// <exception cref="ArgumentException">The batch, baselines or targets do not fit, or hold NaN or infinite values.</exception>
    /// <exception cref="InvalidOperationException">The model is in training mode, or its output is not logits (N, classes).</exception>
    public Attributions Compute(Tensor input, Tensor baselines, IReadOnlyList<long>? targetClasses = null)
    {
        ArgumentNullException.ThrowIfNull(baselines);
        _gradients.Check(input, targetClasses);
        long n = input.Size(0);
        long elements = input.NumElements / n;
        if (NoiseLevel > 0 && elements > int.MaxValue / 2) throw new ArgumentException($"A sample of {elements} elements is too large for GradientSHAP's noise buffer.", nameof(input));
        using var scope = Tensors.NewDisposeScope();
        var references = InputGradients.References(input, baselines);
        var (classes, scores) = InputGradients.Targets(_gradients.Logits(input), targetClasses);
        long b = references.Size(0);
        var random = new Random(Seed);
        var perSample = new Tensor[n];
        var deltas = new double[n];
        for (int i = 0; i < n; i++)
        {
            var sample = input.Narrow(0, i, 1);
            var sum = Tensors.ZerosLike(sample);
            double change = 0;
            for (int first = 0; first < Samples; first += BatchSize)
            {
                int count = Math.Min(BatchSize, Samples - first);
                using var chunk = Tensors.NewDisposeScope();
                var picks = new long[count];
                var alphas = new double[count];
                var noise = NoiseLevel > 0 ? new float[count * elements] : null;
                for (int c = 0; c < count; c++)
                {
                    if (noise is not null) InputGradients.StandardNormal(random, noise.AsSpan(c * (int)elements, (int)elements));
                    picks[c] = random.NextInt64(b);
                    alphas[c] = random.NextDouble();
                }
                var shape = input.Shape.ToArray();
                shape[0] = count;
                var ends = sample.Expand(shape);
                if (noise is not null) ends = ends + (Tensors.FromArray(noise, shape).To(input.ScalarType, input.Device) * NoiseLevel);
                if (!ends.IsFinite().All().Item<bool>())
                    throw new ArgumentException($"Noise of standard deviation {NoiseLevel} takes sample {i} beyond the range of {input.ScalarType}.", nameof(input));
                var starts = references.IndexSelect(0, Tensors.FromArray(picks).To(input.Device));
                var alphaShape = Enumerable.Repeat(1L, shape.Length).ToArray();
                alphaShape[0] = count;
                var alpha = Tensors.FromArray(alphas, alphaShape).To(input.ScalarType, input.Device);
                var difference = ends - starts;
                var points = starts + (alpha * difference);
                var targets = Enumerable.Repeat(classes[i], count).ToArray();
                var gradient = _gradients.Gradient(points, targets);
                sum.AddInPlace((gradient * difference).Sum(0, keepDim: true));
                // Without noise every copy ends at the sample itself, whose logit is already known.
                double endSum = noise is null
                    ? count * (double)scores[i]
                    : InputGradients.Pick(_gradients.Logits(ends), targets).To(ScalarType.Float64).Sum().Item();
                var startLogits = InputGradients.Pick(_gradients.Logits(starts), targets);
                change += endSum - startLogits.To(ScalarType.Float64).Sum().Item();
            }
            perSample[i] = sum / Samples;
            deltas[i] = perSample[i].To(ScalarType.Float64).Sum().Item() - (change / Samples);
        }
        return new Attributions(scope.MoveToOuter(Tensors.Cat(perSample)), classes, scores) { ConvergenceDeltas = deltas };
    }
}
