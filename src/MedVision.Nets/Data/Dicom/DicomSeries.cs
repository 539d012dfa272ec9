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
/// without positions, from SpacingBetweenSlices or SliceThickness. A single multi-frame file is a series of its frames:
/// an enhanced file's frames (Enhanced CT, MR, PET) are ordered by the positions in their functional groups like files,
/// each rescaled with its own slope and intercept; a file whose frames repeat positions (several echoes, time points or
/// stacks) is refused with the frames' time points and stacks named, and <see cref="FromFrames"/> builds the volume of
/// the frames chosen.
/// </remarks>
public sealed class DicomSeries
{
    private readonly IReadOnlyList<Plane> _planes;

    // One slice of the volume: a frame of a file, with what the frame says about itself.
    private readonly record struct Plane(DicomFile File, int Frame, DicomFrameInfo Info)
    {
        public string Name => File.NumberOfFrames > 1 ? $"{File.SourceName} (frame {Frame + 1})" : File.SourceName;
    }

    private DicomSeries(string uid, IReadOnlyList<Plane> planes, bool framesAreSlices, double[] spacing, string? subset = null)
    {
        SeriesInstanceUid = uid;
        Subset = subset;
        _planes = planes;
        Slices = framesAreSlices ? [planes[0].File] : planes.Select(p => p.File).ToList();
        Frames = planes.Select(p => p.Frame).ToList();
        FramesAreSlices = framesAreSlices;
        Spacing = spacing;
    }

    /// <summary>The SeriesInstanceUID ("" when the files have none).</summary>
    public string SeriesInstanceUid { get; }

    /// <summary>
    /// Which frames of a multi-frame file this volume holds when the file holds several volumes (echoes, time points,
    /// b-values, stacks), e.g. "dimension index values 1\2\*"; <see langword="null"/> for a whole series.
    /// </summary>
    public string? Subset { get; }

    /// <summary>The files in spatial order (one multi-frame file when <see cref="FramesAreSlices"/>).</summary>
    public IReadOnlyList<DicomFile> Slices { get; }

    /// <summary>
    /// The frame that is each slice, in spatial order: the multi-frame file's frame numbers (0-based) when
    /// <see cref="FramesAreSlices"/>, else 0 for every file of <see cref="Slices"/>.
    /// </summary>
    public IReadOnlyList<int> Frames { get; }

    /// <summary>True when the series is one multi-frame file whose frames are the slices.</summary>
    public bool FramesAreSlices { get; }

    /// <summary>Voxel spacing (x, y, z) in mm: column spacing, row spacing, slice spacing.</summary>
    public IReadOnlyList<double> Spacing { get; }

    /// <summary>Columns, rows and slices (X, Y, Z).</summary>
    public (int X, int Y, int Z) Size => (Slices[0].Columns, Slices[0].Rows, _planes.Count);

    /// <summary>What each slice says about itself (position, orientation, rescaling, window), in spatial order.</summary>
    public IReadOnlyList<DicomFrameInfo> SliceInfos => _planes.Select(p => p.Info).ToList();

    /// <summary>
    /// Reads every DICOM file (Part 10, with the 'DICM' preamble) with pixel data in <paramref name="folder"/> and
    /// groups them into series, largest first. Other files (text, DICOMDIR, structured reports) are skipped; a DICOM
    /// file that cannot be read stops the reading with an exception naming it. An enhanced multi-frame file that holds
    /// several volumes (its frames repeat positions) gives one series per volume when its frame content tells them apart
    /// (<see cref="Subset"/>): by the DimensionIndexValues with the in-stack dimension left out, or else by stack and
    /// temporal position.
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
            .SelectMany(g => AssembleAll(g.Key, g.ToList()))
            .OrderByDescending(s => s.Size.Z).ThenBy(s => s.SeriesInstanceUid, StringComparer.Ordinal) // stable: a file's volumes keep their order
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
        {
            var chosen = all.Where(s => s.SeriesInstanceUid == seriesInstanceUid).ToList();
            return chosen.Count switch
            {
                0 => throw new DataFormatException(folder, $"no series {seriesInstanceUid}; the folder holds: {Describe(all)}."),
                1 => chosen[0],
                _ => throw new DataFormatException(folder, $"series {seriesInstanceUid} holds {chosen.Count} volumes ({Describe(chosen)}); pick one from DicomSeries.ReadFolder."),
            };
        }
        return all.Count switch
        {
            0 => throw new DataFormatException(folder, "the folder holds no DICOM images."),
            1 => all[0],
            _ when all.Select(s => s.SeriesInstanceUid).Distinct().Count() == 1
                => throw new DataFormatException(folder, $"series {all[0].SeriesInstanceUid} holds {all.Count} volumes ({Describe(all)}); pick one from DicomSeries.ReadFolder."),
            _ => throw new DataFormatException(folder, $"the folder holds {all.Count} series ({Describe(all)}); name the one to read."),
        };
    }

    private static string Describe(IReadOnlyList<DicomSeries> all)
        => all.Count == 0 ? "no series" : string.Join(", ", all.Select(s => $"{(s.SeriesInstanceUid.Length > 0 ? s.SeriesInstanceUid : "(no UID)")} ({s.Size.Z} slices{(s.Subset is null ? "" : $", {s.Subset}")})"));

    /// <summary>
    /// The volume of some frames of a multi-frame file, in spatial order: one echo, time point or stack of an enhanced
    /// MR or PET file whose frames as a whole do not form one volume, e.g.
    /// <c>FromFrames(file, Enumerable.Range(0, file.NumberOfFrames).Where(f =&gt; file.GetFrameInfo(f).TemporalPositionIndex == 1))</c>.
    /// </summary>
    /// <exception cref="ArgumentException">No frames, a frame out of range, or a frame named twice.</exception>
    /// <exception cref="DataFormatException">The chosen frames do not form one volume (positions repeated, uneven, or orientations differ).</exception>
    public static DicomSeries FromFrames(DicomFile file, IEnumerable<int> frames)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(frames);
        var chosen = frames.ToList();
        if (chosen.Count == 0) throw new ArgumentException("Choose at least one frame.", nameof(frames));
        foreach (var f in chosen)
            if (f < 0 || f >= file.NumberOfFrames)
                throw new ArgumentException($"Frame {f} does not exist: {file.SourceName} has {file.NumberOfFrames} frame(s), numbered from 0.", nameof(frames));
        if (chosen.Distinct().Count() != chosen.Count) throw new ArgumentException("A frame is named more than once.", nameof(frames));
        if (!file.HasPixelData) throw new DataFormatException(file.SourceName, "the file has no pixel data (7FE0,0010).");
        return Assemble(file.SeriesInstanceUid, chosen.Select(f => new Plane(file, f, file.GetFrameInfo(f))).ToList(), framesAreSlices: true);
    }

    // A group's series: one, or, for one multi-frame file holding several volumes, one per volume.
    private static IEnumerable<DicomSeries> AssembleAll(string uid, List<DicomFile> files)
    {
        try
        {
            return [Assemble(uid, files)];
        }
        catch (DataFormatException) when (files.Count == 1 && files[0].NumberOfFrames > 1 && Split(uid, files[0]) is { } parts)
        {
            return parts;
        }
    }

    // The volumes of a multi-frame file whose frames repeat positions, told apart by their frame content, or null. First
    // the DimensionIndexValues without one index (the in-stack position), tried index by index; then (StackID,
    // TemporalPositionIndex). A split counts when every part forms a volume with at least two slices.
    private static List<DicomSeries>? Split(string uid, DicomFile file)
    {
        var planes = Enumerable.Range(0, file.NumberOfFrames).Select(f => new Plane(file, f, file.GetFrameInfo(f))).ToList();
        var keys = new List<(Func<Plane, string> Key, Func<Plane, string> Label)>();
        if (planes.All(p => p.Info.DimensionIndexValues is { Count: > 1 }) && planes.Select(p => p.Info.DimensionIndexValues!.Count).Distinct().Count() == 1)
        {
            int dimensions = planes[0].Info.DimensionIndexValues!.Count;
            // The index that is every frame's InStackPositionNumber (the in-stack dimension) is the one to leave out: try
            // it first, so that two slabs are not split into pairs of slices of the same in-stack position instead.
            bool InStack(int d) => planes.All(p => p.Info.InStackPositionNumber is long n && p.Info.DimensionIndexValues![d] == n);
            foreach (int left in Enumerable.Range(0, dimensions).OrderBy(d => InStack(d) ? 0 : 1))
            {
                int skipped = left;
                string Values(Plane p) => string.Join("\\", p.Info.DimensionIndexValues!.Select((v, i) => i == skipped ? "*" : v.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                keys.Add((Values, p => $"dimension index values {Values(p)}"));
            }
        }
        if (planes.Any(p => p.Info.StackId is not null || p.Info.TemporalPositionIndex is not null))
            keys.Add((p => $"{p.Info.StackId}|{p.Info.TemporalPositionIndex}",
                      p => string.Join(", ", new[] { p.Info.StackId is { } stack ? $"stack {stack}" : null, p.Info.TemporalPositionIndex is { } time ? $"temporal position {time}" : null }.Where(t => t is not null))));
        foreach (var (key, label) in keys)
        {
            var groups = planes.GroupBy(key).ToList();
            if (groups.Count < 2 || groups.Any(g => g.Count() < 2)) continue;
            try
            {
                var parts = groups.Select(g => Assemble(uid, g.ToList(), framesAreSlices: true)).ToList();
                return parts.Select((part, i) => new DicomSeries(uid, part._planes, true, [.. part.Spacing], label(groups[i].First()))).ToList();
            }
            catch (DataFormatException)
            {
                // not this way: try the next key
            }
        }
        return null;
    }

    private static DicomSeries Assemble(string uid, List<DicomFile> files)
    {
        if (files.Count == 1 && files[0].NumberOfFrames > 1)
            return Assemble(uid, Enumerable.Range(0, files[0].NumberOfFrames).Select(f => new Plane(files[0], f, files[0].GetFrameInfo(f))).ToList(), framesAreSlices: true);
        if (files.Count > 1 && files.FirstOrDefault(f => f.NumberOfFrames > 1) is { } multi)
            throw new DataFormatException(multi.SourceName, $"a multi-frame file ({multi.NumberOfFrames} frames) among the {files.Count} files of series {uid}.");
        return Assemble(uid, files.Select(f => new Plane(f, 0, f.GetFrameInfo(0))).ToList(), framesAreSlices: false);
    }

    private static DicomSeries Assemble(string uid, List<Plane> planes, bool framesAreSlices)
    {
        var first = planes[0];
        foreach (var f in planes.Select(p => p.File).Distinct())
        {
            if (f.Rows != first.File.Rows || f.Columns != first.File.Columns)
                throw new DataFormatException(f.SourceName, $"its {f.Columns}×{f.Rows} images do not match the {first.File.Columns}×{first.File.Rows} of {first.File.SourceName} in series {uid}.");
            if (f.Channels != 1)
                throw new DataFormatException(f.SourceName, $"a volume is built from grey images; this one is {f.PhotometricInterpretation} ({f.Channels} channels).");
        }
        if (first.Info.PixelSpacing is { } ps && !ps.All(v => double.IsFinite(v) && v > 0))
            throw new DataFormatException(first.File.SourceName, $"the pixel spacing of {first.Name} is {string.Join("\\", ps)}: spacings must be positive.");
        double columnSpacing = first.Info.PixelSpacing?[1] ?? 1, rowSpacing = first.Info.PixelSpacing?[0] ?? 1;
        double fallback = new[] { first.Info.SpacingBetweenSlices, first.Info.SliceThickness }.FirstOrDefault(v => v is > 0 && double.IsFinite(v.Value)) ?? 1;
        foreach (var p in planes)
            if ((p.Info.ImagePositionPatient ?? []).Concat(p.Info.ImageOrientationPatient ?? []).Any(v => !double.IsFinite(v)))
                throw new DataFormatException(p.File.SourceName, $"the position or orientation of {p.Name} is not a finite number.");
        if (planes.Count == 1)
            return new DicomSeries(uid, planes, framesAreSlices, [columnSpacing, rowSpacing, fallback]);

        if (planes.All(p => p.Info.ImagePositionPatient is not null && p.Info.ImageOrientationPatient is not null))
        {
            var o = first.Info.ImageOrientationPatient!;
            foreach (var p in planes)
                if (p.Info.ImageOrientationPatient!.Zip(o, (a, b) => Math.Abs(a - b)).Max() > 1e-4)
                    throw new DataFormatException(p.File.SourceName, $"the orientation of {p.Name} differs from {first.Name}'s: the slices of series {uid} do not form one volume.");
            var (nx, ny, nz) = SliceNormal(o);
            double Along(Plane p) => p.Info.ImagePositionPatient![0] * nx + p.Info.ImagePositionPatient[1] * ny + p.Info.ImagePositionPatient[2] * nz;
            var ordered = planes.OrderBy(Along).ToList();
            var steps = ordered.Zip(ordered.Skip(1), (a, b) => (A: a, B: b, Step: Along(b) - Along(a))).ToList();
            if (steps.FirstOrDefault(s => s.Step < 1e-4) is { A.File: not null } duplicate)
                throw new DataFormatException(duplicate.B.File.SourceName, framesAreSlices
                    ? $"{duplicate.B.Name} lies at the same position as frame {duplicate.A.Frame + 1}: {RepeatedPositions(ordered)}"
                    : $"it lies at the same position as {duplicate.A.Name} (series {uid}): repeated acquisitions or echoes must be separated first.");
            double mean = steps.Average(s => s.Step);
            if (steps.Any(s => Math.Abs(s.Step - mean) > 0.01 * mean + 1e-3))
                throw new DataFormatException(ordered[0].File.SourceName, $"the slices of series {uid} are not evenly spaced ({steps.Min(s => s.Step):G4}–{steps.Max(s => s.Step):G4} mm apart): missing slices or a variable-spacing acquisition.");
            return new DicomSeries(uid, ordered, framesAreSlices, [columnSpacing, rowSpacing, mean]);
        }
        var byNumber = framesAreSlices
            ? planes.All(p => p.Info.InStackPositionNumber is not null) && planes.Select(p => p.Info.StackId).Distinct().Count() == 1
                ? planes.OrderBy(p => p.Info.InStackPositionNumber).ToList()
                : planes
            : planes.All(p => p.File.InstanceNumber is not null)
                ? planes.OrderBy(p => p.File.InstanceNumber).ToList()
                : planes.OrderBy(p => p.File.SourceName, StringComparer.Ordinal).ToList();
        return new DicomSeries(uid, byNumber, framesAreSlices, [columnSpacing, rowSpacing, fallback]);
    }

    // Why the frames of one file repeat positions, as far as their frame content says, and what to do about it.
    private static string RepeatedPositions(List<Plane> planes)
    {
        var parts = new List<string>();
        var times = planes.Select(p => p.Info.TemporalPositionIndex).Where(t => t is not null).Distinct().Count();
        var stacks = planes.Select(p => p.Info.StackId).Where(s => s is not null).Distinct().Count();
        if (times > 1) parts.Add($"{times} temporal positions");
        if (stacks > 1) parts.Add($"{stacks} stacks");
        string held = parts.Count > 0 ? $"it holds {string.Join(" and ", parts)}" : "it holds several volumes (echoes, time points or stacks)";
        return $"the file's {planes.Count} frames are not one volume ({held}); build one volume at a time with DicomSeries.FromFrames, choosing frames by their GetFrameInfo.";
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
            var values = _planes[k].File.GetFrame(_planes[k].Frame);
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
    /// position to the last's (which follows a gantry tilt), or along the slice normal for one slice.
    /// <see langword="null"/> when the files carry no orientation or position.
    /// </summary>
    public NiftiAffine? PatientAffine()
    {
        var first = _planes[0];
        if (first.Info.ImageOrientationPatient is not { } o || first.Info.ImagePositionPatient is not { } p) return null;
        double[] step;
        int n = _planes.Count;
        if (n > 1 && _planes[^1].Info.ImagePositionPatient is { } last)
        {
            step = [(last[0] - p[0]) / (n - 1), (last[1] - p[1]) / (n - 1), (last[2] - p[2]) / (n - 1)];
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
            throw new DataFormatException(first.File.SourceName, $"its ImageOrientationPatient ({string.Join(", ", o)}) and positions do not span a volume: {e.Message}", e);
        }
    }
}
