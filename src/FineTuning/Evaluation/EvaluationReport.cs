using System.Text.Json;
using System.Text.Json.Serialization;
using FineTuning.Training;

namespace FineTuning.Evaluation;

/// <summary>Precision and recall of one class.</summary>
/// <param name="Class">The class name.</param>
/// <param name="Precision">Of the images predicted as this class, the fraction that are (0..1; 0 when none
/// were).</param>
/// <param name="Recall">Of the images of this class, the fraction predicted as it (0..1; 0 when it has none).</param>
/// <param name="Support">Number of images of this class.</param>
public sealed record ClassMetrics(string Class, double Precision, double Recall, int Support);

/// <summary>A pair of classes that the model mixes up.</summary>
/// <param name="Actual">The true class.</param>
/// <param name="Predicted">The class the model chose instead.</param>
/// <param name="Count">How many images of <paramref name="Actual"/> were predicted as <paramref
/// name="Predicted"/>.</param>
public sealed record ConfusedPair(string Actual, string Predicted, int Count);

/// <summary>An image that the model got wrong.</summary>
/// <param name="Path">The image file.</param>
/// <param name="Actual">Its true class.</param>
/// <param name="Predicted">The model's top class.</param>
/// <param name="Confidence">The softmax probability of the predicted class (0..1).</param>
public sealed record Misclassification(string Path, string Actual, string Predicted, double Confidence);

/// <summary>
/// What an evaluation measured: accuracy, top-5 accuracy, per-class precision and recall, the confusion matrix
/// (rows are true classes, columns predicted ones, both in <see cref="Classes"/> order), the most confused pairs
/// and the misclassified files.
/// </summary>
public sealed record EvaluationReport
{
    /// <summary>Class names, in label order.</summary>
    [JsonPropertyName("classes")]
    public required IReadOnlyList<string> Classes { get; init; }

    /// <summary>Number of images evaluated.</summary>
    [JsonPropertyName("images")]
    public int Images { get; init; }

    /// <summary>Fraction of images whose top prediction is right (0..1).</summary>
    [JsonPropertyName("accuracy")]
    public double Accuracy { get; init; }

    /// <summary>Fraction of images whose true class is among the top five predictions (top-k with k = classes when
    /// fewer).</summary>
    [JsonPropertyName("top5_accuracy")]
    public double Top5Accuracy { get; init; }

    /// <summary>Precision, recall and support per class, in label order.</summary>
    [JsonPropertyName("per_class")]
    public required IReadOnlyList<ClassMetrics> PerClass { get; init; }

    /// <summary>Counts: <c>ConfusionMatrix[actual][predicted]</c>.</summary>
    [JsonPropertyName("confusion_matrix")]
    public required int[][] ConfusionMatrix { get; init; }

    /// <summary>Off-diagonal cells of the confusion matrix with a count above zero, largest first (at most
    /// 10).</summary>
    [JsonPropertyName("most_confused")]
    public required IReadOnlyList<ConfusedPair> MostConfused { get; init; }

    /// <summary>Every misclassified image, most confident mistakes first.</summary>
    [JsonPropertyName("misclassified")]
    public required IReadOnlyList<Misclassification> Misclassified { get; init; }

    /// <summary>
    /// Computes the report from the model's scores (logits or probabilities, one row per image),
    /// the true labels and the files.
    /// </summary>
    public static EvaluationReport Compute(
        IReadOnlyList<string> classes, IReadOnlyList<float[]> scores, IReadOnlyList<int> labels,
        IReadOnlyList<string> paths)
    {
        ArgumentNullException.ThrowIfNull(classes);
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(paths);
        if (scores.Count != labels.Count || labels.Count != paths.Count)
        {
            throw new ArgumentException("Scores, labels and paths must have one entry per image.");
        }

        var n = classes.Count;
        var k = Math.Min(5, n);
        var matrix = Enumerable.Range(0, n).Select(_ => new int[n]).ToArray();
        var topK = 0;
        var wrong = new List<Misclassification>();
        for (var i = 0; i < scores.Count; i++)
        {
            var row = scores[i];
            if (row.Length != n)
            {
                throw new ArgumentException($"Image {paths[i]} has {row.Length} scores for {n} classes.");
            }

            var ranked = Enumerable.Range(0, n).OrderByDescending(c => row[c]).ThenBy(c => c).ToArray();
            var predicted = ranked[0];
            matrix[labels[i]][predicted]++;
            if (ranked.Take(k).Contains(labels[i]))
            {
                topK++;
            }

            if (predicted != labels[i])
            {
                wrong.Add(new Misclassification(paths[i], classes[labels[i]], classes[predicted], Softmax(row)[predicted]));
            }
        }

        var perClass = Enumerable.Range(0, n).Select(c =>
        {
            var support = matrix[c].Sum();
            var predictedAs = matrix.Sum(r => r[c]);
            return new ClassMetrics(
                classes[c],
                predictedAs == 0 ? 0 : matrix[c][c] / (double)predictedAs,
                support == 0 ? 0 : matrix[c][c] / (double)support,
                support);
        }).ToList();
        var pairs = (from a in Enumerable.Range(0, n)
                     from p in Enumerable.Range(0, n)
                     where a != p && matrix[a][p] > 0
                     orderby matrix[a][p] descending, a, p
                     select new ConfusedPair(classes[a], classes[p], matrix[a][p])).Take(10).ToList();
        var total = Math.Max(1, scores.Count);
        return new EvaluationReport
        {
            Classes = classes,
            Images = scores.Count,
            Accuracy = Enumerable.Range(0, n).Sum(c => matrix[c][c]) / (double)total,
            Top5Accuracy = topK / (double)total,
            PerClass = perClass,
            ConfusionMatrix = matrix,
            MostConfused = pairs,
            Misclassified = [.. wrong.OrderByDescending(w => w.Confidence)],
        };
    }

    /// <summary>The report as indented JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Checkpoint.Json);

    private static double[] Softmax(float[] row)
    {
        var max = row.Max();
        var exp = row.Select(v => Math.Exp(v - max)).ToArray();
        var sum = exp.Sum();
        return [.. exp.Select(e => e / sum)];
    }
}
