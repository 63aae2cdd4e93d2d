using System.Diagnostics;
using System.Text.Json;
using FineTuning.Costs;

namespace FineTuning.Tests.Costs;

// Runs the real command the way a user does: `dotnet finetune.dll costs ...`, which starts one child process per
// mode. Tiny settings (32x32, batch 2, 2 steps, two modes) keep it to a few processes' start-up time.
public class CostsCommandTests
{
    [Fact]
    public void Costs_command_writes_the_documented_json_and_a_png_chart()
    {
        var folder = Directory.CreateTempSubdirectory("costs-cli-");
        try
        {
            var json = Path.Combine(folder.FullName, "costs.json");
            var png = Path.Combine(folder.FullName, "costs.png");

            var (exitCode, output, errors) = RunFinetune(
                "costs", "--model", "resnet18", "--random-weights", "--classes", "10", "--batch", "2", "--size", "32",
                "--steps", "2", "--modes", "frozen,unfrozen", "--json", json, "--plot", png);

            Assert.True(exitCode == 0, $"exit code {exitCode}: {errors}");
            Assert.Contains("frozen", output);
            using var document = JsonDocument.Parse(File.ReadAllText(json));
            var root = document.RootElement;
            foreach (var key in new[] { "processor", "cores", "device", "torchsharp_version", "libtorch_version" })
            {
                Assert.True(root.GetProperty("machine").TryGetProperty(key, out _), $"machine.{key} is missing");
            }

            var modes = root.GetProperty("modes").EnumerateArray().ToList();
            Assert.Equal(["frozen", "unfrozen"], modes.Select(m => m.GetProperty("name").GetString()));
            foreach (var key in new[]
                     {
                         "trainable_parameters", "gradient_bytes", "optimizer_state_bytes", "forward_ms", "backward_ms",
                         "step_ms", "peak_memory_bytes", "bn_stats_changed", "optimizer_ms", "gradient_tensors",
                         "activation_bytes", "gradient_trace",
                     })
            {
                Assert.All(modes, m => Assert.True(m.TryGetProperty(key, out _), $"{key} is missing"));
            }

            Assert.Equal(4 * ((512 * 10) + 10), modes[0].GetProperty("gradient_bytes").GetInt64());
            Assert.False(modes[0].GetProperty("bn_stats_changed").GetBoolean());
            Assert.True(modes[1].GetProperty("bn_stats_changed").GetBoolean());
            Assert.True(modes[1].GetProperty("peak_memory_bytes").GetInt64() > 0);
            Assert.True(root.GetProperty("process_per_mode").GetBoolean());

            var report = CostReport.Load(json);
            Assert.Equal(2, report.Modes.Count);
            var header = File.ReadAllBytes(png).Take(8).ToArray();
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, header);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void Costs_command_rejects_an_unknown_mode_with_a_clear_message()
    {
        var (exitCode, _, errors) = RunFinetune("costs", "--modes", "frozen,sideways", "--random-weights");

        Assert.Equal(2, exitCode);
        Assert.Contains("'sideways' is not a cost mode", errors);
        Assert.Contains("head-only-optimizer", errors);
    }

    private static (int ExitCode, string Output, string Errors) RunFinetune(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "finetune.dll"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output, errors.Result);
    }
}
