using System.Buffers.Binary;
using System.IO.Compression;

namespace MedVision.Nets.Data.Nifti;

/// <summary>
/// Reads NIfTI-1 volumes: single files (<c>.nii</c>, magic <c>n+1</c>), gzip-compressed single files
/// (<c>.nii.gz</c>) and header/image pairs (<c>.hdr</c>/<c>.img</c>, magic <c>ni1</c>); little- or big-endian;
/// data types int8, uint8, int16, uint16, int32, uint32, int64, float32 and float64; up to three non-singleton dimensions.
/// </summary>
public static class NiftiReader
{
    internal const int HeaderSize = 348;

    /// <summary>Reads a NIfTI-1 file.</summary>
    /// <param name="path">A <c>.nii</c>, <c>.nii.gz</c> or <c>.hdr</c> file.</param>
    /// <returns>The volume, with values scaled by <c>scl_slope</c>/<c>scl_inter</c> when the slope is non-zero.</returns>
    /// <exception cref="DataFormatException">The file is truncated, corrupt or uses an unsupported feature.</exception>
    public static NiftiImage Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes = ReadMaybeGzip(path);
        if (bytes.Length < HeaderSize)
        {
            throw new DataFormatException(path, $"file is truncated: {bytes.Length} bytes, shorter than the 348-byte NIfTI-1 header.");
        }

        bool bigEndian;
        int sizeofHdr = BinaryPrimitives.ReadInt32LittleEndian(bytes);
        if (sizeofHdr == HeaderSize)
        {
            bigEndian = false;
        }
        else if (BinaryPrimitives.ReverseEndianness(sizeofHdr) == HeaderSize)
        {
            bigEndian = true;
        }
        else
        {
            throw new DataFormatException(path, $"not a NIfTI-1 file: sizeof_hdr is {sizeofHdr}, expected 348 (NIfTI-2 and other formats are not supported).");
        }

        var h = new HeaderReader(bytes, bigEndian);
        string magic = System.Text.Encoding.ASCII.GetString(bytes, 344, 3);
        bool pair = magic == "ni1";
        if ((magic != "n+1" && !pair) || bytes[347] != 0)
        {
            throw new DataFormatException(path, $"invalid NIfTI-1 magic '{System.Text.Encoding.ASCII.GetString(bytes, 344, 4).TrimEnd('\0')}' (expected 'n+1' or 'ni1').");
        }

        short rank = h.Int16(40);
        if (rank is < 1 or > 7)
        {
            throw new DataFormatException(path, $"invalid dim[0] = {rank}; must be 1..7.");
        }

        var dims = new int[3] { 1, 1, 1 };
        for (int i = 1; i <= rank; i++)
        {
            short extent = h.Int16(40 + (2 * i));
            if (extent < 1)
            {
                throw new DataFormatException(path, $"invalid dim[{i}] = {extent}; dimensions must be positive.");
            }

            if (i <= 3)
            {
                dims[i - 1] = extent;
            }
            else if (extent != 1)
            {
                throw new DataFormatException(path, $"dim[{i}] = {extent}: only 3D volumes are supported (dimensions 4..7 must be 1).");
            }
        }

        short code = h.Int16(70);
        if (!Enum.IsDefined(typeof(NiftiDataType), code))
        {
            throw new DataFormatException(path, $"unsupported NIfTI datatype code {code} (supported: uint8=2, int16=4, int32=8, float32=16, float64=64, int8=256, uint16=512, uint32=768, int64=1024).");
        }

        var dataType = (NiftiDataType)code;
        int elementSize = ElementSize(dataType);
        short bitpix = h.Int16(72);
        if (bitpix != elementSize * 8)
        {
            throw new DataFormatException(path, $"bitpix is {bitpix} but datatype {dataType} has {elementSize * 8} bits per voxel.");
        }

        float[] spacing = [Math.Abs(h.Single(80)), Math.Abs(h.Single(84)), Math.Abs(h.Single(88))];
        for (int i = 0; i < 3; i++)
        {
            if (!float.IsFinite(spacing[i]) || spacing[i] == 0f)
            {
                spacing[i] = 1f; // pixdim unset: unit spacing, as nibabel and ITK do.
            }
        }

        var (affine, affineCode) = ReadAffine(h, spacing, path);
        float voxOffset = h.Single(108);
        float slope = h.Single(112);
        float inter = h.Single(116);
        bool scale = float.IsFinite(slope) && slope != 0f && (slope != 1f || (float.IsFinite(inter) && inter != 0f));

        byte[] data = bytes;
        string dataPath = path;
        long offset;
        if (pair)
        {
            dataPath = ImagePathFor(path);
            data = ReadMaybeGzip(dataPath);
            offset = (long)voxOffset;
        }
        else
        {
            if (!float.IsFinite(voxOffset) || voxOffset < 352 || voxOffset != MathF.Floor(voxOffset))
            {
                throw new DataFormatException(path, $"invalid vox_offset {voxOffset}; a single-file NIfTI needs an integer offset of at least 352.");
            }

            offset = (long)voxOffset;
        }

        long count = (long)dims[0] * dims[1] * dims[2];
        long needed = count * elementSize;
        if (offset > data.LongLength)
        {
            throw new DataFormatException(dataPath, $"file is truncated: the voxels start at vox_offset {voxOffset}, beyond the end of the file ({data.LongLength} bytes).");
        }

        // offset > length - needed, not offset + needed > length: a vox_offset of 1e21 saturates to long.MaxValue.
        if (offset < 0 || needed > data.LongLength || offset > data.LongLength - needed)
        {
            throw new DataFormatException(dataPath, $"file is truncated: {dims[0]}×{dims[1]}×{dims[2]} {dataType} voxels need {needed} bytes from offset {offset}, but only {Math.Max(0, data.LongLength - offset)} are present.");
        }

        var voxels = new float[count];
        var d = new HeaderReader(data, bigEndian);
        for (long i = 0; i < count; i++)
        {
            int at = checked((int)(offset + (i * elementSize)));
            double v = dataType switch
            {
                NiftiDataType.UInt8 => data[at],
                NiftiDataType.Int8 => (sbyte)data[at],
                NiftiDataType.Int16 => d.Int16(at),
                NiftiDataType.UInt16 => (ushort)d.Int16(at),
                NiftiDataType.Int32 => d.Int32(at),
                NiftiDataType.UInt32 => (uint)d.Int32(at),
                NiftiDataType.Int64 => d.Int64(at),
                NiftiDataType.Float32 => d.Single(at),
                _ => d.Double(at),
            };
            voxels[i] = scale ? (float)((v * slope) + inter) : (float)v;
        }

        return new NiftiImage(voxels, dims, spacing, dataType, affine, affineCode);
    }

    // The sform when sform_code > 0, else the qform when qform_code > 0 (nibabel's get_best_affine), else none. A
    // singular sform (some tools set sform_code but leave srow_* zero) gives way to a valid qform; with no qform to fall
    // back on, it is an error.
    private static (NiftiAffine? Affine, NiftiXformCode Code) ReadAffine(HeaderReader h, float[] spacing, string path)
    {
        short qformCode = h.Int16(252), sformCode = h.Int16(254);
        foreach (var (name, value) in new[] { ("qform_code", qformCode), ("sform_code", sformCode) })
        {
            if (!Enum.IsDefined((NiftiXformCode)value))
            {
                throw new DataFormatException(path, $"invalid {name} {value}; NIfTI defines 0 (unknown) to 5 (template).");
            }
        }

        string part = "sform (srow_x, srow_y, srow_z)";
        try
        {
            if (sformCode > 0)
            {
                var m = new double[3, 4];
                for (int r = 0; r < 3; r++)
                    for (int c = 0; c < 4; c++)
                        m[r, c] = h.Single(280 + (16 * r) + (4 * c));
                try
                {
                    return (new NiftiAffine(m), (NiftiXformCode)sformCode);
                }
                catch (ArgumentException) when (qformCode > 0)
                {
                    // use the qform below
                }
            }

            if (qformCode > 0)
            {
                part = "qform (quatern_b/c/d, qoffset, pixdim)";
                float qfac = h.Single(76);
                return (NiftiAffine.FromQuaternion(h.Single(256), h.Single(260), h.Single(264), (h.Single(268), h.Single(272), h.Single(276)), spacing, qfac < 0 ? -1 : 1),
                    (NiftiXformCode)qformCode);
            }

            // No orientation: diag(spacing), which must still describe a voxel volume (a pixdim of 1e-38 does not).
            part = "voxel size (pixdim)";
            return (NiftiAffine.FromSpacing(spacing), NiftiXformCode.Unknown);
        }
        catch (ArgumentException e)
        {
            throw new DataFormatException(path, $"invalid {part}: {e.Message}", e);
        }
    }

    internal static int ElementSize(NiftiDataType type) => type switch
    {
        NiftiDataType.UInt8 or NiftiDataType.Int8 => 1,
        NiftiDataType.Int16 or NiftiDataType.UInt16 => 2,
        NiftiDataType.Int32 or NiftiDataType.UInt32 or NiftiDataType.Float32 => 4,
        NiftiDataType.Float64 or NiftiDataType.Int64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    private static string ImagePathFor(string headerPath)
    {
        string p = headerPath.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? headerPath[..^3] : headerPath;
        if (!p.EndsWith(".hdr", StringComparison.OrdinalIgnoreCase))
        {
            throw new DataFormatException(headerPath, "magic 'ni1' marks a header/image pair, but the file is not a .hdr header.");
        }

        string img = p[..^4] + ".img";
        if (File.Exists(img))
        {
            return img;
        }

        if (File.Exists(img + ".gz"))
        {
            return img + ".gz";
        }

        throw new DataFormatException(headerPath, $"the image file '{img}' of this header/image pair is missing.");
    }

    private static byte[] ReadMaybeGzip(string path)
    {
        byte[] raw = File.ReadAllBytes(path);
        if (raw.Length < 2 || raw[0] != 0x1f || raw[1] != 0x8b)
        {
            return raw;
        }

        try
        {
            using var gz = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress);
            using var ms = new MemoryStream();
            gz.CopyTo(ms);
            return ms.ToArray();
        }
        catch (InvalidDataException ex)
        {
            throw new DataFormatException(path, $"gzip data is corrupt ({ex.Message}).", ex);
        }
    }

    private readonly struct HeaderReader(byte[] bytes, bool bigEndian)
    {
        public short Int16(int at) => bigEndian ? BinaryPrimitives.ReadInt16BigEndian(bytes.AsSpan(at)) : BinaryPrimitives.ReadInt16LittleEndian(bytes.AsSpan(at));

        public int Int32(int at) => bigEndian ? BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(at)) : BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(at));

        public long Int64(int at) => bigEndian ? BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(at)) : BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(at));

        public float Single(int at) => bigEndian ? BinaryPrimitives.ReadSingleBigEndian(bytes.AsSpan(at)) : BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(at));

        public double Double(int at) => bigEndian ? BinaryPrimitives.ReadDoubleBigEndian(bytes.AsSpan(at)) : BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan(at));
    }
}
