using System.CommandLine;
using FineTuning.Data;
using Spectre.Console;

namespace FineTuning.Cli.Commands;

/// <summary>
/// <c>finetune download stanford-dogs|oxford-pets --to DIR</c>: fetches a real dog data set (resumable), checks it,
/// unpacks it safely and leaves a folder per breed in DIR, ready for <c>finetune train --data DIR</c>.
/// </summary>
public static class DownloadCommand
{
    public static Command Create()
    {
        var dataset = new Argument<string>("dataset")
        {
            Description = "Which data set: stanford-dogs (120 breeds, 20,580 images) or oxford-pets (25 dog breeds).",
        };
        dataset.AcceptOnlyFromAmong(DataSetSource.All.Select(s => s.Name).ToArray());
        var to = new Option<DirectoryInfo>("--to")
        {
            Description = "Folder that receives one sub-folder per breed.",
            Required = true,
        };
        var archive = new Option<FileInfo?>("--archive")
        {
            Description = "Use an archive downloaded by hand (images.tar or images.tar.gz) instead of downloading.",
        };
        var baseUrl = new Option<string?>("--base-url")
        {
            Description = "Fetch the archive from this folder URL (a mirror) instead of the published address.",
        };
        var keep = new Option<bool>("--keep-archive")
        {
            Description = "Keep the downloaded archive (in DIR/.download) after unpacking.",
        };

        var command = new Command("download", "Download a dog breed data set and unpack it as a folder per breed.")
        {
            dataset, to, archive, baseUrl, keep,
        };
        command.SetAction((parse, token) => RunAsync(
            DataSetSource.ByName(parse.GetValue(dataset)!),
            parse.GetValue(to)!.FullName,
            parse.GetValue(archive)?.FullName,
            parse.GetValue(baseUrl),
            parse.GetValue(keep),
            token));
        return command;
    }

    private static async Task<int> RunAsync(
        DataSetSource source, string target, string? archive, string? baseUrl, bool keep, CancellationToken token)
    {
        // Progress and messages go to standard error, so standard output stays clean for scripts.
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        var downloader = new DataSetDownloader { BaseUrl = baseUrl, KeepArchive = keep };
        console.MarkupLineInterpolated(
            $"[bold]{source.Name}[/] from [link]{(archive ?? downloader.UrlOf(source).ToString())}[/] into {target}");
        try
        {
            DownloadResult? result = null;
            await console.Progress()
                .AutoClear(false)
                .Columns(
                    new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(),
                    new DownloadedColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
                .StartAsync(async context =>
                {
                    var tasks = new Dictionary<DownloadPhase, ProgressTask>();
                    var progress = new SynchronousProgress<DownloadProgress>(p =>
                    {
                        lock (tasks)
                        {
                            if (!tasks.TryGetValue(p.Phase, out var task))
                            {
                                task = context.AddTask(Describe(p.Phase), maxValue: Math.Max(1, p.Total ?? 1));
                                tasks[p.Phase] = task;
                            }

                            task.IsIndeterminate = p.Total is null;
                            if (p.Total is { } total)
                            {
                                task.MaxValue = Math.Max(1, total);
                            }

                            task.Value = p.Done;
                        }
                    });
                    result = await downloader.DownloadAsync(source, target, archive, progress, token);
                    lock (tasks)
                    {
                        foreach (var task in tasks.Values)
                        {
                            task.Value = task.MaxValue;
                            task.StopTask();
                        }
                    }
                });

            string resumed = result!.Resumed ? " (resumed an earlier download)" : string.Empty;
            console.MarkupLineInterpolated(
                $"[green]{result.Images:N0} images in {result.Classes} breed folders[/] in {result.Folder}{resumed}.");
            console.MarkupLineInterpolated($"Archive SHA-256: {result.ArchiveSha256}");
            console.MarkupLineInterpolated($"[grey]{source.Citation}[/]");
            console.MarkupLineInterpolated($"Next: finetune train --data {result.Folder}");
            return 0;
        }
        catch (Exception e) when (e is DataSetDownloadException or UnsafeArchiveException or DataSetException
                                      or IOException or UnauthorizedAccessException)
        {
            console.MarkupLineInterpolated($"[red]{e.Message}[/]");
            return 1;
        }
        catch (OperationCanceledException)
        {
            console.MarkupLine("[yellow]Stopped. Run the same command again to resume the download.[/]");
            return 130;
        }
    }

    private static string Describe(DownloadPhase phase) => phase switch
    {
        DownloadPhase.Download => "Downloading",
        DownloadPhase.Verify => "Checking SHA-256",
        DownloadPhase.Extract => "Unpacking",
        _ => "Sorting into breed folders",
    };

    /// <summary>Calls the handler on the reporting thread (Progress&lt;T&gt; would queue it elsewhere).</summary>
    private sealed class SynchronousProgress<T>(Action<T> handler) : IProgress<T>
    {
        public void Report(T value) => handler(value);
    }
}
