using System.Globalization;
using System.Text;
using MedVision.Nets.Metrics;

namespace MedVision.Nets.Plotting;

/// <summary>
/// A confusion matrix drawn as an SVG heat map: true classes down the side, predicted classes along the bottom, each
/// cell showing its count and its share of the true class (the row), shaded by that share, so the diagonal reads as
/// per-class sensitivity. A class with no samples keeps a grey row. Write it with <see cref="SvgChart.Save"/>.
/// </summary>
public sealed class ConfusionMatrixChart : SvgChart
{
    // Approximate advance of a 12 px sans-serif character, used to size the label margins.
    private const double CharWidth = 7.0;
    private readonly string[] _names;

    /// <summary>Creates the chart of <paramref name="matrix"/>.</summary>
    /// <param name="matrix">The confusion matrix (rows true, columns predicted).</param>
    /// <param name="classNames">One name per class, or null for "class 0", "class 1", …</param>
    /// <param name="title">Chart title.</param>
    /// <exception cref="ArgumentException">The number of names differs from the number of classes.</exception>
    public ConfusionMatrixChart(ConfusionMatrix matrix, IReadOnlyList<string>? classNames = null, string? title = "Confusion matrix")
        : base(title)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        if (classNames is not null && classNames.Count != matrix.ClassCount)
            throw new ArgumentException($"The confusion matrix has {matrix.ClassCount} classes but {classNames.Count} class names were given.", nameof(classNames));
        Matrix = matrix;
        _names = Enumerable.Range(0, matrix.ClassCount)
            .Select(k => classNames is null ? $"class {k}" : ShortenName(classNames[k] ?? $"class {k}")).ToArray();
    }

    /// <summary>The matrix drawn.</summary>
    public ConfusionMatrix Matrix { get; }

    /// <summary>The class names shown (shortened to 24 characters).</summary>
    public IReadOnlyList<string> ClassNames => _names;

    /// <summary>Side of one cell in pixels, from 28 (many classes) to 72.</summary>
    public double CellSize => Math.Clamp(560.0 / Matrix.ClassCount, 28, 72);

    /// <summary>The share of true class <paramref name="actual"/> predicted as <paramref name="predicted"/>; NaN for a class with no samples.</summary>
    public double RowShare(int actual, int predicted)
    {
        long support = Matrix.Support(actual);
        return support == 0 ? double.NaN : (double)Matrix[actual, predicted] / support;
    }

    /// <inheritdoc />
    public override string ToSvg()
    {
        int k = Matrix.ClassCount;
        double cell = CellSize;
        double nameWidth = CharWidth * _names.Max(n => n.Length);
        double left = 40 + nameWidth + 10, top = 64;
        // Column names are written at −45°, so they need about 0.71 × their length below the matrix.
        double bottom = 0.71 * nameWidth + 48;
        var ci = CultureInfo.InvariantCulture;
        string subtitle = $"{Matrix.Total} samples · accuracy {Matrix.Accuracy.ToString("F3", ci)} · shade and %: share of the true class";
        // Wide enough for the matrix and for both title lines (15 px title ≈ 8.75 px per character).
        double matrixExtent = left + k * cell + 30;
        double width = Math.Max(matrixExtent, Math.Max(CharWidth * subtitle.Length, 8.75 * Title.Length) + 24);
        double height = top + k * cell + bottom;
        left += (width - matrixExtent) / 2; // centre the matrix and its labels on a canvas widened for the titles
        string F(double v) => v.ToString("0.##", ci);
        var sb = new StringBuilder();
        sb.AppendLine(ci, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{F(width)}\" height=\"{F(height)}\" viewBox=\"0 0 {F(width)} {F(height)}\" font-family=\"sans-serif\" font-size=\"12\">");
        sb.AppendLine(ci, $"<rect width=\"{F(width)}\" height=\"{F(height)}\" fill=\"white\"/>");
        sb.AppendLine(ci, $"<text x=\"{F(width / 2)}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">{Escape(Title)}</text>");
        sb.AppendLine(ci, $"<text x=\"{F(width / 2)}\" y=\"42\" text-anchor=\"middle\" fill=\"#555\">{subtitle}</text>");
        bool twoLines = cell >= 40;
        for (int a = 0; a < k; a++)
        {
            double y = top + a * cell;
            sb.AppendLine(ci, $"<text x=\"{F(left - 8)}\" y=\"{F(y + cell / 2 + 4)}\" text-anchor=\"end\">{Escape(_names[a])}</text>");
            for (int p = 0; p < k; p++)
            {
                double x = left + p * cell, share = RowShare(a, p);
                string fill = double.IsNaN(share) ? "#eeeeee" : Shade(share);
                string ink = !double.IsNaN(share) && share > 0.5 ? "white" : "#222";
                sb.AppendLine(ci, $"<rect x=\"{F(x)}\" y=\"{F(y)}\" width=\"{F(cell)}\" height=\"{F(cell)}\" fill=\"{fill}\" stroke=\"white\"><title>true {Escape(_names[a])} → predicted {Escape(_names[p])}: {Matrix[a, p]}</title></rect>");
                string count = Matrix[a, p].ToString(ci);
                if (twoLines && !double.IsNaN(share))
                {
                    sb.AppendLine(ci, $"<text x=\"{F(x + cell / 2)}\" y=\"{F(y + cell / 2 - 2)}\" text-anchor=\"middle\" fill=\"{ink}\">{count}</text>");
                    sb.AppendLine(ci, $"<text x=\"{F(x + cell / 2)}\" y=\"{F(y + cell / 2 + 12)}\" text-anchor=\"middle\" font-size=\"10\" fill=\"{ink}\">{(100 * share).ToString("0", ci)}%</text>");
                }
                else
                {
                    sb.AppendLine(ci, $"<text x=\"{F(x + cell / 2)}\" y=\"{F(y + cell / 2 + 4)}\" text-anchor=\"middle\" font-size=\"{(cell < 36 ? 10 : 12)}\" fill=\"{ink}\">{count}</text>");
                }
            }
        }

        double matrixBottom = top + k * cell;
        for (int p = 0; p < k; p++)
        {
            double x = left + p * cell + cell / 2;
            sb.AppendLine(ci, $"<text transform=\"translate({F(x + 4)} {F(matrixBottom + 12)}) rotate(-45)\" text-anchor=\"end\">{Escape(_names[p])}</text>");
        }

        sb.AppendLine(ci, $"<rect x=\"{F(left)}\" y=\"{F(top)}\" width=\"{F(k * cell)}\" height=\"{F(k * cell)}\" fill=\"none\" stroke=\"#333\"/>");
        sb.AppendLine(ci, $"<text x=\"{F(left + k * cell / 2)}\" y=\"{F(height - 12)}\" text-anchor=\"middle\">predicted class</text>");
        sb.AppendLine(ci, $"<text transform=\"translate({F(left - nameWidth - 22)} {F(top + k * cell / 2)}) rotate(-90)\" text-anchor=\"middle\">true class</text>");
        sb.AppendLine("</svg>");
        return sb.ToString();
    }

    // White to matplotlib's "Blues" dark end (#08306b), linear in RGB.
    private static string Shade(double share)
    {
        double t = Math.Clamp(share, 0, 1);
        int Mix(int from, int to) => (int)Math.Round(from + (to - from) * t);
        return $"#{Mix(0xff, 0x08):x2}{Mix(0xff, 0x30):x2}{Mix(0xff, 0x6b):x2}";
    }
}
