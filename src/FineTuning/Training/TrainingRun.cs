using System.Globalization;
using System.Text.Json;
using FineTuning.Data;
using FineTuning.Evaluation;
using FineTuning.Models;
using FineTuning.Platform;
using static TorchSharp.torch;

namespace FineTuning.Training;

/// <summary>Everything <c>finetune train</c> can be told; defaults are the tool's defaults.</summary>
public sealed record TrainingRunOptions
{
    /// <summary>A folder with one subfolder of images per class.</summary>
    public required string DataDir { get; init; }

    /// <summary>Where checkpoints, <c>metrics.json</c> and charts go.</summary>
    public required string OutDir { get; init; }

    /// <summary>A <c>ModelZoo</c> name.</summary>
    public string ModelName { get; init; } = ModelZoo.MlNetResNet18Name;

    /// <summary>A weights file instead of the model's default (converted or published) weights.</summary>
    public string? WeightsFile { get; init; }

    /// <summary>
    /// What stays frozen in the first stage: <c>backbone</c> (only the head trains), <c>none</c> (everything trains)
    /// or a stage name such as <c>layer3</c> (it and everything before it stay frozen; later stages train at rates
    /// ten times smaller per stage, the head at the full rate).
    /// </summary>
    public string Freeze { get; init; } = "backbone";

    /// <summary>Epochs of the first stage.</summary>
    public int Epochs { get; init; } = 5;

    /// <summary>Stages to unfreeze in a second stage, top first (for example <c>layer4</c>, <c>layer3</c>); empty for
    /// none.</summary>
    public IReadOnlyList<string> Unfreeze { get; init; } = [];

    /// <summary>Epochs of the second stage (used when <see cref="Unfreeze"/> is not empty).</summary>
    public int FineTuneEpochs { get; init; } = 3;

    /// <summary>Images per batch.</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>The head's learning rate; earlier stages get smaller ones.</summary>
    public double LearningRate { get; init; } = 0.01;

    /// <summary>Optimizer.</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Sgd;

    /// <summary>Learning-rate schedule, restarted at each stage.</summary>
    public ScheduleKind Schedule { get; init; } = ScheduleKind.Cosine;

    /// <summary>Stop after this many epochs without a lower validation loss; null never stops early.</summary>
    public int? Patience { get; init; }

    /// <summary>Fraction of each class held out for validation.</summary>
    public double ValidationFraction { get; init; } = 0.2;

    /// <summary>Seed of the split, the head's initialization, the shuffling and the augmentation.</summary>
    public int Seed { get; init; } = 42;

    /// <summary><c>auto</c>, <c>cpu</c> or <c>cuda</c>.</summary>
    public string Device { get; init; } = "auto";

    /// <summary>Continue from <c>last.ckpt</c> in <see cref="OutDir"/>.</summary>
    public bool Resume { get; init; }

    /// <summary>Crop size in pixels instead of the preset's (224); smaller is faster and less accurate.</summary>
    public int? ImageSize { get; init; }

    /// <summary>
    /// Compute the frozen backbone's features once and train the head on them (needs <c>Freeze = backbone</c>, no
    /// second stage, and turns augmentation off).
    /// </summary>
    public bool CacheFeatures { get; init; }

    /// <summary>Training augmentation when features are not cached; null for none.</summary>
    public TrainingAugmentation? Augmentation { get; init; } = TrainingAugmentation.Mild;

    /// <summary>Decoding threads.</summary>
    public int Workers { get; init; } = Environment.ProcessorCount;

    /// <summary>Where the feature cache lives; defaults to <c>{CacheFolder}/features</c>.</summary>
    public string? FeatureCacheDir { get; init; }
}

/// <summary>What a training run produced.</summary>
/// <param name="History">Metrics of every epoch (including those before a resume).</param>
/// <param name="MetricsPath">The <c>metrics.json</c> file.</param>
/// <param name="LastCheckpoint">The checkpoint of the last epoch.</param>
/// <param name="BestCheckpoint">The checkpoint of the epoch with the lowest validation loss.</param>
/// <param name="Classes">Class names in label order.</param>
/// <param name="FeatureCache">What the feature cache did (null when not used).</param>
/// <param name="StoppedEarly">Whether early stopping ended the run.</param>
public sealed record TrainingRunResult(
    IReadOnlyList<EpochMetrics> History, string MetricsPath, string LastCheckpoint, string BestCheckpoint,
    IReadOnlyList<string> Classes, FeatureCacheStats? FeatureCache, bool StoppedEarly);

/// <summary>
/// A whole fine-tuning run from a folder of images: split, load the model with a new head, freeze, train with a
/// checkpoint (<c>last.ckpt</c>, and <c>best.ckpt</c> for the lowest validation loss) and <c>metrics.json</c>
/// rewritten atomically after every epoch, and <c>curves.png</c>. <c>Resume</c> continues from <c>last.ckpt</c>
/// to the same result an uninterrupted run would have reached.
/// </summary>
public static class TrainingRun
{
    /// <summary>The head module's path in every model of the zoo.</summary>
    public const string HeadPath = "fc";

    /// <summary>Runs (or resumes) training as <paramref name="options"/> say.</summary>
    /// <param name="options">The run's settings.</param>
    /// <param name="progress">Per-batch progress.</param>
    /// <param name="messages">One-line notes for the user (data set size, skipped files, cache use, resume).</param>
    /// <param name="cancellationToken">Stops after the current batch; the last finished epoch's checkpoint
    /// stays.</param>
    public static TrainingRunResult Run(
        TrainingRunOptions options, IProgress<TrainingProgress>? progress = null, IProgress<string>? messages = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validate(options);
        Directory.CreateDirectory(options.OutDir);
        var lastPath = Path.GetFullPath(Path.Combine(options.OutDir, "last.ckpt"));
        var bestPath = Path.GetFullPath(Path.Combine(options.OutDir, "best.ckpt"));
        var metricsPath = Path.GetFullPath(Path.Combine(options.OutDir, "metrics.json"));
        var settings = Settings(options);

        Checkpoint? resumeFrom = null;
        if (options.Resume)
        {
            if (!File.Exists(lastPath))
            {
                throw new DataSetException(
                    $"--resume: there is no {lastPath} to continue from; run without --resume to start.");
            }

            resumeFrom = Checkpoint.Load(lastPath);
            CheckSettings(resumeFrom.Info, settings, lastPath);
            messages?.Report($"Resuming after epoch {resumeFrom.Info.Trainer.CompletedEpochs} from {lastPath}.");
        }

        var warnings = new Progress<ImageWarning>(w => messages?.Report(w.Message));
        var set = ImageFolder.Read(options.DataDir, warnings);
        if (resumeFrom is not null && !resumeFrom.Info.Classes.SequenceEqual(set.Classes))
        {
            throw new DataSetException(
                $"{options.DataDir} has classes {string.Join(", ", set.Classes)}, but {lastPath} was trained on " +
                $"{string.Join(", ", resumeFrom.Info.Classes)}.");
        }

        var (train, validation) = DataSplit.Stratified(set, options.ValidationFraction, options.Seed);
        messages?.Report(string.Create(CultureInfo.InvariantCulture,
            $"{set.Classes.Count} classes, {train.Samples.Count} training and {validation.Samples.Count} validation images."));

        var device = Devices.Resolve(options.Device);
        manual_seed(options.Seed);
        var loaded = ModelZoo.Load(options.ModelName, options.WeightsFile, set.Classes.Count, device);
        using var model = loaded.Model;
        var preset = Sized(loaded.Preset, options.ImageSize);
        resumeFrom?.LoadModel(model);
        resumeFrom?.RestoreRandomState();

        var trainingOptions = new TrainingOptions
        {
            Stages = Stages(options, model),
            Optimizer = options.Optimizer,
            Schedule = options.Schedule,
            EarlyStoppingPatience = options.Patience,
            WeightDecay = options.Optimizer == OptimizerKind.AdamW ? 0.01 : 0,
        };
        var loaderOptions = new DataLoaderOptions
        {
            BatchSize = options.BatchSize,
            Shuffle = true,
            Seed = options.Seed,
            Workers = Math.Max(1, options.Workers),
            Warnings = warnings,
        };
        var evalTransform = ImageTransform.ForEvaluation(preset);
        var trainTransform = options.CacheFeatures || options.Augmentation is null
            ? evalTransform
            : ImageTransform.ForTraining(preset, options.Augmentation);
        var trainLoader = new DataLoader(train.Samples, trainTransform, loaderOptions);
        var valLoader = new DataLoader(validation.Samples, evalTransform, loaderOptions with { Shuffle = false });

        FeatureCacheStats? cacheStats = null;
        TensorDataSet? trainFeatures = null;
        TensorDataSet? valFeatures = null;
        try
        {
            nn.Module<Tensor, Tensor> trained = model;
            EpochData data;
            if (options.CacheFeatures)
            {
                var cache = new FeatureCache(options.FeatureCacheDir ?? Path.Combine(CacheFolder.Path, "features"));
                trainFeatures = cache.Load(model, HeadPath, options.ModelName, train.Samples, evalTransform,
                    loaderOptions with { Device = device }, progress, out var trainStats);
                cacheStats = trainStats;
                if (validation.Samples.Count > 0)
                {
                    valFeatures = cache.Load(model, HeadPath, options.ModelName, validation.Samples, evalTransform,
                        loaderOptions with { Device = device }, progress, out var valStats);
                    cacheStats = Combine(trainStats, valStats);
                }

                messages?.Report(string.Create(CultureInfo.InvariantCulture,
                    $"Features: {cacheStats.FromCache} from the cache, {cacheStats.Computed} computed " +
                    $"in {cacheStats.Seconds:F1} s ({cache.Root})."));
                trained = (nn.Module<Tensor, Tensor>)Inspection.ModulePaths.Find(model, HeadPath);
                trainingOptions = CachedTraining.ForHeadModule(trainingOptions, HeadPath);
                data = CachedTraining.Epochs(trainFeatures, train.Samples, trainLoader.OrderOf, options.BatchSize,
                    valFeatures);
            }
            else
            {
                data = new EpochData(
                    e => trainLoader.Epoch(e, cancellationToken), trainLoader.BatchesPerEpoch,
                    validation.Samples.Count == 0 ? null : () => valLoader.Epoch(0, cancellationToken),
                    valLoader.BatchesPerEpoch);
            }

            using var trainer = new Trainer(trained, trainingOptions, device);
            if (resumeFrom is not null)
            {
                trainer.Restore(resumeFrom.Info.Trainer, resumeFrom.OptimizerState);
            }

            trainer.Fit(data, progress, (t, metrics) =>
            {
                var info = new CheckpointInfo
                {
                    ModelName = options.ModelName,
                    Classes = set.Classes,
                    Preset = preset,
                    Seed = options.Seed,
                    Trainer = t.CaptureState(),
                    Settings = settings,
                };
                Checkpoint.Save(lastPath, info, model, t.SaveOptimizerState());
                // Without validation data there is no best epoch: best.ckpt follows the last one.
                if (t.BestEpoch == metrics.Epoch || t.BestEpoch == 0)
                {
                    var temp = bestPath + ".tmp";
                    File.Copy(lastPath, temp, overwrite: true);
                    File.Move(temp, bestPath, overwrite: true);
                }

                WriteMetrics(metricsPath, options, set.Classes, preset, t, bestPath, lastPath, cacheStats);
                Charts.TrainingCurves(t.History, Path.Combine(options.OutDir, "curves.png"));
            }, cancellationToken);

            return new TrainingRunResult(trainer.History, metricsPath, lastPath, bestPath, set.Classes, cacheStats,
                trainer.StoppedEarly);
        }
        finally
        {
            trainFeatures?.Dispose();
            valFeatures?.Dispose();
        }
    }

    /// <summary>The preset with its crop set to <paramref name="size"/> pixels (and the resize scaled alike).</summary>
    public static Preset Sized(Preset preset, int? size)
    {
        ArgumentNullException.ThrowIfNull(preset);
        if (size is not { } s || s == preset.CropSize)
        {
            return preset;
        }

        return preset with
        {
            Name = $"{preset.Name}@{s}",
            CropSize = s,
            ResizeShorter = (int)Math.Round(s * preset.ResizeShorter / (double)preset.CropSize),
        };
    }

    /// <summary>
    /// The training stages for <paramref name="options"/>: the first from <see cref="TrainingRunOptions.Freeze"/>,
    /// a second when <see cref="TrainingRunOptions.Unfreeze"/> names stages.
    /// </summary>
    public static IReadOnlyList<TrainingStage> Stages(TrainingRunOptions options, nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(model);
        var lr = options.LearningRate;
        TrainingStage first;
        switch (options.Freeze)
        {
            case "backbone":
                first = TrainingStage.HeadOnly(options.Epochs, lr, HeadPath);
                break;
            case "none":
                first = new TrainingStage(options.Epochs, [new LearningRateGroup("", lr)]);
                break;
            default:
                var children = model.named_children()
                    .Where(c => c.module.parameters().Any())
                    .Select(c => c.name)
                    .ToList();
                var at = children.IndexOf(options.Freeze);
                if (at < 0)
                {
                    throw new ArgumentException(
                        $"--freeze {options.Freeze}: the model has no stage of that name; use backbone, none or one " +
                        $"of {string.Join(", ", children.Where(c => c != HeadPath))}.");
                }

                var later = children.Skip(at + 1).Where(c => c != HeadPath).Reverse().ToList();
                first = TrainingStage.Discriminative(options.Epochs, lr, later, HeadPath);
                break;
        }

        return options.Unfreeze.Count == 0
            ? [first]
            : [first, TrainingStage.Discriminative(options.FineTuneEpochs, lr, options.Unfreeze, HeadPath)];
    }

    private static void Validate(TrainingRunOptions options)
    {
        if (options.Epochs < 1)
        {
            throw new ArgumentException($"--epochs must be at least 1; got {options.Epochs}.");
        }

        if (options.BatchSize < 1)
        {
            throw new ArgumentException($"--batch must be at least 1; got {options.BatchSize}.");
        }

        if (!(options.LearningRate > 0))
        {
            throw new ArgumentException($"--lr must be positive; got {options.LearningRate}.");
        }

        if (options.ImageSize is < 32)
        {
            throw new ArgumentException($"--image-size must be at least 32 pixels; got {options.ImageSize}.");
        }

        if (options.CacheFeatures && (options.Freeze != "backbone" || options.Unfreeze.Count > 0))
        {
            throw new ArgumentException(
                "--cache-features needs a frozen backbone: use --freeze backbone and no --unfreeze.");
        }
    }

    private static Dictionary<string, string> Settings(TrainingRunOptions o) => new()
    {
        ["model"] = o.ModelName,
        ["weights"] = o.WeightsFile is null ? "" : Path.GetFullPath(o.WeightsFile),
        ["freeze"] = o.Freeze,
        ["epochs"] = o.Epochs.ToString(CultureInfo.InvariantCulture),
        ["unfreeze"] = string.Join(',', o.Unfreeze),
        ["finetune_epochs"] = o.FineTuneEpochs.ToString(CultureInfo.InvariantCulture),
        ["batch"] = o.BatchSize.ToString(CultureInfo.InvariantCulture),
        ["lr"] = o.LearningRate.ToString("R", CultureInfo.InvariantCulture),
        ["optimizer"] = o.Optimizer.ToString(),
        ["schedule"] = o.Schedule.ToString(),
        ["val_split"] = o.ValidationFraction.ToString("R", CultureInfo.InvariantCulture),
        ["seed"] = o.Seed.ToString(CultureInfo.InvariantCulture),
        ["image_size"] = o.ImageSize?.ToString(CultureInfo.InvariantCulture) ?? "",
        ["cache_features"] = o.CacheFeatures ? "true" : "false",
    };

    private static void CheckSettings(CheckpointInfo info, Dictionary<string, string> settings, string path)
    {
        var differences = settings
            .Where(kv => info.Settings.TryGetValue(kv.Key, out var old) && old != kv.Value)
            .Select(kv => $"{kv.Key} was '{info.Settings[kv.Key]}', now '{kv.Value}'")
            .ToList();
        if (differences.Count > 0)
        {
            throw new ArgumentException(
                $"--resume: {path} was written with other settings ({string.Join("; ", differences)}). " +
                "Resume with the same options, or start a new run in another --out folder.");
        }
    }

    private static FeatureCacheStats Combine(FeatureCacheStats a, FeatureCacheStats b) => new(
        a.Images + b.Images, a.FromCache + b.FromCache, a.Computed + b.Computed, a.Skipped + b.Skipped,
        a.Seconds + b.Seconds);

    private static void WriteMetrics(
        string path, TrainingRunOptions options, IReadOnlyList<string> classes, Preset preset, Trainer trainer,
        string bestPath, string lastPath, FeatureCacheStats? cache)
    {
        var document = new Dictionary<string, object?>
        {
            ["model"] = options.ModelName,
            ["classes"] = classes,
            ["preset"] = preset,
            ["seed"] = options.Seed,
            ["epochs"] = trainer.History,
            ["best_epoch"] = trainer.BestEpoch,
            ["best_checkpoint"] = bestPath,
            ["last_checkpoint"] = lastPath,
            ["stopped_early"] = trainer.StoppedEarly,
            ["feature_cache"] = cache,
        };
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(document, Checkpoint.Json));
    }
}
