namespace MedVision.Nets.Data.Dicom;

/// <summary>
/// A decoder for lossless JPEG (ITU-T T.81 process 14, annex H: Huffman-coded differences from one of seven
/// predictors), the "JPEG Lossless" transfer syntaxes of DICOM (1.2.840.10008.1.2.4.57 and .70) in which CT and MR
/// archives are often stored. 2–16 bits per sample, 1–4 components (interleaved with one sample of each per MCU, or one
/// scan per component), point transform and restart intervals. Not: hierarchical or arithmetic-coded JPEG.
/// </summary>
internal static class LosslessJpeg
{
    /// <summary>The decoded image: samples (row-major, components interleaved), size and precision.</summary>
    internal sealed record Image(ushort[] Samples, int Width, int Height, int Components, int Precision);

    private sealed class Component
    {
        public int Id;
        public int H;
        public int V;
        public int DcTable;
    }

    private sealed class HuffmanTable
    {
        // Canonical Huffman decoding (T.81 F.2.2.3): for each code length, the largest code, and where its symbols start.
        public readonly int[] MaxCode = new int[18];
        public readonly int[] ValPtr = new int[17];
        public readonly int[] MinCode = new int[17];
        public byte[] Values = [];
    }

    /// <summary>Decodes one lossless JPEG image, which must have the size and component count the container says.</summary>
    /// <exception cref="DataFormatException">The stream is corrupt or truncated, or its frame is not width × height × components.</exception>
    /// <exception cref="NotSupportedException">The stream uses a JPEG process other than lossless Huffman (e.g. baseline, arithmetic, hierarchical).</exception>
    public static Image Decode(byte[] data, string sourceName, int expectedWidth, int expectedHeight, int expectedComponents)
    {
        if (data.Length < 4 || data[0] != 0xFF || data[1] != 0xD8) throw new DataFormatException(sourceName, "the JPEG stream does not start with an SOI marker.");
        var tables = new HuffmanTable?[4];
        Component[]? frame = null;
        int precision = 0, width = 0, height = 0, restartInterval = 0;
        ushort[]? samples = null;
        int at = 2;
        while (true)
        {
            // Markers may be preceded by any number of 0xFF fill bytes.
            while (at < data.Length && data[at] != 0xFF) at++;
            while (at < data.Length && data[at] == 0xFF) at++;
            if (at >= data.Length) throw new DataFormatException(sourceName, "the JPEG stream ends before its EOI marker.");
            byte marker = data[at++];
            if (marker == 0xD9) break; // EOI
            if (marker is >= 0xD0 and <= 0xD7 or 0x01) continue; // stray RSTn / TEM: no length
            int length = Segment(data, at, sourceName);
            int body = at + 2, end = at + length;
            switch (marker)
            {
                case 0xC3: // SOF3: lossless, Huffman
                    if (length < 8) throw new DataFormatException(sourceName, "the JPEG frame header is truncated.");
                    precision = data[body];
                    height = (data[body + 1] << 8) | data[body + 2];
                    width = (data[body + 3] << 8) | data[body + 4];
                    int count = data[body + 5];
                    if (precision is < 2 or > 16) throw new DataFormatException(sourceName, $"lossless JPEG precision {precision} is outside 2–16 bits.");
                    if (width < 1 || height < 1 || count is < 1 or > 4) throw new DataFormatException(sourceName, $"invalid JPEG frame: {width}×{height}, {count} component(s).");
                    if (width != expectedWidth || height != expectedHeight || count != expectedComponents)
                        throw new DataFormatException(sourceName, $"the JPEG frame is {width}×{height} with {count} component(s), but the header says {expectedWidth}×{expectedHeight} with {expectedComponents}.");
                    if (length < 8 + (3 * count)) throw new DataFormatException(sourceName, "the JPEG frame header is truncated.");
                    var components = new Component[count];
                    for (int i = 0; i < count; i++)
                    {
                        int c = body + 6 + (3 * i);
                        components[i] = new Component { Id = data[c], H = data[c + 1] >> 4, V = data[c + 1] & 15 };
                        if (components[i].H != components[0].H || components[i].V != components[0].V)
                            throw new NotSupportedException($"{sourceName}: lossless JPEG with subsampled components is not supported.");
                    }
                    frame = components;
                    samples = new ushort[(long)width * height * count];
                    break;
                case 0xC0 or 0xC1 or 0xC2 or 0xC5 or 0xC6 or 0xC7 or 0xC9 or 0xCA or 0xCB or 0xCD or 0xCE or 0xCF:
                    throw new NotSupportedException($"{sourceName}: the JPEG stream is not lossless Huffman-coded (SOF marker 0xFF{marker:X2}); this decoder reads process 14 only.");
                case 0xC4: // DHT
                    ReadHuffmanTables(data, body, end, tables, sourceName);
                    break;
                case 0xDD: // DRI
                    if (length != 4) throw new DataFormatException(sourceName, $"invalid JPEG restart-interval segment of {length} bytes.");
                    restartInterval = (data[body] << 8) | data[body + 1];
                    break;
                case 0xDA: // SOS
                    if (frame is null || samples is null) throw new DataFormatException(sourceName, "the JPEG scan comes before its frame header (SOF3).");
                    if (length < 3) throw new DataFormatException(sourceName, "the JPEG scan header is truncated.");
                    at = DecodeScan(data, body, end, frame, tables, samples, width, height, precision, restartInterval, sourceName);
                    continue;
            }

            at = end;
        }

        if (samples is null) throw new DataFormatException(sourceName, "the JPEG stream has no frame (SOF3).");
        return new Image(samples, width, height, frame!.Length, precision);
    }

    private static int Segment(byte[] data, int at, string sourceName)
    {
        if (at + 2 > data.Length) throw new DataFormatException(sourceName, "the JPEG stream is truncated inside a marker segment.");
        int length = (data[at] << 8) | data[at + 1];
        if (length < 2 || at + length > data.Length) throw new DataFormatException(sourceName, $"a JPEG marker segment of {length} bytes runs past the end of the stream.");
        return length;
    }

    private static void ReadHuffmanTables(byte[] data, int at, int end, HuffmanTable?[] tables, string sourceName)
    {
        while (at < end)
        {
            int tc = data[at] >> 4, th = data[at] & 15;
            if (tc != 0 || th > 3) throw new DataFormatException(sourceName, $"invalid lossless JPEG Huffman table (class {tc}, id {th}).");
            if (at + 17 > end) throw new DataFormatException(sourceName, "a JPEG Huffman table is truncated.");
            var table = new HuffmanTable();
            int total = 0;
            var counts = new int[17];
            for (int l = 1; l <= 16; l++) total += counts[l] = data[at + l];
            if (at + 17 + total > end || total > 256) throw new DataFormatException(sourceName, "a JPEG Huffman table is truncated.");
            table.Values = data.AsSpan(at + 17, total).ToArray();
            int code = 0, k = 0;
            for (int l = 1; l <= 16; l++)
            {
                if (counts[l] == 0)
                {
                    table.MaxCode[l] = -1;
                }
                else
                {
                    table.ValPtr[l] = k;
                    table.MinCode[l] = code;
                    code += counts[l];
                    k += counts[l];
                    table.MaxCode[l] = code - 1;
                }

                code <<= 1;
            }

            table.MaxCode[17] = int.MaxValue;
            tables[th] = table;
            at += 17 + total;
        }
    }

    private static int DecodeScan(byte[] data, int header, int headerEnd, Component[] frame, HuffmanTable?[] tables, ushort[] samples,
        int width, int height, int precision, int restartInterval, string sourceName)
    {
        int count = data[header];
        if (count < 1 || header + 1 + (2 * count) + 3 > headerEnd) throw new DataFormatException(sourceName, "the JPEG scan header is truncated.");
        var scan = new int[count]; // indices into frame
        for (int i = 0; i < count; i++)
        {
            int id = data[header + 1 + (2 * i)];
            int index = Array.FindIndex(frame, c => c.Id == id);
            if (index < 0) throw new DataFormatException(sourceName, $"the JPEG scan names component {id}, which the frame does not have.");
            frame[index].DcTable = data[header + 2 + (2 * i)] >> 4;
            if (frame[index].DcTable > 3 || tables[frame[index].DcTable] is null)
                throw new DataFormatException(sourceName, $"the JPEG scan uses Huffman table {frame[index].DcTable}, which was not defined.");
            scan[i] = index;
        }

        int p = header + 1 + (2 * count);
        int predictor = data[p], pointTransform = data[p + 2] & 15;
        if (predictor is < 1 or > 7) throw new DataFormatException(sourceName, $"invalid lossless JPEG predictor (selection value) {predictor}.");
        if (pointTransform >= precision) throw new DataFormatException(sourceName, $"point transform {pointTransform} leaves no bits of a {precision}-bit sample.");

        int components = frame.Length;
        var reader = new BitReader(data, headerEnd, sourceName);
        int bits = precision - pointTransform;
        int mask = (1 << bits) - 1;
        int initial = 1 << (bits - 1);
        // The predictions work on the point-transformed values; samples are shifted back up when stored.
        var previousRow = new int[count][];
        var currentRow = new int[count][];
        for (int s = 0; s < count; s++)
        {
            previousRow[s] = new int[width];
            currentRow[s] = new int[width];
        }

        long mcus = 0;
        bool firstLineOfInterval = true;
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                if (restartInterval > 0 && mcus > 0 && mcus % restartInterval == 0)
                {
                    if (x != 0) throw new NotSupportedException($"{sourceName}: a lossless JPEG restart interval of {restartInterval} that does not end at a row is not supported.");
                    reader.Restart();
                    firstLineOfInterval = true;
                }

                for (int s = 0; s < count; s++)
                {
                    var table = tables[frame[scan[s]].DcTable]!;
                    int category = reader.DecodeCategory(table);
                    int difference = category switch
                    {
                        0 => 0,
                        16 => 32768,
                        > 16 => throw new DataFormatException(sourceName, $"invalid lossless JPEG difference category {category}."),
                        _ => Extend(reader.ReadBits(category), category),
                    };
                    int prediction;
                    if (firstLineOfInterval)
                    {
                        prediction = x == 0 ? initial : currentRow[s][x - 1];
                    }
                    else if (x == 0)
                    {
                        prediction = previousRow[s][0];
                    }
                    else
                    {
                        int a = currentRow[s][x - 1], b = previousRow[s][x], c = previousRow[s][x - 1];
                        prediction = predictor switch
                        {
                            1 => a,
                            2 => b,
                            3 => c,
                            4 => a + b - c,
                            5 => a + ((b - c) >> 1),
                            6 => b + ((a - c) >> 1),
                            _ => (a + b) >> 1,
                        };
                    }

                    int value = (prediction + difference) & 0xFFFF & mask;
                    currentRow[s][x] = value;
                    samples[(((long)y * width) + x) * components + scan[s]] = (ushort)(value << pointTransform);
                }

                mcus++;
            }

            firstLineOfInterval = false;
            (previousRow, currentRow) = (currentRow, previousRow);
        }

        return reader.End();
    }

    private static int Extend(int value, int bits) => value < (1 << (bits - 1)) ? value - (1 << bits) + 1 : value;

    /// <summary>Reads the entropy-coded bytes of a scan: 0xFF 0x00 is a data byte 0xFF; other markers end the data.</summary>
    private sealed class BitReader(byte[] data, int start, string sourceName)
    {
        private int _at = start;
        private int _buffer;
        private int _count;
        private bool _atMarker;

        public int ReadBit()
        {
            if (_count == 0) Fill();
            _count--;
            return (_buffer >> _count) & 1;
        }

        public int ReadBits(int n)
        {
            int v = 0;
            for (int i = 0; i < n; i++) v = (v << 1) | ReadBit();
            return v;
        }

        public int DecodeCategory(HuffmanTable table)
        {
            int code = ReadBit();
            int length = 1;
            while (code > table.MaxCode[length])
            {
                code = (code << 1) | ReadBit();
                length++;
                if (length > 16) throw new DataFormatException(sourceName, "the lossless JPEG data hold a Huffman code the table does not define (corrupt data).");
            }

            return table.Values[table.ValPtr[length] + code - table.MinCode[length]];
        }

        private void Fill()
        {
            if (_atMarker || _at >= data.Length)
            {
                // Past the data (a marker or the end): T.81 pads with 1-bits; running out inside a scan means truncation.
                if (_at >= data.Length && !_atMarker) throw new DataFormatException(sourceName, "the lossless JPEG data are truncated.");
                _buffer = 0xFF;
                _count = 8;
                return;
            }

            int b = data[_at];
            if (b == 0xFF)
            {
                if (_at + 1 >= data.Length) throw new DataFormatException(sourceName, "the lossless JPEG data are truncated.");
                if (data[_at + 1] == 0x00)
                {
                    _at += 2;
                }
                else
                {
                    _atMarker = true; // leave the marker for Restart / End
                    _buffer = 0xFF;
                    _count = 8;
                    return;
                }
            }
            else
            {
                _at++;
            }

            _buffer = b;
            _count = 8;
        }

        public void Restart()
        {
            _count = 0;
            _atMarker = false;
            while (_at < data.Length && data[_at] != 0xFF) _at++;
            if (_at + 1 >= data.Length || data[_at + 1] is < 0xD0 or > 0xD7)
                throw new DataFormatException(sourceName, "a restart marker (RSTn) is missing from the lossless JPEG data.");
            _at += 2;
        }

        /// <summary>Where the next marker after the scan's data starts.</summary>
        public int End()
        {
            while (_at < data.Length && !(data[_at] == 0xFF && _at + 1 < data.Length && data[_at + 1] != 0x00)) _at++;
            return _at;
        }
    }
}
