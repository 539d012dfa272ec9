namespace MedVision.Nets.Models;

/// <summary>How CDSF compares the MDM features of the real and the synthetic (MRI, PET) pair.</summary>
public enum FeatureConsistencyLoss
{
    /// <summary>Mean absolute difference.</summary>
    L1,
    /// <summary>Mean squared difference.</summary>
    Mse,
}
