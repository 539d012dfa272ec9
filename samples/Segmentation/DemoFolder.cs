using System.Text.Json;
using MedVision.Nets.Data.Nifti;
using MedVision.Nets.Data.Synthetic;

namespace MedVision.Samples.Segmentation;

/// <summary>
/// Writes a small Medical Segmentation Decathlon-style folder generated from the library's brain phantoms
/// (<see cref="PhantomGenerator"/>): 4-D images of MRI and PET, label maps marking each lesion's region of reduced PET
/// uptake (class 1), and dataset.json. Only to exercise the pipeline end to end; not patient data.
/// </summary>
internal static class DemoFolder
{
    public static string Write(string root, int subjects, int size, int seed)
    {
        Directory.CreateDirectory(Path.Combine(root, "imagesTr"));
        Directory.CreateDirectory(Path.Combine(root, "labelsTr"));
        var generator = new PhantomGenerator(size, seed);
        var training = new List<object>();
        var shape = new[] { size, size, size };
        foreach (var subject in generator.Generate(0, subjects))
        {
            // The phantom's arrays are (z, y, x) with x fastest, as NIfTI stores (x, y, z) with x fastest.
            var name = $"phantom_{subject.Index:D3}.nii.gz";
            NiftiWriter.WriteVolumes(Path.Combine(root, "imagesTr", name), [new NiftiImage(subject.Mri, shape), new NiftiImage(subject.Pet, shape)]);
            var labels = subject.LesionMask(1.5).Select(v => v ? 1f : 0f).ToArray();
            NiftiWriter.Write(Path.Combine(root, "labelsTr", name), new NiftiImage(labels, shape, sourceDataType: NiftiDataType.UInt8),
                new NiftiWriteOptions { DataType = NiftiDataType.UInt8 });
            training.Add(new Dictionary<string, string> { ["image"] = $"./imagesTr/{name}", ["label"] = $"./labelsTr/{name}" });
        }
        var dataset = new Dictionary<string, object>
        {
            ["name"] = "PhantomLesions",
            ["description"] = "Generated brain phantoms (MedVision.Nets PhantomGenerator); not patient data.",
            ["modality"] = new Dictionary<string, string> { ["0"] = "MRI", ["1"] = "PET" },
            ["labels"] = new Dictionary<string, string> { ["0"] = "background", ["1"] = "lesion" },
            ["numTraining"] = subjects,
            ["training"] = training,
        };
        File.WriteAllText(Path.Combine(root, "dataset.json"), JsonSerializer.Serialize(dataset, new JsonSerializerOptions { WriteIndented = true }));
        return root;
    }
}
