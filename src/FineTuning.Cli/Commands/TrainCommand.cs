using System.CommandLine;
using System.Globalization;
using FineTuning.Data;
using FineTuning.Models;
using FineTuning.Training;
using Spectre.Console;

namespace FineTuning.Cli.Commands;

/// <summary>
/// <c>finetune train</c>: fine-tunes a pretrained ResNet on a folder of images (one subfolder per class), writing
/// <c>last.ckpt</c>, <c>best.ckpt</c>, <c>metrics.json</c> and <c>curves.png</c> into <c>--out</c> after every epoch.
/// </summary>
internal static class TrainCommand
{
    private static readonly Option<DirectoryInfo> DataOption = new("--data")
    {
        Description = "Folder with one subfolder of images per class (the folder names are the class names).",
        Required = true,
    };

    private static readonly Option<string> ModelOption = new("--model")
    {
        Description = $"Model: {string.Join(", ", ModelZoo.Names)}.",
        DefaultValueFactory = _ => ModelZoo.MlNetResNet18Name,
    };

    private static readonly Option<FileInfo?> WeightsOption = new("--weights")
    {
        Description = "Pretrained weights file (.pth, .safetensors, .dat) instead of the model's default.",
    };

    private static readonly Option<string> FreezeOption = new("--freeze")
    {
        Description = "backbone (train the new head only), none (train everything), or a stage such as layer3 " +
                      "(it and everything before stay frozen; later stages train at 10x smaller rates per stage).",
        DefaultValueFactory = _ => "backbone",
    };

    private static readonly Option<int> EpochsOption = new("--epochs")
    {
        Description = "Epochs (of the first stage).",
        DefaultValueFactory = _ => 5,
    };

    private static readonly Option<string?> UnfreezeOption = new("--unfreeze")
    {
        Description = "Two-stage fine-tuning: after --epochs, unfreeze these stages (comma-separated, top first, " +
                      "e.g. layer4,layer3) at rates lr/10, lr/100, ... and train --finetune-epochs more.",
    };

    private static readonly Option<int> FineTuneEpochsOption = new("--finetune-epochs")
    {
        Description = "Epochs of the second stage (with --unfreeze).",
        DefaultValueFactory = _ => 3,
    };

    private static readonly Option<int> BatchOption = new("--batch")
    {
        Description = "Images per batch.",
        DefaultValueFactory = _ => 16,
    };

    private static readonly Option<double> LrOption = new("--lr")
    {
        Description = "Learning rate of the head (peak rate for one-cycle).",
        DefaultValueFactory = _ => 0.01,
    };

    private static readonly Option<string> OptimizerOption = new("--optimizer")
    {
        Description = "sgd (momentum 0.9) or adamw (weight decay 0.01).",
        DefaultValueFactory = _ => "sgd",
    };

    private static readonly Option<string> ScheduleOption = new("--schedule")
    {
        Description = "Learning-rate schedule: constant, step (x0.1 every 5 epochs), cosine or onecycle.",
        DefaultValueFactory = _ => "cosine",
    };

    private static readonly Option<int?> PatienceOption = new("--patience")
    {
        Description = "Stop after this many epochs without a lower validation loss (default: never).",
    };

    private static readonly Option<double> ValSplitOption = new("--val-split")
    {
        Description = "Fraction of each class held out for validation.",
        DefaultValueFactory = _ => 0.2,
    };

    private static readonly Option<int> SeedOption = new("--seed")
    {
        Description = "Seed of the split, the head's initialization, shuffling and augmentation.",
        DefaultValueFactory = _ => 42,
    };

    private static readonly Option<string> DeviceOption = new("--device")
    {
        Description = "auto, cpu or cuda.",
        DefaultValueFactory = _ => "auto",
    };

    private static readonly Option<DirectoryInfo> OutOption = new("--out")
    {
        Description = "Folder for checkpoints, metrics.json and curves.png.",
        DefaultValueFactory = _ => new DirectoryInfo("runs/train"),
    };

    private static readonly Option<bool> ResumeOption = new("--resume")
    {
        Description = "Continue the run in --out from its last.ckpt (same options required).",
    };

    private static readonly Option<int?> ImageSizeOption = new("--image-size")
    {
        Description = "Crop size in pixels instead of 224 (smaller is faster, less accurate).",
    };

    private static readonly Option<bool> CacheFeaturesOption = new("--cache-features")
    {
        Description = "Compute the frozen backbone's features once (cached on disk) and train only the head on " +
                      "them; needs --freeze backbone, turns augmentation off.",
    };

    private static readonly Option<DirectoryInfo?> FeatureCacheOption = new("--feature-cache")
    {
        Description = "Folder of the feature cache (default: features/ in the finetune cache folder).",
    };

    private static readonly Option<string> AugmentOption = new("--augment")
    {
        Description = "Training augmentation without --cache-features: none, mild (crops of 35-100 %, slight " +
                      "color jitter) or full (crops of 8-100 %, as torchvision's ImageNet recipe).",
        DefaultValueFactory = _ => "mild",
    };

    public static Command Create()
    {
        var command = new Command("train", "Fine-tune a pretrained ResNet on a folder of images, one folder per class.")
        {
            DataOption, ModelOption, WeightsOption, FreezeOption, EpochsOption, UnfreezeOption, FineTuneEpochsOption,
            BatchOption, LrOption, OptimizerOption, ScheduleOption, PatienceOption, ValSplitOption, SeedOption,
            DeviceOption, OutOption, ResumeOption, ImageSizeOption, CacheFeaturesOption, FeatureCacheOption,
            AugmentOption,
        };
        command.SetAction((parse, token) => Task.FromResult(Run(parse, token)));
        return command;
    }

    private static int Run(ParseResult parse, CancellationToken token)
    {
        var console = TrainingConsole.Error();
        try
        {
            var options = new TrainingRunOptions
            {
                DataDir = parse.GetValue(DataOption)!.FullName,
                OutDir = parse.GetValue(OutOption)!.FullName,
                ModelName = parse.GetValue(ModelOption)!,
                WeightsFile = parse.GetValue(WeightsOption)?.FullName,
                Freeze = parse.GetValue(FreezeOption)!,
                Epochs = parse.GetValue(EpochsOption),
                Unfreeze = (parse.GetValue(UnfreezeOption) ?? "")
                    .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                FineTuneEpochs = parse.GetValue(FineTuneEpochsOption),
                BatchSize = parse.GetValue(BatchOption),
                LearningRate = parse.GetValue(LrOption),
                Optimizer = ParseOptimizer(parse.GetValue(OptimizerOption)!),
                Schedule = ParseSchedule(parse.GetValue(ScheduleOption)!),
                Patience = parse.GetValue(PatienceOption),
                ValidationFraction = parse.GetValue(ValSplitOption),
                Seed = parse.GetValue(SeedOption),
                Device = parse.GetValue(DeviceOption)!,
                Resume = parse.GetValue(ResumeOption),
                ImageSize = parse.GetValue(ImageSizeOption),
                CacheFeatures = parse.GetValue(CacheFeaturesOption),
                Augmentation = ParseAugmentation(parse.GetValue(AugmentOption)!),
                FeatureCacheDir = parse.GetValue(FeatureCacheOption)?.FullName,
            };

            var result = TrainingConsole.WithProgress(console, "train", (progress, messages) =>
                TrainingRun.Run(options, progress, messages, token));

            var table = new Table().AddColumns("epoch", "train loss", "train acc", "val loss", "val acc", "lr", "s");
            foreach (var e in result.History)
            {
                table.AddRow(
                    e.Epoch.ToString(CultureInfo.InvariantCulture), F(e.TrainLoss, "F4"), F(e.TrainAccuracy, "P1"),
                    F(e.ValLoss, "F4"), F(e.ValAccuracy, "P1"), F(e.LearningRate, "G3"), F(e.Seconds, "F1"));
            }

            console.Write(table);
            if (result.StoppedEarly)
            {
                console.MarkupLine("[yellow]Stopped early: the validation loss stopped improving.[/]");
            }

            console.MarkupLine($"Best checkpoint: [green]{Markup.Escape(result.BestCheckpoint)}[/]");
            console.MarkupLine($"Metrics: {Markup.Escape(result.MetricsPath)}");
            return 0;
        }
        catch (OperationCanceledException)
        {
            console.MarkupLine("[yellow]Interrupted; the last finished epoch's checkpoint is kept (use --resume).[/]");
            return 130;
        }
        catch (Exception e) when (TrainingConsole.IsUserError(e))
        {
            console.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
            return 1;
        }
    }

    private static string F(double? value, string format) =>
        value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "-";

    private static OptimizerKind ParseOptimizer(string value) => value.ToLowerInvariant() switch
    {
        "sgd" => OptimizerKind.Sgd,
        "adamw" => OptimizerKind.AdamW,
        _ => throw new ArgumentException($"--optimizer {value}: use sgd or adamw."),
    };

    private static ScheduleKind ParseSchedule(string value) => value.ToLowerInvariant() switch
    {
        "constant" => ScheduleKind.Constant,
        "step" => ScheduleKind.Step,
        "cosine" => ScheduleKind.Cosine,
        "onecycle" or "one-cycle" => ScheduleKind.OneCycle,
        _ => throw new ArgumentException($"--schedule {value}: use constant, step, cosine or onecycle."),
    };

    private static TrainingAugmentation? ParseAugmentation(string value) => value.ToLowerInvariant() switch
    {
        "none" => null,
        "mild" => TrainingAugmentation.Mild,
        "full" => TrainingAugmentation.Default,
        _ => throw new ArgumentException($"--augment {value}: use none, mild or full."),
    };
}

/// <summary>Shared console handling of the training commands: stderr console, progress bar, user errors.</summary>
internal static class TrainingConsole
{
    public static IAnsiConsole Error() =>
        AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });

    public static bool IsUserError(Exception e) => e is ArgumentException or DataSetException or ModelLoadException
        or InvalidDataException or FileNotFoundException or DirectoryNotFoundException or IOException
        or UnauthorizedAccessException;

    /// <summary>
    /// Runs <paramref name="work"/> with a progress bar on <paramref name="console"/> (one task per phase and epoch,
    /// showing loss and ETA); messages are printed above the bar.
    /// </summary>
    public static T WithProgress<T>(
        IAnsiConsole console, string what, Func<IProgress<TrainingProgress>, IProgress<string>, T> work)
    {
        T result = default!;
        console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(),
                new ElapsedTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                ProgressTask? task = null;
                (TrainingPhase, int) current = default;
                var progress = new Reporter<TrainingProgress>(p =>
                {
                    if (task is null || current != (p.Phase, p.Epoch))
                    {
                        task?.StopTask();
                        current = (p.Phase, p.Epoch);
                        task = context.AddTask(Label(p), maxValue: Math.Max(1, p.Batches));
                    }

                    task.Value = p.Batch;
                    task.Description = Label(p);
                });
                var messages = new Reporter<string>(m => console.MarkupLine(Markup.Escape(m)));
                result = work(progress, messages);
                task?.StopTask();
            });
        return result;
    }

    private static string Label(TrainingProgress p)
    {
        var phase = p.Phase switch
        {
            TrainingPhase.Train => $"epoch {p.Epoch}/{p.Epochs} train",
            TrainingPhase.Validate => p.Epochs > 1 ? $"epoch {p.Epoch}/{p.Epochs} validate" : "evaluate",
            _ => "features",
        };
        var loss = double.IsNaN(p.Loss) ? "" : string.Create(CultureInfo.InvariantCulture, $" loss {p.Loss:F3}");
        var eta = p.Eta is { } e ? $" ETA {e:hh\\:mm\\:ss}" : "";
        return Markup.Escape(phase + loss + eta);
    }

    /// <summary>Reports synchronously, on the calling thread, so the bar follows the work exactly.</summary>
    private sealed class Reporter<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
