using System.Collections;
using System.IO.Compression;
using System.Text.Json;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace FineTuning.Models;

/// <summary>
/// Reads, writes and loads state dicts (parameter and buffer tensors by name) in the three formats a .NET user
/// meets: PyTorch's <c>torch.save(model.state_dict())</c> (<c>.pth</c>, <c>.pt</c>), <c>.safetensors</c>, and
/// TorchSharp's own <c>module.save</c> format (<c>.dat</c>).
/// </summary>
/// <remarks>
/// <see cref="Load"/> compares every key and shape against the module before it copies anything, so a file for
/// another architecture fails with the first mismatching key and both shapes instead of TorchSharp's generic
/// message, and a failed load leaves the module untouched.
/// </remarks>
public static class WeightsFile
{
    /// <summary>The file extensions this class reads and writes, lower case, with the dot.</summary>
    public static IReadOnlyList<string> Extensions { get; } = [".pth", ".pt", ".safetensors", ".dat"];

    /// <summary>
    /// Reads every tensor of a state-dict file into CPU tensors that the caller owns (dispose them, or read
    /// inside a dispose scope).
    /// </summary>
    /// <param name="path">A <c>.pth</c>, <c>.pt</c>, <c>.safetensors</c> or <c>.dat</c> file.</param>
    /// <exception cref="ModelLoadException">
    /// The file is missing, has an unknown extension, or cannot be read.
    /// </exception>
    public static Dictionary<string, Tensor> Read(string path)
    {
        var format = FormatOf(path);
        if (!File.Exists(path))
        {
            throw new ModelLoadException(
                $"Weights file '{path}' does not exist. Check the path, or download the file first " +
                "(see README, 'Getting torchvision's weights').");
        }

        try
        {
            return format switch
            {
                ".dat" => ReadDat(path),
                ".safetensors" => ReadSafetensors(path),
                _ => ReadPickle(path),
            };
        }
        catch (ModelLoadException)
        {
            throw;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or EndOfStreamException
                                      or FormatException or JsonException or NotSupportedException
                                      or NotImplementedException or ArgumentException or InvalidCastException
                                      or OverflowException or KeyNotFoundException or IndexOutOfRangeException
                                      or InvalidOperationException)
        {
            throw new ModelLoadException(
                $"Weights file '{path}' could not be read as {Describe(format)}: it looks truncated or corrupt " +
                $"({e.GetType().Name}: {e.Message}). Download or export it again.",
                e);
        }
    }

    /// <summary>
    /// Writes tensors as a state-dict file in the format its extension names, atomically: a temporary file in the
    /// same folder is written completely, then renamed over <paramref name="path"/>.
    /// </summary>
    /// <param name="path">Destination; its extension picks the format.</param>
    /// <param name="entries">Tensors by state-dict key, in the order they are written.</param>
    public static void Write(string path, IEnumerable<KeyValuePair<string, Tensor>> entries)
    {
        var format = FormatOf(path);
        var list = entries.ToList();
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(folder);
        var temp = Path.Combine(folder, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var scope = NewDisposeScope())
            {
                var cpu = list.Select(e => KeyValuePair.Create(e.Key, e.Value.detach().cpu().contiguous())).ToList();
                switch (format)
                {
                    case ".dat":
                        WriteDat(temp, cpu);
                        break;
                    case ".safetensors":
                        Safetensors.SaveStateDict(temp, cpu.ToDictionary(e => e.Key, e => e.Value));
                        break;
                    default:
                        var table = new Hashtable();
                        foreach (var (key, value) in cpu)
                        {
                            table[key] = value;
                        }

                        PyTorchPickler.PickleStateDict(temp, table);
                        break;
                }
            }

            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    /// <summary>
    /// Loads a weights file into a module after checking every key and shape. With
    /// <paramref name="includeHead"/> false the head's keys (<paramref name="headPrefix"/>) are neither required
    /// nor loaded, which gives a pretrained backbone with the module's own fresh head.
    /// </summary>
    /// <param name="module">The module to fill; its state dict decides which keys and shapes are expected.</param>
    /// <param name="path">The weights file.</param>
    /// <param name="includeHead">Whether the head's weights must be in the file and are loaded.</param>
    /// <param name="headPrefix">Path of the head module, <c>fc</c> for ResNets.</param>
    /// <param name="modelName">The architecture's name, used in error messages.</param>
    /// <returns>Which keys were loaded and which head keys of the file were left out.</returns>
    /// <exception cref="ModelLoadException">The file cannot be read or does not fit the module.</exception>
    public static WeightsLoadReport Load(
        nn.Module module, string path, bool includeHead = true, string headPrefix = "fc", string? modelName = null)
    {
        using var scope = NewDisposeScope();
        var entries = Read(path);
        return LoadEntries(module, entries, path, includeHead, headPrefix, modelName);
    }

    /// <summary>
    /// Copies tensors into a module after checking every key and shape (see <see cref="Load"/>); the tensors stay
    /// owned by the caller.
    /// </summary>
    /// <param name="module">The module to fill.</param>
    /// <param name="entries">Tensors by state-dict key.</param>
    /// <param name="source">The file or origin of the tensors, used in error messages.</param>
    /// <param name="includeHead">Whether the head's weights must be present and are loaded.</param>
    /// <param name="headPrefix">Path of the head module, <c>fc</c> for ResNets.</param>
    /// <param name="modelName">The architecture's name, used in error messages.</param>
    /// <exception cref="ModelLoadException">The tensors do not fit the module.</exception>
    public static WeightsLoadReport LoadEntries(
        nn.Module module,
        IReadOnlyDictionary<string, Tensor> entries,
        string source,
        bool includeHead = true,
        string headPrefix = "fc",
        string? modelName = null)
    {
        var target = module.state_dict();
        var what = modelName ?? module.GetName();
        bool IsHead(string key) => key.StartsWith(headPrefix + ".", StringComparison.Ordinal);

        foreach (var (key, tensor) in target)
        {
            if (!includeHead && IsHead(key))
            {
                continue;
            }

            if (!entries.TryGetValue(key, out var loaded))
            {
                var hint = entries.Keys.FirstOrDefault(k => k.EndsWith("." + key, StringComparison.Ordinal)) is
                { } prefixed
                    ? $" The file has '{prefixed}': strip the prefix before '{key}' when exporting it."
                    : "";
                throw new ModelLoadException(
                    $"Weights file '{source}' does not fit {what}: it has no '{key}' " +
                    $"(shape {Shape(tensor.shape)} in the model).{hint} Is it a file for another architecture?");
            }

            if (!loaded.shape.SequenceEqual(tensor.shape))
            {
                throw new ModelLoadException(
                    $"Weights file '{source}' does not fit {what}: the first mismatching key is '{key}', shape " +
                    $"{Shape(loaded.shape)} in the file but {Shape(tensor.shape)} in the model. " +
                    "Is it a file for another architecture or another number of classes?");
            }
        }

        var unexpected = entries.Keys.Where(k => !target.ContainsKey(k) && (includeHead || !IsHead(k))).ToList();
        if (unexpected.Count > 0)
        {
            throw new ModelLoadException(
                $"Weights file '{source}' does not fit {what}: it has {unexpected.Count} key(s) the model lacks, " +
                $"the first is '{unexpected[0]}' (shape {Shape(entries[unexpected[0]].shape)}). " +
                "Is it a file for another architecture?");
        }

        var loadedKeys = new List<string>();
        using (no_grad())
        {
            foreach (var (key, tensor) in target)
            {
                if (!includeHead && IsHead(key))
                {
                    continue;
                }

                tensor.copy_(entries[key]);
                loadedKeys.Add(key);
            }
        }

        var skipped = entries.Keys.Where(k => !includeHead && IsHead(k)).ToList();
        return new WeightsLoadReport(source, loadedKeys, skipped);
    }

    /// <summary>Formats a shape the way PyTorch prints sizes, e.g. <c>[64, 3, 7, 7]</c>.</summary>
    /// <param name="shape">Dimensions.</param>
    public static string Shape(IEnumerable<long> shape) => "[" + string.Join(", ", shape) + "]";

    private static string FormatOf(string path)
    {
        var extension = Path.GetExtension(path).ToLowerInvariant();
        if (!Extensions.Contains(extension))
        {
            throw new ModelLoadException(
                $"Weights file '{path}' has an unknown extension '{extension}'. Use a PyTorch state dict (.pth, " +
                ".pt), a .safetensors file, or a TorchSharp .dat file (module.save).");
        }

        return extension;
    }

    private static string Describe(string format) => format switch
    {
        ".dat" => "a TorchSharp .dat file (module.save)",
        ".safetensors" => "a .safetensors file",
        _ => "a PyTorch state dict (torch.save(model.state_dict(), path))",
    };

    private static Dictionary<string, Tensor> ReadPickle(string path)
    {
        // A torch.save file is a zip archive; check that first so a truncated download fails with a clear cause.
        using (var zip = ZipFile.OpenRead(path))
        {
            if (!zip.Entries.Any(e => e.FullName.EndsWith("data.pkl", StringComparison.Ordinal)))
            {
                throw new ModelLoadException(
                    $"Weights file '{path}' is a zip archive without a data.pkl: it is not a file written by " +
                    "torch.save. Save the model with torch.save(model.state_dict(), path).");
            }
        }

        var table = PyTorchUnpickler.UnpickleStateDict(path);
        var result = new Dictionary<string, Tensor>();
        foreach (DictionaryEntry entry in table)
        {
            if (entry.Value is Tensor tensor)
            {
                result[(string)entry.Key] = tensor;
            }
            else if (entry.Value is IDictionary)
            {
                throw new ModelLoadException(
                    $"Weights file '{path}' holds a nested dictionary under '{entry.Key}', not a state dict " +
                    "(a training checkpoint?). Save just the weights with torch.save(model.state_dict(), path).");
            }
        }

        if (result.Count == 0)
        {
            throw new ModelLoadException($"Weights file '{path}' contains no tensors.");
        }

        return result;
    }

    private static Dictionary<string, Tensor> ReadSafetensors(string path)
    {
        // Check the declared sizes against the file's length: a truncated file must not load silently.
        using (var stream = File.OpenRead(path))
        {
            Span<byte> lengthBytes = stackalloc byte[8];
            stream.ReadExactly(lengthBytes);
            var headerLength = BitConverter.ToUInt64(lengthBytes);
            if (headerLength > (ulong)(stream.Length - 8))
            {
                throw new EndOfStreamException($"the header claims {headerLength} bytes, the file is shorter");
            }

            var header = new byte[headerLength];
            stream.ReadExactly(header);
            using var json = JsonDocument.Parse(header);
            long dataEnd = 0;
            foreach (var property in json.RootElement.EnumerateObject())
            {
                if (property.Name != "__metadata__")
                {
                    dataEnd = Math.Max(dataEnd, property.Value.GetProperty("data_offsets")[1].GetInt64());
                }
            }

            var expected = 8 + (long)headerLength + dataEnd;
            if (stream.Length < expected)
            {
                throw new EndOfStreamException($"the file has {stream.Length} bytes, its header needs {expected}");
            }
        }

        return Safetensors.LoadStateDict(path);
    }

    // TorchSharp's format: a 7-bit encoded count; per entry a length-prefixed UTF-8 key, then the tensor as
    // element type, rank and dimensions (7-bit encoded) and the raw little-endian bytes.
    private static Dictionary<string, Tensor> ReadDat(string path)
    {
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream);
        var count = reader.Read7BitEncodedInt64();
        if (count < 0 || count > 1_000_000)
        {
            throw new InvalidDataException($"the entry count {count} is not plausible");
        }

        var result = new Dictionary<string, Tensor>();
        for (var i = 0; i < count; i++)
        {
            var key = reader.ReadString();
            var type = (ScalarType)reader.Read7BitEncodedInt64();
            var rank = reader.Read7BitEncodedInt64();
            if (rank < 0 || rank > 16)
            {
                throw new InvalidDataException($"tensor '{key}' has an implausible rank {rank}");
            }

            var shape = new long[rank];
            for (var d = 0; d < rank; d++)
            {
                shape[d] = reader.Read7BitEncodedInt64();
            }

            var tensor = empty(shape, dtype: type);
            var bytes = new byte[tensor.numel() * tensor.element_size()];
            reader.BaseStream.ReadExactly(bytes);
            tensor.bytes = bytes;
            result[key] = tensor;
        }

        return result;
    }

    private static void WriteDat(string path, IReadOnlyList<KeyValuePair<string, Tensor>> entries)
    {
        using var stream = File.Create(path);
        using var writer = new BinaryWriter(stream);
        writer.Write7BitEncodedInt64(entries.Count);
        foreach (var (key, tensor) in entries)
        {
            writer.Write(key);
            writer.Write7BitEncodedInt64((long)tensor.dtype);
            writer.Write7BitEncodedInt64(tensor.shape.Length);
            foreach (var dimension in tensor.shape)
            {
                writer.Write7BitEncodedInt64(dimension);
            }

            writer.Write(tensor.bytes);
        }

        writer.Flush();
        stream.Flush(flushToDisk: true);
    }
}

/// <summary>What <see cref="WeightsFile.Load"/> did.</summary>
/// <param name="Source">The file that was loaded.</param>
/// <param name="LoadedKeys">State-dict keys copied into the module, in the module's order.</param>
/// <param name="SkippedHeadKeys">Head keys present in the file but not loaded (a new head was asked for).</param>
public sealed record WeightsLoadReport(
    string Source, IReadOnlyList<string> LoadedKeys, IReadOnlyList<string> SkippedHeadKeys);
