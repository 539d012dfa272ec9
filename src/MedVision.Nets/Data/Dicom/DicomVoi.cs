using System.Buffers.Binary;

namespace MedVision.Nets.Data.Dicom;

/// <summary>
/// The VOI (value of interest) transformations of DICOM PS3.3 C.11.2, mapping modality values to [0, 1] for display and
/// the image pipelines: a window with its VOI LUT Function (LINEAR, LINEAR_EXACT, SIGMOID), or a VOI LUT.
/// </summary>
internal static class DicomVoi
{
    /// <summary>
    /// Maps <paramref name="values"/> in place through the window (<paramref name="center"/>, <paramref name="width"/>)
    /// with the VOI LUT Function <paramref name="function"/>, scaled to [0, 1] (C.11.2.1.2–3). LINEAR needs a width of
    /// at least 1 (1 is a threshold at center − ½).
    /// </summary>
    /// <exception cref="NotSupportedException">An unknown function.</exception>
    public static void Window(float[] values, double center, double width, string function, string sourceName)
    {
        switch (function)
        {
            case "LINEAR" or "LINEAR_EXACT":
                double c = center, w = width;
                if (function == "LINEAR") { c -= 0.5; w -= 1; }
                double low = c - w / 2, high = c + w / 2;
                for (int i = 0; i < values.Length; i++)
                {
                    double x = values[i];
                    values[i] = x <= low ? 0f : x > high ? 1f : (float)((x - c) / w + 0.5);
                }
                break;
            case "SIGMOID":
                for (int i = 0; i < values.Length; i++)
                    values[i] = (float)(1 / (1 + Math.Exp(-4 * (values[i] - center) / width)));
                break;
            default:
                throw new NotSupportedException($"{sourceName}: the VOI LUT Function {function} is not supported (LINEAR, LINEAR_EXACT or SIGMOID).");
        }
    }
}
