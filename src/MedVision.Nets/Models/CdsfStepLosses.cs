namespace MedVision.Nets.Models;

/// <summary>The loss terms of one <see cref="CdsfTrainer.Step"/>, for logging.</summary>
/// <param name="DiagnosisReal">MDM cross-entropy on the real (MRI, PET) pairs.</param>
/// <param name="DiagnosisSynthetic">MDM cross-entropy on the (MRI, synthetic PET) pairs (synthetic PET detached).</param>
/// <param name="Voxel">Voxel-wise L1 between synthetic and real PET.</param>
/// <param name="FeatureConsistency">L1 or MSE between the MDM features of the real and the synthetic pair.</param>
/// <param name="SynthesisClassification">MDM cross-entropy on the synthetic pair, as seen by the ISM.</param>
/// <param name="SynthesisTotal">The ISM's weighted total.</param>
public sealed record CdsfStepLosses(double DiagnosisReal, double DiagnosisSynthetic, double Voxel, double FeatureConsistency, double SynthesisClassification, double SynthesisTotal)
{
    /// <summary>The MDM's total: <see cref="DiagnosisReal"/> + <see cref="DiagnosisSynthetic"/>.</summary>
    public double DiagnosisTotal => DiagnosisReal + DiagnosisSynthetic;
}
