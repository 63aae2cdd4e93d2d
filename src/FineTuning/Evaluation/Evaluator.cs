using FineTuning.Data;
using FineTuning.Training;
using static TorchSharp.torch;

namespace FineTuning.Evaluation;

/// <summary>Runs a classifier over batches without gradients and measures it.</summary>
public static class Evaluator
{
    /// <summary>
    /// Evaluates <paramref name="model"/> (on <paramref name="device"/>) over <paramref name="batches"/>, whose
    /// labels index <paramref name="classes"/>. Progress counts batches (phase Validate).
    /// </summary>
    public static EvaluationReport Evaluate(
        nn.Module<Tensor, Tensor> model, IEnumerable<Batch> batches, IReadOnlyList<string> classes,
        Device? device = null, IProgress<TrainingProgress>? progress = null, int expectedBatches = 0,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(batches);
        var scores = new List<float[]>();
        var labels = new List<int>();
        var paths = new List<string>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        model.eval();
        using (no_grad())
        {
            var index = 0;
            foreach (var batch in batches)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using (batch)
                using (var scope = NewDisposeScope())
                {
                    var logits = model.call(batch.Images.to(device ?? CPU)).cpu();
                    var flat = logits.data<float>().ToArray();
                    var width = (int)logits.shape[1];
                    for (var i = 0; i < batch.Count; i++)
                    {
                        scores.Add(flat[(i * width)..((i + 1) * width)]);
                    }

                    labels.AddRange(batch.Labels.cpu().data<long>().ToArray().Select(l => (int)l));
                    paths.AddRange(batch.Paths);
                }

                index++;
                progress?.Report(new TrainingProgress(
                    TrainingPhase.Validate, 1, 1, index, expectedBatches, double.NaN, clock.Elapsed, null));
            }
        }

        return EvaluationReport.Compute(classes, scores, labels, paths);
    }
}
