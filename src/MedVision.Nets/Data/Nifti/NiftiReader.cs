using System.Buffers.Binary;
using System.IO.Compression;

namespace MedVision.Nets.Data.Nifti;

/// <summary>
/// Reads NIfTI-1 and NIfTI-2 volumes: single files (<c>.nii</c>, magic <c>n+1</c> or <c>n+2</c>), gzip-compressed single
/// files (<c>.nii.gz</c>) and header/image pairs (<c>.hdr</c>/<c>.img</c>, magic <c>ni1</c> or <c>ni2</c>); little- or
/// big-endian; data types int8, uint8, int16, uint16, int32, uint32, int64, float32 and float64; up to three
/// non-singleton dimensions.
/// </summary>
public static class NiftiReader
{
    internal const int HeaderSize = 348;
    private const int Nifti2HeaderSize = 540;

    // The fields of a NIfTI-1 (348-byte, 32-bit) or NIfTI-2 (540-byte, 64-bit) header that the reader uses.
    private sealed class Header
    {
        public required int Version { get; init; }
        public required bool BigEndian { get; init; }
        public required bool Pair { get; init; }
        public required long[] Dim { get; init; }      // dim[0..7]
        public required short DataType { get; init; }
        public required short BitPix { get; init; }
        public required double[] PixDim { get; init; } // pixdim[0..7]; pixdim[0] is qfac
        public required double VoxOffset { get; init; }
        public required double Slope { get; init; }
        public required double Inter { get; init; }
        public required int QformCode { get; init; }
        public required int SformCode { get; init; }
        public required double[] Quatern { get; init; } // b, c, d, qoffset x, y, z
        public required double[,] Srow { get; init; }
        public int MinimumVoxOffset => Version == 1 ? 352 : 544; // header plus the 4-byte extension flag
    }

    /// <summary>Reads a NIfTI-1 or NIfTI-2 file holding one 3-D volume.</summary>
    /// <param name="path">A <c>.nii</c>, <c>.nii.gz</c> or <c>.hdr</c> file.</param>
    /// <returns>The volume, with values scaled by <c>scl_slope</c>/<c>scl_inter</c> when the slope is non-zero.</returns>
    /// <exception cref="DataFormatException">
    /// The file is truncated, corrupt or uses an unsupported feature, or holds several volumes (a 4-D file: read them
    /// with <see cref="Read(string, int)"/> or <see cref="ReadVolumes"/>).
    /// </exception>
    public static NiftiImage Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return ReadCore(path, volume: -1)[0];
    }

    /// <summary>
    /// Reads volume <paramref name="volume"/> (0-based) of a file whose dimensions 4 to 7 hold several 3-D volumes: the
    /// modalities of a multi-channel file (e.g. the Medical Segmentation Decathlon's four MRI contrasts), or the time
    /// points of a 4-D series. Each volume has the file's spacing and affine.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The file has no such volume.</exception>
    /// <exception cref="DataFormatException">The file is truncated, corrupt or uses an unsupported feature.</exception>
    public static NiftiImage Read(string path, int volume)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfNegative(volume);
        return ReadCore(path, volume)[0];
    }

    /// <summary>Reads every 3-D volume of a file (one for a 3-D file), in the order of dimensions 4 to 7 (4 fastest).</summary>
    /// <exception cref="DataFormatException">The file is truncated, corrupt or uses an unsupported feature.</exception>
    public static IReadOnlyList<NiftiImage> ReadVolumes(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return ReadCore(path, volume: null);
    }

    // volume: -1 for the only volume (several are an error), an index for that one, null for all.
    private static NiftiImage[] ReadCore(string path, int? volume)
    {
        var header = ReadHeader(ReadHeaderBytes(path), path);
        int version = header.Version;
        bool bigEndian = header.BigEndian, pair = header.Pair;

        long rank = header.Dim[0];
        if (rank is < 1 or > 7)
        {
            throw new DataFormatException(path, $"invalid dim[0] = {rank}; must be 1..7.");
        }

        var dims = new int[3] { 1, 1, 1 };
        long volumes = 1;
        for (int i = 1; i <= rank; i++)
        {
            long extent = header.Dim[i];
            if (extent < 1)
            {
                throw new DataFormatException(path, $"invalid dim[{i}] = {extent}; dimensions must be positive.");
            }

            if (i <= 3)
            {
                if (extent > int.MaxValue)
                {
                    throw new DataFormatException(path, $"dim[{i}] = {extent} is larger than a volume here can be ({int.MaxValue}).");
                }

                dims[i - 1] = (int)extent;
            }
            else
            {
                volumes *= extent;
                if (volumes > int.MaxValue)
                {
                    throw new DataFormatException(path, $"dimensions 4..{rank} hold more than {int.MaxValue} volumes.");
                }
            }
        }

        short code = header.DataType;
        if (!Enum.IsDefined(typeof(NiftiDataType), code))
        {
            throw new DataFormatException(path, $"unsupported NIfTI datatype code {code} (supported: uint8=2, int16=4, int32=8, float32=16, float64=64, int8=256, uint16=512, uint32=768, int64=1024).");
        }

        var dataType = (NiftiDataType)code;
        int elementSize = ElementSize(dataType);
        short bitpix = header.BitPix;
        if (bitpix != elementSize * 8)
        {
            throw new DataFormatException(path, $"bitpix is {bitpix} but datatype {dataType} has {elementSize * 8} bits per voxel.");
        }

        float[] spacing = [Math.Abs((float)header.PixDim[1]), Math.Abs((float)header.PixDim[2]), Math.Abs((float)header.PixDim[3])];
        for (int i = 0; i < 3; i++)
        {
            if (!float.IsFinite(spacing[i]) || spacing[i] == 0f)
            {
                spacing[i] = 1f; // pixdim unset: unit spacing, as nibabel and ITK do.
            }
        }

        var (affine, affineCode) = ReadAffine(header, spacing, path);
        double voxOffset = header.VoxOffset;
        double slope = header.Slope;
        double inter = header.Inter;
        bool scale = double.IsFinite(slope) && slope != 0 && (slope != 1 || (double.IsFinite(inter) && inter != 0));

        string dataPath = path;
        long offset;
        if (pair)
        {
            dataPath = ImagePathFor(path, version);
            // (double)long.MaxValue is 2^63, which no long holds: >= refuses it too.
            if (!double.IsFinite(voxOffset) || voxOffset < 0 || voxOffset >= long.MaxValue)
            {
                throw new DataFormatException(path, $"invalid vox_offset {voxOffset}.");
            }

            offset = (long)voxOffset;
        }
        else
        {
            if (!double.IsFinite(voxOffset) || voxOffset < header.MinimumVoxOffset || voxOffset != Math.Floor(voxOffset))
            {
                throw new DataFormatException(path, $"invalid vox_offset {voxOffset}; a single-file NIfTI-{version} needs an integer offset of at least {header.MinimumVoxOffset}.");
            }

            offset = voxOffset >= long.MaxValue ? long.MaxValue : (long)voxOffset;
        }

        if (volume == -1 && volumes > 1)
        {
            throw new DataFormatException(path, $"the file holds {volumes} volumes (dim[4..{rank}] = {string.Join("×", header.Dim.Skip(4).Take((int)rank - 3))}), not one: read one with NiftiReader.Read(path, volume) or all with NiftiReader.ReadVolumes(path).");
        }

        if (volume >= volumes)
        {
            throw new ArgumentOutOfRangeException(nameof(volume), volume, $"{path} holds {volumes} volume(s), numbered from 0.");
        }

        int firstVolume = volume is { } v0 && v0 >= 0 ? v0 : 0, lastVolume = volume is null ? (int)volumes - 1 : firstVolume;
        long count = (long)dims[0] * dims[1] * dims[2];
        if (count > Array.MaxLength)
        {
            throw new DataFormatException(path, $"{dims[0]}×{dims[1]}×{dims[2]} voxels are more than one array can hold ({Array.MaxLength}).");
        }

        // The voxels are streamed from the (decompressed) file volume by volume, so a 4-D file larger than an array can
        // hold reads as well as a small one, and a single volume of it is read without holding the others.
        long volumeBytes = count * elementSize;
        long needed = volumeBytes * (lastVolume + 1);
        string Truncated(long present) => $"file is truncated: {(lastVolume > 0 ? $"{lastVolume + 1} volumes of " : "")}{dims[0]}×{dims[1]}×{dims[2]} {dataType} voxels need {needed} bytes from offset {offset}, but only {present} are present.";
        var images = new List<NiftiImage>(Math.Min(lastVolume - firstVolume + 1, 1024));
        try
        {
            using var data = OpenMaybeGzip(dataPath);
            string End(long length) => $"file is truncated: the voxels start at vox_offset {voxOffset}, beyond the end of the file ({length} bytes{(data is GZipStream ? " decompressed" : "")}).";
            if (data.CanSeek)
            {
                // A plain file says how long it is: a header that asks for more than that is refused before anything is allocated.
                long length = data.Length;
                if (offset > length) throw new DataFormatException(dataPath, End(length));
                if (needed > length - offset) throw new DataFormatException(dataPath, Truncated(length - offset));
            }

            long reached = Skip(data, offset);
            if (reached < offset) throw new DataFormatException(dataPath, End(reached));
            long present = Skip(data, firstVolume * volumeBytes); // bytes present from the offset on
            var chunk = new byte[(int)Math.Min(volumeBytes, 1 << 20) / elementSize * elementSize];
            for (int k = firstVolume; k <= lastVolume && present == k * volumeBytes; k++)
            {
                var (voxels, got) = ReadVolume(data, chunk, checkedLength: data.CanSeek);
                present += got;
                if (got == volumeBytes) images.Add(new NiftiImage(voxels, dims, spacing, dataType, affine, affineCode));
            }

            if (present < needed) throw new DataFormatException(dataPath, Truncated(present));
        }
        catch (InvalidDataException ex)
        {
            throw new DataFormatException(dataPath, $"gzip data is corrupt ({ex.Message}).", ex);
        }

        return images.ToArray();

        // One volume's voxels from the stream, a chunk at a time, and the bytes read (fewer than a volume's at the end of
        // the data). The array grows with the data read, so a compressed file whose header claims more than it holds
        // costs memory for what it holds, not for what it claims (a plain file's length was checked: its array is made whole).
        (float[] Voxels, long Bytes) ReadVolume(Stream stream, byte[] buffer, bool checkedLength)
        {
            var voxels = new float[checkedLength ? count : Math.Min(count, 1 << 20)];
            long done = 0, at = 0;
            while (at < count)
            {
                int want = (int)Math.Min(buffer.Length, (count - at) * elementSize);
                int got = stream.ReadAtLeast(buffer.AsSpan(0, want), want, throwOnEndOfStream: false);
                done += got;
                if (at + (got / elementSize) > voxels.LongLength) Array.Resize(ref voxels, (int)Math.Min(count, Math.Max(voxels.LongLength * 2, at + (got / elementSize))));
                var d = new HeaderReader(buffer, bigEndian);
                for (int i = 0; i + elementSize <= got; i += elementSize, at++)
                {
                    double v = dataType switch
                    {
                        NiftiDataType.UInt8 => buffer[i],
                        NiftiDataType.Int8 => (sbyte)buffer[i],
                        NiftiDataType.Int16 => d.Int16(i),
                        NiftiDataType.UInt16 => (ushort)d.Int16(i),
                        NiftiDataType.Int32 => d.Int32(i),
                        NiftiDataType.UInt32 => (uint)d.Int32(i),
                        NiftiDataType.Int64 => d.Int64(i),
                        NiftiDataType.Float32 => d.Single(i),
                        _ => d.Double(i),
                    };
                    voxels[at] = scale ? (float)((v * slope) + inter) : (float)v;
                }

                if (got < want) break;
            }

            return (voxels, done);
        }

    }

    // The sform when sform_code > 0, else the qform when qform_code > 0 (nibabel's get_best_affine), else none. A
    // singular sform (some tools set sform_code but leave srow_* zero) gives way to a valid qform; with no qform to fall
    // back on, it is an error.
    private static (NiftiAffine? Affine, NiftiXformCode Code) ReadAffine(Header h, float[] spacing, string path)
    {
        int qformCode = h.QformCode, sformCode = h.SformCode;
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
                try
                {
                    return (new NiftiAffine((double[,])h.Srow.Clone()), (NiftiXformCode)sformCode);
                }
                catch (ArgumentException) when (qformCode > 0)
                {
                    // use the qform below
                }
            }

            if (qformCode > 0)
            {
                part = "qform (quatern_b/c/d, qoffset, pixdim)";
                var q = h.Quatern;
                return (NiftiAffine.FromQuaternion(q[0], q[1], q[2], (q[3], q[4], q[5]), spacing, h.PixDim[0] < 0 ? -1 : 1),
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

    // The header's version and byte order from sizeof_hdr (348 or 540, either byte order), its magic, and its fields.
    private static Header ReadHeader(byte[] bytes, string path)
    {
        if (bytes.Length < HeaderSize)
        {
            throw new DataFormatException(path, $"file is truncated: {bytes.Length} bytes, shorter than the 348-byte NIfTI-1 header.");
        }

        int sizeofHdr = BinaryPrimitives.ReadInt32LittleEndian(bytes);
        int swapped = BinaryPrimitives.ReverseEndianness(sizeofHdr);
        bool bigEndian = sizeofHdr is not (HeaderSize or Nifti2HeaderSize) && swapped is HeaderSize or Nifti2HeaderSize;
        int size = bigEndian ? swapped : sizeofHdr;
        if (size is not (HeaderSize or Nifti2HeaderSize))
        {
            throw new DataFormatException(path, $"not a NIfTI file: sizeof_hdr is {sizeofHdr}, expected 348 (NIfTI-1) or 540 (NIfTI-2).");
        }

        var h = new HeaderReader(bytes, bigEndian);
        if (size == HeaderSize)
        {
            string magic = System.Text.Encoding.ASCII.GetString(bytes, 344, 3);
            bool pair1 = magic == "ni1";
            if ((magic != "n+1" && !pair1) || bytes[347] != 0)
            {
                throw new DataFormatException(path, $"invalid NIfTI-1 magic '{System.Text.Encoding.ASCII.GetString(bytes, 344, 4).TrimEnd('\0')}' (expected 'n+1' or 'ni1').");
            }

            var srow1 = new double[3, 4];
            for (int r = 0; r < 3; r++)
                for (int c = 0; c < 4; c++)
                    srow1[r, c] = h.Single(280 + (16 * r) + (4 * c));
            return new Header
            {
                Version = 1,
                BigEndian = bigEndian,
                Pair = pair1,
                Dim = Enumerable.Range(0, 8).Select(i => (long)h.Int16(40 + (2 * i))).ToArray(),
                DataType = h.Int16(70),
                BitPix = h.Int16(72),
                PixDim = Enumerable.Range(0, 8).Select(i => (double)h.Single(76 + (4 * i))).ToArray(),
                VoxOffset = h.Single(108),
                Slope = h.Single(112),
                Inter = h.Single(116),
                QformCode = h.Int16(252),
                SformCode = h.Int16(254),
                Quatern = Enumerable.Range(0, 6).Select(i => (double)h.Single(256 + (4 * i))).ToArray(),
                Srow = srow1,
            };
        }

        if (bytes.Length < Nifti2HeaderSize)
        {
            throw new DataFormatException(path, $"file is truncated: {bytes.Length} bytes, shorter than the 540-byte NIfTI-2 header.");
        }

        // NIfTI-2 magic: "n+2" or "ni2", a NUL, then \r\n\x1a\n, which a transfer in text mode would have altered.
        string magic2 = System.Text.Encoding.ASCII.GetString(bytes, 4, 3);
        bool pair2 = magic2 == "ni2";
        if ((magic2 != "n+2" && !pair2) || bytes[7] != 0)
        {
            throw new DataFormatException(path, $"invalid NIfTI-2 magic '{System.Text.Encoding.ASCII.GetString(bytes, 4, 4).TrimEnd('\0')}' (expected 'n+2' or 'ni2').");
        }

        if (bytes[8] != 0x0D || bytes[9] != 0x0A || bytes[10] != 0x1A || bytes[11] != 0x0A)
        {
            throw new DataFormatException(path, "the NIfTI-2 signature after the magic is not \\r\\n\\x1a\\n: the file was altered in transfer (e.g. copied in text mode).");
        }

        var srow2 = new double[3, 4];
        for (int r = 0; r < 3; r++)
            for (int c = 0; c < 4; c++)
                srow2[r, c] = h.Double(400 + (32 * r) + (8 * c));
        return new Header
        {
            Version = 2,
            BigEndian = bigEndian,
            Pair = pair2,
            Dim = Enumerable.Range(0, 8).Select(i => h.Int64(16 + (8 * i))).ToArray(),
            DataType = h.Int16(12),
            BitPix = h.Int16(14),
            PixDim = Enumerable.Range(0, 8).Select(i => h.Double(104 + (8 * i))).ToArray(),
            VoxOffset = h.Int64(168),
            Slope = h.Double(176),
            Inter = h.Double(184),
            QformCode = h.Int32(344),
            SformCode = h.Int32(348),
            Quatern = Enumerable.Range(0, 6).Select(i => h.Double(352 + (8 * i))).ToArray(),
            Srow = srow2,
        };
    }

    internal static int ElementSize(NiftiDataType type) => type switch
    {
        NiftiDataType.UInt8 or NiftiDataType.Int8 => 1,
        NiftiDataType.Int16 or NiftiDataType.UInt16 => 2,
        NiftiDataType.Int32 or NiftiDataType.UInt32 or NiftiDataType.Float32 => 4,
        NiftiDataType.Float64 or NiftiDataType.Int64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    private static string ImagePathFor(string headerPath, int version)
    {
        string p = headerPath.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? headerPath[..^3] : headerPath;
        if (!p.EndsWith(".hdr", StringComparison.OrdinalIgnoreCase))
        {
            throw new DataFormatException(headerPath, $"magic 'ni{version}' marks a header/image pair, but the file is not a .hdr header.");
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

    // The file as a stream of its (decompressed, when it starts with gzip's magic) bytes.
    private static Stream OpenMaybeGzip(string path)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        int b0 = file.ReadByte(), b1 = file.ReadByte();
        file.Position = 0;
        return b0 == 0x1f && b1 == 0x8b ? new GZipStream(file, CompressionMode.Decompress) : file;
    }

    // The first bytes of the (decompressed) file: the header, or all there is when the file is shorter.
    private static byte[] ReadHeaderBytes(string path)
    {
        try
        {
            using var stream = OpenMaybeGzip(path);
            var buffer = new byte[Nifti2HeaderSize];
            int read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            return read == buffer.Length ? buffer : buffer[..read];
        }
        catch (InvalidDataException ex)
        {
            throw new DataFormatException(path, $"gzip data is corrupt ({ex.Message}).", ex);
        }
    }

    // Moves the stream count bytes on (seeking when it can); the bytes moved, fewer at the end of the data.
    private static long Skip(Stream stream, long count)
    {
        if (stream.CanSeek)
        {
            long moved = Math.Min(count, Math.Max(0, stream.Length - stream.Position));
            stream.Position += moved;
            return moved;
        }

        var scratch = new byte[1 << 16];
        long skipped = 0;
        while (skipped < count)
        {
            int got = stream.Read(scratch, 0, (int)Math.Min(scratch.Length, count - skipped));
            if (got == 0) break;
            skipped += got;
        }

        return skipped;
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
