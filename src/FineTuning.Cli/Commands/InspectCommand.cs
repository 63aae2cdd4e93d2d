using System.CommandLine;
using System.Globalization;
using FineTuning.Inspection;
using FineTuning.Models;

namespace FineTuning.Cli.Commands;

/// <summary>
/// <c>finetune inspect</c>: prints a model's module tree the way PyTorch prints it, the head that a fine-tuning
/// replaces, and the parameter counts.
/// </summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var model = ModelOptions.Model();
        var weights = ModelOptions.Weights();
        var classes = new Option<int?>("--classes")
        {
            Description = "Give the model a new, untrained head with this many classes (default: the file's head).",
        };
        var command = new Command(
            "inspect", "Print a model's layers, its classification head and its parameter counts.")
        {
            model, weights, classes,
        };
        command.SetAction(parse => Run(
            parse, parse.GetValue(model)!, parse.GetValue(weights)?.FullName, parse.GetValue(classes)));
        return command;
    }

    private static int Run(ParseResult parse, string name, string? weights, int? classes)
    {
        var output = CommandOutput.Out(parse);
        var error = CommandOutput.Error(parse);
        LoadedModel loaded;
        try
        {
            loaded = ModelZoo.Load(name, weights, classes, progress: CommandOutput.Progress(parse));
        }
        catch (ModelLoadException e)
        {
            error.WriteLine($"error: {e.Message}");
            return 1;
        }

        using var module = loaded.Model;
        var c = CultureInfo.InvariantCulture;
        output.WriteLine(ModelPrinter.Print(module));
        output.WriteLine();

        var head = HeadLocator.Locate(module, [1, 3, loaded.Preset.CropSize, loaded.Preset.CropSize]);
        output.WriteLine($"head: {head}");
        var counts = ParameterCounts.Of(module);
        output.WriteLine(string.Create(c, $"parameters: {counts.Trainable:N0} trainable / {counts.Total:N0} total"));
        output.WriteLine($"weights: {loaded.WeightsSource}");
        var preset = loaded.Preset;
        output.WriteLine(string.Create(
            c,
            $"preset: {preset.Name} (resize {preset.ResizeShorter}, crop {preset.CropSize}, " +
            $"x{preset.Scale}, mean [{string.Join(", ", preset.Mean)}], std [{string.Join(", ", preset.Std)}])"));
        if (!loaded.HeadIsTrained)
        {
            output.WriteLine(
                $"note: the head {head.Path} is new and untrained" +
                (name == ModelZoo.MlNetResNet18Name && weights is null
                    ? " (ML.NET's ResNet-18 ships without an ImageNet classifier)"
                    : "") +
                "; its outputs mean nothing until it is trained ('finetune train').");
        }

        return 0;
    }
}
