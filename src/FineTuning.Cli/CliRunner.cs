using System.CommandLine;
using FineTuning.Cli.Commands;

namespace FineTuning.Cli;

/// <summary>
/// Runs <c>finetune</c> in-process with its standard output and error redirected, so tests can call a command and
/// read exactly what a user would see. Commands that use <see cref="CommandOutput"/> honour the redirection.
/// </summary>
public static class CliRunner
{
    /// <summary>Builds the root command with every subcommand of <see cref="CommandCatalog"/>.</summary>
    public static RootCommand CreateRoot()
    {
        var root = new RootCommand(
            "finetune: fine-tune pretrained ResNets with TorchSharp, measure what freezing saves, train and evaluate.");
        foreach (var command in CommandCatalog.All())
        {
            root.Subcommands.Add(command);
        }

        return root;
    }

    /// <summary>Parses and runs a command line; returns the exit code.</summary>
    /// <param name="args">Arguments after the program name, e.g. <c>["inspect", "--model", "resnet18"]</c>.</param>
    /// <param name="output">Receives standard output.</param>
    /// <param name="error">Receives standard error.</param>
    public static int Run(string[] args, TextWriter output, TextWriter error) =>
        CreateRoot().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
}
