using MedVision.Torch.Serialization;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace MedVision.Nets.Data.Nifti;

/// <summary>
/// Writes single-file NIfTI-1 (<c>n+1</c>) or NIfTI-2 (<c>n+2</c>) images: one 3-D volume
/// (<see cref="Write(string, NiftiImage, NiftiWriteOptions?)"/>) or several volumes of one grid as a 4-D file
/// (<see cref="WriteVolumes"/>), gzip-compressed when the path ends in <c>.gz</c>. Writing is atomic: a temporary file in
/// the same folder is renamed over the destination when complete, and a failed write leaves nothing behind. The voxels
/// are encoded a chunk at a time, so the file is not limited to what one array can hold.
/// </summary>
public static class NiftiWriter
{
    private const int ChunkBytes = 1 << 20;

    /// <summary>Writes <paramref name="image"/> to <paramref name="path"/> as a 3-D file.</summary>
    /// <param name="path">A <c>.nii</c> or <c>.nii.gz</c> file.</param>
    /// <param name="image">The volume.</param>
    /// <param name="options">Data type, scaling, byte order and format; <see langword="null"/> for float32, unscaled, little-endian NIfTI-1.</param>
    /// <exception cref="ArgumentException">A value does not fit in the chosen data type.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The options name an undefined data type or format.</exception>
    public static void Write(string path, NiftiImage image, NiftiWriteOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(image);
        WriteCore(path, [image], options ?? new NiftiWriteOptions());
    }

    /// <summary>
    /// Writes several 3-D volumes of one grid — the contrasts of a multi-contrast MRI, the time points of a series — as
    /// one 4-D file, as nibabel writes a 4-D image: dim[0] = 4, dim[4] = the number of volumes, pixdim[4] = 1, the
    /// volumes one after another in the given order. <see cref="NiftiReader.ReadVolumes"/> and
    /// <see cref="NiftiReader.Read(string, int)"/> read them back. A single volume is written as a 3-D file, exactly as
    /// <see cref="Write(string, NiftiImage, NiftiWriteOptions?)"/> writes it.
    /// </summary>
    /// <param name="path">A <c>.nii</c> or <c>.nii.gz</c> file.</param>
    /// <param name="volumes">The volumes: at least one, all of one shape, voxel size, affine and affine code (sizes and
    /// affine entries equal within 1e-6, relative to values above 1); the first volume's are written.</param>
    /// <param name="options">Data type, scaling, byte order and format; <see langword="null"/> for float32, unscaled, little-endian NIfTI-1.</param>
    /// <exception cref="ArgumentException">
    /// There are no volumes, one is <see langword="null"/>, one differs from the first in shape, voxel size, affine or
    /// affine code (the message names the volume and the difference), or a value does not fit in the chosen data type.
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException">The options name an undefined data type or format.</exception>
    public static void WriteVolumes(string path, IReadOnlyList<NiftiImage> volumes, NiftiWriteOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(volumes);
        if (volumes.Count == 0)
        {
            throw new ArgumentException($"{path}: there are no volumes to write.", nameof(volumes));
        }

        for (int k = 0; k < volumes.Count; k++)
        {
            if (volumes[k] is null)
            {
                throw new ArgumentException($"{path}: volume {k} is null.", nameof(volumes));
            }

            if (k > 0 && Difference(volumes[0], volumes[k]) is { } difference)
            {
                throw new ArgumentException($"{path}: volume {k} {difference}; the volumes of one file must share one grid (shape, voxel size and affine).", nameof(volumes));
            }
        }

        WriteCore(path, volumes, options ?? new NiftiWriteOptions());
    }

    // How volume b's grid differs from volume 0's (a), or null when they match.
    private static string? Difference(NiftiImage a, NiftiImage b)
    {
        static string Join<T>(IEnumerable<T> values, string separator) where T : IFormattable =>
            string.Join(separator, values.Select(v => v.ToString(null, CultureInfo.InvariantCulture)));
        static bool Close(double x, double y) => Math.Abs(x - y) <= 1e-6 * Math.Max(1, Math.Abs(x));

        if (!a.Shape.SequenceEqual(b.Shape))
        {
            return $"is {Join(b.Shape, "×")} voxels, but volume 0 is {Join(a.Shape, "×")}";
        }

        if (!a.Spacing.Zip(b.Spacing).All(p => Close(p.First, p.Second)))
        {
            return $"has voxel size ({Join(b.Spacing, ", ")}), but volume 0 has ({Join(a.Spacing, ", ")})";
        }

        if (a.AffineCode != b.AffineCode)
        {
            return $"has affine code {b.AffineCode}, but volume 0 has {a.AffineCode}";
        }

        for (int r = 0; r < 3; r++)
        {
            for (int c = 0; c < 4; c++)
            {
                if (!Close(a.Affine[r, c], b.Affine[r, c]))
                {
                    return string.Create(CultureInfo.InvariantCulture, $"has another affine: affine[{r}, {c}] is {b.Affine[r, c]}, but volume 0's is {a.Affine[r, c]}");
                }
            }
        }

        return null;
    }

    private static void WriteCore(string path, IReadOnlyList<NiftiImage> volumes, NiftiWriteOptions options)
    {
        if (!Enum.IsDefined(options.Format))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Format, $"{path}: NiftiWriteOptions.Format must be Nifti1 or Nifti2.");
        }

        var type = options.DataType;
        if (!Enum.IsDefined(type)) throw new ArgumentOutOfRangeException(nameof(options), type, $"{path}: NiftiWriteOptions.DataType {(int)type} is not a NIfTI data type this writer supports.");
        int elementSize = NiftiReader.ElementSize(type);
        var first = volumes[0];
        long[] dim = [volumes.Count == 1 ? 3 : 4, first.Shape[0], first.Shape[1], first.Shape[2], volumes.Count, 1, 1, 1];
        var layout = options.Format == NiftiFormat.Nifti2 || dim.Skip(1).Any(d => d > short.MaxValue) ? Layout.Nifti2 : Layout.Nifti1;
        byte[] header = EncodeHeader(layout, dim, first, options, elementSize);

        bool scaled = options.Slope != 0f && float.IsFinite(options.Slope);
        double slope = options.Slope, intercept = options.Intercept;
        bool integer = type is not (NiftiDataType.Float32 or NiftiDataType.Float64);
        (long Min, long Max) range = type switch
        {
            NiftiDataType.UInt8 => (byte.MinValue, byte.MaxValue),
            NiftiDataType.Int8 => (sbyte.MinValue, sbyte.MaxValue),
            NiftiDataType.Int16 => (short.MinValue, short.MaxValue),
            NiftiDataType.UInt16 => (ushort.MinValue, ushort.MaxValue),
            NiftiDataType.Int32 => (int.MinValue, int.MaxValue),
            NiftiDataType.UInt32 => (uint.MinValue, uint.MaxValue),
            _ => (long.MinValue, long.MaxValue),
        };

        double Stored(float voxel) => scaled ? (voxel - intercept) / slope : voxel;

        // Values that do not fit are refused before anything is written.
        if (integer)
        {
            for (int k = 0; k < volumes.Count; k++)
            {
                var voxels = volumes[k].Voxels;
                for (long i = 0; i < voxels.LongLength; i++)
                {
                    double v = Stored(voxels[i]);
                    if (!Fits(Math.Round(v, MidpointRounding.AwayFromZero), range.Min, range.Max))
                    {
                        string where = volumes.Count > 1 ? $"voxel {i} of volume {k}" : $"voxel {i}";
                        throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{path}: {where} stores as {v}, which does not fit in {type} ({range.Min}..{range.Max}); choose another data type or scaling."));
                    }
                }
            }
        }

        bool gzip = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase);
        AtomicFile.Write(path, stream =>
        {
            using var gz = gzip ? new GZipStream(stream, CompressionLevel.Optimal, leaveOpen: true) : null;
            Stream target = gz ?? stream;
            target.Write(header);
            var chunk = new byte[ChunkBytes];
            var w = new Fields(chunk, options.BigEndian);
            int used = 0;
            foreach (var volume in volumes)
            {
                foreach (float voxel in volume.Voxels)
                {
                    if (used == chunk.Length)
                    {
                        target.Write(chunk, 0, used);
                        used = 0;
                    }

                    double v = Stored(voxel);
                    if (integer)
                    {
                        w.Integer(used, elementSize, (long)Math.Round(v, MidpointRounding.AwayFromZero));
                    }
                    else
                    {
                        w.Real(used, elementSize, v);
                    }

                    used += elementSize;
                }
            }

            target.Write(chunk, 0, used);
        });
    }

    // (double)long.MaxValue rounds up to 2^63, which does not fit: compare against the bound's successor instead.
    private static bool Fits(double r, long min, long max) =>
        double.IsFinite(r) && r >= min && (max == long.MaxValue ? r < 9.2233720368547758e18 : r <= max);

    // The header and the 4-byte extension flag (no extensions) before the voxels, for either version.
    private static byte[] EncodeHeader(Layout layout, long[] dim, NiftiImage image, NiftiWriteOptions options, int elementSize)
    {
        var bytes = new byte[layout.VoxOffset];
        var w = new Fields(bytes, options.BigEndian);
        w.Integer(0, 4, layout.HeaderSize);
        layout.Magic.CopyTo(bytes, layout.MagicAt);
        for (int i = 0; i < 8; i++)
        {
            w.Integer(layout.DimAt + (i * layout.DimSize), layout.DimSize, dim[i]);
        }

        w.Integer(layout.DataTypeAt, 2, (short)options.DataType);
        w.Integer(layout.BitPixAt, 2, elementSize * 8);
        w.Real(layout.PixDimAt, layout.RealSize, 1); // qfac
        for (int i = 0; i < 3; i++)
        {
            w.Real(layout.PixDimAt + ((i + 1) * layout.RealSize), layout.RealSize, image.Spacing[i]);
        }

        if (dim[0] == 4)
        {
            w.Real(layout.PixDimAt + (4 * layout.RealSize), layout.RealSize, 1); // the step between volumes, as nibabel writes it
        }

        if (layout.Version == 1)
        {
            w.Real(layout.VoxOffsetAt, 4, layout.VoxOffset);
        }
        else
        {
            w.Integer(layout.VoxOffsetAt, 8, layout.VoxOffset);
        }

        w.Real(layout.SlopeAt, layout.RealSize, options.Slope);
        w.Real(layout.InterAt, layout.RealSize, options.Intercept);
        w.Integer(layout.XyztUnitsAt, layout.XyztUnitsSize, 2); // millimetres
        Encoding.ASCII.GetBytes("MedVision.Nets").CopyTo(bytes, layout.DescripAt);
        WriteAffine(w, layout, image);
        return bytes;
    }

    // The affine as an sform (any affine) and, when it is a rotation times voxel sizes, as a qform too (as nibabel
    // writes both), with the image's code; an image whose orientation is unknown gets codes 0 and pixdim only.
    private static void WriteAffine(Fields w, Layout layout, NiftiImage image)
    {
        var code = (int)image.AffineCode;
        w.Integer(layout.SformCodeAt, layout.CodeSize, code);
        w.Integer(layout.QformCodeAt, layout.CodeSize, 0); // unless the affine has a quaternion form
        if (image.AffineCode == NiftiXformCode.Unknown)
        {
            return;
        }

        var a = image.Affine;
        for (int r = 0; r < 3; r++)
            for (int c = 0; c < 4; c++)
                w.Real(layout.SrowAt + (((4 * r) + c) * layout.RealSize), layout.RealSize, a[r, c]);

        if (a.ToQuaternion() is { } q)
        {
            w.Integer(layout.QformCodeAt, layout.CodeSize, code);
            w.Real(layout.PixDimAt, layout.RealSize, q.Qfac);
            double[] quatern = [q.B, q.C, q.D, a[0, 3], a[1, 3], a[2, 3]]; // quatern_b/c/d, qoffset_x/y/z
            for (int i = 0; i < 6; i++) w.Real(layout.QuaternAt + (i * layout.RealSize), layout.RealSize, quatern[i]);
            // pixdim must be the affine's voxel sizes for the qform to reproduce it.
            for (int i = 0; i < 3; i++) w.Real(layout.PixDimAt + ((i + 1) * layout.RealSize), layout.RealSize, q.Spacing[i]);
        }
    }

    // Where a version's header keeps the fields written here, and how wide they are (the offsets NiftiReader reads).
    private sealed class Layout
    {
        public static readonly Layout Nifti1 = new()
        {
            Version = 1, HeaderSize = 348, VoxOffset = 352, Magic = "n+1\0"u8.ToArray(), MagicAt = 344,
            DimAt = 40, DimSize = 2, DataTypeAt = 70, BitPixAt = 72, PixDimAt = 76, RealSize = 4, VoxOffsetAt = 108,
            SlopeAt = 112, InterAt = 116, XyztUnitsAt = 123, XyztUnitsSize = 1, DescripAt = 148,
            QformCodeAt = 252, SformCodeAt = 254, CodeSize = 2, QuaternAt = 256, SrowAt = 280,
        };

        public static readonly Layout Nifti2 = new()
        {
            Version = 2, HeaderSize = 540, VoxOffset = 544, Magic = "n+2\0\r\n\x1a\n"u8.ToArray(), MagicAt = 4,
            DimAt = 16, DimSize = 8, DataTypeAt = 12, BitPixAt = 14, PixDimAt = 104, RealSize = 8, VoxOffsetAt = 168,
            SlopeAt = 176, InterAt = 184, XyztUnitsAt = 500, XyztUnitsSize = 4, DescripAt = 240,
            QformCodeAt = 344, SformCodeAt = 348, CodeSize = 4, QuaternAt = 352, SrowAt = 400,
        };

        public required int Version { get; init; }
        public required int HeaderSize { get; init; }
        public required int VoxOffset { get; init; } // the header plus the 4-byte extension flag
        public required byte[] Magic { get; init; }
        public required int MagicAt { get; init; }
        public required int DimAt { get; init; }
        public required int DimSize { get; init; }
        public required int DataTypeAt { get; init; }
        public required int BitPixAt { get; init; }
        public required int PixDimAt { get; init; }
        public required int RealSize { get; init; } // pixdim, vox_offset (NIfTI-1), scl_*, quatern_*, qoffset_*, srow_*
        public required int VoxOffsetAt { get; init; }
        public required int SlopeAt { get; init; }
        public required int InterAt { get; init; }
        public required int XyztUnitsAt { get; init; }
        public required int XyztUnitsSize { get; init; }
        public required int DescripAt { get; init; }
        public required int QformCodeAt { get; init; }
        public required int SformCodeAt { get; init; }
        public required int CodeSize { get; init; }
        public required int QuaternAt { get; init; }
        public required int SrowAt { get; init; }
    }

    // Writes integers of 1, 2, 4 or 8 bytes (the low bytes of the value, so unsigned types too) and reals of 4 or 8.
    private readonly struct Fields(byte[] bytes, bool bigEndian)
    {
        public void Integer(int at, int size, long v)
        {
            var span = bytes.AsSpan(at, size);
            switch (size)
            {
                case 1:
                    span[0] = unchecked((byte)v);
                    break;
                case 2 when bigEndian:
                    BinaryPrimitives.WriteInt16BigEndian(span, unchecked((short)v));
                    break;
                case 2:
                    BinaryPrimitives.WriteInt16LittleEndian(span, unchecked((short)v));
                    break;
                case 4 when bigEndian:
                    BinaryPrimitives.WriteInt32BigEndian(span, unchecked((int)v));
                    break;
                case 4:
                    BinaryPrimitives.WriteInt32LittleEndian(span, unchecked((int)v));
                    break;
                case 8 when bigEndian:
                    BinaryPrimitives.WriteInt64BigEndian(span, v);
                    break;
                default:
                    BinaryPrimitives.WriteInt64LittleEndian(span, v);
                    break;
            }
        }

        public void Real(int at, int size, double v)
        {
            var span = bytes.AsSpan(at, size);
            if (size == 4)
            {
                if (bigEndian) BinaryPrimitives.WriteSingleBigEndian(span, (float)v);
                else BinaryPrimitives.WriteSingleLittleEndian(span, (float)v);
            }
            else
            {
                if (bigEndian) BinaryPrimitives.WriteDoubleBigEndian(span, v);
                else BinaryPrimitives.WriteDoubleLittleEndian(span, v);
            }
        }
    }
}
