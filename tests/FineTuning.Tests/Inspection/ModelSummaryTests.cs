using FineTuning.Inspection;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FineTuning.Tests.Inspection;

public class ModelSummaryTests
{
    [Fact]
    public void ResNet18_rows_carry_output_shapes_parameters_and_trainable_counts()
    {
        using var model = torchvision.models.resnet18(num_classes: 10);
        Freezer.FreezeAllBut(model, "fc");
        model.train();

        var summary = ModelSummary.Create(model, [1, 3, 64, 64]);

        Assert.Equal(model.named_modules().Count(), summary.Rows.Count);
        Assert.Equal(ParameterCounts.Of(model), summary.Totals);
        Assert.Equal([1L, 10L], summary.OutputShape);
        var conv1 = summary.Rows.Single(r => r.Path == "conv1");
        Assert.Equal(("Conv2d", 1, 1, 64L * 3 * 7 * 7, 0L),
            (conv1.Type, conv1.Depth, conv1.Calls, conv1.Parameters, conv1.Trainable));
        Assert.Equal([1L, 64L, 32L, 32L], conv1.OutputShape!);
        var fc = summary.Rows.Single(r => r.Path == "fc");
        Assert.Equal(("Linear", 5130L, 5130L), (fc.Type, fc.Parameters, fc.Trainable));
        Assert.Equal([1L, 10L], fc.OutputShape!);
        Assert.Equal([1L, 512L, 2L, 2L], summary.Rows.Single(r => r.Path == "layer4").OutputShape!);
        Assert.Equal(3, summary.Rows.Single(r => r.Path == "layer4.1.bn2").Depth);
        Assert.True(model.training);
        Assert.True(ModulePaths.Find(model, "layer1").training);
    }

    [Fact]
    public void Text_table_is_aligned_and_ends_with_totals()
    {
        using var model = torchvision.models.resnet18(num_classes: 10);

        var lines = ModelSummary.Create(model, [1, 3, 64, 64]).ToText(maxDepth: 1).TrimEnd('\n').Split('\n');

        Assert.Equal("ResNet, input [1, 3, 64, 64], output [1, 10]", lines[0]);
        var typeColumn = lines[1].IndexOf("Type", StringComparison.Ordinal);
        var conv1 = lines.Single(l => l.StartsWith("conv1 ", StringComparison.Ordinal));
        var fc = lines.Single(l => l.StartsWith("fc ", StringComparison.Ordinal));
        Assert.Equal(typeColumn, conv1.IndexOf("Conv2d", StringComparison.Ordinal));
        Assert.Equal(typeColumn, fc.IndexOf("Linear", StringComparison.Ordinal));
        Assert.Equal("fc       Linear             [1, 10]               5,130      5,130", fc);
        Assert.Equal("Module   Type               Output shape     Parameters  Trainable", lines[1]);
        Assert.Equal(1 + 2 + 11 + 1 + 4, lines.Length);
        Assert.Equal("Total parameters: 11,181,642", lines[^4]);
        Assert.Equal("Trainable parameters: 11,181,642", lines[^3]);
        Assert.Equal("Parameter memory: 42.7 MiB (42.7 MiB trainable)", lines[^1]);
    }

    [Fact]
    public void Html_escapes_names_and_marks_modules_that_never_ran()
    {
        using var model = new WithUnusedChild();

        var summary = ModelSummary.Create(model, [2, 4]);
        var html = summary.ToHtml();

        Assert.Null(summary.Rows.Single(r => r.Path == "unused").OutputShape);
        Assert.Contains("<td>(not run)</td>", html, StringComparison.Ordinal);
        Assert.Contains("a&lt;b&gt;&amp;", html, StringComparison.Ordinal);
        Assert.DoesNotContain("a<b>&", html, StringComparison.Ordinal);
        Assert.StartsWith("<table class=\"model-summary\">", html, StringComparison.Ordinal);
        Assert.Contains("<td>[2, 3] x2</td>", html, StringComparison.Ordinal);
    }

    private sealed class WithUnusedChild : nn.Module<Tensor, Tensor>
    {
        private readonly Linear used = nn.Linear(4, 3);
        private readonly Linear unused = nn.Linear(4, 3);
        private readonly Sequential odd = nn.Sequential(("a<b>&", nn.Identity()));

        public WithUnusedChild() : base(nameof(WithUnusedChild)) => RegisterComponents();

        // used runs twice (a shared module); unused never runs.
        public override Tensor forward(Tensor input) => odd.call(used.call(input) + used.call(input));
    }
}
