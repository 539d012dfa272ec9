using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Explainability;

/// <summary>
/// SmoothGrad (Smilkov, Thorat, Kim, Viégas and Wattenberg, "SmoothGrad: removing noise by adding noise", 2017;
/// Captum's <c>NoiseTunnel</c> over <c>Saliency</c> with <c>abs=False</c>, MONAI's <c>SmoothGrad</c>): the target
/// logit's gradient with respect to the input, averaged over <see cref="Samples"/> copies of the input with Gaussian
/// noise added, whose standard deviation is <see cref="NoiseLevel"/> times the sample's range (max − min) — the
/// paper's 10–20 % — or, with <see cref="Squared"/>, the average of the squared gradients (SmoothGrad²).
/// </summary>
/// <remarks>
/// The noise is drawn on the CPU from a generator seeded with <see cref="Seed"/>, in a fixed order (sample by sample,
/// copy by copy), so a computation is reproducible, independent of <see cref="BatchSize"/>, and safe to run from
/// several threads (libtorch's global generator is not used). The model must be in evaluation mode; its parameters'
/// gradients are left untouched.
/// </remarks>
public sealed class SmoothGrad
{
    private readonly InputGradients _gradients;

    /// <summary>SmoothGrad of a classifier's logits.</summary>
    /// <param name="model">The classifier (logits (N, classes)), in evaluation mode.</param>
    /// <param name="samples">Noisy copies per sample (Captum's <c>nt_samples</c>, MONAI's <c>n_samples</c>).</param>
    /// <param name="noiseLevel">The noise's standard deviation as a fraction of each sample's range (MONAI's <c>stdev_spread</c>).</param>
    /// <param name="squared">Average the squared gradients (SmoothGrad², Captum's <c>smoothgrad_sq</c>) instead of the gradients.</param>
    /// <param name="batchSize">Noisy copies per forward and backward pass.</param>
    /// <param name="seed">Seeds the noise.</param>
    public SmoothGrad(Module<Tensor, Tensor> model, int samples = 25, double noiseLevel = 0.15, bool squared = false, int batchSize = 64, int seed = 0)
        : this((model ?? throw new ArgumentNullException(nameof(model))).Call, model, samples, noiseLevel, squared, batchSize, seed)
    {
    }

    /// <summary>SmoothGrad of the logits (N, classes) a function computes from an input batch.</summary>
    /// <inheritdoc cref="SmoothGrad(Module{Tensor, Tensor}, int, double, bool, int, int)"/>
    public SmoothGrad(Func<Tensor, Tensor> forward, int samples = 25, double noiseLevel = 0.15, bool squared = false, int batchSize = 64, int seed = 0)
        : this(forward ?? throw new ArgumentNullException(nameof(forward)), null, samples, noiseLevel, squared, batchSize, seed)
    {
    }

    private SmoothGrad(Func<Tensor, Tensor> forward, Module? model, int samples, double noiseLevel, bool squared, int batchSize, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(samples, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(samples, 100_000);
        if (!(noiseLevel >= 0 && double.IsFinite(noiseLevel)))
            throw new ArgumentOutOfRangeException(nameof(noiseLevel), noiseLevel, "The noise level must be a finite fraction ≥ 0 of the input's range.");
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        _gradients = new InputGradients(forward, model, nameof(SmoothGrad));
        Samples = samples;
        NoiseLevel = noiseLevel;
        Squared = squared;
        BatchSize = batchSize;
        Seed = seed;
    }

    /// <summary>Noisy copies per sample.</summary>
    public int Samples { get; }

    /// <summary>The noise's standard deviation as a fraction of each sample's range.</summary>
    public double NoiseLevel { get; }

    /// <summary>Whether the squared gradients are averaged (SmoothGrad²).</summary>
    public bool Squared { get; }

    /// <summary>Noisy copies per forward and backward pass.</summary>
    public int BatchSize { get; }

    /// <summary>The noise's seed.</summary>
    public int Seed { get; }

    /// <summary>The averaged gradients of every sample of <paramref name="input"/> for its target class, of the input's shape, type and device.</summary>
    /// <param name="input">The preprocessed batch, floating point, (N, C, H, W), (N, C, D, H, W) or (N, …).</param>
    /// <param name="targetClasses">The class per sample; null for each sample's predicted class (at the noise-free input).</param>
    /// <exception cref="ArgumentException">The batch or targets do not fit, or the batch holds NaN or infinite values.</exception>
    /// <exception cref="InvalidOperationException">The model is in training mode, or its output is not logits (N, classes).</exception>
    public Attributions Compute(Tensor input, IReadOnlyList<long>? targetClasses = null)
    {
        _gradients.Check(input, targetClasses);
        long n = input.Size(0);
        using var scope = Tensors.NewDisposeScope();
        var (classes, scores) = InputGradients.Targets(_gradients.Logits(input), targetClasses);
        var flat = input.Reshape(n, -1);
        var ranges = (flat.Amax(new long[] { 1 }) - flat.Amin(new long[] { 1 })).To(ScalarType.Float64, Device.Cpu).ToArray<double>();
        long elements = flat.Size(1);
        if (elements > int.MaxValue / 2) throw new ArgumentException($"A sample of {elements} elements is too large for SmoothGrad's noise buffer.", nameof(input));
        var random = new Random(Seed);
        var perSample = new Tensor[n];
        for (int i = 0; i < n; i++)
        {
            var sample = input.Narrow(0, i, 1);
            double sigma = NoiseLevel * ranges[i];
            var sum = Tensors.ZerosLike(sample);
            for (int first = 0; first < Samples; first += BatchSize)
            {
                int count = Math.Min(BatchSize, Samples - first);
                using var chunk = Tensors.NewDisposeScope();
                var noise = new float[count * elements];
                for (int c = 0; c < count; c++) InputGradients.StandardNormal(random, noise.AsSpan(c * (int)elements, (int)elements));
                var shape = input.Shape.ToArray();
                shape[0] = count;
                var copies = sample + (Tensors.FromArray(noise, shape).To(input.ScalarType, input.Device) * sigma);
                if (!copies.IsFinite().All().Item<bool>())
                    throw new ArgumentException($"A noise level of {NoiseLevel} times sample {i}'s range ({ranges[i]}) gives noise beyond the range of {input.ScalarType}.", nameof(input));
                var gradient = _gradients.Gradient(copies, Enumerable.Repeat(classes[i], count).ToArray());
                sum.AddInPlace((Squared ? gradient * gradient : gradient).Sum(0, keepDim: true));
            }
            perSample[i] = sum / Samples;
        }
        return new Attributions(scope.MoveToOuter(Tensors.Cat(perSample)), classes, scores);
    }
}
