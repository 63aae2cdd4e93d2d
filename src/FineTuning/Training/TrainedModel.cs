using FineTuning.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTuning.Training;

/// <summary>Loads a model trained by <see cref="TrainingRun"/> from its checkpoint, ready to predict breed
/// names.</summary>
public static class TrainedModel
{
    /// <summary>
    /// Rebuilds the checkpoint's architecture (<c>ModelZoo.Create</c>, no pretrained file needed), loads its weights,
    /// and returns it in eval mode on <paramref name="device"/>, with the checkpoint's class names as labels and
    /// the preset it was trained with.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is not a readable checkpoint.</exception>
    public static LoadedModel Load(string checkpointPath, Device? device = null)
    {
        var checkpoint = Checkpoint.Load(checkpointPath);
        var info = checkpoint.Info;
        if (!ModelZoo.IsKnown(info.ModelName))
        {
            throw new InvalidDataException(
                $"{checkpointPath} was trained with model '{info.ModelName}', which this version does not know.");
        }

        var model = ModelZoo.Create(info.ModelName, info.Classes.Count);
        try
        {
            checkpoint.LoadModel(model);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            model.Dispose();
            throw new InvalidDataException(
                $"{checkpointPath}: its weights do not fit a {info.ModelName} with {info.Classes.Count} classes ({e.Message}).", e);
        }

        model.eval();
        if (device is not null && device.type != DeviceType.CPU)
        {
            model.to(device);
        }

        return new LoadedModel(model, info.ModelName, info.Preset, info.Classes, info.Classes.Count)
        {
            HeadIsTrained = true,
            WeightsSource = Path.GetFullPath(checkpointPath),
        };
    }
}
