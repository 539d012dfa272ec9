namespace MedVision.Nets.Training;

/// <summary>MedMNIST-standard metrics of one split: AUC and ACC (NaN when not evaluated).</summary>
/// <param name="Auc">Area under the ROC curve (medmnist semantics).</param>
/// <param name="Acc">Accuracy (medmnist semantics).</param>
/// <param name="Loss">Mean loss over the split (NaN when not computed).</param>
public sealed record SplitMetrics(double Auc, double Acc, double Loss = double.NaN)
{
    /// <summary>Metrics that were not measured.</summary>
    public static SplitMetrics NotEvaluated { get; } = new(double.NaN, double.NaN);

    // The MedMNIST evaluator's AUC and ACC of labels (N, L) and scores (N, K).
    // (ACC with the task's ordinal decision)
    internal static SplitMetrics Of(Metrics.MedMnistTask task, int[,] labels, double[,] scores, Metrics.OrdinalDecision decision = Metrics.OrdinalDecision.MostProbable)
        => new(Metrics.MedMnistEvaluator.GetAuc(task, labels, scores).Value,
            decision == Metrics.OrdinalDecision.MostProbable ? Metrics.MedMnistEvaluator.GetAcc(task, labels, scores) : Metrics.MedMnistEvaluator.GetAcc(task, labels, scores, decision));
}
