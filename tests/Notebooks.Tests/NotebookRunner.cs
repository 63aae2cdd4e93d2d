using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.CSharp;
using Microsoft.DotNet.Interactive.Documents;
using Microsoft.DotNet.Interactive.Events;
using Microsoft.DotNet.Interactive.PackageManagement;

namespace Notebooks.Tests;

/// <summary>One code cell as executed: its 1-based number among all cells, its code and what it displayed.</summary>
public sealed record CellRun(int Number, string Code, IReadOnlyList<string> Outputs, TimeSpan Elapsed);

/// <summary>A notebook's execution: every code cell that ran, and the first failure if any.</summary>
public sealed record NotebookRun(string Path, IReadOnlyList<CellRun> Cells, string? Failure, TimeSpan Elapsed)
{
    /// <summary>Every displayed output of every cell, plain text and HTML, in order.</summary>
    public string AllOutput => string.Join("\n", Cells.SelectMany(c => c.Outputs));
}

/// <summary>
/// Runs a notebook in-process the way VS Code's Polyglot Notebooks runs it: a composite kernel holding a C# kernel
/// with #r "nuget:" support, the display helpers and value sharing, each code cell submitted in order, the current
/// directory set to the notebook's folder. Stops at the first failing cell.
/// </summary>
public static class NotebookRunner
{
    private static readonly SemaphoreSlim OneAtATime = new(1, 1);

    /// <param name="notebookPath">The .ipynb file.</param>
    /// <param name="timeout">A limit for the whole notebook.</param>
    /// <param name="prelude">Code submitted before the first cell (not counted as a cell), e.g. a package
    /// source.</param>
    public static async Task<NotebookRun> RunAsync(string notebookPath, TimeSpan timeout, string? prelude = null)
    {
        var path = Path.GetFullPath(notebookPath);
        var document = await InteractiveDocument.LoadAsync(new FileInfo(path));

        await OneAtATime.WaitAsync();
        var previousDirectory = Environment.CurrentDirectory;
        var total = System.Diagnostics.Stopwatch.StartNew();
        var cells = new List<CellRun>();
        try
        {
            Environment.CurrentDirectory = Path.GetDirectoryName(path)!;
            using var kernel = CreateKernel();
            using var cancellation = new CancellationTokenSource(timeout);

            if (prelude is not null)
            {
                var setup = await kernel.SendAsync(new SubmitCode(prelude, "csharp"), cancellation.Token);
                var failed = setup.Events.OfType<CommandFailed>().FirstOrDefault();
                if (failed is not null)
                {
                    return Failed($"the test's prelude failed: {failed.Message}");
                }
            }

            var number = 0;
            foreach (var element in document.Elements)
            {
                number++;
                if (!IsCSharp(element))
                {
                    continue;
                }

                var watch = System.Diagnostics.Stopwatch.StartNew();
                KernelCommandResult result;
                try
                {
                    result = await kernel.SendAsync(new SubmitCode(element.Contents, "csharp"), cancellation.Token);
                }
                catch (OperationCanceledException)
                {
                    return Failed($"cell {number} did not finish within {timeout} (whole-notebook limit)");
                }

                var outputs = result.Events.OfType<DisplayEvent>()
                    .Where(e => e is not DisplayedValueUpdated)
                    .SelectMany(Texts)
                    .ToList();
                cells.Add(new CellRun(number, element.Contents, outputs, watch.Elapsed));

                var failure = result.Events.OfType<CommandFailed>().FirstOrDefault();
                if (failure is not null)
                {
                    var errors = result.Events.OfType<ErrorProduced>().Select(e => e.Message);
                    var message = string.Join("\n", errors.Append(failure.Message).Append(failure.Exception?.ToString())
                        .Where(m => !string.IsNullOrWhiteSpace(m)).Distinct());
                    return Failed($"cell {number} failed:\n--- code ---\n{element.Contents}\n--- error ---\n{message}");
                }
            }

            return new NotebookRun(path, cells, null, total.Elapsed);
        }
        finally
        {
            Environment.CurrentDirectory = previousDirectory;
            OneAtATime.Release();
        }

        NotebookRun Failed(string why) =>
            new(path, cells, $"{Path.GetFileName(path)}: {why}", total.Elapsed);
    }

    private static CompositeKernel CreateKernel()
    {
        var csharp = new CSharpKernel()
            .UseNugetDirective(
                (k, packages) =>
                {
                    k.AddAssemblyReferences(packages.SelectMany(p => p.AssemblyPaths));
                    return Task.CompletedTask;
                },
                forceRestore: false)
            .UseKernelHelpers()
            .UseValueSharing();
        var kernel = new CompositeKernel { csharp };
        kernel.DefaultKernelName = csharp.Name;
        return kernel;
    }

    private static bool IsCSharp(InteractiveDocumentElement element) =>
        !string.IsNullOrWhiteSpace(element.Contents)
        && element.KernelName is "csharp" or "C#" or "c#";

    private static IEnumerable<string> Texts(DisplayEvent e)
    {
        foreach (var value in e.FormattedValues)
        {
            if (value.MimeType is "text/plain" or "text/html")
            {
                yield return value.Value;
            }
        }
    }
}
