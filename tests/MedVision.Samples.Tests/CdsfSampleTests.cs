using System.Globalization;
using MedVision.Nets.Data.Dicom;
using MedVision.Nets.Data.Nifti;
using MedVision.Nets.Data.Synthetic;

namespace MedVision.Samples.Tests;

public sealed class CdsfSampleTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static double D(string s) => double.Parse(s, CultureInfo.InvariantCulture);

    [Fact]
    public async Task Run_OnPhantoms_TrainsAllThreeModelsAndReportsDiagnosisSynthesisAndLocalisation()
    {
        var run = await SampleApp.RunAsync("cdsf", _folder.Path,
            "run", "--subjects", "12", "--size", "36", "--epochs", "1", "--residual-blocks", "1", "--threads", "1", "--output", _folder["out"],
            "--tensorboard", _folder["board"]);
        run.ExitCode.Should().Be(0, run.ToString());
        var lines = run.Lines();
        lines.Select(l => l["#0"]).Should().Contain(new[] { "cdsf", "baseline", "mri-only", "synthesis", "localisation" });
        foreach (var line in lines.Where(l => l["#0"] is "cdsf" or "baseline" or "mri-only"))
        {
            line["epochs"].Should().Be("1");
            int.Parse(line["subjects"], CultureInfo.InvariantCulture).Should().BePositive();
            D(line["acc"]).Should().BeInRange(0, 1);
        }
        var synthesis = lines.Single(l => l["#0"] == "synthesis");
        double.IsFinite(D(synthesis["psnr"])).Should().BeTrue();
        D(synthesis["ssim"]).Should().BeInRange(-1, 1);

        // TensorBoard: the epoch's losses, the printed PSNR, the baselines' curves as runs of one chart, the PET slices.
        var scalars = MedVision.Torch.TensorBoard.EventFileReader.ReadScalars(_folder["board"]);
        scalars.Select(p => p.Tag).Should().Contain(["cdsf/diagnosis_cross_entropy", "cdsf/voxel_l1", "cdsf/feature_consistency", "synthesis/psnr_db", "test_auc/cdsf/real"]);
        scalars.Single(p => p.Tag == "synthesis/psnr_db").Value.Should().BeApproximately(D(synthesis["psnr"]), 1e-4);
        Directory.GetDirectories(_folder["board"]).Select(Path.GetFileName).Should().BeEquivalentTo(
            ["diagnosis_cross_entropy_cdsf", "diagnosis_cross_entropy_baseline", "diagnosis_cross_entropy_mri_only"]);
        var image = Directory.GetFiles(_folder["board"]).SelectMany(MedVision.Torch.TensorBoard.EventFileReader.Read).SelectMany(e => e.Values).Single(v => v.Image is not null).Image!;
        (image.Height, image.Width, image.Colorspace).Should().Be((36, 72, 1), "the real and the synthetic middle slice side by side");

        var csv = File.ReadAllLines(_folder["out/results.csv"]);
        csv[0].Should().Be("model,pet,subjects,auc,acc,psnr,ssim");
        csv.Length.Should().BeGreaterThan(3, "a row per model and PET condition");
    }

    [Fact]
    public async Task Run_OnANiftiFolder_ResamplesEachVolumeAndSkipsUnlabelledSubjects()
    {
        // 10 labelled subjects as .nii.gz at 40³ (resampled to 36³ by the sample), PET missing for two, and one subject
        // with no row in labels.csv. The MRI has 1.5 mm voxels and the PET 1 mm ones, without orientation (a warning);
        // one subject's PET is stored with orientation on a 2 mm grid over the MRI's field of view, resampled onto it.
        var data = _folder["nifti"];
        Directory.CreateDirectory(data);
        var generator = new PhantomGenerator(size: 40, seed: 3);
        var labels = new List<string> { "subject,label" };
        foreach (var p in generator.Generate(0, 11))
        {
            var id = $"s{p.Index:D2}";
            NiftiWriter.Write(Path.Combine(data, id + "_mri.nii.gz"), new NiftiImage(p.Mri, [40, 40, 40], [1.5f, 1.5f, 1.5f]));
            if (p.Index == 3)
            {
                // Oriented pair: the MRI at 1.5 mm from the origin, the PET at 2 mm covering the same 60 mm (30³ voxels).
                var mriAffine = new NiftiAffine(new double[,] { { 1.5, 0, 0, 0 }, { 0, 1.5, 0, 0 }, { 0, 0, 1.5, 0 } });
                var mri = new NiftiImage(p.Mri, [40, 40, 40], null, NiftiDataType.Float32, mriAffine);
                NiftiWriter.Write(Path.Combine(data, id + "_mri.nii.gz"), mri);
                var petAffine = new NiftiAffine(new double[,] { { 2, 0, 0, -0.25 }, { 0, 2, 0, -0.25 }, { 0, 0, 2, -0.25 } });
                var pet = new NiftiImage(p.Pet, [40, 40, 40], null, NiftiDataType.Float32, mriAffine).ResampleTo([30, 30, 30], petAffine);
                NiftiWriter.Write(Path.Combine(data, id + "_pet.nii.gz"), pet);
            }
            else if (p.Index is not (2 or 5)) NiftiWriter.Write(Path.Combine(data, id + "_pet.nii.gz"), new NiftiImage(p.Pet, [40, 40, 40]));
            if (p.Index != 10) labels.Add($"{id},{(p.Index % 2 == 0 ? 0 : 1)}");
        }
        File.WriteAllLines(Path.Combine(data, "labels.csv"), labels);

        var run = await SampleApp.RunAsync("cdsf", _folder.Path,
            "run", "--data", data, "--size", "36", "--epochs", "1", "--residual-blocks", "1", "--threads", "1", "--output", _folder["out"]);
        run.ExitCode.Should().Be(0, run.ToString());
        run.Text.Should().Contain("10 subjects (2 without PET), 1 skipped (no MRI or no label); resampled to 36³; 1 PET volume(s) on another grid resampled onto their MRI's first");
        run.Text.Should().Contain("warning: 7 PET volume(s) lie on another grid than their MRI but their files record no orientation");
        run.Lines().Should().Contain(l => l["#0"] == "cdsf" && l["#1"] == "nifti");
    }

    [Fact]
    public async Task Run_WithAMissingDataFolder_NamesIt()
    {
        var run = await SampleApp.RunAsync("cdsf", _folder.Path, "run", "--data", _folder["nothere"], "--output", _folder["out"]);
        run.ExitCode.Should().Be(2, run.ToString());
        run.Error.Should().StartWith("error: ").And.Contain("nothere").And.Contain("does not exist");
    }

    [Fact]
    public async Task Convert_WritesTheMrSeriesOfEachSubjectAsNifti()
    {
        var source = Path.Combine(AppContext.BaseDirectory, "Fixtures", "mr_implicit_2f.dcm");
        Directory.CreateDirectory(_folder["dicom/subj01/series1"]);
        File.Copy(source, _folder["dicom/subj01/series1/image.dcm"]);
        var run = await SampleApp.RunAsync("cdsf", _folder.Path, "convert", "--dicom", _folder["dicom"], "--output", _folder["nifti"]);
        run.ExitCode.Should().Be(0, run.ToString());
        run.Text.Should().Contain("1 volume(s) written");

        var volume = NiftiReader.Read(_folder["nifti/subj01_mri.nii.gz"]);
        var dicom = DicomSeries.ReadFolder(_folder["dicom/subj01"], recursive: true).Single().ToVolume();
        volume.Shape.Should().Equal(dicom.Shape);
        volume.Voxels.Should().Equal(dicom.Voxels);
        File.Exists(_folder["nifti/subj01_pet.nii.gz"]).Should().BeFalse("the subject has no PT series");
    }

    [Fact]
    public async Task Convert_ReadsJpeg2000Series_AndNamesAnUnsupportedOne()
    {
        var fixtures = Path.Combine(AppContext.BaseDirectory, "Fixtures");
        Directory.CreateDirectory(_folder["dicom/subj01/series1"]);
        File.Copy(Path.Combine(fixtures, "j2k_mr_2f.dcm"), _folder["dicom/subj01/series1/image.dcm"]);
        var run = await SampleApp.RunAsync("cdsf", _folder.Path, "convert", "--dicom", _folder["dicom"], "--output", _folder["nifti"]);
        run.ExitCode.Should().Be(0, run.ToString());
        var volume = NiftiReader.Read(_folder["nifti/subj01_mri.nii.gz"]);
        volume.Voxels.Should().Equal(DicomSeries.ReadFolder(_folder["dicom/subj01"], recursive: true).Single().ToVolume().Voxels);
        volume.Voxels.Should().Contain(v => v != 0);

        Directory.CreateDirectory(_folder["video/subj02/series1"]);
        File.Copy(Path.Combine(fixtures, "mpeg2.dcm"), _folder["video/subj02/series1/video.dcm"]);
        var refused = await SampleApp.RunAsync("cdsf", _folder.Path, "convert", "--dicom", _folder["video"], "--output", _folder["nifti2"]);
        refused.ExitCode.Should().Be(2, refused.ToString());
        refused.Error.Should().StartWith("error: ").And.Contain("video.dcm").And.Contain("MPEG2");
        refused.Error.Should().NotContain("   at ", "a user error gets one line, not a stack trace");
    }
}
