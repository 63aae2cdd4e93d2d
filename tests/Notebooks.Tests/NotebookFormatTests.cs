using System.Text.Json.Nodes;

namespace Notebooks.Tests;

/// <summary>
/// Committed notebooks carry no outputs (they are measured on the reader's machine) and open in VS Code as C#
/// notebooks (FINDINGS 5 gives the metadata Polyglot Notebooks writes).
/// </summary>
public class NotebookFormatTests
{
    public static TheoryData<string> Notebooks() => NotebookExecutionTests.Notebooks();

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void Notebook_has_no_outputs_and_csharp_metadata(string notebook)
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(Repository.Notebooks, notebook)))!;

        var kernelspec = json["metadata"]?["kernelspec"];
        Assert.Equal(".NET (C#)", (string?)kernelspec?["display_name"]);
        Assert.Equal("C#", (string?)kernelspec?["language"]);
        Assert.Equal(".net-csharp", (string?)kernelspec?["name"]);
        Assert.Equal("csharp", (string?)json["metadata"]?["polyglot_notebook"]?["kernelInfo"]?["defaultKernelName"]);

        var cells = json["cells"]!.AsArray();
        Assert.NotEmpty(cells);
        for (var i = 0; i < cells.Count; i++)
        {
            var cell = cells[i]!;
            if ((string?)cell["cell_type"] != "code")
            {
                continue;
            }

            var where = $"{notebook} cell {i + 1}";
            Assert.True(cell["outputs"] is JsonArray { Count: 0 }, $"{where} has outputs; clear them before committing.");
            Assert.True(cell["execution_count"] is null, $"{where} has an execution count; clear outputs.");
            Assert.Equal("csharp", (string?)cell["metadata"]?["polyglot_notebook"]?["kernelName"]);
        }
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void Notebook_opens_with_what_you_learn_and_closes_with_questions(string notebook)
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(Repository.Notebooks, notebook)))!;
        var markdown = json["cells"]!.AsArray()
            .Where(c => (string?)c!["cell_type"] == "markdown")
            .Select(c => string.Concat(c!["source"]!.AsArray().Select(s => (string?)s)))
            .ToList();

        Assert.Contains("What you will learn", markdown.First(), StringComparison.OrdinalIgnoreCase);
        Assert.Contains("How long", markdown.First(), StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Questions to try", markdown.Last(), StringComparison.OrdinalIgnoreCase);
    }
}
