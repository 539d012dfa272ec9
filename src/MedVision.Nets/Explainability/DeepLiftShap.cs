using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Explainability;

/// <summary>
/// DeepLIFT SHAP (Lundberg and Lee, "A Unified Approach to Interpreting Model Predictions", NeurIPS 2017; Captum's
/// <c>DeepLiftShap</c>): <see cref="DeepLift"/>'s attributions averaged over a distribution of references — typically a
/// few dozen training images — so that they explain the prediction against the data the model has seen rather than
/// against one chosen baseline. Deterministic: every reference is used for every sample (where
/// <see cref="GradientShap"/> draws baselines and path points at random).
/// </summary>
/// <remarks>
/// The same rules and requirements as <see cref="DeepLift"/>: evaluation mode, activations recorded through this library,
/// samples treated independently; summation-to-delta exact for networks of linear layers, elementwise activations and max pooling, so
/// <see cref="Attributions.ConvergenceDeltas"/> (per sample, the attributions' sum minus the target logit's mean change
/// from the references) is zero there up to rounding. Cost per sample: one forward and backward pass of
/// 2 × <c>B</c> rows for B references, <see cref="BatchSize"/> references at a time.
/// </remarks>
public sealed class DeepLiftShap
{
    private readonly InputGradients _gradients;

    /// <summary>DeepLIFT SHAP of a classifier's logits.</summary>
    /// <param name="model">The classifier (logits (N, classes)), in evaluation mode.</param>
    /// <param name="batchSize">References per forward and backward pass (each pass runs as many copies of the sample too).</param>
    public DeepLiftShap(Module<Tensor, Tensor> model, int batchSize = 32)
        : this((model ?? throw new ArgumentNullException(nameof(model))).Call, model, batchSize)
    {
    }

    /// <summary>DeepLIFT SHAP of the logits (N, classes) a function computes from an input batch.</summary>
    /// <inheritdoc cref="DeepLiftShap(Module{Tensor, Tensor}, int)"/>
    public DeepLiftShap(Func<Tensor, Tensor> forward, int batchSize = 32)
        : this(forward ?? throw new ArgumentNullException(nameof(forward)), null, batchSize)
    {
    }

    private DeepLiftShap(Func<Tensor, Tensor> forward, Module? model, int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        _gradients = new InputGradients(forward, model, nameof(DeepLiftShap));
        BatchSize = batchSize;
    }

    /// <summary>References per forward and backward pass.</summary>
    public int BatchSize { get; }

    /// <summary>The attributions of every sample of <paramref name="input"/> for its target class, of the input's shape, type and device.</summary>
    /// <param name="input">The preprocessed batch, floating point, (N, C, H, W), (N, C, D, H, W) or (N, …).</param>
    /// <param name="baselines">The references: B ≥ 1 samples of the input's sample shape (e.g. preprocessed training images).</param>
    /// <param name="targetClasses">The class per sample; null for each sample's predicted class.</param>
    /// <exception cref="ArgumentException">The batch, baselines or targets do not fit, or hold NaN or infinite values.</exception>
    /// <exception cref="InvalidOperationException">The model is in training mode, its output is not logits (N, classes), or its forward pass records no ReLU.</exception>
    public Attributions Compute(Tensor input, Tensor baselines, IReadOnlyList<long>? targetClasses = null)
    {
        ArgumentNullException.ThrowIfNull(baselines);
        _gradients.Check(input, targetClasses);
        long n = input.Size(0);
        using var scope = Tensors.NewDisposeScope();
        var references = InputGradients.References(input, baselines);
        var (classes, scores) = InputGradients.Targets(_gradients.Logits(input), targetClasses);
        long b = references.Size(0);
        var perSample = new Tensor[n];
        var deltas = new double[n];
        for (int i = 0; i < n; i++)
        {
            var sample = input.Narrow(0, i, 1);
            var sum = Tensors.ZerosLike(sample);
            double change = 0;
            for (long first = 0; first < b; first += BatchSize)
            {
                int count = (int)Math.Min(BatchSize, b - first);
                using var chunk = Tensors.NewDisposeScope();
                var starts = references.Narrow(0, first, count);
                var shape = input.Shape.ToArray();
                shape[0] = count;
                var copies = sample.Expand(shape).Contiguous();
                var (multipliers, differences, _, _) = _gradients.Rescaled(copies, starts, Enumerable.Repeat(classes[i], count).ToArray(), 0); // classes checked above
                sum.AddInPlace(((copies - starts) * multipliers).Sum(0, keepDim: true));
                change += differences.Sum();
            }
            perSample[i] = sum / b;
            deltas[i] = perSample[i].To(ScalarType.Float64).Sum().Item() - (change / b);
        }
        return new Attributions(scope.MoveToOuter(Tensors.Cat(perSample)), classes, scores) { ConvergenceDeltas = deltas };
    }
}
