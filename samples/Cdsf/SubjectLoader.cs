using System.Globalization;
using MedVision.Nets.Data.Nifti;
using MedVision.Nets.Data.Synthetic;
using MedVision.Nets.Transforms;

namespace MedVision.Samples.Cdsf;

/// <summary>Reads subjects from a NIfTI folder with a labels CSV, or generates phantoms.</summary>
internal static class SubjectLoader
{
    /// <summary>
    /// <c>&lt;subject&gt;_mri.nii[.gz]</c> and <c>&lt;subject&gt;_pet.nii[.gz]</c> in <paramref name="folder"/> (PET may be
    /// missing), labels from a CSV with an id and a label column. A PET stored on another grid than its MRI (another
    /// resolution or field of view) is first resampled onto the MRI's grid through the two files' affines, so that the
    /// pair lines up voxel for voxel as CDSF's voxel-wise synthesis loss needs (<paramref name="aligned"/> counts them;
    /// <paramref name="unaligned"/> counts such PETs whose files record no orientation, which are resized on their own).
    /// Each volume is then resampled (trilinear) to size³ and min–max scaled to [0, 1]. Subjects without MRI or without
    /// a label are skipped, with a count.
    /// </summary>
    public static IReadOnlyList<Subject> FromNifti(string folder, string labelsCsv, string idColumn, string labelColumn, int size, out int skipped, out int aligned, out int unaligned)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"--data folder '{folder}' does not exist.");
        if (!File.Exists(labelsCsv)) throw new FileNotFoundException($"Labels CSV '{labelsCsv}' does not exist (give it with --labels).", labelsCsv);
        var labels = ReadLabels(labelsCsv, idColumn, labelColumn);
        var dataset = PairedModalityDataset.Scan(folder);
        var subjects = new List<Subject>();
        skipped = aligned = unaligned = 0;
        foreach (var s in dataset.Subjects)
        {
            if (!s.Has("mri") || !labels.TryGetValue(s.SubjectId, out int label))
            {
                skipped++;
                continue;
            }
            var mri = s.Load("mri")!;
            var pet = s.Load("pet");
            if (pet is not null && !pet.IsOnGridOf(mri))
            {
                if (pet.AffineCode == NiftiXformCode.Unknown || mri.AffineCode == NiftiXformCode.Unknown)
                {
                    unaligned++;
                }
                else
                {
                    try
                    {
                        pet = pet.ResampleTo(mri, ResizeMode.Linear, VolumePadding.Zeros); // PET's background is 0
                    }
                    catch (ArgumentException e)
                    {
                        throw new InvalidDataException($"Subject {s.SubjectId}: its PET cannot be placed on its MRI's grid: {e.Message}", e);
                    }
                    aligned++;
                }
            }
            subjects.Add(new Subject(s.SubjectId, Prepare(mri, size), pet is null ? null : Prepare(pet, size), label));
        }
        if (subjects.Count == 0) throw new InvalidDataException($"No subject in '{folder}' has both an MRI (<subject>_mri.nii.gz) and a label in '{labelsCsv}'.");
        return subjects;
    }

    /// <summary>Phantoms from <see cref="PhantomGenerator"/>; PET is withheld from <paramref name="missingPet"/> of them (every k-th subject).</summary>
    public static IReadOnlyList<Subject> FromPhantoms(int count, int size, int seed, double missingPet)
    {
        var generator = new PhantomGenerator(size, seed);
        int missingEvery = missingPet > 0 ? Math.Max(1, (int)Math.Round(1 / missingPet)) : int.MaxValue;
        return generator.Generate(0, count)
            .Select(p => new Subject($"phantom{p.Index:D3}", p.Mri, (p.Index / 2) % missingEvery == missingEvery - 1 ? null : p.Pet, p.Label,
                p.Lesion is null ? null : p.LesionMask(radiusScale: 1.5)))
            .ToList();
    }

    private static float[] Prepare(NiftiImage image, int size)
    {
        var random = new Random(0);
        // RAS first, so a subject's MRI and PET stored in different orientations line up voxel for voxel.
        return new ScaleIntensity().Apply(new Resize(size, size, size, ResizeMode.Linear).Apply(image.Reorient("RAS").AsFloatImage(), random), random).Data;
    }

    private static Dictionary<string, int> ReadLabels(string path, string idColumn, string labelColumn)
    {
        var lines = File.ReadAllLines(path).Where(l => l.Trim().Length > 0).ToArray();
        if (lines.Length == 0) throw new InvalidDataException($"'{path}' is empty.");
        var header = lines[0].Split(',').Select(h => h.Trim()).ToList();
        int id = header.IndexOf(idColumn), label = header.IndexOf(labelColumn);
        if (id < 0 || label < 0) throw new InvalidDataException($"'{path}' needs columns '{idColumn}' and '{labelColumn}'; its header is '{lines[0]}'.");
        var labels = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 1; i < lines.Length; i++)
        {
            var cells = lines[i].Split(',');
            if (!int.TryParse(cells[label].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) || value < 0)
                throw new InvalidDataException($"'{path}' line {i + 1}: the label '{cells[label]}' is not a class index.");
            labels[cells[id].Trim()] = value;
        }
        return labels;
    }
}
