using FineTuning.Training;
using ScottPlot;

namespace FineTuning.Evaluation;

/// <summary>PNG charts of a run (ScottPlot): training curves and the confusion matrix, written atomically.</summary>
public static class Charts
{
    /// <summary>
    /// Writes loss (top) and accuracy (bottom) per epoch, training and validation, to <paramref name="path"/>.
    /// </summary>
    public static void TrainingCurves(IReadOnlyList<EpochMetrics> history, string path, int width = 800,
        int height = 700)
    {
        ArgumentNullException.ThrowIfNull(history);
        var epochs = history.Select(h => (double)h.Epoch).ToArray();
        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        var loss = multiplot.GetPlot(0);
        var accuracy = multiplot.GetPlot(1);

        var trainColor = Colors.C0;
        var valColor = Colors.C1;
        var trainLoss = loss.Add.Scatter(epochs, history.Select(h => h.TrainLoss).ToArray(), trainColor);
        trainLoss.LegendText = "train";
        var trainAccuracy = accuracy.Add.Scatter(epochs, history.Select(h => h.TrainAccuracy).ToArray(), trainColor);
        trainAccuracy.LegendText = "train";
        var withVal = history.Where(h => h.ValLoss is not null).ToList();
        if (withVal.Count > 0)
        {
            var valEpochs = withVal.Select(h => (double)h.Epoch).ToArray();
            loss.Add.Scatter(valEpochs, withVal.Select(h => h.ValLoss!.Value).ToArray(), valColor).LegendText =
                "validation";
            accuracy.Add.Scatter(valEpochs, withVal.Select(h => h.ValAccuracy!.Value).ToArray(), valColor)
                .LegendText = "validation";
        }

        foreach (var plot in new[] { loss, accuracy })
        {
            var step = Math.Max(1, (int)Math.Ceiling(epochs.Length / 20.0));
            var ticks = epochs.Where((_, i) => i % step == 0).ToArray();
            plot.Axes.Bottom.SetTicks(ticks,
                ticks.Select(t => t.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray());
        }
        loss.Title("Cross-entropy per epoch");
        loss.YLabel("loss (nats)");
        loss.ShowLegend();
        accuracy.Title("Accuracy per epoch");
        accuracy.XLabel("epoch");
        accuracy.YLabel("accuracy");
        accuracy.Axes.SetLimitsY(0, 1.05);
        accuracy.ShowLegend();
        SaveAtomically(path, temp => multiplot.SavePng(temp, width, height));
    }

    /// <summary>
    /// Writes the confusion matrix of <paramref name="report"/> as a heatmap to <paramref name="path"/>: rows are
    /// true classes (top to bottom), columns predicted ones; each cell is shaded by the fraction of its row, and
    /// shows its count when there are at most 30 classes.
    /// </summary>
    public static void ConfusionMatrix(EvaluationReport report, string path, int? size = null)
    {
        ArgumentNullException.ThrowIfNull(report);
        var n = report.Classes.Count;
        var plot = new Plot();
        var colormap = new ScottPlot.Colormaps.Viridis();
        for (var actual = 0; actual < n; actual++)
        {
            var rowTotal = Math.Max(1, report.ConfusionMatrix[actual].Sum());
            for (var predicted = 0; predicted < n; predicted++)
            {
                var count = report.ConfusionMatrix[actual][predicted];
                var fraction = count / (double)rowTotal;
                var y = n - 1 - actual;
                var cell = plot.Add.Rectangle(predicted - 0.5, predicted + 0.5, y - 0.5, y + 0.5);
                cell.FillColor = colormap.GetColor(fraction);
                cell.LineWidth = 0;
                if (n <= 30)
                {
                    var text = plot.Add.Text(count.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        predicted, y);
                    text.LabelAlignment = Alignment.MiddleCenter;
                    text.LabelFontColor = fraction > 0.5 ? Colors.Black : Colors.White;
                    text.LabelFontSize = n <= 10 ? 16 : 10;
                }
            }
        }

        var positions = Enumerable.Range(0, n).Select(i => (double)i).ToArray();
        var names = report.Classes.ToArray();
        plot.Axes.Bottom.SetTicks(positions, names);
        plot.Axes.Bottom.TickLabelStyle.Rotation = -45;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleRight;
        plot.Axes.Bottom.MinimumSize = 12 + (7 * names.Max(name => name.Length));
        plot.Axes.Left.SetTicks(positions.Reverse().ToArray(), names);
        plot.Axes.SetLimits(-0.5, n - 0.5, -0.5, n - 0.5);
        plot.XLabel("predicted");
        plot.YLabel("actual");
        plot.Title(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"Confusion matrix: {report.Images} images, accuracy {report.Accuracy:P1}"));
        var side = size ?? Math.Clamp(300 + (n * 40), 500, 3000);
        SaveAtomically(path, temp => plot.SavePng(temp, side, side));
    }

    private static void SaveAtomically(string path, Action<string> save)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileNameWithoutExtension(full)}.{Guid.NewGuid():N}.png");
        try
        {
            save(temp);
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }
}
