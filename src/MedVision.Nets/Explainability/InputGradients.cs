using MedVision.Torch;
using MedVision.Torch.Autograd;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Explainability;

/// <summary>
/// What <see cref="IntegratedGradients"/>, <see cref="SmoothGrad"/> and <see cref="Saliency"/> share: the checks of a
/// batch and its target classes, the logits without gradients, and the gradient of each row's target logit with
/// respect to that row (taken with <see cref="Gradients.Compute(Tensor, Tensor, Tensor?, bool, bool)"/>, so the
/// parameters' gradients are left as they were).
/// </summary>
internal sealed class InputGradients
{
    private readonly Func<Tensor, Tensor> _forward;
    private readonly Module? _model;
    private readonly string _method;

    public InputGradients(Func<Tensor, Tensor> forward, Module? model, string method)
    {
        _forward = forward;
        _model = model;
        _method = method;
    }

    /// <summary>Checks the batch, the targets and the model's mode before any work.</summary>
    public void Check(Tensor input, IReadOnlyList<long>? targetClasses)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Dim < 2 || input.Size(0) == 0)
            throw new ArgumentException($"{_method} expects a non-empty batch (N, C, H, W), (N, C, D, H, W) or (N, …); got shape [{string.Join(", ", input.Shape)}].", nameof(input));
        if (!input.ScalarType.IsFloatingPoint())
            throw new ArgumentException($"{_method} differentiates with respect to the input, which must be floating point; it is {input.ScalarType}.", nameof(input));
        long n = input.Size(0);
        if (targetClasses is not null && targetClasses.Count != n)
            throw new ArgumentException($"{targetClasses.Count} target classes were given for a batch of {n}.", nameof(targetClasses));
        if (_model?.Training ?? false)
            throw new InvalidOperationException($"{_method} needs the model in evaluation mode (call model.Eval()): in training mode batch normalisation mixes the samples of a batch and dropout makes the gradients random.");
        CheckFinite(input, "input", nameof(input));
    }

    /// <summary>Throws when a sample of <paramref name="batch"/> holds NaN or an infinity.</summary>
    public static void CheckFinite(Tensor batch, string what, string parameterName)
    {
        using var scope = Tensors.NewDisposeScope();
        var finite = batch.IsFinite().Reshape(batch.Size(0), -1).All(1).To(ScalarType.Bool, Device.Cpu).ToArray<bool>();
        int bad = Array.IndexOf(finite, false);
        if (bad >= 0) throw new ArgumentException($"Sample {bad} of the {what} holds NaN or infinite values.", parameterName);
    }

    /// <summary>The logits (N, classes) of a batch, without gradients, in the current scope.</summary>
    public Tensor Logits(Tensor batch)
    {
        using var noGrad = Tensors.NoGrad();
        return CheckLogits(_forward(batch), batch.Size(0));
    }

    private Tensor CheckLogits(Tensor logits, long n)
    {
        if (logits.Dim != 2 || logits.Size(0) != n)
            throw new InvalidOperationException($"The model's output has shape [{string.Join(", ", logits.Shape)}]; {_method} needs logits ({n}, classes).");
        return logits;
    }

    /// <summary>The target class per sample (the arg-max of <paramref name="logits"/> unless chosen) and its logit.</summary>
    public static (long[] Classes, float[] Scores) Targets(Tensor logits, IReadOnlyList<long>? targetClasses)
    {
        using var scope = Tensors.NewDisposeScope();
        long k = logits.Size(1);
        long[] classes;
        if (targetClasses is null) classes = logits.ArgMax(1).To(ScalarType.Int64, Device.Cpu).ToArray<long>();
        else
        {
            for (int i = 0; i < targetClasses.Count; i++) GradCam.CheckTarget(targetClasses[i], k, i, nameof(targetClasses));
            classes = targetClasses.ToArray();
        }
        return (classes, Pick(logits, classes).To(ScalarType.Float32, Device.Cpu).ToArray<float>());
    }

    /// <summary>Each row's logit of its class, (N,).</summary>
    public static Tensor Pick(Tensor logits, IReadOnlyList<long> classes)
    {
        var index = Tensors.FromArray(classes.ToArray(), classes.Count, 1).To(logits.Device);
        return logits.Gather(1, index).Flatten();
    }

    /// <summary>
    /// The gradient of each row's target logit with respect to that row, (M, …) like <paramref name="rows"/>, in the
    /// current scope, with the backward pass through ReLUs that <paramref name="relu"/> names. The rows are
    /// independent in evaluation mode, so one backward pass of the sum gives them all.
    /// </summary>
    public Tensor Gradient(Tensor rows, IReadOnlyList<long> classes, ReluGradient relu = ReluGradient.Standard)
    {
        using var scope = Tensors.NewDisposeScope();
        using var grad = Tensors.EnableGrad();
        var x = rows.Detach().RequiresGradInPlace();
        Tensor logits;
        using (var rule = ReluGradientScope.Begin(relu))
        {
            logits = CheckLogits(_forward(x), rows.Size(0));
            if (relu != ReluGradient.Standard && rule.Overrides == 0) throw NoRelu();
        }
        var scores = Pick(logits, classes);
        if (!scores.RequiresGrad) throw NotDifferentiable();
        return scope.MoveToOuter(Gradients.Compute(scores.Sum(), x));
    }

    /// <summary>
    /// DeepLIFT's multipliers (<see cref="ReluGradient.DeepLiftRescale"/>) of each row's target logit with respect to
    /// that row of <paramref name="inputs"/>, against the same row of <paramref name="references"/>, (M, …) like the
    /// inputs, in the current scope; each row's target logit minus its reference's, from the same forward pass of the
    /// 2M rows (inputs, then references); the classes and the rows' logits of them. With <paramref name="classes"/>
    /// null, each row's predicted class, taken from that pass; given classes are checked against its logits (reported
    /// as the caller's <c>targetClasses</c>, row i as item <paramref name="firstIndex"/> + i).
    /// </summary>
    public (Tensor Multipliers, double[] Differences, long[] Classes, float[] Scores) Rescaled(Tensor inputs, Tensor references, IReadOnlyList<long>? classes, int firstIndex)
    {
        using var scope = Tensors.NewDisposeScope();
        using var grad = Tensors.EnableGrad();
        long m = inputs.Size(0);
        var x = inputs.Detach().RequiresGradInPlace();
        Tensor logits;
        using (var rule = ReluGradientScope.Begin(ReluGradient.DeepLiftRescale))
        {
            logits = CheckLogits(_forward(Tensors.Cat(new[] { x, references.Detach() })), 2 * m);
            if (rule.Overrides == 0)
                throw new InvalidOperationException($"{_method} changes the backward pass through the network's activations (ReLU, sigmoid, tanh, leaky ReLU, …) and max pooling, and its forward pass recorded none that the binding sees (a TorchScript module runs its own): the result would be gradient × input.");
        }
        if (classes is not null)
            for (int i = 0; i < classes.Count; i++) GradCam.CheckTarget(classes[i], logits.Size(1), firstIndex + i, "targetClasses");
        long[] targets = classes?.ToArray() ?? logits.Narrow(0, 0, m).Detach().ArgMax(1).To(ScalarType.Int64, Device.Cpu).ToArray<long>();
        var both = Pick(logits, targets.Concat(targets).ToArray());
        var scores = both.Narrow(0, 0, m);
        if (!scores.RequiresGrad) throw NotDifferentiable();
        var multipliers = Gradients.Compute(scores.Sum(), x);
        var values = both.Detach().To(ScalarType.Float64, Device.Cpu).ToArray<double>();
        var differences = new double[m];
        for (int i = 0; i < m; i++) differences[i] = values[i] - values[m + i];
        return (scope.MoveToOuter(multipliers), differences, targets, values.Take((int)m).Select(v => (float)v).ToArray());
    }

    private InvalidOperationException NoRelu() =>
        new($"{_method} changes the backward pass through the network's ReLUs, and its forward pass recorded none that the binding sees (a TorchScript module runs its own; leaky ReLU, ReLU6, GELU and others are not ReLUs): the result would be a plain gradient.");

    private InvalidOperationException NotDifferentiable() =>
        new($"The model's logits do not depend differentiably on its input, so {_method} has no gradient to take (was the forward pass run under NoGrad, or through another engine?).");

    /// <summary>
    /// Checks a set of references (GradientSHAP's baselines, DeepLIFT SHAP's references): B ≥ 1 floating-point samples
    /// of the input's sample shape, finite; returns them in the input's type and on its device, in the current scope.
    /// </summary>
    public static Tensor References(Tensor input, Tensor baselines)
    {
        if (baselines.Dim != input.Dim || baselines.Size(0) < 1 || !baselines.Shape.Skip(1).SequenceEqual(input.Shape.Skip(1)))
            throw new ArgumentException($"The baselines have shape [{string.Join(", ", baselines.Shape)}]; they must be B ≥ 1 samples of the input's sample shape [{string.Join(", ", input.Shape.Skip(1))}].", nameof(baselines));
        if (!baselines.ScalarType.IsFloatingPoint())
            throw new ArgumentException($"The baselines must be floating point; they are {baselines.ScalarType}.", nameof(baselines));
        CheckFinite(baselines, "baselines", nameof(baselines));
        return baselines.To(input.ScalarType, input.Device);
    }

    /// <summary>
    /// A baseline for every sample of <paramref name="input"/>, in the current scope: zeros when
    /// <paramref name="baseline"/> is null; otherwise the baseline (of the input's shape, or with a batch size of 1)
    /// checked and expanded to the input's shape, type and device.
    /// </summary>
    public static Tensor Baseline(Tensor input, Tensor? baseline)
    {
        if (baseline is null) return Tensors.ZerosLike(input);
        bool fits = baseline.Dim == input.Dim
            && (baseline.Size(0) == 1 || baseline.Size(0) == input.Size(0))
            && baseline.Shape.Skip(1).SequenceEqual(input.Shape.Skip(1));
        if (!fits)
            throw new ArgumentException($"The baseline has shape [{string.Join(", ", baseline.Shape)}]; it must have the input's shape [{string.Join(", ", input.Shape)}], or a batch size of 1.", nameof(baseline));
        if (!baseline.ScalarType.IsFloatingPoint())
            throw new ArgumentException($"The baseline must be floating point; it is {baseline.ScalarType}.", nameof(baseline));
        InputGradients.CheckFinite(baseline, "baseline", nameof(baseline));
        return baseline.To(input.ScalarType, input.Device).Expand(input.Shape).Contiguous();
    }

    /// <summary>The attributions of guided backpropagation or deconvolution: the gradient under that ReLU rule.</summary>
    public static Attributions GuidedAttributions(InputGradients gradients, Tensor input, IReadOnlyList<long>? targetClasses, ReluGradient relu)
    {
        gradients.Check(input, targetClasses);
        using var scope = Tensors.NewDisposeScope();
        var (classes, scores) = Targets(gradients.Logits(input), targetClasses);
        return new Attributions(scope.MoveToOuter(gradients.Gradient(input, classes, relu)), classes, scores);
    }

    // Standard normal values by the Box–Muller transform, one pair of uniforms per two values; a copy's noise is drawn
    // whole, so the stream does not depend on how copies are grouped into batches.
    internal static void StandardNormal(Random random, Span<float> values)
    {
        for (int j = 0; j < values.Length; j += 2)
        {
            double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble(); // u1 in (0, 1]: no log(0)
            double radius = Math.Sqrt(-2.0 * Math.Log(u1)), angle = 2.0 * Math.PI * u2;
            values[j] = (float)(radius * Math.Cos(angle));
            if (j + 1 < values.Length) values[j + 1] = (float)(radius * Math.Sin(angle));
        }
    }
}
