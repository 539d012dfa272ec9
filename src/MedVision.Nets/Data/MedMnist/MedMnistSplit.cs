namespace MedVision.Nets.Data.MedMnist;

/// <summary>The official MedMNIST data splits.</summary>
public enum MedMnistSplit
{
    /// <summary>The training split (<c>train_images</c>/<c>train_labels</c>).</summary>
    Train,

    /// <summary>The validation split (<c>val_images</c>/<c>val_labels</c>).</summary>
    Validation,

    /// <summary>The test split (<c>test_images</c>/<c>test_labels</c>).</summary>
    Test,
}
