using System.Globalization;
using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Losses;

/// <summary>What the Dice loss applies to the network's output before comparing it with the target.</summary>
public enum DiceActivation
{
    /// <summary>Softmax over the channels: mutually exclusive classes, background included (the usual segmentation).</summary>
    Softmax,
    /// <summary>A sigmoid per channel: one foreground channel, or overlapping labels (e.g. BraTS's nested tumour regions).</summary>
    Sigmoid,
    /// <summary>None: the input already holds probabilities.</summary>
    None,
}

/// <summary>
/// The soft Dice loss for segmentation (Milletari et al., V-Net, 3DV 2016), with MONAI's options and formula:
/// per sample and class, 1 − (2 Σ p·g + ε_n) / (Σ g + Σ p + ε_d) over the spatial positions, or over the batch
/// as well (<c>batch: true</c>), with squared sums in the denominator (V-Net's form) or the Jaccard (IoU) form on
/// request; then the mean, the sum, or every value. Unlike cross-entropy it weighs a small structure as much as a
/// large one, which is why segmentation of small lesions trains with it, usually together with cross-entropy
/// (<see cref="WithCrossEntropy"/>, MONAI's DiceCELoss).
/// </summary>
public static class DiceLoss
{
    /// <summary>
    /// The soft Dice loss of a network's output (N, C, spatial…) against a target: class indices (N, spatial…) or
    /// (N, 1, spatial…) of an integer type (one-hot encoded here, C classes; with a sigmoid and C = 1 the indices
    /// must be 0 or 1), or one-hot or soft labels of the input's shape.
    /// </summary>
    /// <param name="input">Logits (or probabilities with <see cref="DiceActivation.None"/>), (N, C, spatial…).</param>
    /// <param name="target">Class indices or labels of the input's shape.</param>
    /// <param name="activation">Softmax (default), sigmoid or none.</param>
    /// <param name="includeBackground">False leaves channel 0 (the background) out of the loss; needs C ≥ 2.</param>
    /// <param name="squaredDenominator">Σ g² + Σ p² in the denominator (V-Net) instead of Σ g + Σ p.</param>
    /// <param name="jaccard">The soft Jaccard (IoU) loss: 1 − (I + ε_n/2) / (Σ g + Σ p − I + ε_d/2), as MONAI's <c>jaccard=True</c>.</param>
    /// <param name="batch">Sums over the batch before the ratio (one value per class): steadier when many images lack a class.</param>
    /// <param name="smoothNumerator">ε_n, added to the numerator (MONAI's smooth_nr; default 1e-5).</param>
    /// <param name="smoothDenominator">ε_d, added to the denominator (MONAI's smooth_dr; default 1e-5).</param>
    /// <param name="reduction">Mean (default) or sum over the values, or none: (N, C′), or (C′) with <paramref name="batch"/>.</param>
    /// <exception cref="ArgumentException">Shapes, types or class indices do not fit; the message names them.</exception>
    public static Tensor Compute(Tensor input, Tensor target, DiceActivation activation = DiceActivation.Softmax, bool includeBackground = true,
        bool squaredDenominator = false, bool jaccard = false, bool batch = false, double smoothNumerator = 1e-5, double smoothDenominator = 1e-5,
        Reduction reduction = Reduction.Mean)
    {
        using var scope = Tensors.NewDisposeScope();
        var (probabilities, labels, axes) = Prepare(input, target, activation, includeBackground, batch, reduction, smoothNumerator, smoothDenominator);
        var intersection = (probabilities * labels).Sum(axes);
        var truth = (squaredDenominator ? labels.Square() : labels).Sum(axes);
        var predicted = (squaredDenominator ? probabilities.Square() : probabilities).Sum(axes);
        var denominator = truth + predicted;
        if (jaccard) denominator = 2.0 * (denominator - intersection);
        var loss = 1.0 - (((2.0 * intersection) + smoothNumerator) / (denominator + smoothDenominator));
        return scope.MoveToOuter(Reduce(loss, reduction));
    }

    /// <summary>
    /// The Tversky loss (Salehi et al., 2017; MONAI's TverskyLoss): 1 − (TP + ε_n) / (TP + α·FP + β·FN + ε_d) with soft
    /// counts TP = Σ p·g, FP = Σ p·(1 − g), FN = Σ (1 − p)·g. α = β = 0.5 is the Dice loss; β &gt; α penalises missed
    /// voxels more than false alarms, which raises the sensitivity for small lesions (the paper's α = 0.3, β = 0.7).
    /// Input, target and the other options as <see cref="Compute"/>.
    /// </summary>
    /// <param name="input">Logits (or probabilities with <see cref="DiceActivation.None"/>), (N, C, spatial…).</param>
    /// <param name="target">Class indices or labels of the input's shape.</param>
    /// <param name="alpha">α ≥ 0, the weight of false positives.</param>
    /// <param name="beta">β ≥ 0, the weight of false negatives.</param>
    /// <param name="activation">Softmax (default), sigmoid or none.</param>
    /// <param name="includeBackground">False leaves channel 0 out.</param>
    /// <param name="batch">Sums over the batch before the ratio.</param>
    /// <param name="smoothNumerator">ε_n (default 1e-5).</param>
    /// <param name="smoothDenominator">ε_d (default 1e-5).</param>
    /// <param name="reduction">Mean (default), sum or none.</param>
    public static Tensor Tversky(Tensor input, Tensor target, double alpha = 0.5, double beta = 0.5, DiceActivation activation = DiceActivation.Softmax,
        bool includeBackground = true, bool batch = false, double smoothNumerator = 1e-5, double smoothDenominator = 1e-5, Reduction reduction = Reduction.Mean)
    {
        if (!(alpha >= 0) || double.IsInfinity(alpha)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "α must be a finite number ≥ 0.");
        if (!(beta >= 0) || double.IsInfinity(beta)) throw new ArgumentOutOfRangeException(nameof(beta), beta, "β must be a finite number ≥ 0.");
        using var scope = Tensors.NewDisposeScope();
        var (p, g, axes) = Prepare(input, target, activation, includeBackground, batch, reduction, smoothNumerator, smoothDenominator);
        var truePositives = (p * g).Sum(axes);
        var falsePositives = (p * (1.0 - g)).Sum(axes);
        var falseNegatives = ((1.0 - p) * g).Sum(axes);
        var loss = 1.0 - ((truePositives + smoothNumerator) / (truePositives + (alpha * falsePositives) + (beta * falseNegatives) + smoothDenominator));
        return scope.MoveToOuter(Reduce(loss, reduction));
    }

    /// <summary>
    /// The generalised Dice loss (Sudre et al., 2017; MONAI's GeneralizedDiceLoss with <c>w_type="square"</c>): one
    /// ratio over all classes, each weighted by the inverse square of its true volume, 1 − (2 Σ_c w_c Σ p·g + ε_n) /
    /// (Σ_c w_c (Σ g + Σ p) + ε_d), so that a small structure counts as much as a large one. A class absent from an
    /// image (infinite weight) gets the largest finite weight of that image, as MONAI does. One value per image, or one
    /// for the batch with <paramref name="batch"/>.
    /// </summary>
    /// <param name="input">Logits (or probabilities with <see cref="DiceActivation.None"/>), (N, C, spatial…).</param>
    /// <param name="target">Class indices or labels of the input's shape.</param>
    /// <param name="activation">Softmax (default), sigmoid or none.</param>
    /// <param name="includeBackground">False leaves channel 0 out.</param>
    /// <param name="batch">Sums over the batch too: one ratio for the whole batch.</param>
    /// <param name="smoothNumerator">ε_n (default 1e-5).</param>
    /// <param name="smoothDenominator">ε_d (default 1e-5).</param>
    /// <param name="reduction">Mean (default), sum or none ((N), or one value with <paramref name="batch"/>).</param>
    public static Tensor Generalized(Tensor input, Tensor target, DiceActivation activation = DiceActivation.Softmax, bool includeBackground = true, bool batch = false,
        double smoothNumerator = 1e-5, double smoothDenominator = 1e-5, Reduction reduction = Reduction.Mean)
    {
        using var scope = Tensors.NewDisposeScope();
        var (p, g, axes) = Prepare(input, target, activation, includeBackground, batch, reduction, smoothNumerator, smoothDenominator);
        var intersection = (p * g).Sum(axes);
        var truth = g.Sum(axes);
        var denominator = truth + p.Sum(axes);
        // w = 1/volume², computed without gradient (MONAI's weights carry none: they follow the labels only).
        Tensor weights;
        using (Tensors.NoGrad())
        {
            var raw = 1.0 / truth.Square();
            var infinite = raw.IsInf();
            var finite = raw.MaskedFill(infinite, 0.0);
            var largest = batch ? finite.Max() : finite.Max(1, keepDim: true).Values;
            weights = finite + (infinite.To(finite.ScalarType) * largest);
        }
        long classAxis = batch ? 0 : 1;
        var numerator = (2.0 * (intersection * weights).Sum(classAxis, keepDim: true)) + smoothNumerator;
        var denominatorSum = (denominator * weights).Sum(classAxis, keepDim: true) + smoothDenominator;
        var loss = 1.0 - (numerator / denominatorSum);
        return scope.MoveToOuter(Reduce(loss, reduction));
    }

    /// <summary>
    /// Dice plus cross-entropy (MONAI's DiceCELoss): λ_dice · <see cref="Compute"/> (softmax, mean) + λ_ce ·
    /// cross-entropy of the logits against the class indices. Cross-entropy gives steady gradients from the first
    /// step; Dice keeps small structures from being drowned by the background.
    /// </summary>
    /// <param name="logits">Logits (N, C, spatial…), C ≥ 2.</param>
    /// <param name="target">Class indices (N, spatial…) or (N, 1, spatial…), int64 or another integer type.</param>
    /// <param name="diceWeight">λ_dice ≥ 0 (default 1).</param>
    /// <param name="crossEntropyWeight">λ_ce ≥ 0 (default 1).</param>
    /// <param name="includeBackground">Whether the Dice term counts channel 0 (cross-entropy always does).</param>
    /// <param name="squaredDenominator">Squared sums in the Dice denominator.</param>
    /// <param name="batch">Dice over the whole batch per class.</param>
    /// <param name="classWeight">Optional cross-entropy class weights (C).</param>
    public static Tensor WithCrossEntropy(Tensor logits, Tensor target, double diceWeight = 1.0, double crossEntropyWeight = 1.0, bool includeBackground = true,
        bool squaredDenominator = false, bool batch = false, Tensor? classWeight = null)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(target);
        CheckInput(logits, nameof(logits));
        if (!(diceWeight >= 0) || double.IsInfinity(diceWeight)) throw new ArgumentOutOfRangeException(nameof(diceWeight), diceWeight, "The Dice weight must be a finite number ≥ 0.");
        if (!(crossEntropyWeight >= 0) || double.IsInfinity(crossEntropyWeight))
            throw new ArgumentOutOfRangeException(nameof(crossEntropyWeight), crossEntropyWeight, "The cross-entropy weight must be a finite number ≥ 0.");
        long classes = logits.Size(1);
        if (classes < 2) throw new ArgumentException("Dice with cross-entropy needs at least two classes (softmax over the channels); for one foreground channel use Compute with a sigmoid.", nameof(logits));
        if (target.ScalarType.IsFloatingPoint() || target.ScalarType == ScalarType.Bool)
            throw new ArgumentException($"Dice with cross-entropy takes class indices of an integer type, got {target.ScalarType}.", nameof(target));
        if (classWeight is not null && (classWeight.Dim != 1 || classWeight.Size(0) != classes))
            throw new ArgumentException($"Class weights must be ({classes}), got [{string.Join(", ", classWeight.Shape)}].", nameof(classWeight));

        using var scope = Tensors.NewDisposeScope();
        var indices = Indices(logits, target, nameof(target));
        // The checked indices go to the Dice term as one-hot labels, so that they are not checked (two more reads of the
        // whole target, which synchronise a GPU) a second time.
        var oneHot = indices.OneHot(classes).Permute(MoveLastToChannel(logits.Dim)).To(logits.ScalarType);
        var dice = Compute(logits, oneHot, DiceActivation.Softmax, includeBackground, squaredDenominator, batch: batch);
        var crossEntropy = Functional.CrossEntropy(logits, indices, classWeight?.To(logits.ScalarType, logits.Device));
        return scope.MoveToOuter((diceWeight * dice) + (crossEntropyWeight * crossEntropy));
    }

    // Checks the arguments and returns the probabilities and labels (background dropped when asked) with the axes to sum over.
    private static (Tensor Probabilities, Tensor Labels, long[] Axes) Prepare(Tensor input, Tensor target, DiceActivation activation, bool includeBackground, bool batch,
        Reduction reduction, double smoothNumerator, double smoothDenominator)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(target);
        CheckInput(input, nameof(input));
        if (!Enum.IsDefined(activation)) throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown activation.");
        if (!Enum.IsDefined(reduction)) throw new ArgumentOutOfRangeException(nameof(reduction), reduction, "Unknown reduction.");
        CheckSmoothing(smoothNumerator, nameof(smoothNumerator));
        CheckSmoothing(smoothDenominator, nameof(smoothDenominator));
        long classes = input.Size(1);
        if (activation == DiceActivation.Softmax && classes < 2)
            throw new ArgumentException("A softmax over one channel is always 1; give background and foreground channels, or use a sigmoid for one foreground channel.", nameof(activation));
        if (!includeBackground && classes < 2)
            throw new ArgumentException("Leaving the background out needs at least two channels (background first); this input has one.", nameof(includeBackground));
        var probabilities = activation switch
        {
            DiceActivation.Softmax => input.Softmax(1),
            DiceActivation.Sigmoid => input.Sigmoid(),
            _ => input.Alias(),
        };
        var labels = TargetOf(input, target, activation, nameof(target));
        if (!includeBackground)
        {
            probabilities = probabilities.Narrow(1, 1, classes - 1);
            labels = labels.Narrow(1, 1, classes - 1);
        }
        var axes = Enumerable.Range(batch ? 0 : 2, input.Dim - (batch ? 0 : 2)).Where(d => d != 1).Select(d => (long)d).ToArray();
        return (probabilities, labels, axes);
    }

    private static Tensor Reduce(Tensor loss, Reduction reduction) => reduction switch
    {
        Reduction.Mean => loss.Mean(),
        Reduction.Sum => loss.Sum(),
        _ => loss.Alias(),
    };

    private static void CheckInput(Tensor input, string parameterName)
    {
        if (input.Dim < 3)
            throw new ArgumentException($"A segmentation output must be (N, C, spatial…) with at least one spatial dimension, got [{string.Join(", ", input.Shape)}].", parameterName);
        if (!input.ScalarType.IsFloatingPoint()) throw new ArgumentException($"The output must be floating point, got {input.ScalarType}.", parameterName);
        if (input.Size(1) < 1) throw new ArgumentException("The output has no channels.", parameterName);
    }

    private static void CheckSmoothing(double value, string parameterName)
    {
        if (!(value >= 0) || double.IsInfinity(value)) throw new ArgumentOutOfRangeException(parameterName, value, "Smoothing terms must be finite numbers ≥ 0.");
    }

    // The target as labels of the input's shape and type.
    private static Tensor TargetOf(Tensor input, Tensor target, DiceActivation activation, string parameterName)
    {
        long classes = input.Size(1);
        if (target.Shape.SequenceEqual(input.Shape) && target.ScalarType.IsFloatingPoint())
            return target.To(input.ScalarType, input.Device);
        if (target.ScalarType.IsFloatingPoint())
            throw new ArgumentException(
                $"A floating-point target must have the output's shape [{string.Join(", ", input.Shape)}] (one-hot or soft labels), got [{string.Join(", ", target.Shape)}]; class indices must have an integer type.",
                parameterName);
        var indices = Indices(input, target, parameterName);
        if (classes == 1) return indices.Unsqueeze(1).To(input.ScalarType, input.Device);
        if (activation == DiceActivation.Sigmoid)
            throw new ArgumentException($"With a sigmoid over {classes} channels the labels may overlap: give a target of the output's shape (one channel per label), not class indices.", parameterName);
        return indices.OneHot(classes).Permute(MoveLastToChannel(input.Dim)).To(input.ScalarType, input.Device);
    }

    // Class indices (N, spatial…) as int64, checked against the output's classes.
    private static Tensor Indices(Tensor input, Tensor target, string parameterName)
    {
        var spatial = input.Shape.Skip(2).ToArray();
        Tensor indices;
        if (target.Dim == input.Dim - 1 && target.Size(0) == input.Size(0) && target.Shape.Skip(1).SequenceEqual(spatial)) indices = target;
        else if (target.Dim == input.Dim && target.Size(0) == input.Size(0) && target.Size(1) == 1 && target.Shape.Skip(2).SequenceEqual(spatial)) indices = target.Squeeze(1);
        else
            throw new ArgumentException(
                $"Class indices must be (N, spatial…) = ({input.Size(0)}, {string.Join(", ", spatial)}) or (N, 1, spatial…) to fit the output [{string.Join(", ", input.Shape)}], got [{string.Join(", ", target.Shape)}].",
                parameterName);
        if (target.ScalarType == ScalarType.Bool || target.ScalarType.IsFloatingPoint())
            throw new ArgumentException($"Class indices must have an integer type, got {target.ScalarType}.", parameterName);
        indices = indices.To(ScalarType.Int64, input.Device);
        long classes = input.Size(1), limit = classes == 1 ? 2 : classes;
        if (indices.NumElements > 0)
        {
            long min = indices.Min().Item<long>(), max = indices.Max().Item<long>();
            if (min < 0 || max >= limit)
                throw new ArgumentOutOfRangeException(parameterName, string.Create(CultureInfo.InvariantCulture,
                    $"Class index {(min < 0 ? min : max)} is outside [0, {limit}) for an output with {classes} channel{(classes == 1 ? " (indices 0 or 1)" : "s")}."));
        }
        return indices;
    }

    // (N, spatial…, C) → (N, C, spatial…).
    private static long[] MoveLastToChannel(long rank)
    {
        var order = new long[rank];
        order[0] = 0;
        order[1] = rank - 1;
        for (int i = 2; i < rank; i++) order[i] = i - 1;
        return order;
    }
}
