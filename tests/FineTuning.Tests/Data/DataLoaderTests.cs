using FineTuning.Data;
using FineTuning.Models;
using SkiaSharp;
using TorchSharp;

namespace FineTuning.Tests.Data;

public sealed class DataLoaderTests : IDisposable
{
    private static readonly Preset Tiny = new("tiny", 24, 20, 1f, [0.5f, 0.5f, 0.5f], [0.25f, 0.25f, 0.25f]);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private List<ImageSample> WriteSamples(int count)
    {
        var samples = new List<ImageSample>();
        for (int i = 0; i < count; i++)
        {
            var color = new SKColor((byte)(i * 20), (byte)(255 - (i * 10)), (byte)(i * 7));
            var format = i % 2 == 0 ? SKEncodedImageFormat.Png : SKEncodedImageFormat.Jpeg;
            var path = TestImages.WriteSolid(_dir[$"img{i:00}.{(i % 2 == 0 ? "png" : "jpg")}"], color, format, 32, 28);
            samples.Add(new ImageSample(path, i % 3));
        }

        return samples;
    }

    [Fact]
    public void Batches_have_the_right_shapes_labels_and_paths()
    {
        var samples = WriteSamples(7);
        var loader = new DataLoader(samples, ImageTransform.ForEvaluation(Tiny), new() { BatchSize = 3, Workers = 2 });

        var shapes = new List<long[]>();
        var labels = new List<long>();
        var paths = new List<string>();
        foreach (var batch in loader)
        {
            using (batch)
            {
                shapes.Add(batch.Images.shape);
                Assert.Equal(torch.ScalarType.Float32, batch.Images.dtype);
                Assert.Equal(torch.ScalarType.Int64, batch.Labels.dtype);
                labels.AddRange(batch.Labels.data<long>().ToArray());
                paths.AddRange(batch.Paths);
            }
        }

        Assert.Equal([[3, 3, 20, 20], [3, 3, 20, 20], [1, 3, 20, 20]], shapes);
        Assert.Equal(samples.Select(s => s.Path), paths); // no shuffle: the given order
        Assert.Equal(samples.Select(s => (long)s.Label), labels);
        Assert.Equal(3, loader.BatchesPerEpoch);
    }

    [Fact]
    public void Shuffled_augmented_epochs_are_reproducible_and_differ_between_epochs()
    {
        var samples = WriteSamples(9);
        var options = new DataLoaderOptions { BatchSize = 4, Shuffle = true, Seed = 11, Workers = 3 };
        var transform = ImageTransform.ForTraining(Tiny);

        var a = Flatten(new DataLoader(samples, transform, options).Epoch(1));
        var b = Flatten(new DataLoader(samples, transform, options with { Workers = 1, Prefetch = 1 }).Epoch(1));
        var c = Flatten(new DataLoader(samples, transform, options).Epoch(2));

        Assert.Equal(a.Paths, b.Paths);
        Assert.Equal(a.Values, b.Values);
        Assert.NotEqual(a.Paths, c.Paths);
        Assert.Equal(samples.Select(s => s.Path).Order(), a.Paths.Order());
    }

    [Fact]
    public void Enumerating_twice_runs_consecutive_epochs()
    {
        var samples = WriteSamples(6);
        var options = new DataLoaderOptions { BatchSize = 6, Shuffle = true };
        var loader = new DataLoader(samples, ImageTransform.ForEvaluation(Tiny), options);

        var first = Flatten(loader).Paths;
        var second = Flatten(loader).Paths;

        Assert.Equal(first, Flatten(new DataLoader(samples, loader.Transform, loader.Options).Epoch(0)).Paths);
        Assert.Equal(second, Flatten(new DataLoader(samples, loader.Transform, loader.Options).Epoch(1)).Paths);
    }

    [Fact]
    public void Bad_files_are_skipped_once_with_a_warning_and_batches_stay_full()
    {
        var samples = WriteSamples(8);
        File.WriteAllBytes(samples[2].Path, []);
        File.WriteAllText(samples[5].Path, "not a picture");
        var warnings = new Collector<ImageWarning>();
        var loader = new DataLoader(samples, ImageTransform.ForEvaluation(Tiny), new()
        {
            BatchSize = 3,
            Workers = 2,
            Warnings = warnings,
        });

        for (int epoch = 0; epoch < 2; epoch++)
        {
            var sizes = new List<int>();
            foreach (var batch in loader)
            {
                using (batch)
                {
                    sizes.Add((int)batch.Images.shape[0]);
                    Assert.Equal(batch.Count, (int)batch.Labels.shape[0]);
                }
            }

            Assert.Equal([3, 3], sizes);
        }

        Assert.Equal(2, warnings.Items.Count);
        Assert.Equal(2, loader.SkippedFiles.Count);
        Assert.Contains(warnings.Items, w => w.Path == samples[2].Path && w.Reason.Contains("empty"));
    }

    [Fact]
    public void Every_tensor_is_owned_by_its_batch_and_nothing_leaks()
    {
        var samples = WriteSamples(10);
        var loader = new DataLoader(samples, ImageTransform.ForTraining(Tiny), new() { BatchSize = 4, Shuffle = true });
        var stats = DisposeScopeManager.Statistics;
        long before = stats.ThreadTotalLiveCount;

        for (int epoch = 0; epoch < 3; epoch++)
        {
            foreach (var batch in loader)
            {
                batch.Dispose();
            }
        }

        Assert.Equal(before, stats.ThreadTotalLiveCount);

        // Inside a dispose scope, the scope may own them instead.
        using (torch.NewDisposeScope())
        {
            foreach (var batch in loader)
            {
                Assert.True(batch.Images.IsInvalid == false);
            }
        }

        Assert.Equal(before, stats.ThreadTotalLiveCount);
    }

    [Fact]
    public void Leaving_early_and_cancelling_stop_the_workers()
    {
        var samples = WriteSamples(12);
        var loader = new DataLoader(samples, ImageTransform.ForEvaluation(Tiny), new() { BatchSize = 2, Workers = 2 });

        foreach (var batch in loader.Epoch(0))
        {
            batch.Dispose();
            break;
        }

        using var cancel = new CancellationTokenSource();
        Assert.Throws<OperationCanceledException>(() =>
        {
            foreach (var batch in loader.Epoch(1, cancel.Token))
            {
                batch.Dispose();
                cancel.Cancel();
            }
        });
    }

    private static (List<string> Paths, List<float> Values) Flatten(IEnumerable<Batch> batches)
    {
        var paths = new List<string>();
        var values = new List<float>();
        foreach (var batch in batches)
        {
            using (batch)
            {
                paths.AddRange(batch.Paths);
                values.AddRange(batch.Images.data<float>().ToArray());
            }
        }

        return (paths, values);
    }
}
