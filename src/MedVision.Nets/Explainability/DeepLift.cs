using MedVision.Torch;
using MedVision.Torch.Autograd;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Explainability;

/// <summary>
/// DeepLIFT with the rescale rule (Shrikumar, Greenside and Kundaje, "Learning Important Features Through Propagating
/// Activation Differences", ICML 2017; Captum's <c>DeepLift</c>): each input element's attribution is its difference
/// from a reference times a multiplier found by one backward pass in which every ReLU passes back
/// (relu(h) − relu(h′)) / (h − h′) of its input and the reference's instead of its derivative
/// (<see cref="ReluGradient.DeepLiftRescale"/>). Like <see cref="IntegratedGradients"/> it explains a prediction against
/// a baseline and its attributions add up to the target logit's change from the reference (summation-to-delta), but at
/// the cost of one forward and one backward pass of the input and its reference instead of dozens.
/// </summary>
/// <remarks>
/// <para>
/// Summation-to-delta is exact, up to rounding, for networks built of linear layers (convolutions, batch normalisation
/// in evaluation mode, average pooling, additions), ReLUs and max pooling — the ResNets here with batch normalisation,
/// with either stem; <see cref="Attributions.ConvergenceDeltas"/> reports it per sample. Max pooling gets Captum's
/// rule: each window's change from the reference is credited to the input's and the reference's maxima (where windows
/// overlap the credits add up; Captum's unpooling keeps one of them, so its maps differ there). The other
/// elementwise activations of this library (sigmoid, tanh, leaky ReLU, ELU, GELU, SiLU, softplus, hardtanh, ReLU6,
/// log-sigmoid) get the rescale rule with their own function, so networks of them add up too. Adaptive max pooling,
/// softmax and the normalisations that divide by a sample's own statistics (instance, group and layer norm) keep
/// their derivatives; in networks with them the deltas are not zero and show how far the attributions are from adding
/// up.
/// </para>
/// <para>
/// Each forward pass runs a batch of inputs followed by their references, so the network must treat the samples of
/// a batch independently: evaluation mode (required) and no layer that compares or pairs samples. Its forward pass
/// must record activations through this library: every ResNet, Siamese and CDSF block here does; a TorchScript
/// module, or a network without activations, is refused rather than given gradient × input. The parameters' gradients are
/// left untouched.
/// </para>
/// </remarks>
/// <example><code>
/// model.Eval();
/// var deepLift = new DeepLift(model);
/// using var attributions = deepLift.Compute(batch);                 // the predicted classes; zero reference
/// double delta = attributions.ConvergenceDeltas![0];                // ≈ 0 for a ResNet
/// using var maps = attributions.ToMaps();                           // (N, 1, H, W) in [0, 1] for display
/// </code></example>
public sealed class DeepLift
{
    private readonly InputGradients _gradients;

    /// <summary>DeepLIFT of a classifier's logits.</summary>
    /// <param name="model">The classifier (logits (N, classes)), in evaluation mode.</param>
    /// <param name="batchSize">Samples per forward and backward pass (each pass runs them and their references: twice as many rows).</param>
    public DeepLift(Module<Tensor, Tensor> model, int batchSize = 32)
        : this((model ?? throw new ArgumentNullException(nameof(model))).Call, model, batchSize)
    {
    }

    /// <summary>DeepLIFT of the logits (N, classes) a function computes from an input batch (e.g. one input of a multi-input network).</summary>
    /// <inheritdoc cref="DeepLift(Module{Tensor, Tensor}, int)"/>
    public DeepLift(Func<Tensor, Tensor> forward, int batchSize = 32)
        : this(forward ?? throw new ArgumentNullException(nameof(forward)), null, batchSize)
    {
    }

    private DeepLift(Func<Tensor, Tensor> forward, Module? model, int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        _gradients = new InputGradients(forward, model, nameof(DeepLift));
        BatchSize = batchSize;
    }

    /// <summary>Samples per forward and backward pass.</summary>
    public int BatchSize { get; }

    /// <summary>
    /// The attributions of every sample of <paramref name="input"/> for its target class, of the input's shape, type
    /// and device, with each sample's convergence delta (the attributions' sum minus the target logit's change from
    /// the reference).
    /// </summary>
    /// <param name="input">The preprocessed batch, floating point, (N, C, H, W), (N, C, D, H, W) or (N, …).</param>
    /// <param name="targetClasses">The class per sample; null for each sample's predicted class.</param>
    /// <param name="baseline">
    /// The reference: null for zeros (the mean image when inputs are normalised to zero mean); otherwise a tensor of
    /// the input's shape, or with a batch size of 1 for one reference shared by every sample.
    /// </param>
    /// <exception cref="ArgumentException">The batch, targets or baseline do not fit, or hold NaN or infinite values.</exception>
    /// <exception cref="InvalidOperationException">The model is in training mode, its output is not logits (N, classes), or its forward pass records no ReLU.</exception>
    public Attributions Compute(Tensor input, IReadOnlyList<long>? targetClasses = null, Tensor? baseline = null)
    {
        _gradients.Check(input, targetClasses);
        long n = input.Size(0);
        using var scope = Tensors.NewDisposeScope();
        var reference = InputGradients.Baseline(input, baseline);
        var parts = new List<Tensor>();
        var deltas = new double[n];
        var classes = new long[n];
        var scores = new float[n];
        for (int first = 0; first < n; first += BatchSize)
        {
            int count = (int)Math.Min(BatchSize, n - first);
            var rows = input.Narrow(0, first, count);
            var references = reference.Narrow(0, first, count);
            // the predicted classes, unless chosen, come from the same forward pass as the multipliers
            var (multipliers, differences, chunkClasses, chunkScores) = _gradients.Rescaled(rows, references, targetClasses?.Skip(first).Take(count).ToArray(), first);
            var values = (rows - references) * multipliers;
            var totals = values.Reshape(count, -1).To(ScalarType.Float64).Sum(1).To(Device.Cpu).ToArray<double>();
            for (int i = 0; i < count; i++) (deltas[first + i], classes[first + i], scores[first + i]) = (totals[i] - differences[i], chunkClasses[i], chunkScores[i]);
            parts.Add(values);
        }
        var all = parts.Count == 1 ? parts[0] : Tensors.Cat(parts.ToArray());
        return new Attributions(scope.MoveToOuter(all), classes, scores) { ConvergenceDeltas = deltas };
    }
}
