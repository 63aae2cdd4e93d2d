using System.CommandLine;
using FineTuning.Models;

namespace FineTuning.Cli.Commands;

/// <summary>Options that several commands share to pick a model and its weights.</summary>
internal static class ModelOptions
{
    public static Option<string> Model() => new("--model")
    {
        Description = $"The model: {string.Join(", ", ModelZoo.Names)}.",
        DefaultValueFactory = _ => ModelZoo.MlNetResNet18Name,
    };

    public static Option<FileInfo?> Weights() => new("--weights")
    {
        Description = "A weights file for the model: PyTorch state dict (.pth, .pt), .safetensors, or " +
            "TorchSharp .dat. " +
            "Without it: mlnet-resnet18 uses ML.NET's converted weights, resnet* torchvision's file from the cache " +
            "(see 'finetune weights').",
    };

    public static Option<string> Device() => new("--device")
    {
        Description = "auto, cpu or cuda.",
        DefaultValueFactory = _ => "auto",
    };
}
