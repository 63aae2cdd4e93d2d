using System.Globalization;
using System.Net;
using System.Text;
using TorchSharp;

namespace FineTuning.Inspection;

/// <summary>One module in a <see cref="ModelSummary"/>.</summary>
/// <param name="Path">Dotted module path (<c>layer1.0.conv1</c>).</param>
/// <param name="Type">Class name (<c>Conv2d</c>).</param>
/// <param name="Depth">1 for the model's direct children, 2 for theirs, and so on.</param>
/// <param name="OutputShape">Shape the module returned on the dummy input (its last call), or null when the
/// model's forward never called it.</param>
/// <param name="Calls">How many times forward called it (0, 1, or more for a shared module).</param>
/// <param name="Parameters">Parameter elements in the module and everything under it.</param>
/// <param name="Trainable">How many of those have <c>requires_grad == true</c>.</param>
public sealed record SummaryRow(
    string Path, string Type, int Depth, long[]? OutputShape, int Calls, long Parameters, long Trainable);

/// <summary>
/// A table of a model's modules (path, type, output shape on a dummy input, parameters, trainable parameters) with
/// totals, as aligned text for a console and as HTML for a notebook.
/// </summary>
/// <remarks>
/// Output shapes come from forward hooks on one random input (<see cref="ModuleTrace.Run"/>: evaluation mode,
/// <c>no_grad</c>, everything disposed, training flags restored). Rows follow registration order, depth first, as
/// the printout does; a container's parameter count includes its children, so the column does not add up, and
/// the totals are counted once per parameter.
/// </remarks>
public sealed class ModelSummary
{
    private ModelSummary(
        string modelType, IReadOnlyList<SummaryRow> rows, long[] inputShape, long[] outputShape, ParameterCounts totals)
    {
        ModelType = modelType;
        Rows = rows;
        InputShape = inputShape;
        OutputShape = outputShape;
        Totals = totals;
    }

    /// <summary>The model's class name.</summary>
    public string ModelType { get; }

    /// <summary>One row per module under the model, registration order, depth first.</summary>
    public IReadOnlyList<SummaryRow> Rows { get; }

    /// <summary>The dummy input's shape, batch first.</summary>
    public long[] InputShape { get; }

    /// <summary>The model's output shape for that input.</summary>
    public long[] OutputShape { get; }

    /// <summary>Trainable and total parameters (and their bytes) of the whole model.</summary>
    public ParameterCounts Totals { get; }

    /// <summary>Traces <paramref name="model"/> on a random input and builds the table.</summary>
    /// <param name="model">A model from one tensor to one tensor; its training flags are left as they were.</param>
    /// <param name="inputShape">Input shape including the batch dimension, e.g. <c>[1, 3, 224, 224]</c>.</param>
    /// <exception cref="ArgumentException">The shape is invalid or the model cannot be traced.</exception>
    /// <exception cref="InvalidOperationException">The forward pass failed for that input.</exception>
    public static ModelSummary Create(torch.nn.Module model, long[] inputShape)
    {
        var trace = ModuleTrace.Run(model, inputShape);
        var lastCall = new Dictionary<string, ModuleCall>(StringComparer.Ordinal);
        var calls = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var call in trace.Calls)
        {
            lastCall[call.Path] = call;
            calls[call.Path] = calls.GetValueOrDefault(call.Path) + 1;
        }

        var rows = new List<SummaryRow>();
        foreach (var (path, module) in ModulePaths.DepthFirst(model).Skip(1))
        {
            var counts = ParameterCounts.Of(module);
            rows.Add(new SummaryRow(
                path,
                ModulePaths.TypeName(module),
                path.Count(c => c == '.') + 1,
                lastCall.TryGetValue(path, out var call) ? call.OutputShape : null,
                calls.GetValueOrDefault(path),
                counts.Total,
                counts.Trainable));
        }

        return new ModelSummary(
            ModulePaths.TypeName(model), rows, (long[])inputShape.Clone(), trace.OutputShape, ParameterCounts.Of(model));
    }

    /// <summary>
    /// An aligned plain-text table: one line per module (indented by depth), then the totals.
    /// </summary>
    /// <param name="maxDepth">Leave out modules nested deeper than this (1 = the model's direct children only).
    /// </param>
    public string ToText(int maxDepth = int.MaxValue)
    {
        var rows = Rows.Where(r => r.Depth <= maxDepth).ToList();
        string[] header = ["Module", "Type", "Output shape", "Parameters", "Trainable"];
        var cells = rows.Select(r => new[]
        {
            new string(' ', 2 * (r.Depth - 1)) + r.Path, r.Type, ShapeText(r), Number(r.Parameters),
            Number(r.Trainable),
        }).ToList();
        var widths = Enumerable.Range(0, header.Length)
            .Select(i => Math.Max(header[i].Length, cells.Count == 0 ? 0 : cells.Max(c => c[i].Length)))
            .ToArray();

        var text = new StringBuilder();
        text.Append(ModelType).Append(", input ").Append(Shape(InputShape)).Append(", output ")
            .Append(Shape(OutputShape)).Append('\n');
        AppendRow(text, header, widths);
        text.Append(new string('-', widths.Sum() + (2 * (widths.Length - 1)))).Append('\n');
        foreach (var row in cells)
        {
            AppendRow(text, row, widths);
        }

        text.Append(new string('-', widths.Sum() + (2 * (widths.Length - 1)))).Append('\n');
        foreach (var (label, value) in TotalLines())
        {
            text.Append(label).Append(": ").Append(value).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>
    /// The same table as an HTML fragment (a <c>table</c> element, names escaped) for notebooks, e.g.
    /// <c>summary.ToHtml().DisplayAs("text/html")</c> in a .NET Interactive notebook.
    /// </summary>
    /// <param name="maxDepth">Leave out modules nested deeper than this.</param>
    public string ToHtml(int maxDepth = int.MaxValue)
    {
        var html = new StringBuilder();
        html.Append("<table class=\"model-summary\">\n<caption>")
            .Append(Escape($"{ModelType}, input {Shape(InputShape)}, output {Shape(OutputShape)}"))
            .Append("</caption>\n<thead><tr><th>Module</th><th>Type</th><th>Output shape</th>")
            .Append("<th>Parameters</th><th>Trainable</th></tr></thead>\n<tbody>\n");
        foreach (var row in Rows.Where(r => r.Depth <= maxDepth))
        {
            html.Append(CultureInfo.InvariantCulture, $"<tr><td style=\"padding-left:{row.Depth - 1}em\">")
                .Append(Escape(row.Path)).Append("</td><td>").Append(Escape(row.Type)).Append("</td><td>")
                .Append(Escape(ShapeText(row))).Append("</td><td style=\"text-align:right\">")
                .Append(Number(row.Parameters)).Append("</td><td style=\"text-align:right\">")
                .Append(Number(row.Trainable)).Append("</td></tr>\n");
        }

        html.Append("</tbody>\n<tfoot>\n");
        foreach (var (label, value) in TotalLines())
        {
            html.Append("<tr><th colspan=\"3\" style=\"text-align:left\">").Append(Escape(label))
                .Append("</th><td colspan=\"2\" style=\"text-align:right\">").Append(Escape(value))
                .Append("</td></tr>\n");
        }

        return html.Append("</tfoot>\n</table>\n").ToString();
    }

    /// <summary>The plain-text table (<see cref="ToText"/>).</summary>
    public override string ToString() => ToText();

    private IEnumerable<(string Label, string Value)> TotalLines()
    {
        yield return ("Total parameters", Number(Totals.Total));
        yield return ("Trainable parameters", Number(Totals.Trainable));
        yield return ("Frozen parameters", Number(Totals.Frozen));
        yield return ("Parameter memory", string.Create(
            CultureInfo.InvariantCulture,
            $"{Totals.TotalBytes / 1048576.0:0.0} MiB ({Totals.TrainableBytes / 1048576.0:0.0} MiB trainable)"));
    }

    private static void AppendRow(StringBuilder text, string[] cells, int[] widths)
    {
        for (var i = 0; i < cells.Length; i++)
        {
            var rightAligned = i >= 3;
            text.Append(rightAligned ? cells[i].PadLeft(widths[i]) : cells[i].PadRight(widths[i]));
            if (i < cells.Length - 1)
            {
                text.Append("  ");
            }
        }

        while (text.Length > 0 && text[^1] == ' ')
        {
            text.Length--;
        }

        text.Append('\n');
    }

    private static string ShapeText(SummaryRow row) => row.OutputShape is null
        ? "(not run)"
        : Shape(row.OutputShape) + (row.Calls > 1 ? $" x{row.Calls}" : "");

    private static string Shape(long[] shape) => "[" + string.Join(", ", shape) + "]";

    private static string Number(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Escape(string text) => WebUtility.HtmlEncode(text);
}
