using FineTuning.Data;
using FineTuning.Training;
using static TorchSharp.torch;

namespace FineTuning.Evaluation;

/// <summary>Evaluates a checkpoint on a folder of images (one subfolder per class).</summary>
public static class EvaluationRun
{
    /// <summary>
    /// Evaluates every image under <paramref name="dataDir"/> with the model in <paramref name="checkpointPath"/>.
    /// Folder names must be classes of the checkpoint (a folder may be missing; its class then has no support).
    /// </summary>
    /// <exception cref="DataSetException">A folder names a class the checkpoint does not know.</exception>
    public static EvaluationReport Run(
        string checkpointPath, string dataDir, Device? device = null, int batchSize = 32,
        IProgress<TrainingProgress>? progress = null, IProgress<string>? messages = null,
        CancellationToken cancellationToken = default)
    {
        var loaded = TrainedModel.Load(checkpointPath, device);
        using var model = loaded.Model;
        var warnings = new Progress<ImageWarning>(w => messages?.Report(w.Message));
        var set = ImageFolder.Read(dataDir, warnings);
        var unknown = set.Classes.Where(c => !loaded.Labels.Contains(c)).ToList();
        if (unknown.Count > 0)
        {
            throw new DataSetException(
                $"{dataDir} has folders {string.Join(", ", unknown.Select(u => $"'{u}'"))} that are not classes of " +
                $"{checkpointPath}; its classes are: {string.Join(", ", loaded.Labels)}. Rename or remove them.");
        }

        var index = loaded.Labels.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i);
        var samples = set.Samples.Select(s => s with { Label = index[set.Classes[s.Label]] }).ToList();
        var loader = new DataLoader(samples, ImageTransform.ForEvaluation(loaded.Preset), new DataLoaderOptions
        {
            BatchSize = batchSize,
            Warnings = warnings,
        });
        return Evaluator.Evaluate(model, loader.Epoch(0, cancellationToken), loaded.Labels, device, progress,
            loader.BatchesPerEpoch, cancellationToken);
    }
}
