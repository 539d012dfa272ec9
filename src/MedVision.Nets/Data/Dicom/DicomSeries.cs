using MedVision.Nets.Data.Nifti;

namespace MedVision.Nets.Data.Dicom;

/// <summary>
/// The slices of one DICOM series (one SeriesInstanceUID) in spatial order, stacked into a volume
/// (<see cref="ToVolume"/>): the step from a scanner's export folder to the library's 3-D pipelines, like dcm2niix.
/// </summary>
/// <remarks>
/// Slices are ordered along the slice normal (the cross product of ImageOrientationPatient's row and column directions)
/// by the projection of ImagePositionPatient, as DICOM geometry requires; without positions, by InstanceNumber, and
/// without those, by file name. The slice spacing comes from the positions (which must be evenly spaced and distinct);
/// without positions, from SpacingBetweenSlices or SliceThickness. A single multi-frame file is a series of its frames.
/// </remarks>
public sealed class DicomSeries
{
    private DicomSeries(string uid, IReadOnlyList<DicomFile> slices, bool framesAreSlices, double[] spacing)
    {
        SeriesInstanceUid = uid;
        Slices = slices;
        FramesAreSlices = framesAreSlices;
        Spacing = spacing;
    }

    /// <summary>The SeriesInstanceUID ("" when the files have none).</summary>
    public string SeriesInstanceUid { get; }

    /// <summary>The files in spatial order (one multi-frame file when <see cref="FramesAreSlices"/>).</summary>
    public IReadOnlyList<DicomFile> Slices { get; }

    /// <summary>True when the series is one multi-frame file whose frames are the slices.</summary>
    public bool FramesAreSlices { get; }

    /// <summary>Voxel spacing (x, y, z) in mm: column spacing, row spacing, slice spacing.</summary>
    public IReadOnlyList<double> Spacing { get; }

    /// <summary>Columns, rows and slices (X, Y, Z).</summary>
    public (int X, int Y, int Z) Size => (Slices[0].Columns, Slices[0].Rows, FramesAreSlices ? Slices[0].NumberOfFrames : Slices.Count);

    /// <summary>
    /// Reads every DICOM file (Part 10, with the 'DICM' preamble) with pixel data in <paramref name="folder"/> and
    /// groups them into series, largest first. Other files (text, DICOMDIR, structured reports) are skipped; a DICOM
    /// file that cannot be read stops the reading with an exception naming it.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="DataFormatException">A file is corrupt, or a series' slices do not form a volume.</exception>
    public static IReadOnlyList<DicomSeries> ReadFolder(string folder, bool recursive = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"The DICOM folder '{folder}' does not exist.");
        var files = new List<DicomFile>();
        foreach (var path in Directory.EnumerateFiles(folder, "*", recursive ? SearchOption.AllDirectories : SearchOption.TopDirectoryOnly).Order(StringComparer.Ordinal))
        {
            var head = new byte[132];
            int read;
            using (var stream = File.OpenRead(path)) read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
            if (read < head.Length || !DicomFile.HasPreamble(head)) continue;
            var file = DicomFile.Read(path);
            if (file.HasPixelData) files.Add(file);
        }
        return files.GroupBy(f => f.SeriesInstanceUid)
            .Select(g => Assemble(g.Key, g.ToList()))
            .OrderByDescending(s => s.Size.Z).ThenBy(s => s.SeriesInstanceUid, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>
    /// Reads the one series in <paramref name="folder"/>, or the series <paramref name="seriesInstanceUid"/> when the
    /// folder holds several.
    /// </summary>
    /// <exception cref="DataFormatException">No series, several series and none chosen, or the chosen one is missing.</exception>
    public static DicomSeries Read(string folder, string? seriesInstanceUid = null)
    {
        var all = ReadFolder(folder);
        if (seriesInstanceUid is not null)
            return all.FirstOrDefault(s => s.SeriesInstanceUid == seriesInstanceUid)
                ?? throw new DataFormatException(folder, $"no series {seriesInstanceUid}; the folder holds: {Describe(all)}.");
        return all.Count switch
        {
            0 => throw new DataFormatException(folder, "the folder holds no DICOM images."),
            1 => all[0],
            _ => throw new DataFormatException(folder, $"the folder holds {all.Count} series ({Describe(all)}); name the one to read."),
        };
    }

    private static string Describe(IReadOnlyList<DicomSeries> all)
        => all.Count == 0 ? "no series" : string.Join(", ", all.Select(s => $"{(s.SeriesInstanceUid.Length > 0 ? s.SeriesInstanceUid : "(no UID)")} ({s.Size.Z} slices)"));

    private static DicomSeries Assemble(string uid, List<DicomFile> files)
    {
        var first = files[0];
        foreach (var f in files)
        {
            if (f.Rows != first.Rows || f.Columns != first.Columns)
                throw new DataFormatException(f.SourceName, $"its {f.Columns}×{f.Rows} images do not match the {first.Columns}×{first.Rows} of {first.SourceName} in series {uid}.");
            if (f.SamplesPerPixel != 1)
                throw new DataFormatException(f.SourceName, $"a volume is built from grey images; this one has {f.SamplesPerPixel} samples per pixel.");
        }
        double columnSpacing = first.PixelSpacing?[1] ?? 1, rowSpacing = first.PixelSpacing?[0] ?? 1;
        double fallback = first.SpacingBetweenSlices ?? first.SliceThickness ?? 1;
        if (files.Count == 1)
            return new DicomSeries(uid, files, framesAreSlices: first.NumberOfFrames > 1, new[] { columnSpacing, rowSpacing, fallback });
        if (files.FirstOrDefault(f => f.NumberOfFrames > 1) is { } multi)
            throw new DataFormatException(multi.SourceName, $"a multi-frame file ({multi.NumberOfFrames} frames) among the {files.Count} files of series {uid}.");

        if (files.All(f => f.ImagePositionPatient is not null && f.ImageOrientationPatient is not null))
        {
            var o = first.ImageOrientationPatient!;
            foreach (var f in files)
                if (f.ImageOrientationPatient!.Zip(o, (a, b) => Math.Abs(a - b)).Max() > 1e-4)
                    throw new DataFormatException(f.SourceName, $"its orientation differs from {first.SourceName}'s: the slices of series {uid} do not form one volume.");
            var (nx, ny, nz) = SliceNormal(o);
            double Along(DicomFile f) => f.ImagePositionPatient![0] * nx + f.ImagePositionPatient[1] * ny + f.ImagePositionPatient[2] * nz;
            var ordered = files.OrderBy(Along).ToList();
            var steps = ordered.Zip(ordered.Skip(1), (a, b) => (A: a, B: b, Step: Along(b) - Along(a))).ToList();
            if (steps.FirstOrDefault(s => s.Step < 1e-4) is { A: not null } duplicate)
                throw new DataFormatException(duplicate.B.SourceName, $"it lies at the same position as {duplicate.A.SourceName} (series {uid}): repeated acquisitions or echoes must be separated first.");
            double mean = steps.Average(s => s.Step);
            if (steps.Any(s => Math.Abs(s.Step - mean) > 0.01 * mean + 1e-3))
                throw new DataFormatException(ordered[0].SourceName, $"the slices of series {uid} are not evenly spaced ({steps.Min(s => s.Step):G4}–{steps.Max(s => s.Step):G4} mm apart): missing slices or a variable-spacing acquisition.");
            return new DicomSeries(uid, ordered, false, new[] { columnSpacing, rowSpacing, mean });
        }
        var byNumber = files.All(f => f.InstanceNumber is not null)
            ? files.OrderBy(f => f.InstanceNumber).ToList()
            : files.OrderBy(f => f.SourceName, StringComparer.Ordinal).ToList();
        return new DicomSeries(uid, byNumber, false, new[] { columnSpacing, rowSpacing, fallback });
    }

    /// <summary>
    /// The series as a volume of modality values (Hounsfield units for CT), shape (X, Y, Z) = (columns, rows, slices),
    /// x-fastest, with <see cref="Spacing"/>; ready for the NIfTI writer and the 3-D pipelines.
    /// </summary>
    public NiftiImage ToVolume()
    {
        var (x, y, z) = Size;
        int plane = x * y;
        var voxels = new float[(long)plane * z];
        for (int k = 0; k < z; k++)
        {
            var values = FramesAreSlices ? Slices[0].GetFrame(k) : Slices[k].GetFrame(0);
            Array.Copy(values, 0, voxels, (long)k * plane, plane);
        }
        return new NiftiImage(voxels, new[] { x, y, z }, Spacing.Select(s => (float)s).ToArray(), affine: PatientAffine());
    }

    // The slice normal: the cross product of ImageOrientationPatient's row and column directions.
    private static (double X, double Y, double Z) SliceNormal(IReadOnlyList<double> o) =>
        ((o[1] * o[5]) - (o[2] * o[4]), (o[2] * o[3]) - (o[0] * o[5]), (o[0] * o[4]) - (o[1] * o[3]));

    /// <summary>
    /// The voxel-to-world affine in NIfTI's RAS+ convention from ImageOrientationPatient and ImagePositionPatient
    /// (DICOM's patient coordinates are LPS+, so x and y change sign); the slice axis steps from the first slice's
    /// position to the last's (which follows a gantry tilt), or along the slice normal for one file.
    /// <see langword="null"/> when the files carry no orientation or position.
    /// </summary>
    public NiftiAffine? PatientAffine()
    {
        var first = Slices[0];
        if (first.ImageOrientationPatient is not { } o || first.ImagePositionPatient is not { } p) return null;
        double[] step;
        if (!FramesAreSlices && Slices.Count > 1 && Slices[^1].ImagePositionPatient is { } last)
        {
            step = [(last[0] - p[0]) / (Slices.Count - 1), (last[1] - p[1]) / (Slices.Count - 1), (last[2] - p[2]) / (Slices.Count - 1)];
        }
        else
        {
            var (nx, ny, nz) = SliceNormal(o);
            step = [nx * Spacing[2], ny * Spacing[2], nz * Spacing[2]];
        }

        try
        {
            return new NiftiAffine(new double[,]
            {
                { -o[0] * Spacing[0], -o[3] * Spacing[1], -step[0], -p[0] },
                { -o[1] * Spacing[0], -o[4] * Spacing[1], -step[1], -p[1] },
                { o[2] * Spacing[0], o[5] * Spacing[1], step[2], p[2] },
            });
        }
        catch (ArgumentException e)
        {
            throw new DataFormatException(first.SourceName, $"its ImageOrientationPatient ({string.Join(", ", o)}) and positions do not span a volume: {e.Message}", e);
        }
    }
}
