using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Explainability;

/// <summary>
/// Whether a map's most important positions are the ones the model relies on: the deletion and insertion curves of
/// RISE (Petsiuk, Das and Saenko, BMVC 2018), as Quantus and MONAI-style evaluations compute them. Each changes the
/// input's positions (every channel of a pixel or voxel at once) in the map's order, largest value first, in
/// <c>steps</c> equal parts, and records the target class's probability after each part (softmax, or the label's
/// sigmoid for multi-label models). Comparing the curves
/// of Grad-CAM, integrated gradients, occlusion — and of a random map, the chance level — says which explanation is
/// faithful to the model, where a known lesion (<see cref="Localization"/>) is not available.
/// </summary>
/// <remarks>
/// Ties in the map keep the positions' order (row-major), so a curve is reproducible. The model must be in evaluation
/// mode; the changed copies are evaluated <c>batchSize</c> at a time, without gradients.
/// </remarks>
public static class Faithfulness
{
    /// <summary>
    /// The deletion curve: the positions of <paramref name="input"/>, most important first, replaced by
    /// <paramref name="replacement"/>'s (zeros unless given: the mean image for inputs normalised to zero mean). A map
    /// that finds what the model relies on makes the probability fall early: a small <see cref="FaithfulnessCurve.Area"/>.
    /// </summary>
    /// <param name="model">The classifier (logits (N, classes)), in evaluation mode.</param>
    /// <param name="input">One preprocessed sample, (1, C, H, W) or (1, C, D, H, W).</param>
    /// <param name="map">The map over the sample's positions, row-major over (H, W) or (D, H, W); larger is more important.</param>
    /// <param name="targetClass">The class whose probability is followed.</param>
    /// <param name="replacement">What deleted positions take: a tensor of the input's shape (a blurred copy, say); null for zeros.</param>
    /// <param name="steps">Parts the positions are changed in (the curve has steps + 1 points).</param>
    /// <param name="batchSize">Changed copies per forward pass.</param>
    /// <param name="score">The probability followed: softmax over the classes, the target label's own sigmoid (multi-label models), or a grade's probability under a CORAL head (required for a model that ends in one).</param>
    public static FaithfulnessCurve Deletion(Module<Tensor, Tensor> model, Tensor input, IReadOnlyList<float> map, long targetClass, Tensor? replacement = null, int steps = 50, int batchSize = 32, FaithfulnessScore score = FaithfulnessScore.Softmax)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Curve(model.Call, model, input, map, targetClass, replacement, steps, batchSize, score, insertion: false);
    }

    /// <summary>
    /// The insertion curve: starting from <paramref name="replacement"/> (zeros unless given; RISE starts from a blurred
    /// copy), the positions of <paramref name="input"/> restored, most important first. A faithful map makes the
    /// probability rise early: a large <see cref="FaithfulnessCurve.Area"/>.
    /// </summary>
    /// <inheritdoc cref="Deletion(Module{Tensor, Tensor}, Tensor, IReadOnlyList{float}, long, Tensor?, int, int, FaithfulnessScore)"/>
    public static FaithfulnessCurve Insertion(Module<Tensor, Tensor> model, Tensor input, IReadOnlyList<float> map, long targetClass, Tensor? replacement = null, int steps = 50, int batchSize = 32, FaithfulnessScore score = FaithfulnessScore.Softmax)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Curve(model.Call, model, input, map, targetClass, replacement, steps, batchSize, score, insertion: true);
    }

    /// <summary>The deletion curve of the logits (N, classes) a function computes (see <see cref="Deletion(Module{Tensor, Tensor}, Tensor, IReadOnlyList{float}, long, Tensor?, int, int, FaithfulnessScore)"/>).</summary>
    public static FaithfulnessCurve Deletion(Func<Tensor, Tensor> forward, Tensor input, IReadOnlyList<float> map, long targetClass, Tensor? replacement = null, int steps = 50, int batchSize = 32, FaithfulnessScore score = FaithfulnessScore.Softmax)
        => Curve(forward ?? throw new ArgumentNullException(nameof(forward)), null, input, map, targetClass, replacement, steps, batchSize, score, insertion: false);

    /// <summary>The insertion curve of the logits (N, classes) a function computes (see <see cref="Insertion(Module{Tensor, Tensor}, Tensor, IReadOnlyList{float}, long, Tensor?, int, int, FaithfulnessScore)"/>).</summary>
    public static FaithfulnessCurve Insertion(Func<Tensor, Tensor> forward, Tensor input, IReadOnlyList<float> map, long targetClass, Tensor? replacement = null, int steps = 50, int batchSize = 32, FaithfulnessScore score = FaithfulnessScore.Softmax)
        => Curve(forward ?? throw new ArgumentNullException(nameof(forward)), null, input, map, targetClass, replacement, steps, batchSize, score, insertion: true);

    /// <summary>
    /// A Gaussian-blurred copy of <paramref name="input"/>, RISE's starting point for insertion (a blurred image keeps
    /// the intensities but not the detail, so restoring pixels adds information rather than contrast against black).
    /// Each channel of each sample is filtered separably along every spatial axis with a normalised Gaussian of
    /// <paramref name="kernelSize"/> taps, the border reflected (replicated where the input is smaller than the
    /// kernel's half-width). RISE uses σ = 5 with 11 taps on 224-pixel images and pads with zeros, which darkens the border.
    /// </summary>
    /// <param name="input">(N, C, H, W) or (N, C, D, H, W), floating point.</param>
    /// <param name="sigma">The Gaussian's standard deviation in positions; positive and finite.</param>
    /// <param name="kernelSize">Taps along each axis; odd and at least 1.</param>
    /// <returns>A new tensor of the input's shape, type and device.</returns>
    public static Tensor Blur(Tensor input, double sigma = 5, int kernelSize = 11)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (!(sigma > 0) || double.IsInfinity(sigma)) throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "The Gaussian's standard deviation must be positive and finite.");
        if (kernelSize < 1 || kernelSize % 2 == 0) throw new ArgumentOutOfRangeException(nameof(kernelSize), kernelSize, "The kernel size must be odd and at least 1.");
        if (input.Dim is not (4 or 5))
            throw new ArgumentException($"Blur takes (N, C, H, W) or (N, C, D, H, W); got shape [{string.Join(", ", input.Shape)}].", nameof(input));
        if (!input.ScalarType.IsFloatingPoint())
            throw new ArgumentException($"The input must be floating point; it is {input.ScalarType}.", nameof(input));
        int spatialDims = input.Dim - 2, half = kernelSize / 2;
        long channels = input.Size(1);
        var taps = new double[kernelSize];
        for (int i = 0; i < kernelSize; i++) taps[i] = Math.Exp(-0.5 * (i - half) * (i - half) / (sigma * sigma));
        double total = taps.Sum();
        var weights = taps.Select(t => t / total).ToArray();

        using var scope = Tensors.NewDisposeScope();
        var x = input;
        for (int axis = 0; axis < spatialDims; axis++)
        {
            // (C, 1, k, 1) for H, (C, 1, 1, k) for W, and the same with one more axis for volumes.
            var shape = Enumerable.Repeat(1L, spatialDims + 2).ToArray();
            shape[2 + axis] = kernelSize;
            var kernel = Tensors.FromArray(weights).To(input.ScalarType, input.Device).Reshape(shape).Expand(new long[] { channels }.Concat(shape.Skip(1)).ToArray()).Contiguous();
            var pad = new long[2 * spatialDims];
            int slot = 2 * (spatialDims - 1 - axis); // PyTorch's pad lists the last dimension first
            pad[slot] = pad[slot + 1] = half;
            var mode = half < x.Size(2 + axis) ? PaddingMode.Reflect : PaddingMode.Replicate;
            var padded = half == 0 ? x : Functional.Pad(x, pad, mode);
            x = Functional.Convolution(padded, kernel, null, spatialDims, groups: channels);
        }
        return scope.MoveToOuter(ReferenceEquals(x, input) ? input.Clone() : x);
    }

    private static FaithfulnessCurve Curve(Func<Tensor, Tensor> forward, Module? model, Tensor input, IReadOnlyList<float> map, long targetClass, Tensor? replacement, int steps, int batchSize, FaithfulnessScore score, bool insertion)
    {
        if (!Enum.IsDefined(score)) throw new ArgumentOutOfRangeException(nameof(score), score, "Unknown faithfulness score.");
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(map);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (input.Dim is not (4 or 5) || input.Size(0) != 1)
            throw new ArgumentException($"The curves take one sample, (1, C, H, W) or (1, C, D, H, W); got shape [{string.Join(", ", input.Shape)}].", nameof(input));
        if (!input.ScalarType.IsFloatingPoint())
            throw new ArgumentException($"The input must be floating point; it is {input.ScalarType}.", nameof(input));
        if (model?.Training ?? false)
            throw new InvalidOperationException("Faithfulness curves need the model in evaluation mode (call model.Eval()).");
        if (model is not null && score != FaithfulnessScore.CoralGrade && Heads.CoralHead.Ends(model))
            throw new ArgumentException($"The model ends in a CORAL head, whose cumulative logits all move with one severity score: a {score} over them does not follow a grade. Pass score: FaithfulnessScore.CoralGrade (the target is then a grade).", nameof(score));
        var spatial = input.Shape.Skip(2).ToArray();
        long positions = spatial.Aggregate(1L, (a, b) => a * b);
        if (map.Count != positions)
            throw new ArgumentException($"The map has {map.Count} values; the input has {positions} positions ({string.Join(" × ", spatial)}).", nameof(map));
        for (int i = 0; i < map.Count; i++)
            if (!float.IsFinite(map[i])) throw new ArgumentException($"Map value {i} is {map[i]}; the map must be finite.", nameof(map));
        if (replacement is not null && !replacement.Shape.SequenceEqual(input.Shape))
            throw new ArgumentException($"The replacement has shape [{string.Join(", ", replacement.Shape)}]; it must have the input's, [{string.Join(", ", input.Shape)}].", nameof(replacement));
        InputGradients.CheckFinite(input, "input", nameof(input));
        if (replacement is not null) InputGradients.CheckFinite(replacement, "replacement", nameof(replacement));
        if (steps > positions) steps = (int)positions; // at least one position per part

        // The positions by importance, largest first; a stable sort keeps ties in row-major order.
        var order = Enumerable.Range(0, (int)positions).OrderByDescending(i => map[i]).ToArray();
        var fractions = new double[steps + 1];
        var probabilities = new double[steps + 1];
        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        var other = replacement?.To(input.ScalarType, input.Device) ?? Tensors.ZerosLike(input);
        var (from, to) = insertion ? (other, input) : (input, other);
        var flatFrom = from.Reshape(1, input.Size(1), positions);
        var flatTo = to.Reshape(1, input.Size(1), positions);
        for (int first = 0; first <= steps; first += batchSize)
        {
            int count = Math.Min(batchSize, steps + 1 - first);
            using var chunk = Tensors.NewDisposeScope();
            // copy k takes `to` at the first ⌊(first + k) · P / steps⌋ positions of the order, `from` elsewhere
            var mask = new bool[count * positions];
            for (int k = 0; k < count; k++)
            {
                int point = first + k;
                long changed = point * positions / steps;
                fractions[point] = changed / (double)positions;
                for (long j = 0; j < changed; j++) mask[(k * positions) + order[j]] = true;
            }
            var where = Tensors.FromArray(mask, count, 1, positions).To(input.Device);
            var copies = Tensors.Where(where, flatTo, flatFrom).Reshape(new long[] { count, input.Size(1) }.Concat(spatial).ToArray());
            var logits = forward(copies);
            if (logits.Dim != 2 || logits.Size(0) != count)
                throw new InvalidOperationException($"The model's output has shape [{string.Join(", ", logits.Shape)}]; the curves need logits ({count}, classes).");
            // A CORAL head gives K − 1 cumulative logits for K grades; the others one logit per class.
            GradCam.CheckTarget(targetClass, logits.Size(1) + (score == FaithfulnessScore.CoralGrade ? 1 : 0), 0, nameof(targetClass));
            var followed = score switch
            {
                FaithfulnessScore.Sigmoid => logits.Select(1, targetClass).Sigmoid(),
                FaithfulnessScore.CoralGrade => Losses.OrdinalDecoding.ToClassProbabilities(logits).Select(1, targetClass),
                _ => logits.Softmax(1).Select(1, targetClass),
            };
            var p = followed.To(ScalarType.Float64, Device.Cpu).ToArray<double>();
            Array.Copy(p, 0, probabilities, first, count);
        }
        return new FaithfulnessCurve(fractions, probabilities);
    }
}
