using MathNet.Numerics.Integration;
using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Explainability;

/// <summary>
/// Integrated gradients (Sundararajan, Taly and Yan, "Axiomatic Attribution for Deep Networks", ICML 2017; Captum's
/// <c>IntegratedGradients</c>): each input element's attribution is its difference from a baseline times the target
/// logit's gradient with respect to it, averaged along the straight path from the baseline to the input:
/// (x − x′) · ∫₀¹ ∂F(x′ + α(x − x′))/∂x dα. The attributions of a sample add up to F(x) − F(x′) (completeness), which
/// <see cref="Attributions.ConvergenceDeltas"/> checks for the approximation made with <see cref="Steps"/> points.
/// </summary>
/// <remarks>
/// The baseline should mean "no evidence": zeros (the default) are the mean image when inputs are normalised to zero
/// mean, and black when they are not; the predictor uses a black image prepared as its inputs are. The model must be in
/// evaluation mode; its parameters' gradients are left untouched. Cost: <see cref="Steps"/> forward and backward
/// passes per sample, <see cref="BatchSize"/> path points at a time.
/// </remarks>
/// <example><code>
/// model.Eval();
/// var integratedGradients = new IntegratedGradients(model, steps: 64);
/// using var attributions = integratedGradients.Compute(batch);          // the predicted classes; zero baseline
/// using var maps = attributions.ToMaps();                               // (N, 1, H, W) in [0, 1] for display
/// double delta = attributions.ConvergenceDeltas![0];                     // near 0 when the steps suffice
/// </code></example>
public sealed class IntegratedGradients
{
    private readonly InputGradients _gradients;
    private readonly double[] _alphas;
    private readonly double[] _weights;

    /// <summary>Integrated gradients of a classifier's logits.</summary>
    /// <param name="model">The classifier (logits (N, classes)), in evaluation mode.</param>
    /// <param name="steps">Points on the path (Captum's <c>n_steps</c>).</param>
    /// <param name="rule">Where the points lie and how they are weighted.</param>
    /// <param name="batchSize">Path points per forward and backward pass (Captum's <c>internal_batch_size</c>).</param>
    public IntegratedGradients(Module<Tensor, Tensor> model, int steps = 50, IntegrationRule rule = IntegrationRule.GaussLegendre, int batchSize = 64)
        : this((model ?? throw new ArgumentNullException(nameof(model))).Call, model, steps, rule, batchSize)
    {
    }

    /// <summary>Integrated gradients of the logits (N, classes) a function computes from an input batch (e.g. one input of a multi-input network).</summary>
    /// <inheritdoc cref="IntegratedGradients(Module{Tensor, Tensor}, int, IntegrationRule, int)"/>
    public IntegratedGradients(Func<Tensor, Tensor> forward, int steps = 50, IntegrationRule rule = IntegrationRule.GaussLegendre, int batchSize = 64)
        : this(forward ?? throw new ArgumentNullException(nameof(forward)), null, steps, rule, batchSize)
    {
    }

    private IntegratedGradients(Func<Tensor, Tensor> forward, Module? model, int steps, IntegrationRule rule, int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(steps, 100_000);
        (_alphas, _weights) = Points(steps, rule); // checks the rule and the fewest steps it takes
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        _gradients = new InputGradients(forward, model, nameof(IntegratedGradients));
        Steps = steps;
        Rule = rule;
        BatchSize = batchSize;
    }

    /// <summary>Points on the path per sample.</summary>
    public int Steps { get; }

    /// <summary>The quadrature rule.</summary>
    public IntegrationRule Rule { get; }

    /// <summary>Path points per forward and backward pass.</summary>
    public int BatchSize { get; }

    /// <summary>
    /// The path positions α in [0, 1] and their weights for <paramref name="steps"/> points of <paramref name="rule"/>
    /// (Captum's <c>approximation_parameters</c>).
    /// </summary>
    public static (double[] Alphas, double[] Weights) Points(int steps, IntegrationRule rule)
    {
        if (!Enum.IsDefined(rule)) throw new ArgumentOutOfRangeException(nameof(rule), rule, "Unknown integration rule.");
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, rule == IntegrationRule.RiemannTrapezoid ? 2 : 1);
        if (rule == IntegrationRule.GaussLegendre)
        {
            var gauss = new GaussLegendreRule(0, 1, steps);
            return (gauss.Abscissas.ToArray(), gauss.Weights.ToArray());
        }
        var alphas = new double[steps];
        var weights = new double[steps];
        for (int k = 0; k < steps; k++)
        {
            (alphas[k], weights[k]) = rule switch
            {
                IntegrationRule.RiemannLeft => (k / (double)steps, 1.0 / steps),
                IntegrationRule.RiemannRight => ((k + 1) / (double)steps, 1.0 / steps),
                IntegrationRule.RiemannMiddle => ((k + 0.5) / steps, 1.0 / steps),
                _ => (k / (double)(steps - 1), (k == 0 || k == steps - 1 ? 0.5 : 1.0) / (steps - 1)),
            };
        }
        return (alphas, weights);
    }

    /// <summary>
    /// The attributions of every sample of <paramref name="input"/> for its target class, of the input's shape, type
    /// and device, with each sample's convergence delta.
    /// </summary>
    /// <param name="input">The preprocessed batch, floating point, (N, C, H, W), (N, C, D, H, W) or (N, …).</param>
    /// <param name="targetClasses">The class per sample; null for each sample's predicted class.</param>
    /// <param name="baseline">
    /// The path's start: null for zeros; otherwise a tensor of the input's shape, or with a batch size of 1 for one
    /// baseline shared by every sample.
    /// </param>
    /// <exception cref="ArgumentException">The batch, targets or baseline do not fit, or hold NaN or infinite values.</exception>
    /// <exception cref="InvalidOperationException">The model is in training mode, or its output is not logits (N, classes).</exception>
    public Attributions Compute(Tensor input, IReadOnlyList<long>? targetClasses = null, Tensor? baseline = null)
    {
        _gradients.Check(input, targetClasses);
        long n = input.Size(0);
        using var scope = Tensors.NewDisposeScope();
        var start = InputGradients.Baseline(input, baseline);
        var logits = _gradients.Logits(input);
        var (classes, scores) = InputGradients.Targets(logits, targetClasses);
        var inputScores = InputGradients.Pick(logits, classes).To(ScalarType.Float64, Device.Cpu).ToArray<double>();
        var startScores = InputGradients.Pick(_gradients.Logits(start), classes).To(ScalarType.Float64, Device.Cpu).ToArray<double>();

        var difference = input - start;
        var alphaShape = new long[input.Dim];
        Array.Fill(alphaShape, 1L);
        var perSample = new Tensor[n];
        for (int i = 0; i < n; i++)
        {
            var from = start.Narrow(0, i, 1);
            var step = difference.Narrow(0, i, 1);
            var integral = Tensors.ZerosLike(from);
            for (int first = 0; first < Steps; first += BatchSize)
            {
                int count = Math.Min(BatchSize, Steps - first);
                using var chunk = Tensors.NewDisposeScope();
                alphaShape[0] = count;
                var alphas = Tensors.FromArray(_alphas.AsSpan(first, count).ToArray(), alphaShape).To(input.ScalarType, input.Device);
                var weights = Tensors.FromArray(_weights.AsSpan(first, count).ToArray(), alphaShape).To(input.ScalarType, input.Device);
                var points = from + (alphas * step);
                var gradient = _gradients.Gradient(points, Enumerable.Repeat(classes[i], count).ToArray());
                integral.AddInPlace((gradient * weights).Sum(0, keepDim: true));
            }
            perSample[i] = step * integral;
        }
        var values = Tensors.Cat(perSample);
        var totals = values.Reshape(n, -1).To(ScalarType.Float64).Sum(1).To(Device.Cpu).ToArray<double>();
        var deltas = new double[n];
        for (int i = 0; i < n; i++) deltas[i] = totals[i] - (inputScores[i] - startScores[i]);
        return new Attributions(scope.MoveToOuter(values), classes, scores) { ConvergenceDeltas = deltas };
    }
}
