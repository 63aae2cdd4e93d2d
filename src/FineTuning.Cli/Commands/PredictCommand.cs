using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using FineTuning.Data;
using FineTuning.Models;
using FineTuning.Platform;
using FineTuning.Training;
using static TorchSharp.torch;

namespace FineTuning.Cli.Commands;

/// <summary>
/// <c>finetune predict</c>: the top classes of each image. With <c>--json</c>, standard output carries exactly one
/// JSON object and nothing else; progress and warnings go to standard error.
/// </summary>
internal static class PredictCommand
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static Command Create()
    {
        var model = ModelOptions.Model();
        var weights = ModelOptions.Weights();
        var device = ModelOptions.Device();
        var checkpoint = new Option<FileInfo?>("--checkpoint")
        {
            Description = "A checkpoint written by 'finetune train'; its model, classes and preset replace --model.",
        };
        var top = new Option<int>("--top")
        {
            Description = "How many classes to list per image.",
            DefaultValueFactory = _ => 5,
        };
        var json = new Option<bool>("--json") { Description = "Write only one JSON object to standard output." };
        var images = new Argument<FileInfo[]>("IMAGE")
        {
            Description = "JPEG or PNG files.",
            Arity = ArgumentArity.OneOrMore,
        };
        var command = new Command("predict", "Classify images with a pretrained or fine-tuned model.")
        {
            model, weights, checkpoint, top, json, device, images,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(weights) is not null && result.GetValue(checkpoint) is not null)
            {
                result.AddError("Pass either --weights or --checkpoint, not both.");
            }
        });
        command.SetAction(parse => Run(
            parse,
            parse.GetValue(model)!,
            parse.GetValue(weights)?.FullName,
            parse.GetValue(checkpoint)?.FullName,
            parse.GetValue(top),
            parse.GetValue(json),
            parse.GetValue(device)!,
            parse.GetValue(images)!.Select(f => f.ToString()).ToList()));
        return command;
    }

    private static int Run(
        ParseResult parse,
        string name,
        string? weights,
        string? checkpoint,
        int top,
        bool json,
        string deviceName,
        IReadOnlyList<string> images)
    {
        var output = CommandOutput.Out(parse);
        var error = CommandOutput.Error(parse);
        if (top < 1)
        {
            error.WriteLine($"error: --top must be at least 1; got {top}.");
            return 1;
        }

        LoadedModel loaded;
        Device device;
        try
        {
            device = Devices.Resolve(deviceName);
            loaded = checkpoint is null
                ? ModelZoo.Load(name, weights, device: device, progress: CommandOutput.Progress(parse))
                : TrainedModel.Load(checkpoint, device);
        }
        catch (Exception e) when (e is ModelLoadException or ArgumentException or InvalidDataException
                                      or FileNotFoundException)
        {
            error.WriteLine($"error: {e.Message}");
            return 1;
        }

        using var module = loaded.Model;
        if (!loaded.HeadIsTrained)
        {
            error.WriteLine(
                $"error: {loaded.Name}'s head is new and untrained, so its predictions would be random" +
                (loaded.Name == ModelZoo.MlNetResNet18Name
                    ? " (ML.NET's ResNet-18 ships without an ImageNet classifier)"
                    : "") +
                ". Train a head ('finetune train', then predict --checkpoint FILE), or use torchvision's " +
                "ImageNet weights, e.g. --model resnet18 after 'finetune weights resnet18'.");
            return 1;
        }

        var transform = ImageTransform.ForEvaluation(loaded.Preset);
        var k = Math.Min(top, loaded.Classes);
        var predictions = new List<ImagePrediction>();
        var failures = 0;
        foreach (var path in images)
        {
            using var scope = NewDisposeScope();
            Tensor input;
            try
            {
                input = transform.LoadTensor(path);
            }
            catch (ImageDecodeException e)
            {
                error.WriteLine($"warning: {e.Message}");
                failures++;
                continue;
            }

            using (no_grad())
            {
                var probabilities = nn.functional.softmax(module.call(input.to(device)), 1).cpu();
                var (values, indices) = probabilities.topk(k, dim: 1);
                var p = values.data<float>().ToArray();
                var index = indices.data<long>().ToArray();
                var topList = Enumerable.Range(0, k)
                    .Select(i => new ClassScore((int)index[i], loaded.Labels[(int)index[i]], p[i]))
                    .ToList();
                predictions.Add(new ImagePrediction(path, topList));
            }
        }

        if (json)
        {
            output.WriteLine(JsonSerializer.Serialize(new PredictionReport(predictions), Json));
        }
        else
        {
            var c = CultureInfo.InvariantCulture;
            foreach (var prediction in predictions)
            {
                output.WriteLine(prediction.Image);
                foreach (var score in prediction.Top)
                {
                    output.WriteLine(string.Create(c, $"  {score.Probability,7:P2}  {score.Label} ({score.Index})"));
                }
            }
        }

        return failures == 0 ? 0 : 1;
    }

    private sealed record PredictionReport(IReadOnlyList<ImagePrediction> Predictions);

    private sealed record ImagePrediction(string Image, IReadOnlyList<ClassScore> Top);

    private sealed record ClassScore(int Index, string Label, float Probability);
}
