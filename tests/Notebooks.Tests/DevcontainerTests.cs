using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Notebooks.Tests;

/// <summary>
/// The devcontainers are JSONC (comments allowed); their post-create command is the README's set-up command, so
/// that opening the container and following the README do the same thing.
/// </summary>
public partial class DevcontainerTests
{
    private static readonly JsonDocumentOptions Jsonc = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    [Fact]
    public void Cpu_container_runs_the_readme_set_up_on_ubuntu_24_04_with_the_notebook_extensions()
    {
        var container = Load(".devcontainer/devcontainer.json");

        Assert.Equal(ReadmeSetUpCommand(), (string?)container["postCreateCommand"]);
        Assert.EndsWith("-noble", (string?)container["image"], StringComparison.Ordinal);
        Assert.Equal("optional", (string?)container["hostRequirements"]?["gpu"]);
        var extensions = container["customizations"]!["vscode"]!["extensions"]!.AsArray().Select(e => (string?)e);
        Assert.Contains("ms-dotnettools.dotnet-interactive-vscode", extensions);
        Assert.Contains("ms-dotnettools.csdevkit", extensions);
        Assert.Contains("ms-toolsai.jupyter", extensions);
    }

    [Fact]
    public void Gpu_container_runs_the_readme_set_up_with_cuda_and_requests_the_gpus()
    {
        var container = Load(".devcontainer/gpu/devcontainer.json");

        var expected = DotnetBuild().Replace(ReadmeSetUpCommand(), "dotnet build -p:TorchDevice=cuda");
        Assert.Equal(expected, (string?)container["postCreateCommand"]);
        Assert.Equal(["--gpus", "all"], container["runArgs"]!.AsArray().Select(a => (string?)a));
        Assert.EndsWith("-noble", (string?)container["image"], StringComparison.Ordinal);
    }

    /// <summary>
    /// The README's set-up: the first ```bash block after the heading "## Set up", its commands (blank lines and
    /// # comments left out) joined with " &amp;&amp; ".
    /// </summary>
    internal static string ReadmeSetUpCommand()
    {
        var readme = File.ReadAllLines(Path.Combine(Repository.Root, "README.md"));
        var heading = Array.FindIndex(readme, line => line.TrimEnd() == "## Set up");
        Assert.True(heading >= 0, "README.md has no '## Set up' heading; the devcontainer's command is checked against it.");

        var fence = Array.FindIndex(readme, heading + 1, line => line.TrimEnd() == "```bash");
        var nextHeading = Array.FindIndex(readme, heading + 1, line => line.StartsWith("## ", StringComparison.Ordinal));
        Assert.True(fence > 0 && (nextHeading < 0 || fence < nextHeading), "README's '## Set up' section has no ```bash block.");

        var commands = readme.Skip(fence + 1)
            .TakeWhile(line => line.TrimEnd() != "```")
            .Select(line => line.Trim())
            .Where(line => line.Length > 0 && !line.StartsWith('#'));
        return string.Join(" && ", commands);
    }

    private static JsonNode Load(string relativePath)
    {
        var path = Path.Combine(Repository.Root, relativePath);
        return JsonNode.Parse(File.ReadAllText(path), documentOptions: Jsonc)
            ?? throw new InvalidDataException($"{path} is empty.");
    }

    [GeneratedRegex(@"\bdotnet build\b")]
    private static partial Regex DotnetBuild();
}
