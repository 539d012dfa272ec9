using System.Buffers.Binary;
using System.IO.Compression;
using MedVision.Nets.Data.Nifti;

namespace MedVision.Nets.Tests.Data;

/// <summary>
/// <see cref="NiftiWriter"/>'s 4-D files (<see cref="NiftiWriter.WriteVolumes"/>) and NIfTI-2 headers, read back by
/// <see cref="NiftiReader"/> and checked field by field; what it refuses and that a refused write leaves nothing behind.
/// (Interoperability with nibabel: <see cref="NiftiWrittenFixtureTests"/>.)
/// </summary>
public sealed class NiftiWriterTests
{
    /// <summary>An oblique affine (a rotation about z and one about x, times voxel sizes) that has a qform.</summary>
    internal static NiftiAffine Oblique(double[] zooms, double[] offset)
    {
        double t = 0.3, u = -0.2;
        double[,] rz = { { Math.Cos(t), -Math.Sin(t), 0 }, { Math.Sin(t), Math.Cos(t), 0 }, { 0, 0, 1 } };
        double[,] rx = { { 1, 0, 0 }, { 0, Math.Cos(u), -Math.Sin(u) }, { 0, Math.Sin(u), Math.Cos(u) } };
        var m = new double[3, 4];
        for (int r = 0; r < 3; r++)
        {
            for (int c = 0; c < 3; c++)
            {
                double sum = 0;
                for (int k = 0; k < 3; k++) sum += rz[r, k] * rx[k, c];
                m[r, c] = sum * zooms[c];
            }

            m[r, 3] = offset[r];
        }

        return new NiftiAffine(m);
    }

    /// <summary><paramref name="count"/> volumes of one oblique grid with distinct values (multiples of 0.5 in −40..40).</summary>
    private static NiftiImage[] Volumes(int count, int[] shape, NiftiXformCode code = NiftiXformCode.ScannerAnatomical)
    {
        float[] spacing = [0.9f, 1.1f, 2.5f];
        var affine = Oblique(spacing.Select(s => (double)s).ToArray(), [-20, 12.5, 7]);
        int n = shape[0] * shape[1] * shape[2];
        return Enumerable.Range(0, count)
            .Select(k => new NiftiImage(Enumerable.Range(0, n).Select(i => (((i * 37) + (k * 53)) % 161 - 80) / 2f).ToArray(), shape, spacing, NiftiDataType.Float32, affine, code))
            .ToArray();
    }

    /// <summary>The file's bytes, decompressed when it is gzip.</summary>
    internal static byte[] Content(string path)
    {
        byte[] raw = File.ReadAllBytes(path);
        if (raw[0] != 0x1f || raw[1] != 0x8b) return raw;
        using var gz = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress);
        using var ms = new MemoryStream();
        gz.CopyTo(ms);
        return ms.ToArray();
    }

    /// <summary>The header fields the tests check, whichever the version and byte order.</summary>
    private sealed record Header(int Version, bool BigEndian, long[] Dim, double[] PixDim, long VoxOffset, short DataType, double Slope, double Inter, string Magic);

    private static Header ReadHeader(byte[] b)
    {
        bool big = BinaryPrimitives.ReadInt32LittleEndian(b) is not (348 or 540);
        int size = big ? BinaryPrimitives.ReadInt32BigEndian(b) : BinaryPrimitives.ReadInt32LittleEndian(b);
        short I16(int at) => big ? BinaryPrimitives.ReadInt16BigEndian(b.AsSpan(at)) : BinaryPrimitives.ReadInt16LittleEndian(b.AsSpan(at));
        long I64(int at) => big ? BinaryPrimitives.ReadInt64BigEndian(b.AsSpan(at)) : BinaryPrimitives.ReadInt64LittleEndian(b.AsSpan(at));
        float F32(int at) => big ? BinaryPrimitives.ReadSingleBigEndian(b.AsSpan(at)) : BinaryPrimitives.ReadSingleLittleEndian(b.AsSpan(at));
        double F64(int at) => big ? BinaryPrimitives.ReadDoubleBigEndian(b.AsSpan(at)) : BinaryPrimitives.ReadDoubleLittleEndian(b.AsSpan(at));
        return size == 348
            ? new Header(1, big, Enumerable.Range(0, 8).Select(i => (long)I16(40 + (2 * i))).ToArray(), Enumerable.Range(0, 8).Select(i => (double)F32(76 + (4 * i))).ToArray(),
                (long)F32(108), I16(70), F32(112), F32(116), System.Text.Encoding.Latin1.GetString(b, 344, 4))
            : new Header(2, big, Enumerable.Range(0, 8).Select(i => I64(16 + (8 * i))).ToArray(), Enumerable.Range(0, 8).Select(i => F64(104 + (8 * i))).ToArray(),
                I64(168), I16(12), F64(176), F64(184), System.Text.Encoding.Latin1.GetString(b, 4, 8));
    }

    [Theory]
    [InlineData(NiftiFormat.Nifti1, "v.nii", false, NiftiDataType.Float32)]
    [InlineData(NiftiFormat.Nifti1, "v.nii.gz", true, NiftiDataType.Int16)]
    [InlineData(NiftiFormat.Nifti1, "v.nii", true, NiftiDataType.Float64)]
    [InlineData(NiftiFormat.Nifti2, "v.nii", false, NiftiDataType.Float32)]
    [InlineData(NiftiFormat.Nifti2, "v.nii.gz", false, NiftiDataType.Int16)]
    [InlineData(NiftiFormat.Nifti2, "v.nii", true, NiftiDataType.Int16)]
    [InlineData(NiftiFormat.Nifti2, "v.nii.gz", true, NiftiDataType.Float32)]
    public void FourDimensionalFiles_RoundTrip(NiftiFormat format, string name, bool bigEndian, NiftiDataType type)
    {
        using var temp = new TempFolder();
        var volumes = Volumes(3, [4, 3, 2]);
        // int16 stores (value + 40) / 0.5: −40..40 in steps of 0.5 become 0..160.
        var options = type == NiftiDataType.Int16
            ? new NiftiWriteOptions { Format = format, BigEndian = bigEndian, DataType = type, Slope = 0.5f, Intercept = -40f }
            : new NiftiWriteOptions { Format = format, BigEndian = bigEndian, DataType = type };
        string path = temp.File(name);
        NiftiWriter.WriteVolumes(path, volumes, options);

        temp.ListFiles().Should().Equal(name);
        (File.ReadAllBytes(path)[0] == 0x1f).Should().Be(name.EndsWith(".gz"));
        byte[] content = Content(path);
        var h = ReadHeader(content);
        h.Version.Should().Be((int)format);
        h.BigEndian.Should().Be(bigEndian);
        h.Dim.Should().Equal(4, 4, 3, 2, 3, 1, 1, 1);
        h.PixDim[4].Should().Be(1, "the step between volumes, as nibabel writes it");
        h.VoxOffset.Should().Be(format == NiftiFormat.Nifti1 ? 352 : 544);
        h.Magic.Should().Be(format == NiftiFormat.Nifti1 ? "n+1\0" : "n+2\0\r\n\x1a\n");
        h.DataType.Should().Be((short)type);
        content.Length.Should().Be((int)h.VoxOffset + (3 * 24 * NiftiReaderElementSize(type)));

        var back = NiftiReader.ReadVolumes(path);
        back.Should().HaveCount(3);
        for (int k = 0; k < 3; k++)
        {
            back[k].Voxels.Should().Equal(volumes[k].Voxels, $"volume {k}");
            NiftiReader.Read(path, k).Voxels.Should().Equal(volumes[k].Voxels);
            back[k].Shape.Should().Equal(4, 3, 2);
            back[k].SourceDataType.Should().Be(type);
            back[k].AffineCode.Should().Be(NiftiXformCode.ScannerAnatomical);
            back[k].Spacing.Should().Equal(volumes[k].Spacing, (a, b) => Math.Abs(a - b) < 1e-5);
            if (format == NiftiFormat.Nifti2)
            {
                back[k].Affine.Should().Be(volumes[k].Affine, "NIfTI-2 keeps the sform in double precision");
            }

            for (int r = 0; r < 3; r++)
                for (int c = 0; c < 4; c++)
                    back[k].Affine[r, c].Should().BeApproximately(volumes[k].Affine[r, c], 1e-5);
        }
    }

    private static int NiftiReaderElementSize(NiftiDataType type) => type switch
    {
        NiftiDataType.Int16 => 2,
        NiftiDataType.Float64 => 8,
        _ => 4,
    };

    [Fact]
    public void ScaledInt16Volumes_StoreTheScaledIntegers()
    {
        using var temp = new TempFolder();
        var a = new NiftiImage([10f, 10.5f, 11f], [3, 1, 1]);
        var b = new NiftiImage([60f, 9.5f, 10f], [3, 1, 1]);
        string path = temp.File("s.nii");
        NiftiWriter.WriteVolumes(path, [a, b], new NiftiWriteOptions { DataType = NiftiDataType.Int16, Slope = 0.5f, Intercept = 10f, Format = NiftiFormat.Nifti2 });
        byte[] bytes = File.ReadAllBytes(path);
        var h = ReadHeader(bytes);
        (h.Slope, h.Inter).Should().Be((0.5, 10.0));
        Enumerable.Range(0, 6).Select(i => BinaryPrimitives.ReadInt16LittleEndian(bytes.AsSpan(544 + (2 * i)))).Should().Equal(0, 1, 2, 100, -1, 0);
        NiftiReader.ReadVolumes(path).SelectMany(v => v.Voxels).Should().Equal(10f, 10.5f, 11f, 60f, 9.5f, 10f);
    }

    [Fact]
    public void OneVolume_IsWrittenAsA3DFile_AsWriteWritesIt()
    {
        using var temp = new TempFolder();
        var volume = Volumes(1, [3, 2, 2])[0];
        NiftiWriter.WriteVolumes(temp.File("list.nii"), [volume]);
        NiftiWriter.Write(temp.File("one.nii"), volume);
        File.ReadAllBytes(temp.File("list.nii")).Should().Equal(File.ReadAllBytes(temp.File("one.nii")));
        ReadHeader(File.ReadAllBytes(temp.File("list.nii"))).Dim.Should().Equal(3, 3, 2, 2, 1, 1, 1, 1);
        NiftiReader.Read(temp.File("list.nii")).Voxels.Should().Equal(volume.Voxels);
    }

    [Fact]
    public void Nifti2_Writes3DVolumes_WithItsHeaderLayout()
    {
        using var temp = new TempFolder();
        var volume = Volumes(1, [2, 3, 4])[0];
        string path = temp.File("v2.nii.gz");
        NiftiWriter.Write(path, volume, new NiftiWriteOptions { Format = NiftiFormat.Nifti2, DataType = NiftiDataType.Float64 });
        byte[] bytes = Content(path);
        BinaryPrimitives.ReadInt32LittleEndian(bytes).Should().Be(540);
        bytes[4..12].Should().Equal((byte)'n', (byte)'+', (byte)'2', 0, 0x0D, 0x0A, 0x1A, 0x0A);
        bytes.Length.Should().Be(544 + (24 * 8));
        bytes[540..544].Should().Equal(0, 0, 0, 0); // no extensions
        BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(344)).Should().Be(1, "qform_code");
        BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(348)).Should().Be(1, "sform_code");
        BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(500)).Should().Be(2, "xyzt_units: millimetres");
        var h = ReadHeader(bytes);
        h.Dim.Should().Equal(3, 2, 3, 4, 1, 1, 1, 1);
        h.PixDim[1..4].Should().Equal(volume.Affine.VoxelSizes, (a, b) => Math.Abs(a - b) < 1e-12);
        var back = NiftiReader.Read(path);
        back.Voxels.Should().Equal(volume.Voxels);
        back.Affine.Should().Be(volume.Affine);
    }

    [Fact]
    public void ADimensionOver32767_IsWrittenAsNifti2()
    {
        using var temp = new TempFolder();
        var fits = new NiftiImage(new float[32767], [32767, 1, 1]);
        NiftiWriter.Write(temp.File("fits.nii"), fits);
        ReadHeader(File.ReadAllBytes(temp.File("fits.nii"))).Version.Should().Be(1, "32,767 is the largest NIfTI-1 dimension");

        var wide = new NiftiImage(Enumerable.Range(0, 40000).Select(i => (float)(i % 251)).ToArray(), [40000, 1, 1], [0.5f, 1f, 1f]);
        string path = temp.File("wide.nii.gz");
        NiftiWriter.Write(path, wide, new NiftiWriteOptions { DataType = NiftiDataType.UInt8, Format = NiftiFormat.Nifti1 });
        var h = ReadHeader(Content(path));
        h.Version.Should().Be(2);
        h.Dim.Should().Equal(3, 40000, 1, 1, 1, 1, 1, 1);
        var back = NiftiReader.Read(path);
        back.Shape.Should().Equal(40000, 1, 1);
        back.Voxels.Should().Equal(wide.Voxels);
        back.Spacing.Should().Equal(0.5f, 1f, 1f);

        // More volumes than NIfTI-1's dim[4] holds.
        var many = Enumerable.Range(0, 33000).Select(k => new NiftiImage([k], [1, 1, 1])).ToArray();
        string manyPath = temp.File("many.nii");
        NiftiWriter.WriteVolumes(manyPath, many, new NiftiWriteOptions { DataType = NiftiDataType.Int32 });
        ReadHeader(File.ReadAllBytes(manyPath)).Dim.Should().Equal(4, 1, 1, 1, 33000, 1, 1, 1);
        NiftiReader.ReadVolumes(manyPath).Select(v => v.Voxels[0]).Should().Equal(Enumerable.Range(0, 33000).Select(k => (float)k));
    }

    public static TheoryData<string, string> Mismatches() => new()
    {
        { "shape", "volume 2 is 4×3×3 voxels, but volume 0 is 4×3×2" },
        { "spacing", "volume 2 has voxel size (0.9, 1.1, 3), but volume 0 has (0.9, 1.1, 2.5)" },
        { "code", "volume 2 has affine code Mni152, but volume 0 has ScannerAnatomical" },
        { "affine", "volume 2 has another affine: affine[0, 3] is -19, but volume 0's is -20" },
    };

    [Theory]
    [MemberData(nameof(Mismatches))]
    public void VolumesOfAnotherGrid_AreRefused_AndNothingIsWritten(string what, string message)
    {
        using var temp = new TempFolder();
        var volumes = Volumes(3, [4, 3, 2]);
        var v = volumes[0];
        var m = v.Affine.ToArray();
        m[0, 3] += 1;
        volumes[2] = what switch
        {
            "shape" => new NiftiImage(new float[36], [4, 3, 3], v.Spacing, NiftiDataType.Float32, v.Affine, v.AffineCode),
            "spacing" => new NiftiImage(v.Voxels, v.Shape, [0.9f, 1.1f, 3f], NiftiDataType.Float32, v.Affine, v.AffineCode),
            "code" => new NiftiImage(v.Voxels, v.Shape, v.Spacing, NiftiDataType.Float32, v.Affine, NiftiXformCode.Mni152),
            _ => new NiftiImage(v.Voxels, v.Shape, v.Spacing, NiftiDataType.Float32, new NiftiAffine(m), v.AffineCode),
        };
        string path = Path.Combine(temp.Path, "new-folder", "v.nii.gz");
        var act = () => NiftiWriter.WriteVolumes(path, volumes);
        act.Should().Throw<ArgumentException>().Where(e => e.ParamName == "volumes")
            .Which.Message.Should().StartWith(path + ": " + message).And.Contain("must share one grid");
        Directory.Exists(Path.Combine(temp.Path, "new-folder")).Should().BeFalse("nothing is created for a refused write");
    }

    [Fact]
    public void AlmostEqualGrids_AreOneGrid()
    {
        using var temp = new TempFolder();
        var volumes = Volumes(2, [2, 2, 2]);
        var m = volumes[0].Affine.ToArray();
        m[1, 3] += 1e-9;
        volumes[1] = new NiftiImage(volumes[1].Voxels, volumes[1].Shape, volumes[1].Spacing, NiftiDataType.Float32, new NiftiAffine(m), volumes[1].AffineCode);
        NiftiWriter.WriteVolumes(temp.File("v.nii"), volumes);
        NiftiReader.ReadVolumes(temp.File("v.nii")).Should().HaveCount(2);
    }

    [Fact]
    public void EmptyOrNullInput_IsRefused()
    {
        using var temp = new TempFolder();
        string path = temp.File("v.nii");
        var none = () => NiftiWriter.WriteVolumes(path, []);
        none.Should().Throw<ArgumentException>().WithMessage("*v.nii: there are no volumes to write.*");
        var nullList = () => NiftiWriter.WriteVolumes(path, null!);
        nullList.Should().Throw<ArgumentNullException>().Where(e => e.ParamName == "volumes");
        var nullVolume = () => NiftiWriter.WriteVolumes(path, [Volumes(1, [1, 1, 1])[0], null!]);
        nullVolume.Should().Throw<ArgumentException>().WithMessage("*v.nii: volume 1 is null.*");
        var badFormat = () => NiftiWriter.Write(path, Volumes(1, [1, 1, 1])[0], new NiftiWriteOptions { Format = (NiftiFormat)3 });
        badFormat.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*Format must be Nifti1 or Nifti2*");
        temp.ListFiles().Should().BeEmpty();
    }

    [Fact]
    public void AValueThatDoesNotFit_LeavesTheOldFileAndNoTemporaryFile()
    {
        using var temp = new TempFolder();
        string path = temp.File("v.nii.gz");
        var volumes = Volumes(3, [2, 2, 1]);
        NiftiWriter.WriteVolumes(path, volumes);
        byte[] before = File.ReadAllBytes(path);

        volumes[1].Voxels[3] = 20000f;
        var act = () => NiftiWriter.WriteVolumes(path, volumes, new NiftiWriteOptions { DataType = NiftiDataType.Int16, Slope = 0.5f, Format = NiftiFormat.Nifti2 });
        act.Should().Throw<ArgumentException>().WithMessage($"{path}: voxel 3 of volume 1 stores as 40000, which does not fit in Int16 (-32768..32767); choose another data type or scaling.");
        File.ReadAllBytes(path).Should().Equal(before);
        temp.ListFiles().Should().Equal("v.nii.gz");
    }

    [Fact]
    public void LargeVolumes_AreWrittenInChunks()
    {
        // More than one 1 MiB chunk of voxels, ending in a partial chunk, in both byte orders.
        using var temp = new TempFolder();
        int n = 100 * 100 * 30;
        var volumes = Enumerable.Range(0, 2).Select(k => new NiftiImage(Enumerable.Range(0, n).Select(i => (float)((i * 7) + k)).ToArray(), [100, 100, 30])).ToArray();
        foreach (bool big in new[] { false, true })
        {
            string path = temp.File($"big-{big}.nii");
            NiftiWriter.WriteVolumes(path, volumes, new NiftiWriteOptions { DataType = NiftiDataType.Float64, BigEndian = big });
            new FileInfo(path).Length.Should().Be(352 + (2L * n * 8));
            var back = NiftiReader.ReadVolumes(path);
            back[0].Voxels.Should().Equal(volumes[0].Voxels);
            back[1].Voxels.Should().Equal(volumes[1].Voxels);
        }
    }

    [Fact]
    public void AnUndefinedDataType_IsRefusedAsTheOptions()
    {
        var path = Path.Combine(Path.GetTempPath(), $"mvn-writer-type-{Guid.NewGuid():N}.nii");
        FluentActions.Invoking(() => NiftiWriter.Write(path, new NiftiImage(new float[8], [2, 2, 2]), new NiftiWriteOptions { DataType = (NiftiDataType)3 }))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("options").WithMessage("*DataType 3*");
        File.Exists(path).Should().BeFalse();
    }
}
