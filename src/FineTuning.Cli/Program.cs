using System.CommandLine;
using FineTuning.Cli.Commands;
using FineTuning.Platform;

// TorchSharp's native library must be loadable before any command touches torch (environment.md, Debian 12).
TorchSharpNativeFix.Apply();

var root = new RootCommand(
    "finetune: fine-tune pretrained ResNets with TorchSharp, measure what freezing saves, train and evaluate.");
foreach (var command in CommandCatalog.All())
{
    root.Subcommands.Add(command);
}

return await root.Parse(args).InvokeAsync();
