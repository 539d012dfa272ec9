using BenchmarkDotNet.Attributes;
using MedVision.Nets.Data.Nifti;
using MedVision.Nets.Transforms;

namespace MedVision.Benchmarks;

/// <summary>
/// The geometric preparation of one BraTS-sized MRI volume (240 × 240 × 155 voxels of 1 mm, stored LPS as DICOM-derived
/// files are) before a 3-D network sees it, step by step: reorienting to RAS (baseline: a copy with permuted strides),
/// resampling to 1.5 mm (trilinear), resampling a second modality stored on a 2 mm grid onto the first's grid
/// (<see cref="NiftiImage.ResampleTo(NiftiImage, ResizeMode, VolumePadding)"/>), and the whole MONAI-style chain —
/// reorient, 1.5 mm, crop to the foreground, crop or pad to 128³ — against reorient + trilinear resize to 128³; and,
/// for scale, reading the volume from a gzip-compressed int16 NIfTI file; and the augmentations of a 128³ input (a random
/// affine, MONAI's bias field, gamma contrast, Gaussian smoothing and elastic deformation).
/// </summary>
[MemoryDiagnoser]
public class VolumePreparationBenchmarks
{
    private NiftiImage _mri = null!;
    private NiftiImage _coarse = null!;
    private string _file = null!;
    private FloatImage _input128 = null!;
    private readonly RandomAffine _affine = new(15, 0.1, 0.05);

    [GlobalSetup]
    public void Setup()
    {
        // A head-like ellipsoid of tissue (values 200–800) in air (0), LPS: x to the left, y to posterior.
        var lps = new NiftiAffine(new double[,] { { -1, 0, 0, 120 }, { 0, -1, 0, 120 }, { 0, 0, 1, -77 } });
        _mri = Head([240, 240, 155], lps);
        var coarse = new NiftiAffine(new double[,] { { 2, 0, 0, -121 }, { 0, 2, 0, -121 }, { 0, 0, 2, -78 } });
        _coarse = Head([122, 122, 79], coarse);
        _file = Path.Combine(Path.GetTempPath(), $"medvision-volume-bench-{Environment.ProcessId}.nii.gz");
        NiftiWriter.Write(_file, _mri, new NiftiWriteOptions { DataType = NiftiDataType.Int16 });
        _input128 = new Resize(128, 128, 128, ResizeMode.Linear).Apply(_mri.Reorient("RAS").ToFloatImage(), new Random(0));
    }

    [GlobalCleanup]
    public void Cleanup() => File.Delete(_file);

    /// <summary>Reading the volume from a gzip-compressed int16 NIfTI file, as a training epoch does.</summary>
    [Benchmark]
    public int ReadNiftiGz() => NiftiReader.Read(_file).Shape[0];

    private static NiftiImage Head(int[] shape, NiftiAffine affine)
    {
        var voxels = new float[shape[0] * shape[1] * shape[2]];
        for (int k = 0, at = 0; k < shape[2]; k++)
            for (int j = 0; j < shape[1]; j++)
                for (int i = 0; i < shape[0]; i++, at++)
                {
                    var (x, y, z) = affine.Apply(i, j, k);
                    double r = (x * x / (75.0 * 75)) + (y * y / (95.0 * 95)) + (z * z / (65.0 * 65));
                    voxels[at] = r < 1 ? (float)(200 + (600 * (1 - r)) + (20 * Math.Sin(x / 3) * Math.Cos(y / 4))) : 0f;
                }
        return new NiftiImage(voxels, shape, null, NiftiDataType.Float32, affine);
    }

    /// <summary>LPS → RAS.</summary>
    [Benchmark(Baseline = true)]
    public int Reorient() => _mri.Reorient("RAS").Shape[0];

    /// <summary>1 mm → 1.5 mm, trilinear (160 × 160 × 104 voxels).</summary>
    [Benchmark]
    public int ResampleTo15mm() => _mri.Resample([1.5f, 1.5f, 1.5f]).Shape[0];

    /// <summary>The 2 mm modality onto the 1 mm volume's grid (240 × 240 × 155 voxels out).</summary>
    [Benchmark]
    public int ResampleModalityOntoGrid() => _coarse.ResampleTo(_mri).Shape[0];

    /// <summary>Reorient, 1.5 mm, crop to the foreground, crop or pad to 128³.</summary>
    [Benchmark]
    public int SpacingCropOrPad()
    {
        var image = _mri.Reorient("RAS").Resample([1.5f, 1.5f, 1.5f]).AsFloatImage();
        image = new CropForeground(0).Apply(image, new Random(0));
        return new ResizeWithPadOrCrop(128, 128, 128).Apply(image, new Random(0)).Width;
    }

    /// <summary>Training augmentation of a prepared 128³ input: a random affine (±15° about each axis, scale ±0.1, shift ±0.05), applied.</summary>
    [Benchmark]
    public int RandomAffine128() => _affine.Apply(_input128, new Random(1)).Width;

    private readonly RandomBiasField _biasField = new(probability: 1);
    private readonly RandomAdjustContrast _contrast = new(probability: 1, gammaMin: 0.7, gammaMax: 1.5);
    private readonly RandomGaussianSmooth _smooth = new(probability: 1);
    private readonly RandomElasticDeformation _elastic = new(5, 8, 100, 200, probability: 1);
    private readonly RandomHistogramShift _histogram = new(probability: 1);
    private readonly RandomSimulateLowResolution _lowResolution = new(probability: 1);
    private readonly RandomRicianNoise _rician = new(probability: 1, std: 0.05);
    private readonly RandomGibbsNoise _gibbs = new(probability: 1);
    private readonly RandomKSpaceSpikeNoise _spike = new(probability: 1);

    // The intensity augmentations change their input in place: each works on a fresh copy (an 8 MB copy, included).

    /// <summary>A bias field of degree 3 (MONAI's RandBiasField defaults), applied to a copy of the 128³ input.</summary>
    [Benchmark]
    public int RandomBiasField128() => _biasField.Apply(_input128.Clone(), new Random(1)).Width;

    /// <summary>A gamma contrast change (γ from 0.7 to 1.5), applied to a copy of the 128³ input.</summary>
    [Benchmark]
    public int RandomAdjustContrast128() => _contrast.Apply(_input128.Clone(), new Random(1)).Width;

    /// <summary>Gaussian smoothing with σ from 0.25 to 1.5 voxels per axis (MONAI's RandGaussianSmooth defaults) of the 128³ input.</summary>
    [Benchmark]
    public int RandomGaussianSmooth128() => _smooth.Apply(_input128, new Random(1)).Width;

    /// <summary>An elastic deformation with σ from 5 to 8 voxels and magnitude 100–200 (MONAI's 3-D example) of the 128³ input.</summary>
    [Benchmark]
    public int RandomElastic128() => _elastic.Apply(_input128, new Random(1)).Width;

    /// <summary>A histogram shift through 10 control points (MONAI's RandHistogramShift defaults), applied to a copy of the 128³ input.</summary>
    [Benchmark]
    public int RandomHistogramShift128() => _histogram.Apply(_input128.Clone(), new Random(1)).Width;

    /// <summary>A simulated lower resolution (zoom 0.5–1, MONAI's RandSimulateLowResolution defaults) of the 128³ input.</summary>
    [Benchmark]
    public int RandomSimulateLowResolution128() => _lowResolution.Apply(_input128, new Random(1)).Width;

    /// <summary>Rician noise (spread up to 0.05), applied to a copy of the 128³ input.</summary>
    [Benchmark]
    public int RandomRicianNoise128() => _rician.Apply(_input128.Clone(), new Random(1)).Width;

    /// <summary>Gibbs ringing (α from 0 to 1, MONAI's RandGibbsNoise defaults): two 3-D Fourier transforms of the 128³ input.</summary>
    [Benchmark]
    public int RandomGibbsNoise128() => _gibbs.Apply(_input128, new Random(1)).Width;

    /// <summary>A k-space spike (MONAI's RandKSpaceSpikeNoise defaults, one per channel): two 3-D Fourier transforms of the 128³ input.</summary>
    [Benchmark]
    public int RandomKSpaceSpikeNoise128() => _spike.Apply(_input128, new Random(1)).Width;

    /// <summary>Reorient, trilinear resize to 128³ (the default fit, without a voxel size).</summary>
    [Benchmark]
    public int ResizeTo128() => new Resize(128, 128, 128, ResizeMode.Linear).Apply(_mri.Reorient("RAS").AsFloatImage(), new Random(0)).Width;
}
