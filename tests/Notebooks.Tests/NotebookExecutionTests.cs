using System.Globalization;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Notebooks.Tests;

/// <summary>
/// Runs every notebook top to bottom in quick mode, one at a time, and checks the outputs that carry each notebook's
/// point. A failure names the notebook, the cell, its code and the error.
/// </summary>
[Collection(NotebookCollection.Name)]
public partial class NotebookExecutionTests(ITestOutputHelper output)
{
    public static TheoryData<string> Notebooks()
    {
        var data = new TheoryData<string>();
        foreach (var file in Repository.NotebookFiles())
        {
            data.Add(Path.GetFileName(file));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public async Task Notebook_runs_top_to_bottom(string notebook)
    {
        QuickMode.Enable();
        LocalPackage.Install();

        var run = await NotebookRunner.RunAsync(
            Path.Combine(Repository.Notebooks, notebook), TimeSpan.FromMinutes(10), LocalPackage.SourceDirective);

        foreach (var cell in run.Cells)
        {
            output.WriteLine($"cell {cell.Number}: {cell.Elapsed.TotalSeconds:F1} s");
        }

        output.WriteLine($"{notebook}: {run.Elapsed.TotalSeconds:F1} s in all");
        SaveOutputs(notebook, run);
        Assert.True(run.Failure is null, run.Failure);
        CheckKeyOutputs(notebook, PlainText(run.AllOutput));
    }

    [Fact]
    public void There_are_notebooks_to_run()
    {
        Assert.NotEmpty(Repository.NotebookFiles());
    }

    // Every cell's outputs as text, in artifacts/notebook-runs (git-ignored), to read what a run showed.
    private static void SaveOutputs(string notebook, NotebookRun run)
    {
        var folder = Path.Combine(Repository.Root, "artifacts", "notebook-runs");
        Directory.CreateDirectory(folder);
        var text = string.Join("\n", run.Cells.Select(c =>
            $"===== cell {c.Number} ({c.Elapsed.TotalSeconds:F1} s)\n{string.Join("\n", c.Outputs)}"));
        File.WriteAllText(Path.Combine(folder, Path.ChangeExtension(notebook, ".txt")), text + "\n" + run.Failure);
    }

    private static void CheckKeyOutputs(string notebook, string text)
    {
        TrainingNotebookAssertions.Check(Path.GetFileNameWithoutExtension(notebook), text);
        switch (Path.GetFileNameWithoutExtension(notebook))
        {
            case "01-load-and-inspect":
                Assert.Matches(HeadAtFc(), text);
                break;
            case "02-freeze-and-replace-the-head":
                Assert.Matches(TrainableCount(), text);
                break;
            case "03-frozen-vs-unfrozen-costs":
                var match = GradientBytes().Match(text);
                Assert.True(match.Success, "03 printed no 'gradient bytes: frozen N, unfrozen M' line.");
                var frozen = long.Parse(match.Groups[1].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
                var unfrozen = long.Parse(match.Groups[2].Value, NumberStyles.AllowThousands,
                    CultureInfo.InvariantCulture);
                Assert.True(frozen * 10 < unfrozen, $"frozen gradients {frozen} B are not far below unfrozen {unfrozen} B");
                break;
            case "04-train-a-dog-breed-classifier":
                Assert.Matches(Accuracy(), text);
                break;
            default:
                break;
        }
    }

    // HTML outputs are reduced to their text so that the patterns match tables as well as plain lines.
    private static string PlainText(string outputs) => Tags().Replace(outputs, " ");

    [GeneratedRegex(@"head[^\n]*\bat\s+`?fc`?", RegexOptions.IgnoreCase)]
    private static partial Regex HeadAtFc();

    [GeneratedRegex(@"trainable parameters:\s*[\d,]+", RegexOptions.IgnoreCase)]
    private static partial Regex TrainableCount();

    [GeneratedRegex(@"gradient bytes: frozen ([\d,]+), unfrozen ([\d,]+)", RegexOptions.IgnoreCase)]
    private static partial Regex GradientBytes();

    [GeneratedRegex(@"accuracy\D{0,40}\d+(\.\d+)?\s*%", RegexOptions.IgnoreCase)]
    private static partial Regex Accuracy();

    [GeneratedRegex("<[^>]+>")]
    private static partial Regex Tags();
}

/// <summary>Notebooks load TorchSharp into the test process: they never run in parallel with each other.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NotebookCollection
{
    public const string Name = "Notebooks";
}

/// <summary>The environment a notebook test run uses: quick mode, and the real photos when they are beside
/// us.</summary>
internal static class QuickMode
{
    public static void Enable()
    {
        Environment.SetEnvironmentVariable("FINETUNE_QUICK", "1");
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DOGS_DATA")))
        {
            var sample = Path.GetFullPath(Path.Combine(Repository.Root, "..", "shared", "data", "dogs-sample"));
            if (Directory.Exists(sample))
            {
                Environment.SetEnvironmentVariable("DOGS_DATA", sample);
            }
        }
    }
}
