// The "explain" mode: sliding-window inference, occlusion sensitivity and Grad-CAM called directly (the predictor mode
// reaches them only through Predictor.Explain, with a card's well-formed settings).
using MedVision.Nets.Explainability;
using MedVision.Nets.Inference;
using MedVision.Torch;
using MedVision.Torch.Nn;

internal static partial class ApiFuzz
{
    /// <summary>
    /// One of:
    /// <list type="bullet">
    /// <item><see cref="SlidingWindowInferer"/> with random settings (window, overlap, window batch, blending, σ, padding
    /// mode and value; each ordinary three times in four) over a random image or volume, smaller or larger than the
    /// window, with a pointwise network (a 1×1 convolution with any output channel count) — now and then one that
    /// changes the spatial size. Oracle: the blended result equals the network applied to the whole input (a pointwise
    /// network gives every window the same value at a position, whatever the weights), and the window starts cover every
    /// position, each window inside the padded image, the last one flush with its edge.</item>
    /// <item><see cref="OcclusionSensitivity"/> with random patch, stride, fill value and batch size over a small
    /// classifier, an input-ignoring one, or one left in training mode. Oracle: maps (N, 1, *spatial), finite; the target
    /// classes those asked for or the predicted ones, the scores their unoccluded probabilities; an input-ignoring model
    /// gives zero maps, and a patch spanning the input a constant map equal to the probability drop of the filled input.</item>
    /// <item><see cref="GradCam"/> on a narrow ResNet (2-D or 3-D; random stage, method, target classes, resizing,
    /// normalisation; parameters now and then frozen), or <see cref="GuidedGradCam"/> (nearest or linear, now and then
    /// another interpolation, which must be refused). Oracle: maps (N, 1, …) of the input's size when resized, finite,
    /// in [0, 1] when normalised and ≥ 0 otherwise (guided Grad-CAM: of the input's shape, finite); the scores the
    /// logits of the target classes; no gradient left on any parameter.</item>
    /// <item><see cref="IntegratedGradients"/>, <see cref="SmoothGrad"/>, <see cref="GradientShap"/>, <see cref="Saliency"/>,
    /// <see cref="GuidedBackprop"/>, <see cref="Deconvolution"/>, <see cref="DeepLift"/> or <see cref="DeepLiftShap"/> with random settings (steps, rule, batch, baseline of batch 1 or N and now and then of a wrong shape; samples,
    /// noise, squared, seed; GradientSHAP's and DeepLIFT SHAP's baselines, now and then misshapen or none; absolute) over a small classifier, one whose logits are constant in the input, or one left in training mode;
    /// parameters now and then frozen. Oracle: attributions of the input's shape, float32, finite; non-negative when
    /// absolute or squared; zero for constant logits; target classes and scores as asked (or the argmax); each
    /// integrated-gradients delta equal to the attributions' sum minus the logit's change from the baseline, GradientSHAP's
    /// finite (zero for constant logits); DeepLIFT's and DeepLIFT SHAP's deltas the same and near zero (the classifier is
    /// linear layers and one ReLU); the guided methods and DeepLIFT refusing a forward pass without ReLUs, and deconvolution
    /// giving samples of the same target class the same attributions (the classifier's one ReLU gets an input-independent
    /// gradient); display
    /// maps in [0, 1]; no gradient left on any parameter. Then <see cref="Faithfulness"/> on sample 0 with that map (see
    /// FaithfulnessCheck).</item>
    /// <item><see cref="ParameterRandomization"/> on a narrow ResNet (random order, block depth, seed, targets; now and
    /// then in training mode) with saliency, Grad-CAM or the input's magnitude as the explanation. Oracle: one step per
    /// group of resettable layers, from the output; rank correlations in [−1, 1] or NaN, SSIM at most 1; the input's
    /// magnitude exactly 1 at every step; the model's parameters and buffers restored bit for bit.</item>
    /// </list>
    /// </summary>
    public static void ExplainStep(Random rng)
    {
        using var scope = Tensors.NewDisposeScope();
        var steps = new List<string>();
        _oddValues = rng.Next(3) == 0; // two steps in three use ordinary settings throughout
        switch (rng.Next(5))
        {
            case 0: SlidingWindowStep(rng, steps); break;
            case 1: OcclusionStep(rng, steps); break;
            case 2: AttributionStep(rng, steps); break;
            case 3: RandomizationStep(rng, steps); break;
            default: GradCamStep(rng, steps); break;
        }
    }

    private static bool _oddValues;

    // An ordinary value, or — in a step that tries odd ones — now and then any value of the type.
    private static T Setting<T>(Random rng, Func<T> valid) => _oddValues ? Friendly(rng, valid) : valid();

    // An axis or element count: the ordinary one, or now and then one more or less, or none.
    private static int Count(Random rng, int valid) => !_oddValues || rng.Next(4) != 0 ? valid : Math.Max(0, valid + rng.Next(-2, 3));

    private static string Where(List<string> steps) => string.Join(" → ", steps);

    private static void Note(List<string> steps, string step)
    {
        steps.Add(step);
        if (Trace) Console.Error.WriteLine($"  {step}");
    }

    private static void SlidingWindowStep(Random rng, List<string> steps)
    {
        int dims = rng.Next(2, 4);
        int maxSize = dims == 2 ? 24 : 10;
        var window = Enumerable.Range(0, Count(rng, dims)).Select(_ => Setting(rng, () => rng.Next(1, maxSize))).ToArray();
        double overlap = Setting(rng, () => rng.Next(4) switch { 0 => 0, 1 => 0.5, 2 => 0.99, _ => Math.Round(rng.NextDouble() * 0.95, 2) });
        int batch = Setting(rng, () => rng.Next(1, 5));
        var blending = Setting(rng, () => (WindowBlending)rng.Next(2));
        double sigma = Setting(rng, () => rng.Next(4) == 0 ? 0.01 : Math.Round(0.05 + rng.NextDouble(), 2));
        var padding = Setting(rng, () => (PaddingMode)rng.Next(4));
        double padValue = Setting(rng, () => Math.Round(rng.NextDouble() * 4 - 2, 2));
        Note(steps, $"SlidingWindowInferer([{string.Join(", ", window)}], overlap {overlap}, batch {batch}, {blending}, σ {sigma}, {padding} {padValue})");
        Last = "new SlidingWindowInferer";
        var inferer = new SlidingWindowInferer(window, overlap, batch, blending, sigma, padding, padValue);

        int channels = rng.Next(1, 4), outChannels = rng.Next(1, 4);
        var shape = new long[] { rng.Next(1, 3), channels }.Concat(Enumerable.Range(0, dims).Select(_ => (long)rng.Next(1, maxSize + 4))).ToArray();
        var input = Tensors.Randn(shape);
        bool changesSize = rng.Next(10) == 0;
        using Module<Tensor, Tensor> network = dims == 2
            ? new Conv2d(channels, outChannels, changesSize ? 2 : 1)
            : new Conv3d(channels, outChannels, changesSize ? 2 : 1);
        Note(steps, $"Infer([{string.Join(", ", shape)}]) with a {(changesSize ? "2×2" : "1×1")} convolution to {outChannels} channels");
        Last = "SlidingWindowInferer.Infer";
        Tensor result;
        using (Tensors.NoGrad())
            result = inferer.Infer(input, network);
        if (changesSize && window.Any(w => w > 1)) throw new ArithmeticException($"{Where(steps)}: a network that shrinks the windows was accepted");
        Tensor expected;
        using (Tensors.NoGrad())
            expected = network.Call(input);
        if (!result.Shape.SequenceEqual(expected.Shape))
            throw new ArithmeticException($"{Where(steps)}: result [{string.Join(", ", result.Shape)}], expected [{string.Join(", ", expected.Shape)}]");
        if (!result.AllClose(expected, 1e-4, 1e-5))
        {
            double worst = (result - expected).Abs().Max().Item();
            throw new ArithmeticException($"{Where(steps)}: the blended result differs from the network on the whole input by up to {worst}");
        }

        var padded = shape.Skip(2).Select((s, d) => Math.Max((int)s, window[d])).ToArray();
        Last = "SlidingWindowInferer.WindowStarts";
        var starts = SlidingWindowInferer.WindowStarts(padded, window, overlap);
        var covered = new bool[padded.Aggregate(1, (a, b) => a * b)];
        foreach (var start in starts)
        {
            if (start.Length != dims || start.Select((s, d) => s < 0 || s + window[d] > padded[d]).Any(b => b))
                throw new ArithmeticException($"{Where(steps)}: window start [{string.Join(", ", start)}] outside the padded image [{string.Join(", ", padded)}]");
            MarkWindow(covered, padded, window, start);
        }
        if (covered.Any(c => !c)) throw new ArithmeticException($"{Where(steps)}: the windows leave positions of [{string.Join(", ", padded)}] uncovered");
        for (int d = 0; d < dims; d++)
            if (starts.Max(s => s[d]) != padded[d] - window[d]) throw new ArithmeticException($"{Where(steps)}: no window ends at the edge of axis {d}");
    }

    private static void MarkWindow(bool[] covered, int[] size, int[] window, int[] start)
    {
        int dims = size.Length;
        var index = new int[dims];
        while (true)
        {
            int flat = 0;
            for (int d = 0; d < dims; d++) flat = (flat * size[d]) + start[d] + index[d];
            covered[flat] = true;
            int k = dims - 1;
            while (k >= 0 && ++index[k] == window[k]) index[k--] = 0;
            if (k < 0) return;
        }
    }

    private static void OcclusionStep(Random rng, List<string> steps)
    {
        int dims = rng.Next(2, 4), classes = rng.Next(1, 5), channels = rng.Next(1, 3);
        var shape = new long[] { rng.Next(1, 3), channels }.Concat(Enumerable.Range(0, dims).Select(_ => (long)(dims == 2 ? rng.Next(1, 13) : rng.Next(1, 7)))).ToArray();
        var spatial = shape.Skip(2).Select(s => (int)s).ToArray();
        bool spanning = rng.Next(5) == 0;
        var patch = Enumerable.Range(0, Count(rng, dims)).Select(d => Setting(rng, () => spanning ? spatial[d % dims] + rng.Next(3) : rng.Next(1, 6))).ToArray();
        int[]? stride = rng.Next(3) == 0 ? null : Enumerable.Range(0, Count(rng, patch.Length)).Select(_ => Setting(rng, () => rng.Next(1, 5))).ToArray();
        double fill = Setting(rng, () => Math.Round(rng.NextDouble() * 2 - 1, 2));
        int batch = Setting(rng, () => rng.Next(1, 9));
        int kind = rng.Next(4); // 0: ignores its input, 3: left in training mode, else a small convolutional classifier
        Note(steps, $"OcclusionSensitivity(patch [{string.Join(", ", patch)}], stride [{(stride is null ? "default" : string.Join(", ", stride))}], fill {fill}, batch {batch}) over a {(kind == 0 ? "constant" : kind == 3 ? "training-mode" : "convolutional")} {classes}-class model");
        using var model = SmallClassifier(dims, channels, classes);
        model.Train(kind == 3);
        var constant = Tensors.Randn(1, classes);
        Func<Tensor, Tensor> constantForward = x => constant.Expand(x.Size(0), classes);
        Last = "new OcclusionSensitivity";
        var occlusion = kind == 0 ? new OcclusionSensitivity(constantForward, patch, stride, fill, batch) : new OcclusionSensitivity(model, patch, stride, fill, batch);
        var input = Tensors.Randn(shape);
        IReadOnlyList<long>? targets = rng.Next(3) == 0 ? null
            : Enumerable.Range(0, Count(rng, (int)shape[0])).Select(_ => _oddValues && rng.Next(6) == 0 ? (long)Value(typeof(long), rng, typeof(int))! : rng.Next(classes)).ToArray();
        Note(steps, $"Compute([{string.Join(", ", shape)}], targets [{(targets is null ? "predicted" : string.Join(", ", targets))}])");
        Last = "OcclusionSensitivity.Compute";
        using var maps = occlusion.Compute(input, targets);
        if (kind == 3) throw new ArithmeticException($"{Where(steps)}: a model in training mode was accepted");
        if (!maps.Maps.Shape.SequenceEqual(new long[] { shape[0], 1 }.Concat(shape.Skip(2))) || maps.Maps.ScalarType != ScalarType.Float32)
            throw new ArithmeticException($"{Where(steps)}: maps [{string.Join(", ", maps.Maps.Shape)}] {maps.Maps.ScalarType}");
        RequireFinite(maps.Maps, steps, "occlusion map");
        Tensor probabilities;
        using (Tensors.NoGrad())
            probabilities = (kind == 0 ? constantForward(input) : model.Call(input)).Softmax(1);
        CheckTargets(maps.TargetClasses, maps.Scores, probabilities, targets, steps);
        if (kind == 0 && maps.Maps.Abs().Max().Item() != 0)
            throw new ArithmeticException($"{Where(steps)}: a model that ignores its input has a non-zero occlusion map");
        if (kind != 0 && patch.Length == dims && patch.Select((p, d) => p >= spatial[d]).All(b => b))
        {
            // One window covering everything: every position holds the same drop, that of the input filled completely.
            Tensor filled;
            using (Tensors.NoGrad())
                filled = model.Call(Tensors.FullLike(input, fill)).Softmax(1);
            for (int i = 0; i < shape[0]; i++)
            {
                long target = maps.TargetClasses[i];
                double drop = maps.Scores[i] - filled[i, target].Item();
                var map = maps.ToArray(i);
                if (map.Any(v => Math.Abs(v - drop) > 1e-5))
                    throw new ArithmeticException($"{Where(steps)}: sample {i}'s map spans [{map.Min()}, {map.Max()}], the whole-input drop is {drop}");
            }
        }
    }

    // A convolution, ReLU, global average pooling and a linear layer: logits (N, classes) of a 2-D or 3-D batch.
    private static Sequential SmallClassifier(int dims, int channels, int classes) => new(
        dims == 2 ? new Conv2d(channels, 4, 3, padding: 1) : new Conv3d(channels, 4, 3, padding: 1),
        new ReLU(),
        dims == 2 ? new AdaptiveAvgPool2d(1) : new AdaptiveAvgPool3d(1),
        new Flatten(),
        new Linear(4, classes));

    // Target classes as asked for (or the arg-max of the probabilities), scores the probabilities of those classes.
    private static void CheckTargets(IReadOnlyList<long> targetClasses, IReadOnlyList<float> targetScores, Tensor scores, IReadOnlyList<long>? targets, List<string> steps)
    {
        var values = scores.To(ScalarType.Float64).ToArray<double>();
        long n = scores.Size(0), k = scores.Size(1);
        if (targetClasses.Count != n || targetScores.Count != n) throw new ArithmeticException($"{Where(steps)}: {targetClasses.Count} targets and {targetScores.Count} scores for {n} samples");
        for (int i = 0; i < n; i++)
        {
            var row = values.Skip((int)(i * k)).Take((int)k).ToArray();
            long expected = targets?[i] ?? Array.IndexOf(row, row.Max());
            if (targetClasses[i] != expected)
                throw new ArithmeticException($"{Where(steps)}: sample {i} explains class {targetClasses[i]}, not {expected} (scores [{string.Join(", ", row)}])");
            if (Math.Abs(targetScores[i] - row[expected]) > 1e-4 * (1 + Math.Abs(row[expected])))
                throw new ArithmeticException($"{Where(steps)}: sample {i}'s score {targetScores[i]}, expected {row[expected]}");
        }
    }

    // A count that costs a forward and backward pass per unit: the ordinary one or, in a step that tries odd values, now
    // and then one that must be refused (≤ 0) — never a huge valid one, which would only be slow.
    private static int Small(Random rng, Func<int> valid) => _oddValues && rng.Next(4) == 0 ? rng.Next(-3, 1) : valid();

    private static void AttributionStep(Random rng, List<string> steps)
    {
        int dims = rng.Next(4) == 0 ? 3 : 2, classes = rng.Next(1, 5), channels = rng.Next(1, 4);
        int kind = rng.Next(5); // 0: logits constant in the input, 1: left in training mode, else a small convolutional classifier
        using var model = SmallClassifier(dims, channels, classes);
        model.Train(kind == 1);
        bool frozen = rng.Next(4) == 0;
        if (frozen) model.RequiresGrad(false);
        var constant = Tensors.Randn(1, classes);
        Func<Tensor, Tensor> constantForward = x => (x.Reshape(x.Size(0), -1).Sum(1, keepDim: true) * 0) + constant;
        Func<Tensor, Tensor> forward = kind == 0 ? constantForward : model.Call;
        var shape = new long[] { rng.Next(1, 4), channels }.Concat(Enumerable.Range(0, dims).Select(_ => (long)(dims == 2 ? rng.Next(1, 17) : rng.Next(1, 7)))).ToArray();
        var input = Tensors.Randn(shape);
        if (rng.Next(8) == 0) input = input * 1000;
        IReadOnlyList<long>? targets = rng.Next(3) == 0 ? null
            : Enumerable.Range(0, Count(rng, (int)shape[0])).Select(_ => _oddValues && rng.Next(6) == 0 ? (long)Value(typeof(long), rng, typeof(int))! : rng.Next(classes)).ToArray();
        int method = rng.Next(8);
        string described = $"{(kind == 0 ? "constant" : kind == 1 ? "training-mode" : "convolutional")} {classes}-class {dims}-D model{(frozen ? ", frozen" : "")}";
        Attributions attributions;
        Tensor? baseline = null;
        bool nonNegative = false;
        if (method == 0)
        {
            int pathSteps = Small(rng, () => rng.Next(1, 20)), batch = Small(rng, () => rng.Next(1, 9));
            var rule = Setting(rng, () => (IntegrationRule)rng.Next(5));
            if (rng.Next(2) == 0)
            {
                var baselineShape = shape.ToArray();
                if (rng.Next(2) == 0) baselineShape[0] = 1;
                if (_oddValues && rng.Next(4) == 0) baselineShape[^1] += 1;
                baseline = Tensors.Randn(baselineShape);
            }
            Note(steps, $"IntegratedGradients({pathSteps} steps, {rule}, batch {batch}) over a {described}: Compute([{string.Join(", ", shape)}], targets [{(targets is null ? "predicted" : string.Join(", ", targets))}], baseline {(baseline is null ? "zeros" : $"[{string.Join(", ", baseline.Shape)}]")})");
            Last = "new IntegratedGradients";
            var ig = kind == 0 ? new IntegratedGradients(constantForward, pathSteps, rule, batch) : new IntegratedGradients(model, pathSteps, rule, batch);
            Last = "IntegratedGradients.Compute";
            attributions = ig.Compute(input, targets, baseline);
        }
        else if (method == 1)
        {
            int samples = Small(rng, () => rng.Next(1, 6)), batch = Small(rng, () => rng.Next(1, 9)), seed = rng.Next();
            double noise = Setting(rng, () => Math.Round(rng.NextDouble() * 0.5, 2));
            bool squared = rng.Next(2) == 0;
            nonNegative = squared;
            Note(steps, $"SmoothGrad({samples} samples, noise {noise}, squared {squared}, batch {batch}, seed {seed}) over a {described}: Compute([{string.Join(", ", shape)}], targets [{(targets is null ? "predicted" : string.Join(", ", targets))}])");
            Last = "new SmoothGrad";
            var smooth = kind == 0 ? new SmoothGrad(constantForward, samples, noise, squared, batch, seed) : new SmoothGrad(model, samples, noise, squared, batch, seed);
            Last = "SmoothGrad.Compute";
            attributions = smooth.Compute(input, targets);
        }
        else if (method == 3)
        {
            int samples = Small(rng, () => rng.Next(1, 6)), batch = Small(rng, () => rng.Next(1, 9)), seed = rng.Next();
            double noise = Setting(rng, () => rng.Next(2) == 0 ? 0 : Math.Round(rng.NextDouble() * 0.5, 2));
            var baselineShape = shape.ToArray();
            baselineShape[0] = rng.Next(1, 4);
            if (_oddValues && rng.Next(4) == 0) baselineShape[^1] += 1;
            baseline = Tensors.Randn(baselineShape);
            Note(steps, $"GradientShap({samples} samples, noise {noise}, batch {batch}, seed {seed}) over a {described}: Compute([{string.Join(", ", shape)}], baselines [{string.Join(", ", baselineShape)}], targets [{(targets is null ? "predicted" : string.Join(", ", targets))}])");
            Last = "new GradientShap";
            var shap = kind == 0 ? new GradientShap(constantForward, samples, noise, batch, seed) : new GradientShap(model, samples, noise, batch, seed);
            Last = "GradientShap.Compute";
            attributions = shap.Compute(input, baseline, targets);
        }
        else if (method == 6)
        {
            int batch = Small(rng, () => rng.Next(1, 9));
            if (rng.Next(2) == 0)
            {
                var baselineShape = shape.ToArray();
                if (rng.Next(2) == 0) baselineShape[0] = 1;
                if (_oddValues && rng.Next(4) == 0) baselineShape[^1] += 1;
                baseline = Tensors.Randn(baselineShape);
            }
            Note(steps, $"DeepLift(batch {batch}) over a {described}: Compute([{string.Join(", ", shape)}], targets [{(targets is null ? "predicted" : string.Join(", ", targets))}], baseline {(baseline is null ? "zeros" : $"[{string.Join(", ", baseline.Shape)}]")})");
            Last = "new DeepLift";
            var deepLift = kind == 0 ? new DeepLift(constantForward, batch) : new DeepLift(model, batch);
            Last = "DeepLift.Compute";
            attributions = deepLift.Compute(input, targets, baseline);
            if (kind == 0) throw new ArithmeticException($"{Where(steps)}: DeepLift accepted a forward pass that records no ReLU");
        }
        else if (method == 7)
        {
            int batch = Small(rng, () => rng.Next(1, 9));
            var baselineShape = shape.ToArray();
            baselineShape[0] = rng.Next(_oddValues && rng.Next(4) == 0 ? 0 : 1, 4);
            if (_oddValues && rng.Next(4) == 0) baselineShape[^1] += 1;
            baseline = Tensors.Randn(baselineShape);
            Note(steps, $"DeepLiftShap(batch {batch}) over a {described}: Compute([{string.Join(", ", shape)}], baselines [{string.Join(", ", baselineShape)}], targets [{(targets is null ? "predicted" : string.Join(", ", targets))}])");
            Last = "new DeepLiftShap";
            var deepLiftShap = kind == 0 ? new DeepLiftShap(constantForward, batch) : new DeepLiftShap(model, batch);
            Last = "DeepLiftShap.Compute";
            attributions = deepLiftShap.Compute(input, baseline, targets);
            if (kind == 0) throw new ArithmeticException($"{Where(steps)}: DeepLiftShap accepted a forward pass that records no ReLU");
        }
        else if (method is 4 or 5)
        {
            string name = method == 4 ? "GuidedBackprop" : "Deconvolution";
            Note(steps, $"{name} over a {described}: Compute([{string.Join(", ", shape)}], targets [{(targets is null ? "predicted" : string.Join(", ", targets))}])");
            Last = $"{name}.Compute";
            attributions = (method, kind) switch
            {
                (4, 0) => new GuidedBackprop(constantForward).Compute(input, targets),
                (4, _) => new GuidedBackprop(model).Compute(input, targets),
                (_, 0) => new Deconvolution(constantForward).Compute(input, targets),
                _ => new Deconvolution(model).Compute(input, targets),
            };
            if (kind == 0) throw new ArithmeticException($"{Where(steps)}: {name} accepted a forward pass that records no ReLU");
        }
        else
        {
            bool absolute = rng.Next(2) == 0;
            nonNegative = absolute;
            Note(steps, $"Saliency(absolute {absolute}) over a {described}: Compute([{string.Join(", ", shape)}], targets [{(targets is null ? "predicted" : string.Join(", ", targets))}])");
            Last = "Saliency.Compute";
            attributions = (kind == 0 ? new Saliency(constantForward) : new Saliency(model)).Compute(input, targets, absolute);
        }
        using var _ = attributions;
        if (kind == 1) throw new ArithmeticException($"{Where(steps)}: a model in training mode was accepted");
        if (!attributions.Values.Shape.SequenceEqual(shape) || attributions.Values.ScalarType != ScalarType.Float32)
            throw new ArithmeticException($"{Where(steps)}: attributions [{string.Join(", ", attributions.Values.Shape)}] {attributions.Values.ScalarType} for input [{string.Join(", ", shape)}]");
        RequireFinite(attributions.Values, steps, "attribution");
        if (nonNegative && attributions.Values.Min().Item() < 0) throw new ArithmeticException($"{Where(steps)}: negative absolute or squared gradients");
        if (kind == 0 && attributions.Values.Abs().Max().Item() != 0) throw new ArithmeticException($"{Where(steps)}: logits constant in the input have non-zero attributions");
        Tensor logits;
        using (Tensors.NoGrad())
            logits = forward(input);
        CheckTargets(attributions.TargetClasses, attributions.Scores, logits, targets, steps);
        if (method == 0)
        {
            // the delta is by definition the attributions' sum minus the logit's change from the baseline
            Tensor atBaseline;
            using (Tensors.NoGrad())
                atBaseline = forward(baseline is null ? Tensors.ZerosLike(input) : baseline.Expand(shape).Contiguous());
            var sums = attributions.Values.Reshape(shape[0], -1).To(ScalarType.Float64).Sum(1).ToArray<double>();
            for (int i = 0; i < shape[0]; i++)
            {
                long t = attributions.TargetClasses[i];
                double change = logits[i, t].Item() - atBaseline[i, t].Item();
                double delta = attributions.ConvergenceDeltas![i];
                if (Math.Abs(sums[i] - change - delta) > 1e-3 * (1 + Math.Abs(change) + Math.Abs(sums[i])))
                    throw new ArithmeticException($"{Where(steps)}: sample {i}: sum {sums[i]}, change {change}, delta {delta}");
            }
        }
        else if (method == 3)
        {
            // the deltas are finite, and zero (up to rounding) when the logits do not depend on the input
            var deltas = attributions.ConvergenceDeltas ?? throw new ArithmeticException($"{Where(steps)}: GradientSHAP gave no convergence deltas");
            if (deltas.Count != shape[0] || deltas.Any(d => !double.IsFinite(d)) || (kind == 0 && deltas.Any(d => Math.Abs(d) > 1e-5)))
                throw new ArithmeticException($"{Where(steps)}: GradientSHAP deltas [{string.Join(", ", deltas)}]");
        }
        else if (method is 6 or 7)
        {
            // Convolution, ReLU, average pooling and a linear layer: DeepLIFT's attributions add up to the logit's change
            // from the reference (the mean change over the references for DeepLIFT SHAP), and the deltas say how far not.
            Tensor references;
            using (Tensors.NoGrad())
                references = forward(baseline is null ? Tensors.ZerosLike(input) : method == 6 ? baseline.Expand(shape).Contiguous() : baseline);
            var sums = attributions.Values.Reshape(shape[0], -1).To(ScalarType.Float64).Sum(1).ToArray<double>();
            var deltas = attributions.ConvergenceDeltas ?? throw new ArithmeticException($"{Where(steps)}: DeepLIFT gave no convergence deltas");
            for (int i = 0; i < shape[0]; i++)
            {
                long t = attributions.TargetClasses[i];
                double change = logits[i, t].Item() - (method == 6 ? references[i, t].Item() : references.Select(1, t).To(ScalarType.Float64).Mean().Item());
                double tolerance = 1e-3 * (1 + Math.Abs(change) + Math.Abs(sums[i]));
                if (Math.Abs(sums[i] - change - deltas[i]) > tolerance || Math.Abs(deltas[i]) > tolerance)
                    throw new ArithmeticException($"{Where(steps)}: sample {i}: sum {sums[i]}, change {change}, delta {deltas[i]}");
            }
        }
        else if (method == 5)
        {
            // The classifier's one ReLU receives a gradient that does not depend on the input (global average pooling, then
            // a linear layer), and the deconvolution rule ignores the forward pass's signs: samples explaining the same
            // class get the same attributions.
            for (int i = 1; i < shape[0]; i++)
            {
                int first = Enumerable.Range(0, i).FirstOrDefault(j => attributions.TargetClasses[j] == attributions.TargetClasses[i], -1);
                if (first < 0) continue;
                var (a, b) = (attributions.ToArray(first), attributions.ToArray(i));
                double scale = a.Max(Math.Abs) + 1e-30;
                if (a.Zip(b).Any(p => Math.Abs(p.First - p.Second) > 1e-5 * scale))
                    throw new ArithmeticException($"{Where(steps)}: samples {first} and {i} explain class {attributions.TargetClasses[i]} with different deconvolution maps");
            }
        }
        if (method is not (0 or 3 or 6 or 7) && attributions.ConvergenceDeltas is not null) throw new ArithmeticException($"{Where(steps)}: convergence deltas from a method without a baseline");
        if (dims + 2 == shape.Length)
        {
            Last = "Attributions.ToMaps";
            using var maps = attributions.ToMaps((AttributionSign)rng.Next(3), rng.Next(2) == 0 ? 2 : Math.Round(rng.NextDouble() * 99, 1));
            RequireFinite(maps.Maps, steps, "attribution map");
            double min = maps.Maps.Min().Item(), max = maps.Maps.Max().Item();
            if (min < 0 || max > 1) throw new ArithmeticException($"{Where(steps)}: map values in [{min}, {max}]");
        }
        foreach (var (name, parameter) in model.NamedParameters())
            if (parameter.Grad is not null) throw new ArithmeticException($"{Where(steps)}: an attribution left a gradient on {name}");
        if (kind != 1 && shape[0] >= 1 && dims + 2 == shape.Length) FaithfulnessCheck(rng, steps, forward, input.Narrow(0, 0, 1), attributions.ToArray(0), classes);
    }

    // RISE's curves of sample 0 with its attribution summed over channels (or now and then a map of the wrong length or
    // with a NaN), random steps, batch and replacement. Oracle: steps + 1 points (at most one per position), fractions
    // from 0 to 1 and rising, probabilities in [0, 1], the first point the start's probability and the last the end's,
    // the area in [0, 1].
    private static void FaithfulnessCheck(Random rng, List<string> steps, Func<Tensor, Tensor> forward, Tensor sample, float[] attribution, int classes)
    {
        long channels = sample.Size(1), positions = sample.NumElements / channels;
        var map = Enumerable.Range(0, (int)positions).Select(p => Enumerable.Range(0, (int)channels).Sum(c => attribution[(c * positions) + p])).ToArray();
        if (_oddValues && rng.Next(4) == 0) map = map.Take(Math.Max(0, map.Length - 1)).ToArray();
        if (_oddValues && rng.Next(6) == 0 && map.Length > 0) map[rng.Next(map.Length)] = float.NaN;
        int curveSteps = Small(rng, () => rng.Next(1, 40)), batch = Small(rng, () => rng.Next(1, 9));
        long target = _oddValues && rng.Next(6) == 0 ? classes : rng.Next(classes);
        int replacementKind = rng.Next(3);
        double sigma = Setting(rng, () => Math.Round(0.2 + (rng.NextDouble() * 6), 2));
        int kernel = Setting(rng, () => (2 * rng.Next(0, 7)) + 1);
        var replacement = replacementKind switch { 0 => null, 1 => Tensors.Randn(sample.Shape), _ => Blurred(steps, sample, sigma, kernel) };
        var score = rng.Next(2) == 0 ? FaithfulnessScore.Softmax : FaithfulnessScore.Sigmoid;
        bool insertion = rng.Next(2) == 0;
        Note(steps, $"Faithfulness.{(insertion ? "Insertion" : "Deletion")}(map of {map.Length}, class {target}, {curveSteps} steps, batch {batch}, replacement {(replacementKind switch { 0 => "zeros", 1 => "random", _ => $"blur σ {sigma}, {kernel} taps" })}, {score})");
        Last = "Faithfulness";
        var curve = insertion
            ? Faithfulness.Insertion(forward, sample, map, target, replacement, curveSteps, batch, score)
            : Faithfulness.Deletion(forward, sample, map, target, replacement, curveSteps, batch, score);
        int points = (int)Math.Min(curveSteps, positions) + 1;
        if (curve.Fractions.Count != points || curve.Probabilities.Count != points)
            throw new ArithmeticException($"{Where(steps)}: {curve.Fractions.Count} fractions and {curve.Probabilities.Count} probabilities, expected {points}");
        if (curve.Fractions[0] != 0 || curve.Fractions[^1] != 1 || curve.Fractions.Zip(curve.Fractions.Skip(1)).Any(p => p.Second < p.First))
            throw new ArithmeticException($"{Where(steps)}: fractions [{string.Join(", ", curve.Fractions)}]");
        if (curve.Probabilities.Any(p => !(p >= 0 && p <= 1)) || !(curve.Area >= 0 && curve.Area <= 1))
            throw new ArithmeticException($"{Where(steps)}: probabilities [{string.Join(", ", curve.Probabilities)}], area {curve.Area}");
        var start = replacement ?? Tensors.ZerosLike(sample);
        var (first, last) = insertion ? (start, sample) : (sample, start);
        double Probability(Tensor x)
        {
            using var noGrad = Tensors.NoGrad();
            var logits = forward(x);
            return score == FaithfulnessScore.Sigmoid ? logits[0, target].Sigmoid().Item() : logits.Softmax(1)[0, target].Item();
        }
        if (Math.Abs(curve.Probabilities[0] - Probability(first)) > 1e-5 || Math.Abs(curve.Probabilities[^1] - Probability(last)) > 1e-5)
            throw new ArithmeticException($"{Where(steps)}: the curve runs from {curve.Probabilities[0]} to {curve.Probabilities[^1]}, not from {Probability(first)} to {Probability(last)}");
    }

    // Faithfulness.Blur with the given settings. Oracle: the input's shape and type, and each (sample, channel) plane
    // inside the input plane's range (the blur is a convex combination of the plane's values).
    private static Tensor Blurred(List<string> steps, Tensor sample, double sigma, int kernel)
    {
        Note(steps, $"Faithfulness.Blur([{string.Join(", ", sample.Shape)}], σ {sigma}, {kernel} taps)");
        Last = "Faithfulness.Blur";
        var blurred = Faithfulness.Blur(sample, sigma, kernel);
        if (!blurred.Shape.SequenceEqual(sample.Shape) || blurred.ScalarType != sample.ScalarType)
            throw new ArithmeticException($"{Where(steps)}: blurred to [{string.Join(", ", blurred.Shape)}] {blurred.ScalarType}");
        var planes = sample.Reshape(sample.Size(0) * sample.Size(1), -1);
        var output = blurred.Reshape(planes.Size(0), -1);
        using var scope = Tensors.NewDisposeScope();
        var slack = 1e-5 * (planes.Abs().Max().Item() + 1);
        if ((output - planes.Amax(new long[] { 1 }, keepDim: true)).Max().Item() > slack || (planes.Amin(new long[] { 1 }, keepDim: true) - output).Max().Item() > slack)
            throw new ArithmeticException($"{Where(steps)}: the blur left a plane's range");
        return blurred;
    }

    private static void RandomizationStep(Random rng, List<string> steps)
    {
        int dims = rng.Next(5) == 0 ? 3 : 2, classes = rng.Next(2, 4), channels = rng.Next(1, 3), stages = rng.Next(1, 4);
        Last = "ResNet.Build";
        using var model = MedVision.Nets.Models.ResNet.Builder()
            .WithBlocks(MedVision.Nets.Blocks.ResidualBlockKind.Basic, Enumerable.Range(0, stages).Select(_ => rng.Next(1, 3)).ToArray())
            .WithWidths(Enumerable.Range(0, stages).Select(_ => rng.Next(2, 5)).ToArray())
            .ForInput(channels, dims).WithSmallInputStem().WithClasses(classes).Build();
        bool training = rng.Next(10) == 0;
        model.Train(training);
        var order = Setting(rng, () => (RandomizationOrder)rng.Next(2));
        int? depth = rng.Next(3) == 0 ? null : Setting(rng, () => rng.Next(1, 4));
        long seed = rng.Next(1000);
        int explainer = rng.Next(3);
        var shape = new long[] { rng.Next(1, 3), channels }.Concat(Enumerable.Range(0, dims).Select(_ => (long)(dims == 2 ? rng.Next(4, 17) : rng.Next(4, 9)))).ToArray();
        var input = Tensors.Randn(shape);
        IReadOnlyList<long>? targets = rng.Next(2) == 0 ? null : Enumerable.Range(0, Count(rng, (int)shape[0])).Select(_ => (long)rng.Next(classes)).ToArray();
        var before = model.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.To(ScalarType.Float64).ToArray<double>());
        Func<Tensor, IReadOnlyList<long>, ClassActivationMaps> explain = explainer switch
        {
            0 => (x, t) => { using var a = new Saliency(model).Compute(x, t); return a.ToMaps(); },
            1 => (x, t) => GradCam.ForResNet(model).Compute(x, t),
            _ => (x, t) => new ClassActivationMaps(x.Abs().Sum(new long[] { 1 }, keepDim: true), t, new float[t.Count]),
        };
        Note(steps, $"ParameterRandomization.Run({stages}-stage {dims}-D ResNet{(training ? ", training mode" : "")}, [{string.Join(", ", shape)}], {(explainer switch { 0 => "saliency", 1 => "Grad-CAM", _ => "input" })}, {order}, depth {depth?.ToString() ?? "layer"}, seed {seed}, targets [{(targets is null ? "predicted" : string.Join(", ", targets))}])");
        Last = "ParameterRandomization.Run";
        ParameterRandomizationResult result;
        try
        {
            result = ParameterRandomization.Run(model, input, explain, targets, order, depth, seed);
        }
        finally
        {
            foreach (var (name, tensor) in model.StateDict())
                if (!tensor.To(ScalarType.Float64).ToArray<double>().SequenceEqual(before[name])) throw new ArithmeticException($"{Where(steps)}: {name} was not restored");
        }
        if (training) throw new ArithmeticException($"{Where(steps)}: a model in training mode was accepted");
        var layers = model.NamedModules().Where(m => m.Module is IResettable).Select(m => m.Name).Reverse().ToArray();
        var groups = layers.Select(n => depth is { } d ? string.Join('.', n.Split('.').Take(d)) : n).Distinct().ToArray();
        if (!result.Steps.Select(st => st.Block).SequenceEqual(groups) || result.Steps.Sum(st => st.Layers.Count) != layers.Length)
            throw new ArithmeticException($"{Where(steps)}: steps [{string.Join(", ", result.Steps.Select(st => st.Block))}], expected [{string.Join(", ", groups)}]");
        foreach (var step in result.Steps)
        {
            if (step.RankCorrelations.Count != shape[0] || step.RankCorrelations.Any(r => !double.IsNaN(r) && !(r >= -1 - 1e-9 && r <= 1 + 1e-9)))
                throw new ArithmeticException($"{Where(steps)}: {step.Block}: rank correlations [{string.Join(", ", step.RankCorrelations)}]");
            if (step.StructuralSimilarities.Count != shape[0] || step.StructuralSimilarities.Any(v => !(v <= 1 + 1e-9) || !(v >= -1 - 1e-9)))
                throw new ArithmeticException($"{Where(steps)}: {step.Block}: SSIM [{string.Join(", ", step.StructuralSimilarities)}]");
            if (explainer == 2 && (step.RankCorrelations.Any(r => !double.IsNaN(r) && Math.Abs(r - 1) > 1e-9) || step.StructuralSimilarities.Any(v => Math.Abs(v - 1) > 1e-9)))
                throw new ArithmeticException($"{Where(steps)}: the input's magnitude changed with the weights at {step.Block}");
        }
    }

    private static void GradCamStep(Random rng, List<string> steps)
    {
        int dims = rng.Next(4) == 0 ? 3 : 2, classes = rng.Next(2, 5), channels = rng.Next(1, 4);
        int stages = rng.Next(1, 5);
        Last = "ResNet.Build";
        using var model = MedVision.Nets.Models.ResNet.Builder()
            .WithBlocks(MedVision.Nets.Blocks.ResidualBlockKind.Basic, Enumerable.Range(0, stages).Select(_ => rng.Next(1, 3)).ToArray())
            .WithWidths(Enumerable.Range(0, stages).Select(_ => rng.Next(2, 5)).ToArray())
            .ForInput(channels, dims).WithSmallInputStem().WithClasses(classes).Build();
        bool training = rng.Next(10) == 0, frozen = rng.Next(4) == 0;
        model.Train(training);
        if (frozen) model.RequiresGrad(false);
        var method = Setting(rng, () => (CamMethod)rng.Next(2));
        int? stage = rng.Next(3) == 0 ? null : Setting(rng, () => rng.Next(stages));
        Note(steps, $"GradCam.ForResNet({stages}-stage {dims}-D ResNet, {classes} classes, {channels} channel(s){(training ? ", training mode" : "")}{(frozen ? ", frozen" : "")}, {method}, stage {stage?.ToString() ?? "last"})");
        bool guided = rng.Next(3) == 0;
        var interpolation = Setting(rng, () => rng.Next(2) == 0 ? InterpolationMode.Nearest : InterpolationMode.Linear);
        if (guided) Note(steps, $"as GuidedGradCam ({interpolation})");
        Last = "GradCam.ForResNet";
        var cam = GradCam.ForResNet(model, method, stage);
        var shape = new long[] { rng.Next(1, 4), channels }.Concat(Enumerable.Range(0, dims).Select(_ => (long)(dims == 2 ? rng.Next(4, 33) : rng.Next(4, 13)))).ToArray();
        var input = Tensors.Randn(shape);
        if (rng.Next(8) == 0) input = input * 1000; // large activations and logits
        IReadOnlyList<long>? targets = rng.Next(3) == 0 ? null
            : Enumerable.Range(0, Count(rng, (int)shape[0])).Select(_ => _oddValues && rng.Next(6) == 0 ? (long)Value(typeof(long), rng, typeof(int))! : rng.Next(classes)).ToArray();
        bool resize = rng.Next(4) != 0, normalize = rng.Next(4) != 0;
        Note(steps, $"Compute([{string.Join(", ", shape)}], targets [{(targets is null ? "predicted" : string.Join(", ", targets))}], resize {resize}, normalize {normalize})");
        if (guided)
        {
            Last = "GuidedGradCam.Compute";
            using var attributions = GuidedGradCam.ForResNet(model, stage).Compute(input, targets, interpolation);
            if (training) throw new ArithmeticException($"{Where(steps)}: a model in training mode was accepted");
            if (interpolation is not (InterpolationMode.Nearest or InterpolationMode.Linear)) throw new ArithmeticException($"{Where(steps)}: {interpolation} interpolation was accepted");
            if (!attributions.Values.Shape.SequenceEqual(shape)) throw new ArithmeticException($"{Where(steps)}: guided Grad-CAM [{string.Join(", ", attributions.Values.Shape)}] for input [{string.Join(", ", shape)}]");
            RequireFinite(attributions.Values, steps, "guided Grad-CAM");
            Tensor scores;
            using (Tensors.NoGrad())
                scores = model.Call(input);
            CheckTargets(attributions.TargetClasses, attributions.Scores, scores, targets, steps);
            foreach (var (name, parameter) in model.NamedParameters())
                if (parameter.Grad is not null) throw new ArithmeticException($"{Where(steps)}: guided Grad-CAM left a gradient on {name}");
            return;
        }
        Last = "GradCam.Compute";
        using var maps = cam.Compute(input, targets, resize, normalize);
        if (training) throw new ArithmeticException($"{Where(steps)}: a model in training mode was accepted");
        var mapShape = maps.Maps.Shape;
        if (mapShape.Length != shape.Length || mapShape[0] != shape[0] || mapShape[1] != 1 || (resize && !mapShape.Skip(2).SequenceEqual(shape.Skip(2))))
            throw new ArithmeticException($"{Where(steps)}: maps [{string.Join(", ", mapShape)}] for input [{string.Join(", ", shape)}]");
        RequireFinite(maps.Maps, steps, "Grad-CAM map");
        double min = maps.Maps.Min().Item(), max = maps.Maps.Max().Item();
        if (min < 0 || (normalize && max > 1 + 1e-6))
            throw new ArithmeticException($"{Where(steps)}: map values in [{min}, {max}]");
        Tensor logits;
        using (Tensors.NoGrad())
            logits = model.Call(input);
        CheckTargets(maps.TargetClasses, maps.Scores, logits, targets, steps);
        foreach (var (name, parameter) in model.NamedParameters())
            if (parameter.Grad is not null) throw new ArithmeticException($"{Where(steps)}: Grad-CAM left a gradient on {name}");
    }
}
