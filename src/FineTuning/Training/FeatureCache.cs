using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using FineTuning.Data;
using FineTuning.Inspection;
using static TorchSharp.torch;

namespace FineTuning.Training;

/// <summary>What a <see cref="FeatureCache.Load"/> call did.</summary>
/// <param name="Images">Images asked for.</param>
/// <param name="FromCache">Images whose features were already on disk.</param>
/// <param name="Computed">Images run through the backbone (and then written to the cache).</param>
/// <param name="Skipped">Images that could not be decoded (left out, as the data loader does).</param>
/// <param name="Seconds">Wall-clock seconds of the call.</param>
public sealed record FeatureCacheStats(int Images, int FromCache, int Computed, int Skipped, double Seconds);

/// <summary>
/// Backbone features computed once and kept on disk. With a frozen backbone and a deterministic transform (no
/// augmentation), the head's input for an image never changes, so every epoch after the first can train the head
/// alone on stored features. An entry's key covers the model name, the transform (preset and size), the backbone's
/// weights (every parameter and buffer outside the head) and the image file's contents, so changing any of them
/// can never serve a stale feature.
/// </summary>
/// <remarks>
/// Layout: <c>{root}/{model key}/{SHA-256 of the file}.f32</c>, each the feature vector as little-endian float32,
/// written atomically. The features are the input of the head module, captured with a forward pre-hook, so any
/// model whose forward calls its head through <c>call</c> works (every TorchVision model does).
/// </remarks>
public sealed class FeatureCache
{
    /// <summary>Creates a cache rooted at <paramref name="root"/> (created on first write).</summary>
    public FeatureCache(string root)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        Root = root;
    }

    /// <summary>The cache folder.</summary>
    public string Root { get; }

    /// <summary>
    /// The key of a backbone: SHA-256 over <paramref name="modelName"/>, the transform's key and every parameter and
    /// buffer of <paramref name="model"/> outside <paramref name="headPath"/> (names, shapes and values).
    /// </summary>
    public static string ModelKey(nn.Module model, string headPath, string modelName, ImageTransform transform)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(transform);
        if (!transform.IsDeterministic)
        {
            throw new ArgumentException(
                "Features can only be cached for a deterministic transform (no augmentation).", nameof(transform));
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes($"{modelName}\n{transform.Key}\n{headPath}\n"));
        foreach (var (name, value) in model.state_dict().OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (ModulePaths.IsUnder(name, headPath))
            {
                continue;
            }

            hash.AppendData(Encoding.UTF8.GetBytes($"{name}:{string.Join(',', value.shape)}:{value.dtype}\n"));
            using var cpu = value.detach().cpu().contiguous();
            hash.AppendData(cpu.bytes);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset())[..32];
    }

    /// <summary>
    /// The head's input features for every sample, from the cache where present and computed (then stored)
    /// otherwise. Rows follow <paramref name="samples"/>' order, minus undecodable files.
    /// </summary>
    /// <param name="model">The whole model, frozen; it runs in eval mode without gradients.</param>
    /// <param name="headPath">The head module's path (for example <c>fc</c>).</param>
    /// <param name="modelName">The model's name, part of the key.</param>
    /// <param name="samples">The images and labels.</param>
    /// <param name="transform">A deterministic transform (the evaluation transform of the model's preset).</param>
    /// <param name="options">Loader options for the images that must be computed (batch size, workers, device).</param>
    /// <param name="progress">Batches of computed features (phase <see cref="TrainingPhase.Features"/>).</param>
    /// <param name="stats">What came from the cache and what was computed.</param>
    public TensorDataSet Load(
        nn.Module<Tensor, Tensor> model, string headPath, string modelName, IReadOnlyList<ImageSample> samples,
        ImageTransform transform, DataLoaderOptions options, IProgress<TrainingProgress>? progress,
        out FeatureCacheStats stats)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(options);
        var clock = Stopwatch.StartNew();
        var folder = Path.Combine(Root, ModelKey(model, headPath, modelName, transform));
        var fileKeys = samples.Select(s => FileKey(s.Path)).ToArray();
        var features = new float[samples.Count][];
        var missing = new List<int>();
        for (var i = 0; i < samples.Count; i++)
        {
            features[i] = TryRead(Path.Combine(folder, fileKeys[i] + ".f32"))!;
            if (features[i] is null)
            {
                missing.Add(i);
            }
        }

        var fromCache = samples.Count - missing.Count;
        if (missing.Count > 0)
        {
            Compute(model, headPath, samples, missing, transform, options, progress, clock, features);
            foreach (var i in missing.Where(i => features[i] is not null))
            {
                var bytes = new byte[features[i].Length * sizeof(float)];
                Buffer.BlockCopy(features[i], 0, bytes, 0, bytes.Length);
                AtomicFile.WriteAllBytes(Path.Combine(folder, fileKeys[i] + ".f32"), bytes);
            }
        }

        var rows = Enumerable.Range(0, samples.Count).Where(i => features[i] is not null).ToList();
        if (rows.Count == 0)
        {
            throw new DataSetException("No image could be decoded, so there are no features to cache.");
        }

        var width = features[rows[0]].Length;
        var flat = new float[rows.Count * width];
        for (var r = 0; r < rows.Count; r++)
        {
            features[rows[r]].CopyTo(flat, r * width);
        }

        var inputs = tensor(flat, [rows.Count, width]);
        var labels = tensor(rows.Select(i => (long)samples[i].Label).ToArray(), dtype: ScalarType.Int64);
        stats = new FeatureCacheStats(samples.Count, fromCache, rows.Count - fromCache, samples.Count - rows.Count,
            clock.Elapsed.TotalSeconds);
        return new TensorDataSet(inputs, labels, rows.Select(i => samples[i].Path).ToList());
    }

    private static void Compute(
        nn.Module<Tensor, Tensor> model, string headPath, IReadOnlyList<ImageSample> samples, List<int> missing,
        ImageTransform transform, DataLoaderOptions options, IProgress<TrainingProgress>? progress, Stopwatch clock,
        float[][] features)
    {
        if (ModulePaths.Find(model, headPath) is not nn.Module<Tensor, Tensor> head)
        {
            throw new ArgumentException($"'{headPath}' is not a tensor-to-tensor module.", nameof(headPath));
        }

        Tensor? captured = null;
        var hook = head.register_forward_pre_hook((_, input) =>
        {
            captured?.Dispose();
            captured = input.detach().flatten(1).cpu().clone().DetachFromDisposeScope();
            return input;
        });
        var indexOfPath = missing.ToDictionary(i => samples[i].Path, i => i);
        var loader = new DataLoader(missing.Select(i => samples[i]).ToList(), transform,
            options with { Shuffle = false });
        model.eval();
        try
        {
            ComputeBatches(model, headPath, loader, indexOfPath, options, progress, clock, features, () => captured,
                () => captured = null);
        }
        finally
        {
            hook.remove();
            captured?.Dispose();
        }
    }

    private static void ComputeBatches(
        nn.Module<Tensor, Tensor> model, string headPath, DataLoader loader, Dictionary<string, int> indexOfPath,
        DataLoaderOptions options, IProgress<TrainingProgress>? progress, Stopwatch clock, float[][] features,
        Func<Tensor?> captured, Action forget)
    {
        var batches = loader.BatchesPerEpoch;
        var done = 0;
        using (no_grad())
        {
            foreach (var batch in loader.Epoch(0))
            {
                using (batch)
                using (var scope = NewDisposeScope())
                {
                    forget();
                    model.call(batch.Images.to(options.Device ?? CPU));
                    if (captured() is not { } rows)
                    {
                        throw new InvalidOperationException(
                            $"The model never called its head '{headPath}' through call(), so its input cannot be captured.");
                    }

                    using var owned = rows;
                    var width = (int)rows.shape[1];
                    var flat = rows.data<float>().ToArray();
                    for (var b = 0; b < batch.Count; b++)
                    {
                        features[indexOfPath[batch.Paths[b]]] = flat[(b * width)..((b + 1) * width)];
                    }

                    forget();
                }

                done++;
                progress?.Report(new TrainingProgress(
                    TrainingPhase.Features, 1, 1, done, batches, double.NaN, clock.Elapsed, null));
            }
        }
    }

    private static string FileKey(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private static float[]? TryRead(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        var bytes = File.ReadAllBytes(path);
        if (bytes.Length == 0 || bytes.Length % sizeof(float) != 0)
        {
            return null;
        }

        var values = new float[bytes.Length / sizeof(float)];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return values;
    }
}
