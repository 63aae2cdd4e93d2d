using FineTuning.Data;
using FineTuning.Training;
using static TorchSharp.torch;

namespace FineTuning.Tests.Training;

[Collection(TorchGlobalRandom.Name)]
public sealed class FeatureCacheTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ft-features-").FullName;

    [Fact]
    public void Head_trained_on_cached_features_matches_training_on_images()
    {
        var set = TinyImages.Write(Path.Combine(_folder, "images"), classes: 3, perClass: 6, seed: 1);
        var (train, validation) = DataSplit.Stratified(set, 0.34, seed: 1);
        var transform = ImageTransform.ForEvaluation(TinyImages.Preset);
        var loaderOptions = new DataLoaderOptions { BatchSize = 4, Shuffle = true, Seed = 3, Workers = 1 };
        var options = new TrainingOptions { Stages = [TrainingStage.HeadOnly(4, 0.05)] };

        // On images: the whole model, frozen but the head, every epoch decoding and running the backbone.
        using var onImages = TinyImages.Model(3, seed: 2);
        var trainLoader = new DataLoader(train.Samples, transform, loaderOptions);
        var valLoader = new DataLoader(validation.Samples, transform, loaderOptions with { Shuffle = false });
        using (var trainer = new Trainer(onImages, options))
        {
            trainer.Fit(new EpochData(e => trainLoader.Epoch(e), trainLoader.BatchesPerEpoch, () => valLoader.Epoch(0),
                valLoader.BatchesPerEpoch));
        }

        // On cached features: the backbone runs once, then only the head trains.
        using var onFeatures = TinyImages.Model(3, seed: 2);
        var cache = new FeatureCache(Path.Combine(_folder, "cache"));
        using var trainFeatures = cache.Load(onFeatures, "fc", "tiny", train.Samples, transform, loaderOptions, null,
            out var trainStats);
        using var valFeatures = cache.Load(onFeatures, "fc", "tiny", validation.Samples, transform, loaderOptions,
            null, out _);
        var head = (nn.Module<Tensor, Tensor>)onFeatures.named_children().Single(c => c.name == "fc").module;
        List<EpochMetrics> cachedHistory;
        using (var trainer = new Trainer(head, CachedTraining.ForHeadModule(options, "fc")))
        {
            cachedHistory = [.. trainer.Fit(CachedTraining.Epochs(
                trainFeatures, train.Samples, trainLoader.OrderOf, 4, valFeatures))];
        }

        Assert.Equal(train.Samples.Count, trainStats.Computed);
        var expected = onImages.state_dict();
        foreach (var (name, value) in onFeatures.state_dict())
        {
            Assert.True(value.allclose(expected[name], rtol: 1e-4, atol: 1e-5), $"{name} differs");
        }

        Assert.All(cachedHistory, h => Assert.NotNull(h.ValLoss));
    }

    [Fact]
    public void Second_load_reads_every_feature_from_disk_and_a_changed_backbone_misses()
    {
        var set = TinyImages.Write(Path.Combine(_folder, "images"), classes: 2, perClass: 3, seed: 4);
        var transform = ImageTransform.ForEvaluation(TinyImages.Preset);
        var loaderOptions = new DataLoaderOptions { BatchSize = 4, Workers = 1 };
        using var model = TinyImages.Model(2, seed: 5);
        var cache = new FeatureCache(Path.Combine(_folder, "cache"));

        using var first = cache.Load(model, "fc", "tiny", set.Samples, transform, loaderOptions, null, out var cold);
        using var second = cache.Load(model, "fc", "tiny", set.Samples, transform, loaderOptions, null, out var warm);
        var headOnlyKey = FeatureCache.ModelKey(model, "fc", "tiny", transform);
        using (no_grad())
        {
            model.named_parameters().Single(p => p.name == "fc.bias").parameter.add_(1);
        }

        var afterHeadChange = FeatureCache.ModelKey(model, "fc", "tiny", transform);
        using (no_grad())
        {
            model.named_parameters().Single(p => p.name == "conv1.bias").parameter.add_(1);
        }

        using var third = cache.Load(model, "fc", "tiny", set.Samples, transform, loaderOptions, null, out var changed);

        Assert.Equal((0, 6), (cold.FromCache, cold.Computed));
        Assert.Equal((6, 0), (warm.FromCache, warm.Computed));
        Assert.True(first.Inputs.eq(second.Inputs).all().item<bool>());
        Assert.Equal(headOnlyKey, afterHeadChange);
        Assert.Equal((0, 6), (changed.FromCache, changed.Computed));
        Assert.Equal(first.Paths, second.Paths);
    }

    [Fact]
    public void Caching_refuses_an_augmenting_transform_and_a_trained_backbone()
    {
        using var model = TinyImages.Model(2, seed: 5);
        var options = new TrainingOptions { Stages = [TrainingStage.Discriminative(1, 0.1, ["conv1"])] };

        Assert.Throws<ArgumentException>(() => FeatureCache.ModelKey(
            model, "fc", "tiny", ImageTransform.ForTraining(TinyImages.Preset)));
        var error = Assert.Throws<ArgumentException>(() => CachedTraining.ForHeadModule(options, "fc"));
        Assert.Contains("conv1", error.Message);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
