using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using FineTuning.Costs;
using FineTuning.Models;
using FineTuning.Platform;
using Spectre.Console;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTuning.Cli.Commands;

/// <summary>
/// <c>finetune costs</c>: measures frozen vs unfrozen training side by side on one model and batch, each mode in
/// its own child process (this same executable, hidden option <c>--child-mode</c>) so memory peaks do not mix.
/// </summary>
internal static class CostsCommand
{
    private const string ProgressPrefix = "@progress ";
    private const double MiB = 1024 * 1024;

    private static readonly Option<string> ModelOption = new("--model")
    {
        Description = $"Model to measure: {string.Join(", ", ModelZoo.Names)}.",
        DefaultValueFactory = _ => ModelZoo.MlNetResNet18Name,
    };

    private static readonly Option<bool> RandomWeightsOption = new("--random-weights")
    {
        Description = "Use random weights instead of pretrained ones (costs do not depend on the values; " +
                      "needs no weights file).",
    };

    private static readonly Option<int> ClassesOption = new("--classes")
    {
        Description = "Outputs of the new head.",
        DefaultValueFactory = _ => 120,
    };

    private static readonly Option<int> BatchOption = new("--batch")
    {
        Description = "Images per batch.",
        DefaultValueFactory = _ => 8,
    };

    private static readonly Option<int> StepsOption = new("--steps")
    {
        Description = "Timed steps per mode (after one warm-up step); times are their medians.",
        DefaultValueFactory = _ => 5,
    };

    private static readonly Option<int> SizeOption = new("--size")
    {
        Description = "Height and width of the synthetic input images in pixels.",
        DefaultValueFactory = _ => 224,
    };

    private static readonly Option<string> DeviceOption = new("--device")
    {
        Description = "auto, cpu or cuda.",
        DefaultValueFactory = _ => "auto",
    };

    private static readonly Option<int> ThreadsOption = new("--threads")
    {
        Description = "Threads libtorch may use (torch.set_num_threads); 0 keeps libtorch's default.",
        DefaultValueFactory = _ => 0,
    };

    private static readonly Option<string[]> ModesOption = new("--modes")
    {
        Description = $"Modes to measure, comma-separated: {string.Join(", ", CostModes.All.Select(CostModes.Name))}.",
        DefaultValueFactory = _ => CostModes.All.Select(CostModes.Name).ToArray(),
        CustomParser = r => r.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.RemoveEmptyEntries))
            .Select(s => s.Trim()).ToArray(),
        AllowMultipleArgumentsPerToken = true,
    };

    private static readonly Option<FileInfo?> JsonOption = new("--json")
    {
        Description = "Write the full report as JSON to this file.",
    };

    private static readonly Option<FileInfo?> PlotOption = new("--plot")
    {
        Description = "Write a PNG chart (step time, gradient memory, peak memory per mode) to this file.",
    };

    private static readonly Option<bool> InProcessOption = new("--in-process")
    {
        Description = "Run every mode in this process (faster to start, but memory peaks then mix).",
    };

    private static readonly Option<string?> ChildModeOption = new("--child-mode")
    {
        Description = "Internal: measure one mode and print its result as JSON on stdout.",
        Hidden = true,
    };

    public static Command Create()
    {
        var command = new Command(
            "costs",
            "Measure what freezing saves: gradients, optimizer state, step time, peak memory and BatchNorm drift of " +
            "frozen, unfrozen, head-only-optimizer and frozen-no-grad training, side by side.")
        {
            ModelOption, RandomWeightsOption, ClassesOption, BatchOption, StepsOption, SizeOption, DeviceOption,
            ThreadsOption, ModesOption, JsonOption, PlotOption, InProcessOption, ChildModeOption,
        };
        command.SetAction(parse => Run(parse));
        return command;
    }

    private static int Run(ParseResult parse)
    {
        var error = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        if (Console.IsErrorRedirected)
        {
            // Captured messages are read by programs and logs: do not wrap them at 80 columns.
            error.Profile.Width = 240;
        }

        try
        {
            var settings = Settings.From(parse);
            if (settings.Threads > 0)
            {
                set_num_threads(settings.Threads);
            }

            return parse.GetValue(ChildModeOption) is { } childMode
                ? RunChild(settings, CostModes.Parse(childMode))
                : RunParent(settings, parse, error);
        }
        catch (Exception e) when (e is ArgumentException or ModelLoadException or InvalidDataException
                                      or IOException or UnauthorizedAccessException)
        {
            error.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
            return 2;
        }
    }

    private static int RunParent(Settings settings, ParseResult parse, IAnsiConsole error)
    {
        var modes = settings.Modes;
        var jsonFile = parse.GetValue(JsonOption);
        var plotFile = parse.GetValue(PlotOption);
        var inProcess = parse.GetValue(InProcessOption);
        var device = Devices.Resolve(settings.Device);
        var clock = Stopwatch.StartNew();

        error.WriteLine(
            $"Measuring {modes.Count} modes of {settings.Model} ({settings.Classes} classes), batch " +
            $"{settings.Batch} at {settings.Size}x{settings.Size}, {settings.Steps} timed steps each, on {device}" +
            (inProcess ? ", in this process." : ", each in its own process."));

        var results = new List<ModeCosts>();
        error.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(),
                new ElapsedTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                foreach (var mode in modes)
                {
                    var task = context.AddTask(CostModes.Name(mode), maxValue: 1 + settings.Steps);
                    var costs = inProcess
                        ? MeasureInProcess(settings, mode, device, p => task.Value = p.Step)
                        : MeasureInChild(settings, mode, p => task.Value = p.Step);
                    task.Value = task.MaxValue;
                    task.Description = $"{CostModes.Name(mode)}: {costs.StepMs:F0} ms/step";
                    results.Add(costs);
                }
            });

        var report = new CostReport
        {
            Machine = MachineInfo.Current(device),
            Model = settings.Model,
            PretrainedWeights = !settings.RandomWeights,
            Classes = settings.Classes,
            BatchSize = settings.Batch,
            ImageSize = settings.Size,
            Steps = settings.Steps,
            WarmupSteps = 1,
            Optimizer = $"SGD, learning rate {settings.Options.LearningRate}, momentum {settings.Options.Momentum}",
            ProcessPerMode = !inProcess,
            Modes = results,
            WallSeconds = Math.Round(clock.Elapsed.TotalSeconds, 1),
        };

        PrintTable(report);
        if (jsonFile is not null)
        {
            report.Save(jsonFile.FullName);
            error.MarkupLineInterpolated($"Wrote {jsonFile.FullName}");
        }

        if (plotFile is not null)
        {
            CostChart.Save(report, plotFile.FullName);
            error.MarkupLineInterpolated($"Wrote {plotFile.FullName}");
        }

        error.MarkupLineInterpolated($"Done in {report.WallSeconds:F0} s.");
        return 0;
    }

    private static int RunChild(Settings settings, CostMode mode)
    {
        var device = Devices.Resolve(settings.Device);
        var costs = MeasureInProcess(settings, mode, device, p =>
            Console.Error.WriteLine(ProgressPrefix + JsonSerializer.Serialize(p.Step)));
        Console.Out.WriteLine(CostReport.ModeToJson(costs));
        return 0;
    }

    private static ModeCosts MeasureInProcess(Settings settings, CostMode mode, Device device,
        Action<CostProgress> report)
    {
        using var model = LoadModel(settings, device);
        return CostProbe.Run(model, mode, settings.Options, device, new SynchronousProgress(report));
    }

    private static nn.Module<Tensor, Tensor> LoadModel(Settings settings, Device device)
    {
        if (settings.RandomWeights)
        {
            var model = ModelZoo.Create(settings.Model, settings.Classes);
            return device.type == DeviceType.CPU ? model : model.to(device);
        }

        return ModelZoo.Load(settings.Model, classes: settings.Classes, device: device).Model;
    }

    private static ModeCosts MeasureInChild(Settings settings, CostMode mode, Action<CostProgress> report)
    {
        var start = ChildStartInfo(settings.ChildArguments(mode));
        using var child = Process.Start(start)
            ?? throw new IOException($"Could not start {start.FileName} to measure {CostModes.Name(mode)}.");
        var errors = new List<string>();
        child.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            if (e.Data.StartsWith(ProgressPrefix, StringComparison.Ordinal)
                && int.TryParse(e.Data[ProgressPrefix.Length..], CultureInfo.InvariantCulture, out var step))
            {
                report(new CostProgress(mode, step, 1 + settings.Steps));
            }
            else
            {
                lock (errors)
                {
                    errors.Add(e.Data);
                }
            }
        };
        child.BeginErrorReadLine();
        var output = child.StandardOutput.ReadToEnd();
        child.WaitForExit();

        if (child.ExitCode != 0)
        {
            var detail = string.Join(Environment.NewLine, errors.TakeLast(15));
            throw new IOException(
                $"Measuring {CostModes.Name(mode)} failed (child process exit code {child.ExitCode}):" +
                $"{Environment.NewLine}{detail}");
        }

        var line = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault()
            ?? throw new InvalidDataException($"Measuring {CostModes.Name(mode)} returned nothing.");
        return CostReport.ModeFromJson(line);
    }

    // The child is this same program: the apphost directly, or `dotnet finetune.dll` when run that way.
    private static ProcessStartInfo ChildStartInfo(IEnumerable<string> arguments)
    {
        var processPath = Environment.ProcessPath
            ?? throw new IOException("Cannot tell which executable is running, to start a measurement process.");
        var start = new ProcessStartInfo(processPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (Path.GetFileNameWithoutExtension(processPath).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            start.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return start;
    }

    private static void PrintTable(CostReport report)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .Title($"{report.Model}, batch {report.BatchSize}, {report.ImageSize}x{report.ImageSize}, " +
                   $"{report.Optimizer}")
            .Caption(report.Machine.ToString());
        table.AddColumn("mode");
        foreach (var heading in new[]
                 {
                     "trainable", "grads", "opt state", "fwd ms", "bwd ms", "opt ms", "step ms", "peak MiB",
                     "BN moved",
                 })
        {
            table.AddColumn(new TableColumn(heading).RightAligned());
        }

        foreach (var mode in report.Modes)
        {
            table.AddRow(
                mode.Name,
                mode.TrainableParameters.ToString("N0", CultureInfo.InvariantCulture),
                Size(mode.GradientBytes),
                Size(mode.OptimizerStateBytes),
                Number(mode.ForwardMs),
                Number(mode.BackwardMs),
                Number(mode.OptimizerMs),
                Number(mode.StepMs),
                mode.PeakMemoryBytes is { } peak ? Number(peak / MiB) : "n/a",
                mode.BnStatsChanged ? "yes" : "no");
        }

        var output = AnsiConsole.Console;
        if (Console.IsOutputRedirected)
        {
            // Piped or captured output has no terminal width; keep the table whole instead of wrapping at 80.
            output.Profile.Width = 160;
        }

        output.Write(table);
        var headOnly = report.Modes.FirstOrDefault(m => m.Name == CostModes.Name(CostMode.HeadOnlyOptimizer));
        if (headOnly is not null)
        {
            var trace = headOnly.GradientTrace;
            output.WriteLine(
                $"head-only-optimizer: gradient norm of {trace.BackboneParameter} after each step " +
                $"{Norms(trace.BackboneNorms)} (accumulating: the optimizer never zeroes it); " +
                $"{trace.HeadParameter}: {Norms(trace.HeadNorms)} (zeroed every step).");
        }
    }

    private static string Norms(IEnumerable<double?> norms) =>
        string.Join(" -> ", norms.Select(n => n?.ToString("G3", CultureInfo.InvariantCulture) ?? "none"));

    private static string Number(double value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Size(long bytes) => bytes >= MiB
        ? $"{(bytes / MiB).ToString("N1", CultureInfo.InvariantCulture)} MiB"
        : $"{(bytes / 1024.0).ToString("N1", CultureInfo.InvariantCulture)} KiB";

    private sealed class SynchronousProgress(Action<CostProgress> report) : IProgress<CostProgress>
    {
        public void Report(CostProgress value) => report(value);
    }

    private sealed record Settings(
        string Model, bool RandomWeights, int Classes, int Batch, int Steps, int Size, string Device, int Threads,
        IReadOnlyList<CostMode> Modes)
    {
        public CostProbeOptions Options => new()
        {
            BatchSize = Batch,
            ImageSize = Size,
            Classes = Classes,
            Steps = Steps,
            WarmupSteps = 1,
        };

        public static Settings From(ParseResult parse)
        {
            var model = parse.GetValue(ModelOption)!;
            if (!ModelZoo.IsKnown(model))
            {
                throw new ArgumentException(
                    $"--model '{model}' is not a known model; use one of {string.Join(", ", ModelZoo.Names)}.");
            }

            var modes = parse.GetValue(ModesOption)!.Select(CostModes.Parse).Distinct().ToList();
            if (modes.Count == 0)
            {
                throw new ArgumentException("--modes lists no mode.");
            }

            var settings = new Settings(model, parse.GetValue(RandomWeightsOption), parse.GetValue(ClassesOption),
                parse.GetValue(BatchOption), parse.GetValue(StepsOption), parse.GetValue(SizeOption),
                parse.GetValue(DeviceOption)!, parse.GetValue(ThreadsOption), modes);
            if (settings.Threads < 0)
            {
                throw new ArgumentException($"--threads {settings.Threads} must be 0 (default) or more.");
            }

            settings.Options.Validate();
            return settings;
        }

        public IEnumerable<string> ChildArguments(CostMode mode)
        {
            yield return "costs";
            yield return "--child-mode";
            yield return CostModes.Name(mode);
            foreach (var (name, value) in new[]
                     {
                         ("--model", Model), ("--classes", $"{Classes}"), ("--batch", $"{Batch}"),
                         ("--steps", $"{Steps}"), ("--size", $"{Size}"), ("--device", Device),
                         ("--threads", $"{Threads}"),
                     })
            {
                yield return name;
                yield return value;
            }

            if (RandomWeights)
            {
                yield return "--random-weights";
            }
        }
    }
}
