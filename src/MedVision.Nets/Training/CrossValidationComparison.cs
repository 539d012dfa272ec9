using MedVision.Nets.Metrics;

namespace MedVision.Nets.Training;

/// <summary>
/// Two training recipes cross-validated on the same folds, compared (see <see cref="CrossValidationResult.Compare"/>);
/// every difference is the first recipe's metric minus the second's.
/// </summary>
/// <remarks>
/// Three views of the same question, which answer different parts of it. The fold tests ask whether the <i>recipe</i>
/// is better on data like these: each fold is a fresh training run, and the corrected t-test accounts for both the
/// scored samples and the training runs varying. The out-of-fold and ensemble tests ask whether these particular
/// trained models differ on these particular images, and treat the models as fixed: on their own they say nothing
/// about another training run of the same recipe.
/// </remarks>
public sealed class CrossValidationComparison
{
    internal CrossValidationComparison(
        double testToTrainRatio, ResampledTTestResult auc, ResampledTTestResult acc, DeLongComparison outOfFold, McNemarComparison? outOfFoldAccuracy,
        DeLongComparison? ensembleTest, McNemarComparison? ensembleTestAccuracy)
    {
        TestToTrainRatio = testToTrainRatio;
        Auc = auc;
        Acc = acc;
        OutOfFold = outOfFold;
        OutOfFoldAccuracy = outOfFoldAccuracy;
        EnsembleTest = ensembleTest;
        EnsembleTestAccuracy = ensembleTestAccuracy;
    }

    /// <summary>The folds' scored samples over their training samples, the correction's n_test/n_train.</summary>
    public double TestToTrainRatio { get; }

    /// <summary>The corrected resampled t-test of the folds' validation AUC differences.</summary>
    public ResampledTTestResult Auc { get; }

    /// <summary>The corrected resampled t-test of the folds' validation ACC differences.</summary>
    public ResampledTTestResult Acc { get; }

    /// <summary>DeLong's test on the pooled out-of-fold predictions (each sample scored by its own fold's model in both recipes).</summary>
    public DeLongComparison OutOfFold { get; }

    /// <summary>McNemar's test on the pooled out-of-fold predictions; <see langword="null"/> for a multi-label task.</summary>
    public McNemarComparison? OutOfFoldAccuracy { get; }

    /// <summary>DeLong's test of the two folds' ensembles on the test split; <see langword="null"/> unless both cross-validations predicted the same test split.</summary>
    public DeLongComparison? EnsembleTest { get; }

    /// <summary>McNemar's test of the two ensembles on the test split; <see langword="null"/> without <see cref="EnsembleTest"/> or for a multi-label task.</summary>
    public McNemarComparison? EnsembleTestAccuracy { get; }
}
