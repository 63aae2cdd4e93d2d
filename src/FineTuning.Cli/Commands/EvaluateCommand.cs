using System.CommandLine;
using System.Globalization;
using FineTuning.Evaluation;
using FineTuning.Platform;
using Spectre.Console;

namespace FineTuning.Cli.Commands;

/// <summary>
/// <c>finetune evaluate</c>: accuracy, top-5, per-class precision and recall and the confusion matrix of a
/// checkpoint on a folder of images; <c>--json</c> writes only the JSON report to stdout.
/// </summary>
internal static class EvaluateCommand
{
    private static readonly Option<FileInfo> CheckpointOption = new("--checkpoint")
    {
        Description = "A checkpoint written by 'finetune train' (best.ckpt or last.ckpt).",
        Required = true,
    };

    private static readonly Option<DirectoryInfo> DataOption = new("--data")
    {
        Description = "Folder with one subfolder per class; folder names must be classes of the checkpoint.",
        Required = true,
    };

    private static readonly Option<bool> JsonOption = new("--json")
    {
        Description = "Write only the JSON report to standard output.",
    };

    private static readonly Option<FileInfo?> ConfusionOption = new("--confusion-png")
    {
        Description = "Also write the confusion matrix as a PNG heatmap to this file.",
    };

    private static readonly Option<int> BatchOption = new("--batch")
    {
        Description = "Images per batch.",
        DefaultValueFactory = _ => 32,
    };

    private static readonly Option<string> DeviceOption = new("--device")
    {
        Description = "auto, cpu or cuda.",
        DefaultValueFactory = _ => "auto",
    };

    public static Command Create()
    {
        var command = new Command("evaluate", "Evaluate a trained checkpoint on a folder of images, one folder per class.")
        {
            CheckpointOption, DataOption, JsonOption, ConfusionOption, BatchOption, DeviceOption,
        };
        command.SetAction((parse, token) => Task.FromResult(Run(parse, token)));
        return command;
    }

    private static int Run(ParseResult parse, CancellationToken token)
    {
        var console = TrainingConsole.Error();
        try
        {
            var checkpoint = parse.GetValue(CheckpointOption)!.FullName;
            var data = parse.GetValue(DataOption)!.FullName;
            var device = Devices.Resolve(parse.GetValue(DeviceOption));
            var report = TrainingConsole.WithProgress(console, "evaluate", (progress, messages) =>
                EvaluationRun.Run(checkpoint, data, device, parse.GetValue(BatchOption), progress, messages, token));
            if (parse.GetValue(ConfusionOption) is { } png)
            {
                Charts.ConfusionMatrix(report, png.FullName);
                console.MarkupLine($"Confusion matrix: {Markup.Escape(png.FullName)}");
            }

            if (parse.GetValue(JsonOption))
            {
                Console.Out.WriteLine(report.ToJson());
                return 0;
            }

            Print(report);
            return 0;
        }
        catch (OperationCanceledException)
        {
            console.MarkupLine("[yellow]Interrupted.[/]");
            return 130;
        }
        catch (Exception e) when (TrainingConsole.IsUserError(e))
        {
            console.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
            return 1;
        }
    }

    private static void Print(EvaluationReport report)
    {
        var c = CultureInfo.InvariantCulture;
        AnsiConsole.MarkupLine(string.Create(c,
            $"[bold]{report.Images}[/] images: accuracy [green]{report.Accuracy:P1}[/], top-5 {report.Top5Accuracy:P1}"));
        var table = new Table().AddColumns("class", "precision", "recall", "images");
        foreach (var m in report.PerClass)
        {
            table.AddRow(Markup.Escape(m.Class), m.Precision.ToString("P1", c), m.Recall.ToString("P1", c),
                m.Support.ToString(c));
        }

        AnsiConsole.Write(table);
        if (report.MostConfused.Count > 0)
        {
            AnsiConsole.MarkupLine("Most confused (actual -> predicted):");
            foreach (var pair in report.MostConfused)
            {
                AnsiConsole.MarkupLine(Markup.Escape($"  {pair.Actual} -> {pair.Predicted}: {pair.Count}"));
            }
        }
    }
}
