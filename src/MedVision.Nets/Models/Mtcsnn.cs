using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Models;


/// <summary>
/// MTCSNN, the multi-task clinical Siamese network for diabetic retinopathy grading (Feng et al., "MTCSNN: Multi-task
/// Clinical Siamese Neural Network for Diabetic Retinopathy Severity Prediction", arXiv:2208.06917), as its public
/// code does it: a shared ResNet backbone (features-only, <c>backbone.*</c>), a classification head <c>fc</c>
/// (embedding → K classes) and a scalar score head <c>score</c> (embedding → 1). For training, a (shuffled) batch of N
/// images is split into halves and image i is paired with image i + ⌊N/2⌋; the difference task predicts |s₁ − s₂|
/// against the grade difference |y₁ − y₂| (as float), and the loss is cross-entropy over all N images + λ·MSE of the
/// difference task (λ = 0.5). With an odd N the last image is classified but not paired. Inference classifies
/// single images with the classification head. Input (N, C, H, W) (or (N, C, D, H, W)); output logits (N, K). With a
/// CORAL head (<see cref="MtcsnnBuilder.WithCoralHead"/>) the classification head gives K − 1 cumulative logits
/// (N, K − 1) and the classification term is <see cref="Losses.CoralLoss"/>.
/// </summary>
public sealed class Mtcsnn : Module<Tensor, Tensor>
{
    private readonly MtcsnnOptions _options;
    private readonly ResNet _backbone;
    private readonly Module<Tensor, Tensor> _fc;   // Linear, or CoralHead
    private readonly Linear _score;

    /// <summary>Creates the network with a freshly initialised backbone and heads.</summary>
    /// <exception cref="ArgumentException">An option cannot work; the message names it.</exception>
    public Mtcsnn(MtcsnnOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options.Clone();
        _options.Backbone.FeaturesOnly = true;
        _backbone = RegisterModule("backbone", new ResNet(_options.Backbone));
        try
        {
            _fc = _options.Head == ClassifierHead.Coral
                ? RegisterModule<Module<Tensor, Tensor>>("fc", new Heads.CoralHead(_backbone.FeatureCount, _options.NumClasses))
                : RegisterModule<Module<Tensor, Tensor>>("fc", new Linear(_backbone.FeatureCount, _options.NumClasses));
            _score = RegisterModule("score", new Linear(_backbone.FeatureCount, 1));
        }
        catch
        {
            Dispose(); // e.g. out of memory for a huge class count: free the backbone
            throw;
        }
    }

    /// <summary>A copy of the options.</summary>
    public MtcsnnOptions Options => _options.Clone();

    /// <summary>The shared backbone.</summary>
    public ResNet Backbone => _backbone;

    /// <summary>The linear classification head (embedding → K); null for a CORAL head (see <see cref="Head"/>).</summary>
    public Linear? ClassificationHead => _fc as Linear;

    /// <summary>The classification head <c>fc</c>, whichever its kind (<see cref="ClassifierKind"/>): a <see cref="Linear"/> (K logits) or a <see cref="Heads.CoralHead"/> (K − 1 cumulative logits).</summary>
    public Module<Tensor, Tensor> Head => _fc;

    /// <summary>The kind of the classification head.</summary>
    public ClassifierHead ClassifierKind => _options.Head;

    /// <summary>The score head (embedding → 1) of the difference task.</summary>
    public Linear ScoreHead => _score;

    /// <summary>Classes.</summary>
    public int NumClasses => _options.NumClasses;

    /// <summary>λ, the weight of the difference term.</summary>
    public double DifferenceWeight => _options.DifferenceWeight;

    /// <summary>A fluent builder, e.g. <c>Mtcsnn.Builder().WithBackbone(b =&gt; b.WithDepth(34).WithSmallInputStem()).WithClasses(5).Build()</c>.</summary>
    public static MtcsnnBuilder Builder() => new();

    /// <summary>Classification logits (N, K) — a CORAL head's cumulative logits (N, K − 1) — of single images (inference).</summary>
    public override Tensor Forward(Tensor input)
    {
        using var scope = Tensors.NewDisposeScope();
        var embedding = _backbone.Call(input);
        var logits = _fc.Call(embedding);
        return scope.MoveToOuter(logits);
    }

    /// <summary>Logits (N, K; a CORAL head's (N, K − 1)) and scalar scores (N) of a batch.</summary>
    public (Tensor Logits, Tensor Scores) Predict(Tensor input)
    {
        using var scope = Tensors.NewDisposeScope();
        var embedding = _backbone.Call(input);
        var logits = _fc.Call(embedding);
        var score = _score.Call(embedding);
        var scores = score.Squeeze(1);
        scope.MoveToOuter(logits, scores);
        return (logits, scores);
    }

    /// <summary>
    /// The multi-task loss of a (shuffled) batch: cross-entropy (a CORAL head: <see cref="Losses.CoralLoss"/>) over all
    /// images + λ·MSE between the predicted and the true difference of each pair (image i, image i + ⌊N/2⌋). An odd last
    /// image only enters the classification term; a batch of one has a zero difference term.
    /// </summary>
    /// <param name="images">(N, C, H, W) or (N, C, D, H, W).</param>
    /// <param name="labels">Class indices (N), int64.</param>
    public MtcsnnLoss ComputeLoss(Tensor images, Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Dim != 1 || labels.Size(0) != images.Size(0))
            throw new ArgumentException($"Labels must be (N) with N = {images.Size(0)}, got [{string.Join(", ", labels.Shape)}].", nameof(labels));
        using var scope = Tensors.NewDisposeScope();
        var (logits, scores) = Predict(images);
        var classification = _options.Head == ClassifierHead.Coral ? Losses.CoralLoss.Compute(logits, labels) : Functional.CrossEntropy(logits, labels);
        long pairs = images.Size(0) / 2;
        var difference = pairs == 0 ? Tensors.Zeros(Array.Empty<long>(), logits.ScalarType, logits.Device) : DifferenceLoss(scores, labels, pairs);
        var weighted = difference * _options.DifferenceWeight;
        var total = classification + weighted;
        scope.MoveToOuter(total, classification, difference, logits);
        return new MtcsnnLoss(total, classification, difference, logits, pairs);
    }

    private Tensor DifferenceLoss(Tensor scores, Tensor labels, long pairs)
    {
        using var scope = Tensors.NewDisposeScope();
        var firstScores = scores.Narrow(0, 0, pairs);
        var secondScores = scores.Narrow(0, pairs, pairs);
        var grades = labels.To(scores.ScalarType);
        var firstGrades = grades.Narrow(0, 0, pairs);
        var secondGrades = grades.Narrow(0, pairs, pairs);
        var predicted = firstScores - secondScores;
        var target = firstGrades - secondGrades;
        if (!_options.SignedDifference)
        {
            predicted = predicted.Abs();
            target = target.Abs();
        }
        var loss = Functional.MseLoss(predicted, target);
        return scope.MoveToOuter(loss);
    }

    /// <summary>
    /// The classification path as a plain <see cref="ResNet"/> classifier: the backbone's layers with their weights and
    /// statistics, and the classification head as its <c>fc</c> (a CORAL head stays one; the score head, needed only for training, is left out).
    /// It computes what <see cref="Forward"/> computes, so <see cref="Inference.ModelFile"/>, <see cref="Inference.Predictor"/>,
    /// Grad-CAM and the ONNX exporter take the trained MTCSNN as any ResNet. A copy: later training of either does not
    /// change the other. It starts in this network's mode (training or evaluation); the caller disposes it.
    /// </summary>
    public ResNet ToResNet()
    {
        var options = _backbone.Options;
        options.FeaturesOnly = false;
        options.NumClasses = _options.NumClasses;
        options.Head = _options.Head;
        options.DropoutRate = 0; // the backbone has none; MTCSNN's head reads the pooled features directly
        var resnet = new ResNet(options);
        try
        {
            var state = _backbone.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value);
            foreach (var (name, parameter) in _fc.NamedParameters()) state["fc." + name] = parameter;
            var weight = _fc.NamedParameters().First().Parameter;
            resnet.To(weight.ScalarType).To(weight.Device);
            resnet.LoadStateDict(state, strict: true);
            resnet.Train(Training);
            return resnet;
        }
        catch
        {
            resnet.Dispose();
            throw;
        }
    }

    /// <summary>A layer-by-layer summary of the inference path on zeros of <paramref name="inputShape"/>.</summary>
    public ModelSummary Summary(params long[] inputShape) => ModelSummary.Create(this, inputShape);
}
