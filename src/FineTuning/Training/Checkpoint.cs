using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using FineTuning.Models;
using static TorchSharp.torch;

namespace FineTuning.Training;

/// <summary>
/// What a checkpoint says about the run besides its tensors: which model and preset, the class names (so that
/// predictions print breed names), the seed, and the trainer's state for <c>--resume</c>.
/// </summary>
public sealed record CheckpointInfo
{
    /// <summary>The checkpoint format version this library writes.</summary>
    public const int CurrentFormat = 1;

    /// <summary>Format version of the file.</summary>
    public int Format { get; init; } = CurrentFormat;

    /// <summary>The model name in <c>ModelZoo</c> (for example <c>mlnet-resnet18</c>), to rebuild the
    /// architecture.</summary>
    public required string ModelName { get; init; }

    /// <summary>Class names, in label order: output <c>i</c> of the head is <c>Classes[i]</c>.</summary>
    public required IReadOnlyList<string> Classes { get; init; }

    /// <summary>The input preset the model was trained with (resize, crop, normalization).</summary>
    public required Preset Preset { get; init; }

    /// <summary>The seed of the run: shuffling and augmentation of epoch <c>e</c> derive from (seed, e).</summary>
    public int Seed { get; init; }

    /// <summary>The trainer's bookkeeping at the time of writing.</summary>
    public required TrainerState Trainer { get; init; }

    /// <summary>Settings of the run (command-line options), so that a resume can check that they still agree.</summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();

    /// <summary>When the file was written, UTC.</summary>
    public DateTime WrittenUtc { get; init; } = DateTime.UtcNow;
}

/// <summary>
/// A training checkpoint in one file (extension <c>.ckpt</c> by convention), written atomically (temporary file,
/// then rename). Layout: the 8 ASCII bytes <c>FTCKPT1\n</c>; a little-endian int32 length and that many bytes of
/// UTF-8 JSON (<see cref="CheckpointInfo"/>); then three sections, each an int64 length and its bytes: the model
/// state dict (TorchSharp's <c>Module.save</c> format), the optimizer state (<c>save_state_dict</c> format; empty
/// when absent) and torch's default generator state (empty when absent).
/// </summary>
public sealed class Checkpoint
{
    private static readonly byte[] Magic = "FTCKPT1\n"u8.ToArray();

    /// <summary>JSON settings shared by checkpoints and metrics files: indented, camel-less snake_case names.</summary>
    public static JsonSerializerOptions Json { get; } = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private Checkpoint(CheckpointInfo info, byte[] model, byte[] optimizer, byte[] rng)
    {
        Info = info;
        ModelState = model;
        OptimizerState = optimizer.Length == 0 ? null : optimizer;
        RandomState = rng.Length == 0 ? null : rng;
    }

    /// <summary>The run's description and trainer state.</summary>
    public CheckpointInfo Info { get; }

    /// <summary>The model's state dict bytes (TorchSharp <c>Module.save</c> format).</summary>
    public byte[] ModelState { get; }

    /// <summary>The optimizer's state bytes, or null.</summary>
    public byte[]? OptimizerState { get; }

    /// <summary>torch's default CPU generator state, or null.</summary>
    public byte[]? RandomState { get; }

    /// <summary>
    /// Writes a checkpoint of <paramref name="model"/> (and <paramref name="optimizerState"/>, from
    /// <see cref="Trainer.SaveOptimizerState"/>) to <paramref name="path"/>, atomically.
    /// </summary>
    public static void Save(string path, CheckpointInfo info, nn.Module model, byte[]? optimizerState)
    {
        ArgumentNullException.ThrowIfNull(info);
        ArgumentNullException.ThrowIfNull(model);
        byte[] modelBytes;
        using (var buffer = new MemoryStream())
        {
            using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
            {
                model.save(writer);
            }

            modelBytes = buffer.ToArray();
        }

        byte[] rng;
        using (var state = random.get_rng_state())
        {
            rng = state.data<byte>().ToArray();
        }

        var json = JsonSerializer.SerializeToUtf8Bytes(info, Json);
        AtomicFile.Write(path, stream =>
        {
            using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
            writer.Write(Magic);
            writer.Write(json.Length);
            writer.Write(json);
            WriteSection(writer, modelBytes);
            WriteSection(writer, optimizerState ?? []);
            WriteSection(writer, rng);
        });
    }

    /// <summary>Reads a checkpoint file.</summary>
    /// <exception cref="InvalidDataException">The file is not a checkpoint of this library, or is
    /// truncated.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static Checkpoint Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Checkpoint {path} does not exist.", path);
        }

        try
        {
            using var stream = File.OpenRead(path);
            using var reader = new BinaryReader(stream, Encoding.UTF8);
            var magic = reader.ReadBytes(Magic.Length);
            if (!magic.AsSpan().SequenceEqual(Magic))
            {
                throw new InvalidDataException(
                    $"{path} is not a finetune checkpoint (no FTCKPT1 header); pass a .ckpt written by 'finetune train'.");
            }

            var json = ReadExactly(reader, reader.ReadInt32(), path);
            var info = JsonSerializer.Deserialize<CheckpointInfo>(json, Json)
                ?? throw new InvalidDataException($"{path} has an empty header.");
            if (info.Format > CheckpointInfo.CurrentFormat)
            {
                throw new InvalidDataException(
                    $"{path} has checkpoint format {info.Format}; this version reads up to {CheckpointInfo.CurrentFormat}.");
            }

            var model = ReadSection(reader, path);
            var optimizer = ReadSection(reader, path);
            var rng = ReadSection(reader, path);
            return new Checkpoint(info, model, optimizer, rng);
        }
        catch (Exception e) when (e is EndOfStreamException or JsonException)
        {
            throw new InvalidDataException($"{path} is truncated or corrupt ({e.Message}); use an earlier checkpoint.", e);
        }
    }

    /// <summary>Loads the model weights into <paramref name="model"/> (whose architecture must match).</summary>
    public void LoadModel(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var stream = new MemoryStream(ModelState);
        using var reader = new BinaryReader(stream);
        model.load(reader, strict: true);
    }

    /// <summary>Restores torch's default generator to the state saved with the checkpoint, when there is one.</summary>
    public void RestoreRandomState()
    {
        if (RandomState is null)
        {
            return;
        }

        using var state = tensor(RandomState, dtype: ScalarType.Byte);
        random.set_rng_state(state);
    }

    private static void WriteSection(BinaryWriter writer, byte[] bytes)
    {
        writer.Write((long)bytes.Length);
        writer.Write(bytes);
    }

    private static byte[] ReadSection(BinaryReader reader, string path) =>
        ReadExactly(reader, checked((int)reader.ReadInt64()), path);

    private static byte[] ReadExactly(BinaryReader reader, int count, string path)
    {
        if (count < 0)
        {
            throw new InvalidDataException($"{path} is corrupt (negative section length).");
        }

        var bytes = reader.ReadBytes(count);
        if (bytes.Length != count)
        {
            throw new EndOfStreamException($"expected {count} bytes, found {bytes.Length}");
        }

        return bytes;
    }
}
