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

    /// <summary>A VOI LUT (C.11.2.1.1): modality values below the first mapped one take the first entry, those past the end the last.</summary>
    internal sealed class Lut
    {
        private readonly float[] _unit; // entries scaled to [0, 1] by 2^bits − 1
        private readonly int _first;

        private Lut(float[] unit, int first)
        {
            _unit = unit;
            _first = first;
        }

        /// <summary>The first item of the file's VOI LUT Sequence (0028,3010), or null when it has none.</summary>
        /// <exception cref="DataFormatException">The LUT's descriptor or data are missing or inconsistent.</exception>
        public static Lut? Read(DicomDataSet set, bool signed)
        {
            if (set.GetSequence(0x0028, 0x3010) is not [var item, ..]) return null;
            string source = set.SourceName;
            var raw = item.GetBytes(0x0028, 0x3002)
                ?? throw new DataFormatException(source, "the VOI LUT Sequence's item has no LUT Descriptor (0028,3002).");
            if (raw.Length != 6) throw new DataFormatException(source, $"the VOI LUT Descriptor holds {raw.Length} bytes, not three 16-bit values.");
            var d = raw.Span;
            int entries = BinaryPrimitives.ReadUInt16LittleEndian(d);
            if (entries == 0) entries = 65536;
            int first = signed ? BinaryPrimitives.ReadInt16LittleEndian(d[2..]) : BinaryPrimitives.ReadUInt16LittleEndian(d[2..]);
            int bits = BinaryPrimitives.ReadUInt16LittleEndian(d[4..]);
            if (bits is < 8 or > 16) throw new DataFormatException(source, $"the VOI LUT has {bits} bits per entry (8 to 16).");
            var data = item.GetBytes(0x0028, 0x3006)
                ?? throw new DataFormatException(source, "the VOI LUT Sequence's item has no LUT Data (0028,3006).");
            if (data.Length != 2 * entries)
                throw new DataFormatException(source, $"the VOI LUT Data hold {data.Length} bytes for {entries} 16-bit entries.");
            double max = (1 << bits) - 1;
            var unit = new float[entries];
            for (int i = 0; i < entries; i++)
            {
                int v = BinaryPrimitives.ReadUInt16LittleEndian(data.Span[(2 * i)..]);
                if (v > max) throw new DataFormatException(source, $"VOI LUT entry {i} is {v}, more than {bits} bits hold.");
                unit[i] = (float)(v / max);
            }
            return new Lut(unit, first);
        }

        /// <summary>Maps modality values in place to [0, 1].</summary>
        public void Apply(float[] values)
        {
            int last = _unit.Length - 1;
            for (int i = 0; i < values.Length; i++)
                values[i] = _unit[(int)Math.Clamp(Math.Floor(values[i]) - _first, 0, last)];
        }
    }
}
