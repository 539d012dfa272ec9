using MedVision.Nets.Models;
using MedVision.Torch;
using MedVision.Torch.Autograd;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Explainability;

/// <summary>
/// Class-activation maps from gradients (Grad-CAM and Grad-CAM++) for 2-D and 3-D classifiers: which regions of an
/// image or volume drove the score of a class. The target layer's feature map is captured by a forward hook, the
/// class score is differentiated with respect to it (without touching the parameters' gradients), and the weighted,
/// rectified channel sum is resized to the input and scaled to [0, 1] per sample.
/// </summary>
/// <remarks>
/// The model must be in evaluation mode: in training mode batch normalisation mixes the samples of the batch (so one
/// sample's map would depend on the others) and updates its running statistics. The model's parameters need not
/// require gradients. Each call captures only the forward pass of its own thread, so one instance (and one model)
/// may serve several threads.
/// </remarks>
/// <example><code>
/// model.Eval();
/// var cam = GradCam.ForResNet(model);                       // the last stage, torchvision's "layer4"
/// using var scope = Tensors.NewDisposeScope();
/// using var result = cam.Compute(images);                   // maps for the predicted classes
/// float[] first = result.ToArray(0);                        // H × W values in [0, 1]
/// </code></example>
public sealed class GradCam
{
    private readonly Func<Tensor, Tensor> _forward;
    private readonly Module? _model;

    /// <summary>Maps for <paramref name="model"/>'s logits from the feature map of <paramref name="targetLayer"/>, one of its submodules.</summary>
    public GradCam(Module<Tensor, Tensor> model, Module<Tensor, Tensor> targetLayer, CamMethod method = CamMethod.GradCam)
        : this((model ?? throw new ArgumentNullException(nameof(model))).Call, targetLayer, method)
    {
        if (targetLayer is not null && !model.NamedModules().Any(m => ReferenceEquals(m.Module, targetLayer)))
            throw new ArgumentException("The target layer is not a submodule of the model.", nameof(targetLayer));
        _model = model;
    }

    /// <summary>
    /// Maps for the logits (N, classes) that <paramref name="forward"/> computes from an input batch, from the feature
    /// map of <paramref name="targetLayer"/>, which the forward pass must call exactly once (through
    /// <see cref="Module{TInput, TOutput}.Call"/>). Use it for models whose forward pass returns more than logits.
    /// </summary>
    public GradCam(Func<Tensor, Tensor> forward, Module<Tensor, Tensor> targetLayer, CamMethod method = CamMethod.GradCam)
    {
        _forward = forward ?? throw new ArgumentNullException(nameof(forward));
        TargetLayer = targetLayer ?? throw new ArgumentNullException(nameof(targetLayer));
        if (!Enum.IsDefined(method)) throw new ArgumentOutOfRangeException(nameof(method), method, "Unknown CAM method.");
        if (method.MapsAttention())
            throw new ArgumentException($"{method.DisplayName()} is not a Grad-CAM weighting: compute it with the {method} class (for a VisionTransformer).", nameof(method));
        Method = method;
    }

    /// <summary>
    /// Grad-CAM on a stage of a ResNet: by default the last (torchvision's <c>layer4</c>), the usual choice; an earlier
    /// one (<paramref name="stage"/> 2 is <c>layer3</c>) gives maps of twice the resolution, which helps with small
    /// inputs (layer4 of a 28×28 image is 4×4).
    /// </summary>
    /// <param name="model">The classifier.</param>
    /// <param name="method">Grad-CAM or Grad-CAM++.</param>
    /// <param name="stage">The stage index, 0 to 3 (null: the last).</param>
    public static GradCam ForResNet(ResNet model, CamMethod method = CamMethod.GradCam, int? stage = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.FeaturesOnly) throw new ArgumentException("The ResNet has no classifier (features-only mode); there is no class score to explain.", nameof(model));
        int index = stage ?? model.Stages.Count - 1;
        if (index < 0 || index >= model.Stages.Count)
            throw new ArgumentOutOfRangeException(nameof(stage), stage, $"The ResNet has stages 0 to {model.Stages.Count - 1}.");
        return new GradCam(model, model.Stages[index], method);
    }

    /// <summary>The layer whose feature map is weighted.</summary>
    public Module<Tensor, Tensor> TargetLayer { get; }

    /// <summary>The weighting of the channels.</summary>
    public CamMethod Method { get; }

    /// <summary>
    /// Computes one map per sample of <paramref name="input"/> (N, C, H, W) or (N, C, D, H, W).
    /// </summary>
    /// <param name="input">The preprocessed batch, as the model takes it.</param>
    /// <param name="targetClasses">The class to explain per sample; null explains each sample's predicted (arg-max) class.</param>
    /// <param name="resizeToInput">Resize the maps (bilinear or trilinear, corners not aligned) from the feature map's size to the input's.</param>
    /// <param name="normalize">Scale each sample's map to [0, 1] (min to 0, max to 1; a constant map becomes 0).</param>
    public ClassActivationMaps Compute(Tensor input, IReadOnlyList<long>? targetClasses = null, bool resizeToInput = true, bool normalize = true)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Dim is not (4 or 5))
            throw new ArgumentException($"GradCam expects a batch (N, C, H, W) or (N, C, D, H, W), got shape [{string.Join(", ", input.Shape)}].", nameof(input));
        long n = input.Size(0);
        if (targetClasses is not null && targetClasses.Count != n)
            throw new ArgumentException($"{targetClasses.Count} target classes were given for a batch of {n}.", nameof(targetClasses));
        if (TargetLayer.Training || (_model?.Training ?? false))
            throw new InvalidOperationException("GradCam needs the model in evaluation mode (call model.Eval()): in training mode batch normalisation mixes the samples of a batch and updates its running statistics.");

        var capture = new ActivationCapture(Environment.CurrentManagedThreadId);
        try
        {
            using var scope = Tensors.NewDisposeScope();
            Tensor scores, gradient;
            long[] classes;
            using (Tensors.EnableGrad())
            using (TargetLayer.RegisterForwardHook(capture.OnForward))
            {
                // A fresh leaf that requires gradients, so that the graph exists even when the parameters are frozen.
                var x = input.Detach().RequiresGradInPlace();
                var logits = _forward(x);
                var activation = capture.Single();
                if (activation.Dim != input.Dim || activation.Size(0) != n)
                    throw new InvalidOperationException($"The target layer's output has shape [{string.Join(", ", activation.Shape)}]; GradCam needs a feature map with the input's batch and spatial rank, [{string.Join(", ", input.Shape)}].");
                if (logits.Dim != 2 || logits.Size(0) != n)
                    throw new InvalidOperationException($"The model's output has shape [{string.Join(", ", logits.Shape)}]; GradCam needs logits ({n}, classes).");
                classes = ChooseClasses(logits, targetClasses);
                var index = Tensors.FromArray(classes, n, 1).To(logits.Device);
                scores = logits.Gather(1, index).Flatten();
                gradient = Gradients.Compute(scores.Sum(), activation);
            }

            using (Tensors.NoGrad())
            {
                var activation = capture.Single();
                var spatial = Enumerable.Range(2, activation.Dim - 2).Select(d => (long)d).ToArray();
                var weights = Method == CamMethod.GradCam
                    ? gradient.Mean(spatial, keepDim: true)
                    : PlusPlusWeights(activation, gradient, spatial);
                var map = (weights * activation).Sum(1, keepDim: true).Relu().To(ScalarType.Float32);
                if (resizeToInput)
                    map = Functional.Interpolate(map, input.Shape.Skip(2).ToArray(), InterpolationMode.Linear, alignCorners: false);
                if (normalize) map = NormalizePerSample(map);
                var scoreValues = scores.Detach().To(ScalarType.Float32, Device.Cpu).ToArray<float>();
                return new ClassActivationMaps(scope.MoveToOuter(map), classes, scoreValues);
            }
        }
        finally
        {
            capture.Dispose();
        }
    }

    // The predicted classes, or the given ones checked against the logits' class count.
    internal static long[] ChooseClasses(Tensor logits, IReadOnlyList<long>? targetClasses)
    {
        if (targetClasses is null) return logits.ArgMax(1).To(ScalarType.Int64, Device.Cpu).ToArray<long>();
        long k = logits.Size(1);
        for (int i = 0; i < targetClasses.Count; i++) CheckTarget(targetClasses[i], k, i, nameof(targetClasses));
        return targetClasses.ToArray();
    }

    /// <summary>Throws when <paramref name="target"/> is not a class of a model with <paramref name="classes"/> outputs.</summary>
    internal static void CheckTarget(long target, long classes, int sample, string parameterName)
    {
        if (target < 0 || target >= classes)
            throw new ArgumentOutOfRangeException(parameterName, $"Target class {target} of sample {sample} is outside [0, {classes}).");
    }

    // Grad-CAM++ weights (the paper's closed form for an exponential of the score, as pytorch-grad-cam computes it):
    // α = g² / (2g² + ΣA · g³) (0/0 → 0), w_k = Σ α · relu(g). The paper's exp(score) factor multiplies a sample's
    // whole map by a positive constant, which the per-sample normalisation removes; it is left out because it
    // overflows float32 for logits above ≈ 88.
    private static Tensor PlusPlusWeights(Tensor activation, Tensor gradient, long[] spatial)
    {
        var g2 = gradient.Pow(2);
        var g3 = g2 * gradient;
        var denominator = g2 * 2 + activation.Sum(spatial, keepDim: true) * g3;
        var safe = Tensors.Where(denominator.Ne(0), denominator, Tensors.OnesLike(denominator));
        var alpha = g2 / safe;
        return (alpha * gradient.Relu()).Sum(spatial, keepDim: true);
    }

    // Each sample's map scaled to [0, 1] (min to 0, max to 1). A constant map becomes 0 — also one that is constant only
    // up to float rounding (a range within 1e-5 of its magnitude: e.g. a 1×1 map upsampled by an interpolation kernel
    // whose weights do not sum to exactly 1), which scaling would otherwise blow up into noise spanning [0, 1].
    internal static Tensor NormalizePerSample(Tensor map)
    {
        var dims = Enumerable.Range(1, map.Dim - 1).Select(d => (long)d).ToArray();
        var min = map.Amin(dims, keepDim: true);
        var max = map.Amax(dims, keepDim: true);
        var range = max - min;
        var varies = range > min.Abs().Maximum(max.Abs()) * 1e-5;
        var safe = Tensors.Where(varies, range, Tensors.OnesLike(range));
        return (map - min) / safe * varies.To(map.ScalarType);
    }

    /// <summary>Holds the target layer's output of the calling thread's forward pass.</summary>
    private sealed class ActivationCapture : IDisposable
    {
        private readonly int _thread;
        private Tensor? _activation;
        private int _calls;

        public ActivationCapture(int thread) => _thread = thread;

        public void OnForward(Module<Tensor, Tensor> module, Tensor input, Tensor output)
        {
            if (Environment.CurrentManagedThreadId != _thread) return;
            _calls++;
            _activation?.Dispose();
            _activation = DisposeScope.Detach(output.Alias());
        }

        public Tensor Single() => _calls switch
        {
            0 => throw new InvalidOperationException("The target layer was not called during the forward pass (is it a submodule the model calls through Call?)."),
            1 => _activation!,
            _ => throw new InvalidOperationException($"The target layer was called {_calls} times in one forward pass; GradCam needs a layer called once (for a Siamese network, explain one branch with the Func constructor)."),
        };

        public void Dispose() => _activation?.Dispose();
    }
}
