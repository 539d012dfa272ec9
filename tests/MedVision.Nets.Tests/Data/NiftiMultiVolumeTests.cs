using System.Text.Json;
using MedVision.Nets.Data;
using MedVision.Nets.Data.Nifti;

namespace MedVision.Nets.Tests.Data;

/// <summary>
/// NIfTI files with several 3-D volumes (dimensions 4 to 7), written by nibabel 5.0
/// (Fixtures/nifti/make_multivolume_fixtures.py), against each volume as nibabel reads it. The tests need no Python.
/// </summary>
public sealed class NiftiMultiVolumeTests
{
    private static readonly string Dir = FixtureJson.Folder("nifti");
    private static readonly Lazy<JsonElement> Expected = FixtureJson.Lazy(Dir, "multivolume_fixtures.json", "cases");

    [Theory]
    [InlineData("multi_4d.nii.gz", 3)]
    [InlineData("multi_5d.nii", 4)]
    public void EveryVolume_IsNibabelsVolume_WithTheFilesGeometry(string name, int count)
    {
        var expected = Expected.Value.GetProperty(name);
        var path = Path.Combine(Dir, name);
        var volumes = NiftiReader.ReadVolumes(path);
        volumes.Should().HaveCount(count);
        var rows = expected.GetProperty("affine").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
        var values = expected.GetProperty("volumes").EnumerateArray().ToArray();
        for (int k = 0; k < count; k++)
        {
            var want = values[k].EnumerateArray().Select(v => v.GetDouble()).ToArray();
            volumes[k].Shape.Should().Equal(expected.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()));
            volumes[k].Voxels.Select(v => (double)v).Should().Equal(want, (a, b) => Math.Abs(a - b) <= 1e-6 * Math.Max(1, Math.Abs(b)), $"volume {k}");
            NiftiReader.Read(path, k).Voxels.Should().Equal(volumes[k].Voxels);
            for (int r = 0; r < 3; r++)
                for (int c = 0; c < 4; c++)
                    volumes[k].Affine[r, c].Should().BeApproximately(rows[r][c], 1e-6);
        }
        volumes[0].Voxels.Should().NotEqual(volumes[1].Voxels);
    }

    [Fact]
    public void AMultiVolumeFile_IsNotReadAsOneVolume_AndVolumesOutOfRangeAreRefused()
    {
        var path = Path.Combine(Dir, "multi_4d.nii.gz");
        var one = () => NiftiReader.Read(path);
        one.Should().Throw<DataFormatException>().WithMessage("*holds 3 volumes (dim[4..4] = 3)*NiftiReader.Read(path, volume)*NiftiReader.ReadVolumes(path)*");
        var past = () => NiftiReader.Read(path, 3);
        past.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*holds 3 volume(s)*");
        var negative = () => NiftiReader.Read(path, -1);
        negative.Should().Throw<ArgumentOutOfRangeException>();
        NiftiReader.ReadVolumes(Path.Combine(Dir, "nifti2_sform.nii")).Should().ContainSingle("a 3-D file is one volume");
    }

    [Fact]
    public void ATruncatedMultiVolumeFile_SaysHowMuchItsVolumesNeed()
    {
        using var temp = new TempFolder();
        var bytes = File.ReadAllBytes(Path.Combine(Dir, "multi_5d.nii"));
        var path = temp.File("cut.nii");
        File.WriteAllBytes(path, bytes[..^20]);
        NiftiReader.Read(path, 0).Voxels.Should().HaveCount(12, "the first volume is complete");
        var all = () => NiftiReader.ReadVolumes(path);
        all.Should().Throw<DataFormatException>().WithMessage("*cut.nii*truncated: 4 volumes of 2×3×2*");
    }

    [Fact]
    public void AVolumeOfAFileLargerThanAnArrayHolds_IsReadWithoutReadingTheWholeFile()
    {
        // 129 uint8 volumes of 512×512×64 (16 MiB each): 2.1 GB of voxels, more than one byte array holds. The file is
        // sparse (only the header and the last volume's first bytes are written), so it costs little disk.
        using var temp = new TempFolder();
        var path = temp.File("long-series.nii");
        NiftiWriter.Write(path, new NiftiImage(new float[512 * 512 * 64], [512, 512, 64]), new NiftiWriteOptions { DataType = NiftiDataType.UInt8 });
        long volumeBytes = 512L * 512 * 64;
        using (var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite))
        {
            Span<byte> dims = stackalloc byte[2];
            System.Buffers.Binary.BinaryPrimitives.WriteInt16LittleEndian(dims, 4);
            file.Position = 40; // dim[0]
            file.Write(dims);
            System.Buffers.Binary.BinaryPrimitives.WriteInt16LittleEndian(dims, 129);
            file.Position = 48; // dim[4]
            file.Write(dims);
            file.SetLength(352 + (129 * volumeBytes));
            file.Position = 352 + (128 * volumeBytes);
            file.Write([7, 8, 9]);
        }
        new FileInfo(path).Length.Should().BeGreaterThan(int.MaxValue);

        var last = NiftiReader.Read(path, 128);
        last.Shape.Should().Equal(512, 512, 64);
        last.Voxels[..4].Should().Equal(7f, 8f, 9f, 0f);
        NiftiReader.Read(path, 0).Voxels.Should().OnlyContain(v => v == 0f);
        FluentActions.Invoking(() => NiftiReader.Read(path, 129)).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*holds 129 volume(s)*");

        // Cut inside volume 100: volumes before it still read, the ones from it on are refused as truncated, by name.
        using (var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite)) file.SetLength(352 + (100 * volumeBytes) + 5);
        NiftiReader.Read(path, 99).Shape.Should().Equal(512, 512, 64);
        FluentActions.Invoking(() => NiftiReader.Read(path, 100)).Should().Throw<DataFormatException>()
            .WithMessage($"*long-series.nii*truncated: 101 volumes of 512×512×64 UInt8 voxels need {101 * volumeBytes} bytes from offset 352, but only {(100 * volumeBytes) + 5} are present*");
    }

    [Theory]
    [InlineData("claims.nii")]
    [InlineData("claims.nii.gz")]
    public void HeadersClaimingFarMoreThanTheFileHolds_AreRefusedWithoutAllocatingWhatTheyClaim(string name)
    {
        // 1×1×1 with dims 4 and 5 of 32,767 (a billion volumes), and 1,290³ voxels in one volume (8.6 GB of floats): a
        // few hundred bytes of file must give "truncated", not an attempt to allocate what the header claims.
        using var temp = new TempFolder();
        foreach (var (dims, label) in new[] { (new short[] { 5, 1, 1, 1, 32767, 32767 }, "volumes"), (new short[] { 3, 1290, 1290, 1290 }, "voxels") })
        {
            var plain = temp.File("plain.nii");
            NiftiWriter.Write(plain, new NiftiImage(new float[8], [2, 2, 2]), new NiftiWriteOptions { DataType = NiftiDataType.UInt8 });
            var bytes = File.ReadAllBytes(plain);
            for (int i = 0; i < dims.Length; i++) System.Buffers.Binary.BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(40 + (2 * i)), dims[i]);
            var path = temp.File(name);
            if (name.EndsWith(".gz", StringComparison.Ordinal))
            {
                using var file = File.Create(path);
                using var gz = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionLevel.Fastest);
                gz.Write(bytes);
            }
            else
            {
                File.WriteAllBytes(path, bytes);
            }
            long before = GC.GetTotalAllocatedBytes(precise: true);
            Action read = () => NiftiReader.ReadVolumes(path);
            read.Should().Throw<DataFormatException>().WithMessage("*truncated*", label);
            (GC.GetTotalAllocatedBytes(precise: true) - before).Should().BeLessThan(64L << 20, $"{label}: what the header claims is not allocated");
        }
    }
}
