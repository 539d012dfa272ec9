using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using MedVision.Nets.Data;
using MedVision.Nets.Data.Nifti;

namespace MedVision.Nets.Tests.Data;

public class NiftiTests
{
    /// <summary>A hand-built NIfTI-1 file (independent of <see cref="NiftiWriter"/>).</summary>
    private static byte[] HandMade(bool bigEndian, short datatype, short bitpix, short[] dims, float[] pixdim, float slope, float inter, byte[] data, string magic = "n+1")
    {
        var b = new byte[352 + data.Length];
        void I16(int at, short v)
        {
            if (bigEndian) BinaryPrimitives.WriteInt16BigEndian(b.AsSpan(at), v); else BinaryPrimitives.WriteInt16LittleEndian(b.AsSpan(at), v);
        }

        void F32(int at, float v)
        {
            if (bigEndian) BinaryPrimitives.WriteSingleBigEndian(b.AsSpan(at), v); else BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(at), v);
        }

        if (bigEndian) BinaryPrimitives.WriteInt32BigEndian(b, 348); else BinaryPrimitives.WriteInt32LittleEndian(b, 348);
        I16(40, (short)dims.Length);
        for (int i = 0; i < dims.Length; i++) I16(42 + (2 * i), dims[i]);
        I16(70, datatype);
        I16(72, bitpix);
        for (int i = 0; i < pixdim.Length; i++) F32(76 + (4 * i), pixdim[i]);
        F32(108, 352);
        F32(112, slope);
        F32(116, inter);
        Encoding.ASCII.GetBytes(magic + "\0").CopyTo(b, 344);
        data.CopyTo(b, 352);
        return b;
    }

    private static byte[] Int16Data(bool bigEndian, params short[] values)
    {
        var d = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++)
        {
            if (bigEndian) BinaryPrimitives.WriteInt16BigEndian(d.AsSpan(2 * i), values[i]); else BinaryPrimitives.WriteInt16LittleEndian(d.AsSpan(2 * i), values[i]);
        }

        return d;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Reads_hand_made_int16_files_in_both_byte_orders_with_scaling(bool bigEndian)
    {
        using var temp = new TempFolder();
        short[] raw = [-3, 0, 7, 100, 2, 5];
        string scaled = temp.File("scaled.nii");
        File.WriteAllBytes(scaled, HandMade(bigEndian, 4, 16, [2, 3, 1], [1f, 0.5f, 2f, 3f], 2f, -1f, Int16Data(bigEndian, raw)));
        string unscaled = temp.File("unscaled.nii");
        File.WriteAllBytes(unscaled, HandMade(bigEndian, 4, 16, [2, 3, 1], [1f, 0.5f, 2f, 3f], 0f, 42f, Int16Data(bigEndian, raw)));

        NiftiImage a = NiftiReader.Read(scaled);
        a.Shape.Should().Equal(2, 3, 1);
        a.Spacing.Should().Equal(0.5f, 2f, 3f);
        a.SourceDataType.Should().Be(NiftiDataType.Int16);
        a.Voxels.Should().Equal(raw.Select(v => (v * 2f) - 1f));
        a[1, 2, 0].Should().Be((5 * 2f) - 1f);

        NiftiReader.Read(unscaled).Voxels.Should().Equal(raw.Select(v => (float)v), "scl_slope 0 means no scaling");
    }

    [Theory]
    [InlineData(NiftiDataType.UInt8, false, "v.nii")]
    [InlineData(NiftiDataType.Int16, true, "v.nii.gz")]
    [InlineData(NiftiDataType.Int32, false, "v.nii.gz")]
    [InlineData(NiftiDataType.Float32, true, "v.nii")]
    [InlineData(NiftiDataType.Float64, false, "v.nii.gz")]
    [InlineData(NiftiDataType.Int8, true, "v.nii")]
    [InlineData(NiftiDataType.UInt16, true, "v.nii.gz")]
    [InlineData(NiftiDataType.UInt32, false, "v.nii")]
    [InlineData(NiftiDataType.Int64, true, "v.nii.gz")]
    public void Writer_round_trips_every_data_type(NiftiDataType type, bool bigEndian, string name)
    {
        using var temp = new TempFolder();
        var random = new Random((int)type);
        float[] voxels = Enumerable.Range(0, 4 * 3 * 2).Select(_ => (float)random.Next(0, 200)).ToArray();
        if (type is NiftiDataType.Float32 or NiftiDataType.Float64)
        {
            voxels = voxels.Select(v => v / 8f).ToArray();
        }
        else if (type is NiftiDataType.Int8 or NiftiDataType.Int64)
        {
            voxels = voxels.Select(v => v - 100f).ToArray(); // negative values too
        }
        else if (type is NiftiDataType.UInt16 or NiftiDataType.UInt32)
        {
            voxels = voxels.Select(v => v * 300f).ToArray(); // above the signed range of int16 for uint16
        }

        var image = new NiftiImage(voxels, [4, 3, 2], [0.8f, 0.8f, 2.5f]);
        string path = temp.File(name);
        NiftiWriter.Write(path, image, new NiftiWriteOptions { DataType = type, BigEndian = bigEndian });

        temp.ListFiles().Should().Equal(name);
        bool gz = File.ReadAllBytes(path)[0] == 0x1f;
        gz.Should().Be(name.EndsWith(".gz"));
        NiftiImage back = NiftiReader.Read(path);
        back.Shape.Should().Equal(4, 3, 2);
        back.Spacing.Should().Equal(0.8f, 0.8f, 2.5f);
        back.SourceDataType.Should().Be(type);
        back.Voxels.Should().Equal(voxels);
    }

    [Fact]
    public void Writer_applies_slope_and_intercept()
    {
        using var temp = new TempFolder();
        float[] voxels = [10f, 10.5f, 11f, 60f];
        string path = temp.File("s.nii");
        NiftiWriter.Write(path, new NiftiImage(voxels, [4, 1, 1]), new NiftiWriteOptions { DataType = NiftiDataType.Int16, Slope = 0.5f, Intercept = 10f });
        byte[] bytes = File.ReadAllBytes(path);
        Enumerable.Range(0, 4).Select(i => BinaryPrimitives.ReadInt16LittleEndian(bytes.AsSpan(352 + (2 * i)))).Should().Equal(0, 1, 2, 100);
        NiftiReader.Read(path).Voxels.Should().Equal(voxels);

        Action overflow = () => NiftiWriter.Write(temp.File("o.nii"), new NiftiImage([300f], [1, 1, 1]), new NiftiWriteOptions { DataType = NiftiDataType.UInt8 });
        overflow.Should().Throw<ArgumentException>().Where(e => e.Message.Contains("o.nii") && e.Message.Contains("UInt8"));
        temp.ListFiles().Should().Equal("s.nii");
    }

    [Fact]
    public void Reads_header_image_pairs()
    {
        using var temp = new TempFolder();
        byte[] single = HandMade(false, 2, 8, [3, 1, 1], [1f, 1f, 1f, 1f], 0f, 0f, [], "ni1");
        byte[] header = single[..348];
        BinaryPrimitives.WriteSingleLittleEndian(header.AsSpan(108), 0f);
        File.WriteAllBytes(temp.File("pair.hdr"), header);
        File.WriteAllBytes(temp.File("pair.img"), [9, 8, 7]);

        NiftiReader.Read(temp.File("pair.hdr")).Voxels.Should().Equal(9f, 8f, 7f);
    }

    [Fact]
    public void Bad_files_give_clear_errors()
    {
        using var temp = new TempFolder();
        byte[] good = HandMade(false, 4, 16, [4, 4, 4], [1f, 1f, 1f, 1f], 0f, 0f, new byte[128]);

        void Expect(string name, byte[] bytes, string problem)
        {
            string path = temp.File(name);
            File.WriteAllBytes(path, bytes);
            Action act = () => NiftiReader.Read(path);
            act.Should().Throw<DataFormatException>().Where(e => e.FilePath == path && e.Message.Contains(problem), $"{name} should report '{problem}'");
        }

        Expect("truncated.nii", good[..300], "truncated");
        Expect("short-data.nii", good[..400], "truncated");

        byte[] badMagic = (byte[])good.Clone();
        Encoding.ASCII.GetBytes("abc").CopyTo(badMagic, 344);
        Expect("magic.nii", badMagic, "magic");

        byte[] badSize = (byte[])good.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(badSize, 999);
        Expect("other.nii", badSize, "sizeof_hdr is 999, expected 348 (NIfTI-1) or 540 (NIfTI-2)");
        byte[] shortTwo = (byte[])good.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(shortTwo, 540);
        Expect("short-nifti2.nii", shortTwo, "shorter than the 540-byte NIfTI-2 header");

        Expect("complex.nii", HandMade(false, 32, 64, [1, 1, 1], [1f, 1f, 1f, 1f], 0f, 0f, new byte[8]), "datatype code 32");
        Expect("fourd.nii", HandMade(false, 2, 8, [2, 2, 2, 3], [1f, 1f, 1f, 1f], 0f, 0f, new byte[24]), "holds 3 volumes");
        Expect("zero-dim.nii", HandMade(false, 2, 8, [2, 0, 2], [1f, 1f, 1f, 1f], 0f, 0f, new byte[4]), "dim[2] = 0");

        // A vox_offset of 1e21 saturates to long.MaxValue as an integer: offset + size would wrap around.
        byte[] farOffset = (byte[])good.Clone();
        BinaryPrimitives.WriteSingleLittleEndian(farOffset.AsSpan(108), 1e21f);
        Expect("far-offset.nii", farOffset, "truncated");

        // No orientation and a voxel size of 1e-38 mm: diag(pixdim) describes no volume.
        Expect("tiny-voxels.nii", HandMade(false, 4, 16, [4, 4, 4], [1f, 1f, 1e-38f, 1f], 0f, 0f, new byte[128]), "voxel size (pixdim)");

        var gz = new MemoryStream();
        using (var z = new GZipStream(gz, CompressionLevel.Fastest, leaveOpen: true))
        {
            z.Write(good);
        }

        Expect("truncated.nii.gz", gz.ToArray()[..(int)(gz.Length / 2)], "truncated");
    }

    [Fact]
    public void Paired_modalities_are_matched_by_file_name_and_may_be_missing()
    {
        using var temp = new TempFolder();
        var volume = new NiftiImage(new float[8], [2, 2, 2]);
        NiftiWriter.Write(temp.File("sub-001_mri.nii.gz"), volume);
        NiftiWriter.Write(temp.File("sub-001_pet.nii.gz"), new NiftiImage(Enumerable.Range(0, 8).Select(i => (float)i).ToArray(), [2, 2, 2]));
        NiftiWriter.Write(temp.File("sub-002_MRI.nii"), volume);
        NiftiWriter.Write(temp.File("sub-003_pet.nii.gz"), volume);
        NiftiWriter.Write(temp.File("sub-003_ct.nii.gz"), volume);
        File.WriteAllText(temp.File("README.txt"), "not an image");

        PairedModalityDataset data = PairedModalityDataset.Scan(temp.Path);

        data.Subjects.Select(s => s.SubjectId).Should().Equal("sub-001", "sub-002", "sub-003");
        data.Subjects[1].Has("mri").Should().BeTrue();
        data.Subjects[1].GetPath("pet").Should().BeNull();
        data.Subjects[1].Load("pet").Should().BeNull();
        data.Subjects[2].Paths.Keys.Should().Equal("pet");
        data.Subjects[0].Load("pet")!.Voxels.Should().Equal(0, 1, 2, 3, 4, 5, 6, 7);
        data.WithAll("mri", "pet").Select(s => s.SubjectId).Should().Equal("sub-001");

        PairedModalityDataset custom = PairedModalityDataset.Scan(temp.Path, new PairedModalityOptions
        {
            Modalities = ["ct", "pet"],
            FileNamePattern = @"^(?<subject>sub-\d+)_(?<modality>ct|pet)\.nii\.gz$",
        });
        custom.WithAll("ct", "pet").Select(s => s.SubjectId).Should().Equal("sub-003");

        NiftiWriter.Write(temp.File("sub-001_mri.nii"), volume);
        Action duplicate = () => PairedModalityDataset.Scan(temp.Path);
        duplicate.Should().Throw<DataFormatException>().Where(e => e.Message.Contains("sub-001") && e.Message.Contains("mri"));

        Action badPattern = () => PairedModalityDataset.Scan(temp.Path, new PairedModalityOptions { FileNamePattern = "(?<id>.*)" });
        badPattern.Should().Throw<ArgumentException>().Where(e => e.Message.Contains("subject"));
    }
}
