namespace MedVision.Nets.Data.MedMnist;

/// <summary>The prediction task of a MedMNIST dataset, as listed in MedMNIST's <c>INFO</c> table.</summary>
public enum MedMnistTask
{
    /// <summary>Two classes, one label per sample ("binary-class").</summary>
    BinaryClass,

    /// <summary>More than two classes, one label per sample ("multi-class").</summary>
    MultiClass,

    /// <summary>Several independent binary labels per sample ("multi-label, binary-class").</summary>
    MultiLabel,

    /// <summary>Ordered grades, one label per sample ("ordinal-regression").</summary>
    OrdinalRegression,
}
