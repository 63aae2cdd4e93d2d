using System.Text.Json;
using System.Text.Json.Serialization;
using FineTuning.Platform;
using FineTuning.Training;

namespace FineTuning.Costs;

/// <summary>
/// Everything one <c>finetune costs</c> run measured, with the machine and settings it ran on; saved as JSON with
/// snake_case keys (<c>machine</c>, <c>modes</c>, <c>step_ms</c>, ...).
/// </summary>
public sealed record CostReport
{
    /// <summary>The machine and library versions behind the figures.</summary>
    public required MachineInfo Machine { get; init; }

    /// <summary>The model's name, for example <c>mlnet-resnet18</c>.</summary>
    public required string Model { get; init; }

    /// <summary>Whether the model had pretrained weights (costs do not depend on it; it is stated for
    /// clarity).</summary>
    public required bool PretrainedWeights { get; init; }

    /// <summary>Outputs of the new head.</summary>
    public required int Classes { get; init; }

    /// <summary>Images per batch.</summary>
    public required int BatchSize { get; init; }

    /// <summary>Square input size in pixels.</summary>
    public required int ImageSize { get; init; }

    /// <summary>Timed steps per mode.</summary>
    public required int Steps { get; init; }

    /// <summary>Untimed warm-up steps per mode.</summary>
    public required int WarmupSteps { get; init; }

    /// <summary>The optimizer and its settings, in words.</summary>
    public required string Optimizer { get; init; }

    /// <summary>Whether each mode ran in its own process (so that memory peaks do not mix).</summary>
    public required bool ProcessPerMode { get; init; }

    /// <summary>One entry per mode, in the order they ran.</summary>
    public required IReadOnlyList<ModeCosts> Modes { get; init; }

    /// <summary>Seconds the whole measurement took, model loading and child processes included.</summary>
    public double WallSeconds { get; init; }

    /// <summary>When the measurement finished, UTC.</summary>
    public DateTimeOffset CreatedUtc { get; init; } = DateTimeOffset.UtcNow;

    /// <summary>The serializer settings of the report's JSON: snake_case keys, indented, nulls kept.</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>The report as JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>Writes the report's JSON to <paramref name="path"/> through a temporary file and a rename.</summary>
    /// <param name="path">The JSON file; its folder is created if needed.</param>
    public void Save(string path) => AtomicFile.WriteAllText(path, ToJson() + "\n");

    /// <summary>Reads a report written by <see cref="Save"/>.</summary>
    /// <param name="path">The JSON file.</param>
    /// <exception cref="InvalidDataException">The file is not such a report.</exception>
    public static CostReport Load(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<CostReport>(File.ReadAllText(path), JsonOptions)
                ?? throw new InvalidDataException($"{path} holds no cost report.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not a cost report written by 'finetune costs': {e.Message}", e);
        }
    }

    /// <summary>One mode's costs as JSON, as a child process of <c>finetune costs</c> hands them back.</summary>
    /// <param name="costs">The mode's costs.</param>
    public static string ModeToJson(ModeCosts costs) =>
        JsonSerializer.Serialize(costs, new JsonSerializerOptions(JsonOptions) { WriteIndented = false });

    /// <summary>Parses the output of <see cref="ModeToJson"/>.</summary>
    /// <param name="json">One mode's costs as JSON.</param>
    public static ModeCosts ModeFromJson(string json) =>
        JsonSerializer.Deserialize<ModeCosts>(json, JsonOptions)
        ?? throw new InvalidDataException("The measurement process returned no result.");
}
