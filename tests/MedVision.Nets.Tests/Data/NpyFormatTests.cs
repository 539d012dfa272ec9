using System.Buffers.Binary;
using System.Text;
using MedVision.Nets.Data;
using MedVision.Nets.Data.Npy;

namespace MedVision.Nets.Tests.Data;

public class NpyFormatTests
{
    /// <summary>Builds an NPY byte stream by hand, independent of <see cref="NpyFormat.Write"/>.</summary>
    private static byte[] HandMadeNpy(int major, string header, byte[] data)
    {
        var ms = new MemoryStream();
        ms.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', (byte)major, 0]);
        int prefix = major == 1 ? 10 : 12;
        int total = prefix + header.Length + 1;
        string padded = header + new string(' ', ((total + 63) / 64 * 64) - total) + "\n";
        if (major == 1)
        {
            ms.Write(BitConverter.GetBytes((ushort)padded.Length));
        }
        else
        {
            ms.Write(BitConverter.GetBytes((uint)padded.Length));
        }

        ms.Write(Encoding.UTF8.GetBytes(padded));
        ms.Write(data);
        return ms.ToArray();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Reads_all_format_versions(int major)
    {
        var data = new byte[6 * 4];
        for (int i = 0; i < 6; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(i * 4), i * 1.5f);
        }

        byte[] npy = HandMadeNpy(major, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", data);
        NpyArray array = NpyFormat.Read(new MemoryStream(npy), "x.npy");

        array.DType.Should().Be(NpyDType.Float32);
        array.Shape.Should().Equal(2, 3);
        array.ToSingleArray().Should().Equal(Enumerable.Range(0, 6).Select(i => i * 1.5f));
    }

    [Fact]
    public void Reads_int64_float64_and_uint8()
    {
        var longs = new byte[3 * 8];
        var doubles = new byte[3 * 8];
        long[] expectedLongs = [-5, 0, 1L << 40];
        double[] expectedDoubles = [-0.25, Math.PI, 1e300];
        for (int i = 0; i < 3; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(longs.AsSpan(i * 8), expectedLongs[i]);
            BinaryPrimitives.WriteDoubleLittleEndian(doubles.AsSpan(i * 8), expectedDoubles[i]);
        }

        NpyFormat.Read(new MemoryStream(HandMadeNpy(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", longs)), "l.npy")
            .ToDoubleArray().Should().Equal(expectedLongs.Select(v => (double)v));
        NpyFormat.Read(new MemoryStream(HandMadeNpy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", doubles)), "d.npy")
            .ToDoubleArray().Should().Equal(expectedDoubles);
        NpyArray bytes = NpyFormat.Read(new MemoryStream(HandMadeNpy(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (1, 3), }", [7, 8, 255])), "b.npy");
        bytes.ToByteArray().Should().Equal(7, 8, 255);
        bytes.ToInt32Array().Should().Equal(7, 8, 255);
    }

    [Fact]
    public void Write_then_read_round_trips()
    {
        var source = NpyArray.FromInt64([1, -2, 3, -4, 5, -6], 3, 2);
        var ms = new MemoryStream();
        NpyFormat.Write(ms, source);
        ms.Length.Should().Be(128 + 48, "the header is padded to a multiple of 64 bytes");
        ms.Position = 0;
        NpyArray back = NpyFormat.Read(ms, "r.npy");
        back.DType.Should().Be(NpyDType.Int64);
        back.Shape.Should().Equal(3, 2);
        back.ToInt32Array().Should().Equal(1, -2, 3, -4, 5, -6);
    }

    [Fact]
    public void Rejects_fortran_order()
    {
        byte[] npy = HandMadeNpy(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", new byte[16]);
        Action act = () => NpyFormat.Read(new MemoryStream(npy), "fortran.npy");
        act.Should().Throw<DataFormatException>().Where(e => e.Message.Contains("fortran.npy") && e.Message.Contains("Fortran"));
    }

    [Theory]
    [InlineData("<c8")]
    [InlineData(">f4")]
    [InlineData("<U5")]
    public void Rejects_unknown_or_big_endian_dtypes(string descr)
    {
        byte[] npy = HandMadeNpy(1, $"{{'descr': '{descr}', 'fortran_order': False, 'shape': (1,), }}", new byte[16]);
        Action act = () => NpyFormat.Read(new MemoryStream(npy), "odd.npy");
        act.Should().Throw<DataFormatException>().Where(e => e.Message.Contains("odd.npy") && e.Message.Contains(descr));
    }

    [Fact]
    public void Rejects_truncated_data_and_bad_magic()
    {
        byte[] npy = HandMadeNpy(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (4,), }", new byte[32]);
        Action truncated = () => NpyFormat.Read(new MemoryStream(npy[..^5]), "short.npy");
        truncated.Should().Throw<DataFormatException>().Where(e => e.Message.Contains("short.npy") && e.Message.Contains("truncated"));

        Action notNpy = () => NpyFormat.Read(new MemoryStream(Encoding.ASCII.GetBytes("PK\u0003\u0004 not numpy")), "zip.npy");
        notNpy.Should().Throw<DataFormatException>().Where(e => e.Message.Contains("zip.npy") && e.Message.Contains("magic"));
    }

    [Fact]
    public void Npz_round_trip_and_missing_array()
    {
        using var temp = new TempFolder();
        string path = temp.File("a.npz");
        NpzArchive.Write(path, new Dictionary<string, NpyArray>
        {
            ["x"] = NpyArray.FromBytes([1, 2, 3, 4], 2, 2),
            ["y"] = NpyArray.FromDouble([0.5], 1),
        });
        temp.ListFiles().Should().Equal("a.npz");

        using NpzArchive npz = NpzArchive.Open(path);
        npz.Names.Should().BeEquivalentTo("x", "y");
        npz.Read("x").ToByteArray().Should().Equal(1, 2, 3, 4);
        npz.Read("y").ToDoubleArray().Should().Equal(0.5);
        Action missing = () => npz.Read("train_images");
        missing.Should().Throw<DataFormatException>().Where(e => e.Message.Contains(path) && e.Message.Contains("no array 'train_images'"));
    }

    [Fact]
    public void Truncated_and_corrupt_npz_files_are_reported()
    {
        using var temp = new TempFolder();
        string good = temp.File("good.npz");
        NpzArchive.Write(good, new Dictionary<string, NpyArray> { ["x"] = NpyArray.FromBytes(Enumerable.Range(0, 4000).Select(i => (byte)(i * 7)).ToArray(), 4000) });
        byte[] bytes = File.ReadAllBytes(good);

        string truncated = temp.File("truncated.npz");
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        Action openTruncated = () => NpzArchive.Open(truncated).Dispose();
        openTruncated.Should().Throw<DataFormatException>().Where(e => e.FilePath == truncated && e.Message.Contains("truncated or corrupt"));

        string garbage = temp.File("garbage.npz");
        File.WriteAllBytes(garbage, Enumerable.Repeat((byte)0x42, 500).ToArray());
        Action openGarbage = () => NpzArchive.Open(garbage).Dispose();
        openGarbage.Should().Throw<DataFormatException>().Where(e => e.Message.Contains(garbage));

        // Corrupt the deflated payload but keep the zip directory intact.
        string corrupt = temp.File("corrupt.npz");
        byte[] damaged = (byte[])bytes.Clone();
        for (int i = 60; i < 120; i++)
        {
            damaged[i] ^= 0xA5;
        }

        File.WriteAllBytes(corrupt, damaged);
        Action readCorrupt = () =>
        {
            using NpzArchive npz = NpzArchive.Open(corrupt);
            npz.Read("x");
        };
        readCorrupt.Should().Throw<DataFormatException>().Where(e => e.Message.Contains(corrupt));
    }
}
