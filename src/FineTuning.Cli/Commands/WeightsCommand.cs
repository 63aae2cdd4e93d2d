using System.CommandLine;
using System.Globalization;
using FineTuning.Models;

namespace FineTuning.Cli.Commands;

/// <summary>
/// <c>finetune weights</c>: lists torchvision's published ResNet weights and downloads one into the cache, where
/// <c>--model resnetNN</c> finds it.
/// </summary>
internal static class WeightsCommand
{
    public static Command Create()
    {
        var architecture = new Argument<string?>("MODEL")
        {
            Description = "resnet18, resnet34, resnet50, resnet101 or resnet152; omit to list the files.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var variant = new Option<string>("--variant")
        {
            Description = "IMAGENET1K_V1 (the default, what --model uses) or IMAGENET1K_V2 (resnet50 and deeper).",
            DefaultValueFactory = _ => "IMAGENET1K_V1",
        };
        var command = new Command(
            "weights", "List or download torchvision's pretrained ResNet weights (with SHA-256 check).")
        {
            architecture, variant,
        };
        command.SetAction((parse, token) =>
            RunAsync(parse, parse.GetValue(architecture), parse.GetValue(variant)!, token));
        return command;
    }

    private static async Task<int> RunAsync(
        ParseResult parse, string? architecture, string variant, CancellationToken token)
    {
        var output = CommandOutput.Out(parse);
        var error = CommandOutput.Error(parse);
        var downloader = new WeightsDownloader();
        if (architecture is null)
        {
            foreach (var file in TorchVisionWeights.All)
            {
                var state = downloader.IsCached(file.FileName) ? downloader.PathOf(file.FileName) : "not downloaded";
                output.WriteLine($"{file.Architecture,-10} {file.Variant,-14} {file.FileName,-24} {state}");
            }

            output.WriteLine($"source: {downloader.BaseUrl} (set {WeightsDownloader.BaseUrlVariable} for a mirror)");
            return 0;
        }

        var entry = TorchVisionWeights.Find(architecture, variant);
        if (entry is null)
        {
            error.WriteLine(
                $"error: no published weights for '{architecture}' {variant}. Known: " +
                string.Join(", ", TorchVisionWeights.All.Select(w => $"{w.Architecture} {w.Variant}")) + ".");
            return 1;
        }

        var c = CultureInfo.InvariantCulture;
        var lastPercent = -1L;
        var progress = new SyncProgress<DownloadProgress>(p =>
        {
            var percent = p.TotalBytes is { } total && total > 0 ? p.Bytes * 100 / total : -1;
            if (percent != lastPercent && (percent % 10 == 0 || p.Bytes == p.TotalBytes))
            {
                lastPercent = percent;
                error.WriteLine(string.Create(
                    c, $"{p.FileName}: {p.Bytes / 1048576.0:F1} MiB{(percent >= 0 ? $" ({percent}%)" : "")}"));
            }
        });
        try
        {
            var path = await downloader.EnsureAsync(entry.FileName, progress, token);
            output.WriteLine(path);
            return 0;
        }
        catch (WeightsDownloadException e)
        {
            error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }

    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
