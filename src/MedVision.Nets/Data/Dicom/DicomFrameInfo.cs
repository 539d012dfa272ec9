namespace MedVision.Nets.Data.Dicom;

/// <summary>
/// What one frame of a DICOM file says about itself: where it lies, how its stored values map to modality values, how
/// to window it, and where it sits among the file's stacks and time points (<see cref="DicomFile.GetFrameInfo"/>).
/// </summary>
/// <remarks>
/// In an enhanced multi-frame file (Enhanced CT, MR, PET, XA, …) these attributes live in the functional groups (PS3.3
/// C.7.6.16): the frame's item of the Per-frame Functional Groups Sequence first, then the Shared Functional Groups
/// Sequence, then the top-level data set. In other files they are the top-level attributes, the same for every frame.
/// </remarks>
public sealed class DicomFrameInfo
{
    /// <summary>
    /// ImagePositionPatient: x, y, z (mm, DICOM's LPS+ patient coordinates) of the frame's first voxel, when known (in a
    /// multi-frame file without functional groups only the first frame's position is known).
    /// </summary>
    public IReadOnlyList<double>? ImagePositionPatient { get; init; }

    /// <summary>ImageOrientationPatient: the row direction cosines, then the column direction cosines, when known.</summary>
    public IReadOnlyList<double>? ImageOrientationPatient { get; init; }

    /// <summary>PixelSpacing (row spacing, column spacing) in mm, when known.</summary>
    public IReadOnlyList<double>? PixelSpacing { get; init; }

    /// <summary>SliceThickness in mm, when known.</summary>
    public double? SliceThickness { get; init; }

    /// <summary>SpacingBetweenSlices in mm, when known.</summary>
    public double? SpacingBetweenSlices { get; init; }

    /// <summary>RescaleSlope of the frame (1 when absent).</summary>
    public double RescaleSlope { get; init; } = 1;

    /// <summary>RescaleIntercept of the frame (0 when absent).</summary>
    public double RescaleIntercept { get; init; }

    /// <summary>The frame's first WindowCenter/WindowWidth pair, when present.</summary>
    public (double Center, double Width)? Window { get; init; }

    /// <summary>The VOI LUT Function that applies <see cref="Window"/>: LINEAR (the default), LINEAR_EXACT or SIGMOID.</summary>
    public string VoiLutFunction { get; init => field = value ?? throw new ArgumentNullException(nameof(VoiLutFunction)); } = "LINEAR";

    /// <summary>StackID (FrameContentSequence): which stack of an enhanced file the frame belongs to, when given.</summary>
    public string? StackId { get; init; }

    /// <summary>InStackPositionNumber (FrameContentSequence): the frame's 1-based position within its stack, when given.</summary>
    public long? InStackPositionNumber { get; init; }

    /// <summary>TemporalPositionIndex (FrameContentSequence): the frame's 1-based time point, when given.</summary>
    public long? TemporalPositionIndex { get; init; }

    /// <summary>DimensionIndexValues (FrameContentSequence): the frame's index along each of the file's dimensions, when given.</summary>
    public IReadOnlyList<long>? DimensionIndexValues { get; init; }
}
