namespace MedVision.Nets.Data.Dicom;

/// <summary>
/// A frame decoded by one of the native codecs (JPEG-LS, JPEG 2000): the stored sample values, row-major with the
/// components of a pixel next to each other, as the codestream describes them.
/// </summary>
/// <param name="Samples">Width × height × components values; signed codestreams give signed values.</param>
/// <param name="Width">Columns.</param>
/// <param name="Height">Rows.</param>
/// <param name="Components">Samples per pixel.</param>
/// <param name="Precision">Bits per sample in the codestream.</param>
internal sealed record CodecFrame(int[] Samples, int Width, int Height, int Components, int Precision);
