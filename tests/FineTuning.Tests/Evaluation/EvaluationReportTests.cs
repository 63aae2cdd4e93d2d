using System.Text.Json;
using FineTuning.Evaluation;
using FineTuning.Training;

namespace FineTuning.Tests.Evaluation;

public sealed class EvaluationReportTests : IDisposable
{
    private static readonly string[] Classes = ["beagle", "pug", "husky"];
    private readonly string _folder = Directory.CreateTempSubdirectory("ft-eval-").FullName;

    // Six images: beagle x2 (one called pug), pug x2 (both right), husky x2 (one called beagle).
    private static EvaluationReport Example() => EvaluationReport.Compute(
        Classes,
        [[3, 1, 0], [1, 2, 0], [0, 5, 1], [0, 4, 0], [2, 0, 1], [0, 0, 9]],
        [0, 0, 1, 1, 2, 2],
        ["b1.jpg", "b2.jpg", "p1.jpg", "p2.jpg", "h1.jpg", "h2.jpg"]);

    [Fact]
    public void Accuracy_precision_recall_and_confusion_match_a_hand_count()
    {
        var report = Example();

        Assert.Equal(4 / 6.0, report.Accuracy, 12);
        Assert.Equal(1.0, report.Top5Accuracy, 12);
        Assert.Equal([[1, 1, 0], [0, 2, 0], [1, 0, 1]], report.ConfusionMatrix);
        Assert.Equal(new ClassMetrics("beagle", 0.5, 0.5, 2), report.PerClass[0]);
        Assert.Equal(new ClassMetrics("pug", 2 / 3.0, 1.0, 2), report.PerClass[1]);
        Assert.Equal(new ClassMetrics("husky", 1.0, 0.5, 2), report.PerClass[2]);
        Assert.Equal(["b2.jpg", "h1.jpg"], report.Misclassified.Select(m => m.Path).Order().ToArray());
        Assert.Equal(2, report.MostConfused.Count);
        Assert.Contains(new ConfusedPair("husky", "beagle", 1), report.MostConfused);
    }

    [Fact]
    public void Top_k_counts_a_hit_when_the_true_class_is_among_the_best_k()
    {
        var classes = Enumerable.Range(0, 7).Select(i => $"c{i}").ToArray();
        float[] scores = [7, 6, 5, 4, 3, 2, 1];

        var inTop5 = EvaluationReport.Compute(classes, [scores], [4], ["x"]);
        var outside = EvaluationReport.Compute(classes, [scores], [5], ["x"]);

        Assert.Equal(1.0, inTop5.Top5Accuracy);
        Assert.Equal(0.0, outside.Top5Accuracy);
        Assert.Equal(0.0, inTop5.Accuracy);
    }

    [Fact]
    public void Json_has_the_fields_the_tool_promises()
    {
        using var json = JsonDocument.Parse(Example().ToJson());

        var root = json.RootElement;
        Assert.Equal(4 / 6.0, root.GetProperty("accuracy").GetDouble(), 12);
        Assert.Equal(1.0, root.GetProperty("top5_accuracy").GetDouble(), 12);
        Assert.Equal(3, root.GetProperty("per_class").GetArrayLength());
        Assert.Equal("beagle", root.GetProperty("per_class")[0].GetProperty("class").GetString());
        Assert.Equal(3, root.GetProperty("confusion_matrix").GetArrayLength());
        Assert.Equal(2, root.GetProperty("misclassified").GetArrayLength());
    }

    [Fact]
    public void Charts_write_png_files()
    {
        var confusion = Path.Combine(_folder, "confusion.png");
        var curves = Path.Combine(_folder, "curves.png");
        EpochMetrics[] history = [new(1, 0, 1.2, 0.5, 1.0, 0.6, 0.1, 3), new(2, 0, 0.8, 0.7, 0.9, 0.7, 0.05, 3)];

        Charts.ConfusionMatrix(Example(), confusion);
        Charts.TrainingCurves(history, curves);

        foreach (var file in new[] { confusion, curves })
        {
            var bytes = File.ReadAllBytes(file);
            Assert.True(bytes.Length > 1000, $"{file} is {bytes.Length} bytes");
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
        }

        Assert.Equal(2, Directory.GetFiles(_folder).Length);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
