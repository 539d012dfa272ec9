using System.CommandLine;
using System.Globalization;
using MedVision.Nets.Data.Dicom;
using MedVision.Nets.Data.Nifti;
using Spectre.Console;

namespace MedVision.Samples.Cdsf;

/// <summary>
/// The <c>convert</c> command: scanner exports (one folder per subject holding its DICOM series) to the NIfTI layout
/// that <c>run --data</c> reads: <c>&lt;subject&gt;_mri.nii.gz</c> from the MR series and <c>&lt;subject&gt;_pet.nii.gz</c>
/// from the PT series (chosen by the DICOM Modality attribute; with several series of one modality, the one with the
/// most slices).
/// </summary>
internal static class ConvertCommand
{
    public static Command Create()
    {
        var dicom = new Option<string>("--dicom") { Description = "Folder with one sub-folder per subject holding that subject's DICOM files (any depth).", Required = true };
        var output = new Option<string>("--output") { Description = "Folder for <subject>_mri.nii.gz and <subject>_pet.nii.gz (the layout of run --data).", Required = true };
        var command = new Command("convert", "Convert per-subject DICOM folders (MR and PT series) to the NIfTI files run --data reads.") { dicom, output };
        command.SetAction(r => Run(r.GetValue(dicom)!, r.GetValue(output)!));
        return command;
    }

    private static int Run(string root, string output)
    {
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"--dicom folder '{root}' does not exist.");
        Directory.CreateDirectory(output);
        var table = new Table().Title("DICOM → NIfTI").AddColumn("subject").AddColumn("modality").AddColumn("files").AddColumn("voxels").AddColumn("spacing (mm)");
        int written = 0;
        foreach (var subjectFolder in Directory.EnumerateDirectories(root).Order(StringComparer.Ordinal))
        {
            string subject = Path.GetFileName(subjectFolder);
            var series = DicomSeries.ReadFolder(subjectFolder, recursive: true);
            foreach (var (modality, name) in new[] { ("MR", "mri"), ("PT", "pet") })
            {
                var chosen = series.Where(s => string.Equals(s.Slices[0].Modality, modality, StringComparison.OrdinalIgnoreCase)).MaxBy(s => s.Size.Z);
                if (chosen is null) continue;
                var path = Path.Combine(output, $"{subject}_{name}.nii.gz");
                NiftiWriter.Write(path, chosen.ToVolume());
                var (x, y, z) = chosen.Size;
                table.AddRow(subject, modality, chosen.Slices.Count.ToString(CultureInfo.InvariantCulture), $"{x}×{y}×{z}", string.Join(" × ", chosen.Spacing.Select(v => v.ToString("F2", CultureInfo.InvariantCulture))));
                written++;
            }
        }
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"{written} volume(s) written to {Markup.Escape(Path.GetFullPath(output))}; add a labels.csv (subject,label) and train with: run --data {Markup.Escape(output)}");
        return written > 0 ? 0 : 1;
    }
}
