using MedVision.Nets.Data.Nifti;
using MedVision.Nets.Data.Synthetic;

namespace MedVision.Samples.VolumeFolder;

/// <summary>
/// Writes a tiny generated folder of NIfTI volumes in class folders, only to exercise the pipeline end to end: the MRI of
/// the library's brain phantoms (<see cref="PhantomGenerator"/>), in "lesion" or "healthy" by their label. Not patient data.
/// </summary>
internal static class DemoFolder
{
    public static string Write(string root, int subjects, int seed)
    {
        var generator = new PhantomGenerator(size: 36, seed: seed);
        foreach (var subject in generator.Generate(0, subjects))
        {
            var folder = Directory.CreateDirectory(Path.Combine(root, subject.Label == 1 ? "lesion" : "healthy")).FullName;
            NiftiWriter.Write(Path.Combine(folder, $"subject-{subject.Index:D3}.nii.gz"), new NiftiImage(subject.Mri, new[] { subject.Size, subject.Size, subject.Size }));
        }
        return root;
    }
}
