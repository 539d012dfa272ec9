using MedVision.Torch.Serialization;
using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace MedVision.Nets.Data.Nifti;

/// <summary>
/// Writes 3D volumes as single-file NIfTI-1 (<c>n+1</c>), gzip-compressed when the path ends in <c>.gz</c>.
/// Writing is atomic: a temporary file in the same folder is renamed over the destination when complete.
/// </summary>
public static class NiftiWriter
{
    private const int VoxOffset = 352;

    /// <summary>Writes <paramref name="image"/> to <paramref name="path"/>.</summary>
    /// <param name="path">A <c>.nii</c> or <c>.nii.gz</c> file.</param>
    /// <param name="image">The volume.</param>
    /// <param name="options">Data type, scaling and byte order; <see langword="null"/> for float32, unscaled, little-endian.</param>
    /// <exception cref="ArgumentException">A value does not fit in the chosen data type.</exception>
    public static void Write(string path, NiftiImage image, NiftiWriteOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(image);
        options ??= new NiftiWriteOptions();
        byte[] content = Encode(image, options, path);
        bool gzip = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase);
        AtomicFile.Write(path, stream =>
        {
            if (gzip)
            {
                using var gz = new GZipStream(stream, CompressionLevel.Optimal, leaveOpen: true);
                gz.Write(content);
            }
            else
            {
                stream.Write(content);
            }
        });
    }

    // The affine as an sform (any affine) and, when it is a rotation times voxel sizes, as a qform too (as nibabel
    // writes both), with the image's code; an image whose orientation is unknown gets codes 0 and pixdim only.
    private static void WriteAffine(Writer w, NiftiImage image)
    {
        var code = (short)image.AffineCode;
        w.Int16(254, code); // sform_code
        w.Int16(252, 0); // qform_code, unless the affine has a quaternion form
        if (image.AffineCode == NiftiXformCode.Unknown)
        {
            return;
        }

        var a = image.Affine;
        for (int r = 0; r < 3; r++)
            for (int c = 0; c < 4; c++)
                w.Single(280 + (16 * r) + (4 * c), (float)a[r, c]);

        if (a.ToQuaternion() is { } q)
        {
            w.Int16(252, code);
            w.Single(76, (float)q.Qfac);
            w.Single(256, (float)q.B);
            w.Single(260, (float)q.C);
            w.Single(264, (float)q.D);
            for (int r = 0; r < 3; r++) w.Single(268 + (4 * r), (float)a[r, 3]);
            // pixdim must be the affine's voxel sizes for the qform to reproduce it.
            for (int i = 0; i < 3; i++) w.Single(80 + (4 * i), (float)q.Spacing[i]);
        }
    }

    private static byte[] Encode(NiftiImage image, NiftiWriteOptions options, string path)
    {
        int elementSize = NiftiReader.ElementSize(options.DataType);
        var bytes = new byte[VoxOffset + (image.Voxels.LongLength * elementSize)];
        var w = new Writer(bytes, options.BigEndian);
        w.Int32(0, NiftiReader.HeaderSize);
        w.Int16(40, 3);
        for (int i = 0; i < 3; i++)
        {
            w.Int16(42 + (2 * i), checked((short)image.Shape[i]));
        }

        for (int i = 4; i <= 7; i++)
        {
            w.Int16(40 + (2 * i), 1);
        }

        w.Int16(70, (short)options.DataType);
        w.Int16(72, (short)(elementSize * 8));
        w.Single(76, 1f); // qfac
        for (int i = 0; i < 3; i++)
        {
            w.Single(80 + (4 * i), image.Spacing[i]);
        }

        WriteAffine(w, image);

        w.Single(108, VoxOffset);
        w.Single(112, options.Slope);
        w.Single(116, options.Intercept);
        bytes[123] = 2; // xyzt_units: millimetres
        Encoding.ASCII.GetBytes("MedVision.Nets").CopyTo(bytes, 148);
        Encoding.ASCII.GetBytes("n+1\0").CopyTo(bytes, 344);

        bool scaled = options.Slope != 0f && float.IsFinite(options.Slope);
        for (long i = 0; i < image.Voxels.LongLength; i++)
        {
            double v = image.Voxels[i];
            if (scaled)
            {
                v = (v - options.Intercept) / options.Slope;
            }

            int at = checked((int)(VoxOffset + (i * elementSize)));
            switch (options.DataType)
            {
                case NiftiDataType.UInt8:
                    bytes[at] = (byte)CheckedRound(v, byte.MinValue, byte.MaxValue, i, options.DataType, path);
                    break;
                case NiftiDataType.Int16:
                    w.Int16(at, (short)CheckedRound(v, short.MinValue, short.MaxValue, i, options.DataType, path));
                    break;
                case NiftiDataType.Int32:
                    w.Int32(at, (int)CheckedRound(v, int.MinValue, int.MaxValue, i, options.DataType, path));
                    break;
                case NiftiDataType.Int8:
                    bytes[at] = (byte)(sbyte)CheckedRound(v, sbyte.MinValue, sbyte.MaxValue, i, options.DataType, path);
                    break;
                case NiftiDataType.UInt16:
                    w.Int16(at, (short)(ushort)CheckedRound(v, ushort.MinValue, ushort.MaxValue, i, options.DataType, path));
                    break;
                case NiftiDataType.UInt32:
                    w.Int32(at, (int)(uint)CheckedRound(v, uint.MinValue, uint.MaxValue, i, options.DataType, path));
                    break;
                case NiftiDataType.Int64:
                    w.Int64(at, CheckedRound(v, long.MinValue, long.MaxValue, i, options.DataType, path));
                    break;
                case NiftiDataType.Float32:
                    w.Single(at, (float)v);
                    break;
                default:
                    w.Double(at, v);
                    break;
            }
        }

        return bytes;
    }

    private static long CheckedRound(double v, long min, long max, long index, NiftiDataType type, string path)
    {
        double r = Math.Round(v, MidpointRounding.AwayFromZero);
        // (double)long.MaxValue rounds up to 2^63, which does not fit: compare against the bound's successor instead.
        if (!double.IsFinite(r) || r < min || (max == long.MaxValue ? r >= 9.2233720368547758e18 : r > max))
        {
            throw new ArgumentException($"{path}: voxel {index} stores as {v}, which does not fit in {type} ({min}..{max}); choose another data type or scaling.");
        }

        return (long)r;
    }

    private readonly struct Writer(byte[] bytes, bool bigEndian)
    {
        public void Int16(int at, short v)
        {
            if (bigEndian)
            {
                BinaryPrimitives.WriteInt16BigEndian(bytes.AsSpan(at), v);
            }
            else
            {
                BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(at), v);
            }
        }

        public void Int64(int at, long v)
        {
            if (bigEndian)
            {
                BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(at), v);
            }
            else
            {
                BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(at), v);
            }
        }

        public void Int32(int at, int v)
        {
            if (bigEndian)
            {
                BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(at), v);
            }
            else
            {
                BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(at), v);
            }
        }

        public void Single(int at, float v)
        {
            if (bigEndian)
            {
                BinaryPrimitives.WriteSingleBigEndian(bytes.AsSpan(at), v);
            }
            else
            {
                BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(at), v);
            }
        }

        public void Double(int at, double v)
        {
            if (bigEndian)
            {
                BinaryPrimitives.WriteDoubleBigEndian(bytes.AsSpan(at), v);
            }
            else
            {
                BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(at), v);
            }
        }
    }
}
