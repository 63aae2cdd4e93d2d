using System.CommandLine;

namespace FineTuning.Cli.Commands;

/// <summary>Every subcommand of <c>finetune</c>, in the order <c>--help</c> lists them.</summary>
internal static class CommandCatalog
{
    public static IEnumerable<Command> All()
    {
        // One line per command; each command lives in its own file in this folder.
        yield return InspectCommand.Create();
        yield return PredictCommand.Create();
        yield return WeightsCommand.Create();
        yield return DownloadCommand.Create();
        yield return CostsCommand.Create();
        yield return TrainCommand.Create();
        yield return EvaluateCommand.Create();
    }
}
