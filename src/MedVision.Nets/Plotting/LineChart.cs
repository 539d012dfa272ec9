using System.Globalization;
using System.Text;

namespace MedVision.Nets.Plotting;

/// <summary>
/// A small, dependency-free line chart rendered as SVG: axes with round-number ticks, grid, legend and any number of
/// series. Used for training curves and ROC curves; write it with <see cref="SvgChart.Save"/> (atomic) or <see cref="ToSvg"/>.
/// </summary>
public sealed class LineChart : SvgChart
{
    // Matplotlib's tab10 followed by the light halves of tab20: 20 distinct colours before any repeats
    // (a ChestMNIST per-label ROC chart has 14 curves and the chance line).
    private static readonly string[] Palette =
    {
        "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
        "#aec7e8", "#ff9896", "#98df8a", "#ffbb78", "#c5b0d5", "#c49c94", "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
    };

    // Approximate advance of a 12 px sans-serif character, used to size the legend column.
    private const double LegendCharWidth = 7.0;
    private readonly List<PlotSeries> _series = new();

    /// <summary>Creates an empty chart.</summary>
    public LineChart(string? title, string? xLabel, string? yLabel)
        : base(title)
    {
        XLabel = xLabel ?? "";
        YLabel = yLabel ?? "";
    }

    /// <summary>X-axis label.</summary>
    public string XLabel { get; }
    /// <summary>Y-axis label.</summary>
    public string YLabel { get; }
    /// <summary>Fixed x range, or null to fit the data.</summary>
    public (double Min, double Max)? XRange { get; set; }
    /// <summary>Fixed y range, or null to fit the data.</summary>
    public (double Min, double Max)? YRange { get; set; }
    /// <summary>Width in pixels (default 720).</summary>
    public int Width { get; set; } = 720;
    /// <summary>Height in pixels (default 440).</summary>
    public int Height { get; set; } = 440;
    /// <summary>The series.</summary>
    public IReadOnlyList<PlotSeries> Series => _series;

    /// <summary>Adds a series; returns the chart.</summary>
    public LineChart Add(PlotSeries series)
    {
        ArgumentNullException.ThrowIfNull(series);
        if (series.X.Count != series.Y.Count) throw new ArgumentException($"Series '{series.Name}' has {series.X.Count} x values but {series.Y.Count} y values.", nameof(series));
        _series.Add(series);
        return this;
    }

    /// <summary>Adds a series from values; returns the chart.</summary>
    public LineChart Add(string name, IReadOnlyList<double> x, IReadOnlyList<double> y, bool dashed = false)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        return Add(new PlotSeries(name, x, y, dashed));
    }

    /// <inheritdoc />
    public override string ToSvg()
    {
        const double left = 70, top = 40, bottom = 55;
        int longestName = _series.Count == 0 ? 0 : _series.Max(s => s.Name.Length);
        double right = Math.Min(Math.Max(170, 42 + LegendCharWidth * longestName + 8), Width * 0.45);
        double legendStep = _series.Count == 0 ? 20 : Math.Min(20, (Height - top - 8) / _series.Count);
        double plotW = Width - left - right, plotH = Height - top - bottom;
        var (xMin, xMax) = XRange ?? Fit(_series.SelectMany(s => s.X));
        var (yMin, yMax) = YRange ?? Fit(_series.SelectMany(s => s.Y));
        var xTicks = Ticks(xMin, xMax);
        var yTicks = Ticks(yMin, yMax);
        if (XRange is null) (xMin, xMax) = (Math.Min(xMin, xTicks[0]), Math.Max(xMax, xTicks[^1]));
        if (YRange is null) (yMin, yMax) = (Math.Min(yMin, yTicks[0]), Math.Max(yMax, yTicks[^1]));
        double Px(double x) => left + (xMax == xMin ? 0.5 : (x - xMin) / (xMax - xMin)) * plotW;
        double Py(double y) => top + plotH - (yMax == yMin ? 0.5 : (y - yMin) / (yMax - yMin)) * plotH;
        var ci = CultureInfo.InvariantCulture;
        string F(double v) => v.ToString("0.##", ci);
        var sb = new StringBuilder();
        sb.AppendLine(ci, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" font-family=\"sans-serif\" font-size=\"12\">");
        sb.AppendLine(ci, $"<rect width=\"{Width}\" height=\"{Height}\" fill=\"white\"/>");
        sb.AppendLine(ci, $"<text x=\"{F(left + plotW / 2)}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">{Escape(Title)}</text>");
        foreach (var t in xTicks.Where(t => t >= xMin - 1e-12 && t <= xMax + 1e-12))
        {
            sb.AppendLine(ci, $"<line x1=\"{F(Px(t))}\" y1=\"{F(top)}\" x2=\"{F(Px(t))}\" y2=\"{F(top + plotH)}\" stroke=\"#e5e5e5\"/>");
            sb.AppendLine(ci, $"<text x=\"{F(Px(t))}\" y=\"{F(top + plotH + 18)}\" text-anchor=\"middle\">{Label(t)}</text>");
        }
        foreach (var t in yTicks.Where(t => t >= yMin - 1e-12 && t <= yMax + 1e-12))
        {
            sb.AppendLine(ci, $"<line x1=\"{F(left)}\" y1=\"{F(Py(t))}\" x2=\"{F(left + plotW)}\" y2=\"{F(Py(t))}\" stroke=\"#e5e5e5\"/>");
            sb.AppendLine(ci, $"<text x=\"{F(left - 8)}\" y=\"{F(Py(t) + 4)}\" text-anchor=\"end\">{Label(t)}</text>");
        }
        sb.AppendLine(ci, $"<rect x=\"{F(left)}\" y=\"{F(top)}\" width=\"{F(plotW)}\" height=\"{F(plotH)}\" fill=\"none\" stroke=\"#333\"/>");
        // Lines stop at the plot's frame when a fixed range leaves points outside it.
        bool clip = XRange is not null || YRange is not null;
        if (clip) sb.AppendLine(ci, $"<clipPath id=\"plot-area\"><rect x=\"{F(left)}\" y=\"{F(top)}\" width=\"{F(plotW)}\" height=\"{F(plotH)}\"/></clipPath>");
        sb.AppendLine(ci, $"<text x=\"{F(left + plotW / 2)}\" y=\"{F(Height - 12)}\" text-anchor=\"middle\">{Escape(XLabel)}</text>");
        sb.AppendLine(ci, $"<text transform=\"translate(18 {F(top + plotH / 2)}) rotate(-90)\" text-anchor=\"middle\">{Escape(YLabel)}</text>");
        for (int i = 0; i < _series.Count; i++)
        {
            var s = _series[i];
            var colour = Palette[i % Palette.Length];
            var path = new StringBuilder();
            bool penDown = false;
            for (int j = 0; j < s.X.Count; j++)
            {
                if (!double.IsFinite(s.X[j]) || !double.IsFinite(s.Y[j])) { penDown = false; continue; }
                path.Append(penDown ? " L" : " M").Append(F(Px(s.X[j]))).Append(',').Append(F(Py(s.Y[j])));
                penDown = true;
            }
            if (path.Length > 0)
                sb.AppendLine(ci, $"<path d=\"{path.ToString().Trim()}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"{(s.Dashed ? " stroke-dasharray=\"6 4\"" : "")}{(clip ? " clip-path=\"url(#plot-area)\"" : "")}/>");
            double ly = top + 14 + i * legendStep;
            sb.AppendLine(ci, $"<line x1=\"{F(left + plotW + 12)}\" y1=\"{F(ly - 4)}\" x2=\"{F(left + plotW + 36)}\" y2=\"{F(ly - 4)}\" stroke=\"{colour}\" stroke-width=\"2\"{(s.Dashed ? " stroke-dasharray=\"6 4\"" : "")}/>");
            sb.AppendLine(ci, $"<text x=\"{F(left + plotW + 42)}\" y=\"{F(ly)}\">{Escape(s.Name)}</text>");
        }
        sb.AppendLine("</svg>");
        return sb.ToString();
    }

    private static string Label(double v) => Math.Abs(v) >= 1e4 || (Math.Abs(v) < 1e-3 && v != 0)
        ? v.ToString("0.##E0", CultureInfo.InvariantCulture)
        : v.ToString("0.###", CultureInfo.InvariantCulture);

    private static (double, double) Fit(IEnumerable<double> values)
    {
        var finite = values.Where(double.IsFinite).ToList();
        if (finite.Count == 0) return (0, 1);
        double min = finite.Min(), max = finite.Max();
        return min == max ? (min - 0.5, max + 0.5) : (min, max);
    }

    /// <summary>Round-number ticks (1, 2 or 5 × 10^k steps) covering [min, max].</summary>
    internal static double[] Ticks(double min, double max, int target = 6)
    {
        double span = max - min;
        double raw = span / target;
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = new[] { 1.0, 2.0, 5.0, 10.0 }.Select(m => m * magnitude).First(s => s >= raw);
        double first = Math.Floor(min / step) * step, last = Math.Ceiling(max / step) * step;
        int n = (int)Math.Round((last - first) / step) + 1;
        return Enumerable.Range(0, n).Select(i => Math.Round(first + i * step, 12)).ToArray();
    }
}
