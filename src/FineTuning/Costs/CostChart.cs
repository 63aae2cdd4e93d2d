using FineTuning.Training;
using ScottPlot;

namespace FineTuning.Costs;

/// <summary>
/// A PNG chart of a <see cref="CostReport"/>: three bar panels side by side, one bar per mode: median step time,
/// gradient memory, and peak memory, with the machine in the caption.
/// </summary>
public static class CostChart
{
    private const double MiB = 1024 * 1024;

    /// <summary>Writes the chart to <paramref name="path"/> atomically.</summary>
    /// <param name="report">The measured report.</param>
    /// <param name="path">The PNG file.</param>
    /// <param name="width">Width in pixels.</param>
    /// <param name="height">Height in pixels.</param>
    public static void Save(CostReport report, string path, int width = 1800, int height = 560)
    {
        AtomicFile.WriteAllBytes(path, Render(report, width, height));
    }

    /// <summary>Renders the chart as PNG bytes.</summary>
    /// <param name="report">The measured report.</param>
    /// <param name="width">Width in pixels.</param>
    /// <param name="height">Height in pixels.</param>
    public static byte[] Render(CostReport report, int width = 1800, int height = 560)
    {
        ArgumentNullException.ThrowIfNull(report);
        var multiplot = new Multiplot();
        multiplot.AddPlots(3);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        var names = report.Modes.Select(m => m.Name).ToArray();

        Panel(multiplot.GetPlot(0), names, report.Modes.Select(m => m.StepMs).ToArray(),
            "Median step time", "milliseconds", "F0");
        Panel(multiplot.GetPlot(1), names, report.Modes.Select(m => m.GradientBytes / MiB).ToArray(),
            "Gradients after backward", "MiB", "F1");
        Panel(multiplot.GetPlot(2), names, report.Modes.Select(m => (m.PeakMemoryBytes ?? 0) / MiB).ToArray(),
            "Peak memory (process)", "MiB", "F0");
        multiplot.GetPlot(0).XLabel(
            $"{report.Model}, batch {report.BatchSize}, {report.ImageSize}x{report.ImageSize}, {report.Machine.Device}");
        multiplot.GetPlot(2).XLabel($"{report.Machine.Processor}, {report.Machine.Cores} cores");
        return multiplot.Render(width, height).GetImageBytes(ImageFormat.Png);
    }

    private static void Panel(Plot plot, string[] names, double[] values, string title, string unit, string format)
    {
        var palette = new ScottPlot.Palettes.Category10();
        var bars = values.Select((value, i) => new Bar
        {
            Position = i,
            Value = value,
            FillColor = palette.GetColor(i),
            Label = value.ToString(format, System.Globalization.CultureInfo.InvariantCulture),
        }).ToArray();
        var barPlot = plot.Add.Bars(bars);
        barPlot.ValueLabelStyle.FontSize = 14;
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, names.Length).Select(i => (double)i).ToArray(), names);
        plot.Axes.Margins(bottom: 0, top: 0.15);
        plot.Title(title);
        plot.YLabel(unit);
    }
}
