using System.Collections;
using System.Collections.Concurrent;
using static TorchSharp.torch;

namespace FineTuning.Data;

/// <summary>
/// Enumerates batches of decoded, transformed images. Worker threads decode ahead of the consumer (at most
/// <see cref="DataLoaderOptions.Prefetch"/> batches), so a training step does not wait for JPEG decoding; the
/// tensors themselves are created on the consuming thread, and each <see cref="Batch"/> owns its two tensors.
/// </summary>
/// <remarks>
/// <para>Each enumeration is one epoch: <c>foreach (var batch in loader)</c> runs epoch 0, then 1, and so on;
/// <see cref="Epoch"/> runs a given epoch (for resuming). The order and the augmentation of an epoch depend only on
/// the seed and the epoch number, never on thread timing.</para>
/// <para>A file that cannot be decoded is reported once through <see cref="DataLoaderOptions.Warnings"/>, then left
/// out of this and every later epoch; batches stay full (the next good images fill them), so only the last batch
/// of an epoch is smaller.</para>
/// </remarks>
public sealed class DataLoader : IEnumerable<Batch>
{
    private readonly IReadOnlyList<ImageSample> _samples;
    private readonly ConcurrentDictionary<int, string> _skipped = new();
    private int _nextEpoch;

    /// <summary>Creates a loader over <paramref name="samples"/>; nothing is decoded until it is enumerated.</summary>
    public DataLoader(IReadOnlyList<ImageSample> samples, ImageTransform transform, DataLoaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(transform);
        Options = options ?? new DataLoaderOptions();
        Options.Validate();
        _samples = samples;
        Transform = transform;
    }

    /// <summary>The options this loader was created with.</summary>
    public DataLoaderOptions Options { get; }

    /// <summary>The transform applied to every image.</summary>
    public ImageTransform Transform { get; }

    /// <summary>Number of samples, including any found unreadable so far.</summary>
    public int SampleCount => _samples.Count;

    /// <summary>Batches per epoch, counting every sample not yet found unreadable.</summary>
    public int BatchesPerEpoch => (_samples.Count - _skipped.Count + Options.BatchSize - 1) / Options.BatchSize;

    /// <summary>Files found unreadable so far (each was reported once), with the reason.</summary>
    public IReadOnlyDictionary<string, string> SkippedFiles =>
        _skipped.ToDictionary(p => _samples[p.Key].Path, p => p.Value);

    /// <summary>Runs the next epoch (0 the first time, then 1, 2, ...).</summary>
    public IEnumerator<Batch> GetEnumerator() =>
        Epoch(Interlocked.Increment(ref _nextEpoch) - 1).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The sample order of an epoch: shuffled from seed and epoch, or as given without shuffling.</summary>
    public int[] OrderOf(int epoch)
    {
        var order = Enumerable.Range(0, _samples.Count).ToArray();
        if (Options.Shuffle)
        {
            Seeds.For(Seeds.Shuffle, Options.Seed, epoch).Shuffle(order);
        }

        return order;
    }

    /// <summary>
    /// Runs epoch <paramref name="epoch"/>. Stopping early (break, dispose of the enumerator, or cancellation) stops
    /// the workers. Cancellation throws <see cref="OperationCanceledException"/> from the enumeration.
    /// </summary>
    public IEnumerable<Batch> Epoch(int epoch, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        return Run(epoch, cancellationToken);
    }

    private IEnumerable<Batch> Run(int epoch, CancellationToken cancellationToken)
    {
        var order = OrderOf(epoch).Where(i => !_skipped.ContainsKey(i)).ToArray();
        if (order.Length == 0)
        {
            yield break;
        }

        int perImage = Transform.ElementsPerImage;
        var slots = new TaskCompletionSource<float[]?>[order.Length];
        for (int i = 0; i < slots.Length; i++)
        {
            slots[i] = new TaskCompletionSource<float[]?>(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        // Workers take positions in order; the semaphore keeps them at most Prefetch batches ahead.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var room = new SemaphoreSlim(Options.Prefetch * Options.BatchSize);
        int next = -1;
        var workers = Enumerable.Range(0, Math.Min(Options.Workers, order.Length))
            .Select(_ => Task.Factory.StartNew(
                () => Work(epoch, order, slots, room, () => Interlocked.Increment(ref next), perImage, stop.Token),
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default))
            .ToArray();

        try
        {
            var images = new List<float[]>(Options.BatchSize);
            var labels = new List<long>(Options.BatchSize);
            var paths = new List<string>(Options.BatchSize);
            for (int position = 0; position < order.Length; position++)
            {
                float[]? data;
                try
                {
                    data = slots[position].Task.Wait(Timeout.Infinite, stop.Token)
                        ? slots[position].Task.Result
                        : null;
                }
                catch (AggregateException e) when (e.InnerException is not null)
                {
                    throw e.InnerException;
                }

                room.Release();
                if (data is not null)
                {
                    var sample = _samples[order[position]];
                    images.Add(data);
                    labels.Add(sample.Label);
                    paths.Add(sample.Path);
                }

                if (images.Count == Options.BatchSize || (position == order.Length - 1 && images.Count > 0))
                {
                    yield return MakeBatch(images, labels, paths, perImage);
                    images.Clear();
                    labels.Clear();
                    paths.Clear();
                }
            }
        }
        finally
        {
            stop.Cancel();
            try
            {
                Task.WaitAll(workers);
            }
            catch (AggregateException e) when (e.InnerExceptions.All(x => x is OperationCanceledException))
            {
                // The workers stop by cancellation when the consumer is done or leaves early.
            }
        }
    }

    private void Work(
        int epoch,
        int[] order,
        TaskCompletionSource<float[]?>[] slots,
        SemaphoreSlim room,
        Func<int> take,
        int perImage,
        CancellationToken token)
    {
        while (true)
        {
            room.Wait(token);
            int position = take();
            if (position >= order.Length)
            {
                return;
            }

            int index = order[position];
            try
            {
                var random = Transform.IsDeterministic ? null : ImageTransform.RandomFor(Options.Seed, epoch, index);
                var data = new float[perImage];
                string path = _samples[index].Path;
                if (Transform.TryLoad(path, random, data, out var error))
                {
                    slots[position].SetResult(data);
                }
                else
                {
                    if (_skipped.TryAdd(index, error))
                    {
                        Options.Warnings?.Report(new ImageWarning(path, error));
                    }

                    slots[position].SetResult(null);
                }
            }
            catch (Exception e)
            {
                slots[position].SetException(e);
            }
        }
    }

    private Batch MakeBatch(List<float[]> images, List<long> labels, List<string> paths, int perImage)
    {
        int n = images.Count, size = Transform.OutputSize;
        var data = new float[n * perImage];
        for (int i = 0; i < n; i++)
        {
            Array.Copy(images[i], 0, data, i * perImage, perImage);
        }

        var imageTensor = tensor(data, [n, 3, size, size]);
        var labelTensor = tensor(labels.ToArray(), [n]);
        if (Options.Device is { } device && device.type != TorchSharp.DeviceType.CPU)
        {
            var (cpuImages, cpuLabels) = (imageTensor, labelTensor);
            imageTensor = cpuImages.to(device);
            labelTensor = cpuLabels.to(device);
            cpuImages.Dispose();
            cpuLabels.Dispose();
        }

        return new Batch(imageTensor, labelTensor, paths.ToArray());
    }
}
