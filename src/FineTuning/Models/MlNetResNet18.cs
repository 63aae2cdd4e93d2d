using System.Diagnostics;
using FineTuning.Platform;
using Onnx;
using static TorchSharp.torch;

namespace FineTuning.Models;

/// <summary>
/// ML.NET's ImageNet-trained ResNet-18 (package <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c>, exported by CNTK
/// as ONNX), converted to a TorchSharp <see cref="BasicResNet"/> with stages [2, 2, 2, 3] and torchvision's
/// state-dict keys. The converted backbone is cached as a TorchSharp <c>.dat</c> file in
/// <see cref="CacheFolder"/>, so the conversion runs once per machine.
/// </summary>
/// <remarks>
/// <para>
/// The ONNX file ends at the pooled 512-d features: it has no ImageNet classifier, so the model gets a fresh,
/// untrained <c>fc</c> head. Its predictions mean nothing until the head is trained.
/// </para>
/// <para>
/// The weights were trained on Caffe-style input: BGR order, 0..255 values minus ImageNet's mean, no division by a
/// standard deviation. The converter reverses conv1's input channels, so the model takes RGB input normalized with
/// <see cref="Preset.MlNetResNet18"/>. CNTK's asymmetric paddings on stride-2 layers give the same result as
/// PyTorch's symmetric ones at even input sizes such as 224x224.
/// </para>
/// </remarks>
public static class MlNetResNet18
{
    /// <summary>Environment variable that points to a <c>ResNet18.onnx</c> to use instead of the package's.</summary>
    public const string OnnxEnvironmentVariable = "FINETUNE_MLNET_ONNX";

    /// <summary>Blocks per stage of this network (torchvision's resnet18 has [2, 2, 2, 2]).</summary>
    public static IReadOnlyList<int> Blocks { get; } = [2, 2, 2, 3];

    /// <summary>Name of the cached, converted backbone in <see cref="CacheFolder"/>.</summary>
    public const string CacheFileName = "mlnet-resnet18-backbone-v1.dat";

    private const string PackageId = "microsoft.ml.dnnimagefeaturizer.resnet18";
    private const string PackageVersion = "0.24.0";
    private static readonly Lock Gate = new();

    /// <summary>Creates the architecture with random weights (for tests and cost measurements).</summary>
    /// <param name="classes">Outputs of <c>fc</c>.</param>
    public static BasicResNet Create(int classes = 1000) => new("mlnet-resnet18", Blocks, classes);

    /// <summary>
    /// Where the ONNX file is: <see cref="OnnxEnvironmentVariable"/> when set, else the NuGet package folder
    /// (restored by building this library, which declares a <c>PackageDownload</c> of it).
    /// </summary>
    public static string OnnxPath()
    {
        var overridden = Environment.GetEnvironmentVariable(OnnxEnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(overridden))
        {
            return overridden;
        }

        return Path.Combine(
            TorchSharpNativeFix.NuGetPackagesFolder(), PackageId, PackageVersion,
            "tools", "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");
    }

    /// <summary>Path of the cached converted backbone.</summary>
    public static string CachePath => Path.Combine(CacheFolder.Path, CacheFileName);

    /// <summary>
    /// Builds the model with the pretrained backbone and a fresh head of <paramref name="classes"/> outputs,
    /// converting the ONNX file on first use and reading the cache afterwards.
    /// </summary>
    /// <param name="classes">Outputs of the new, untrained head.</param>
    /// <param name="progress">Receives one line when a conversion runs (it takes seconds).</param>
    /// <exception cref="ModelLoadException">The ONNX file is missing or not the expected network.</exception>
    public static BasicResNet Load(int classes = 1000, IProgress<string>? progress = null)
    {
        var model = Create(classes);
        var cache = EnsureCache(progress);
        WeightsFile.Load(model, cache, includeHead: false, modelName: "mlnet-resnet18");
        return model;
    }

    /// <summary>
    /// Makes sure the converted backbone is in the cache and returns its path. Converting takes a few seconds and
    /// about 100 MB of memory; the file is written atomically, so an interrupted run leaves no broken cache.
    /// </summary>
    /// <param name="progress">Receives one line when a conversion runs.</param>
    public static string EnsureCache(IProgress<string>? progress = null)
    {
        lock (Gate)
        {
            var cache = CachePath;
            if (File.Exists(cache))
            {
                return cache;
            }

            var onnx = OnnxPath();
            progress?.Report($"Converting ML.NET's ResNet-18 from {onnx} (once; cached in {cache})");
            var watch = Stopwatch.StartNew();
            using (var scope = NewDisposeScope())
            {
                var entries = Convert(onnx);
                CacheFolder.Ensure();
                WeightsFile.Write(cache, entries);
            }

            progress?.Report($"Converted in {watch.Elapsed.TotalSeconds:F1} s");
            return cache;
        }
    }

    /// <summary>
    /// Converts the ONNX file into backbone tensors keyed by torchvision's names (<c>conv1.weight</c>,
    /// <c>layer4.2.bn2.running_var</c>, ...), with conv1's input channels reversed from BGR to RGB. Every
    /// initializer of the file must be used exactly once; anything unexpected fails the conversion.
    /// </summary>
    /// <param name="onnxPath">Path of ML.NET's <c>ResNet18.onnx</c>.</param>
    /// <returns>CPU tensors in the current dispose scope, in the module's key order.</returns>
    /// <exception cref="ModelLoadException">The file is missing, unreadable or not the expected network.</exception>
    public static Dictionary<string, Tensor> Convert(string onnxPath)
    {
        if (!File.Exists(onnxPath))
        {
            throw new ModelLoadException(
                $"ML.NET's ResNet-18 ONNX file '{onnxPath}' does not exist. It comes from the NuGet package " +
                $"{PackageId} {PackageVersion}, which a 'dotnet build' of this repository downloads; run it, or " +
                $"set {OnnxEnvironmentVariable} to the file's path.");
        }

        ModelProto model;
        try
        {
            using var stream = File.OpenRead(onnxPath);
            model = ModelProto.Parser.ParseFrom(stream);
        }
        catch (Exception e) when (e is IOException or Google.Protobuf.InvalidProtocolBufferException)
        {
            throw new ModelLoadException(
                $"'{onnxPath}' could not be read as an ONNX model ({e.Message}). Restore the package again " +
                $"(delete its folder under the NuGet cache and run dotnet build).",
                e);
        }

        return new OnnxMapper(onnxPath, model.Graph).Map();
    }

    /// <summary>Walks the graph's Conv nodes in order and names each one and its BatchNormalization.</summary>
    private sealed class OnnxMapper(string path, GraphProto graph)
    {
        private readonly Dictionary<string, TensorProto> _initializers = graph.Initializer.ToDictionary(i => i.Name);
        private readonly HashSet<string> _used = [];
        private readonly Dictionary<string, Tensor> _result = [];

        public Dictionary<string, Tensor> Map()
        {
            var convs = 0;
            var threeByThree = new int[4];
            var downsamples = new int[4];
            foreach (var node in graph.Node)
            {
                switch (node.OpType)
                {
                    case "Conv":
                        MapConv(node, ref convs, threeByThree, downsamples);
                        break;
                    case "BatchNormalization" or "Relu" or "Add" or "MaxPool" or "AveragePool":
                        break;
                    default:
                        throw Unexpected($"an operator {node.OpType} that ResNet-18 does not have");
                }
            }

            var blocks = threeByThree.Select(n => n / 2).ToArray();
            if (!blocks.SequenceEqual(Blocks) || threeByThree.Any(n => n % 2 != 0) || downsamples[0] != 0 ||
                downsamples.Skip(1).Any(n => n != 1))
            {
                throw Unexpected($"stages of [{string.Join(", ", blocks)}] blocks instead of [2, 2, 2, 3]");
            }

            var unused = _initializers.Keys.Except(_used).ToList();
            if (unused.Count > 0)
            {
                throw Unexpected($"{unused.Count} initializer(s) the converter did not map, e.g. {unused[0]}");
            }

            return _result;
        }

        private void MapConv(NodeProto conv, ref int convs, int[] threeByThree, int[] downsamples)
        {
            var weight = Initializer(conv.Input[1]);
            var kernel = weight.Dims[2];
            var width = weight.Dims[0];
            var stride = Ints(conv, "strides").FirstOrDefault(1);
            if (conv.Input.Count > 2 || Ints(conv, "group").Any(g => g != 1))
            {
                throw Unexpected($"a convolution {conv.Output[0]} with a bias or groups");
            }

            string prefix;
            string bnName;
            if (kernel == 7)
            {
                if (convs != 0)
                {
                    throw Unexpected("a second 7x7 convolution");
                }

                prefix = "conv1";
                bnName = "bn1";
            }
            else
            {
                var stage = width switch
                {
                    64 => 0,
                    128 => 1,
                    256 => 2,
                    512 => 3,
                    _ => throw Unexpected($"a convolution with {width} output channels"),
                };
                if (kernel == 1)
                {
                    prefix = $"layer{stage + 1}.0.downsample.0";
                    bnName = $"layer{stage + 1}.0.downsample.1";
                    downsamples[stage]++;
                    ExpectStride(conv, stride, 2);
                }
                else if (kernel == 3)
                {
                    var index = threeByThree[stage]++;
                    var block = index / 2;
                    var second = index % 2 == 1;
                    prefix = $"layer{stage + 1}.{block}.conv{(second ? 2 : 1)}";
                    bnName = $"layer{stage + 1}.{block}.bn{(second ? 2 : 1)}";
                    ExpectStride(conv, stride, !second && block == 0 && stage > 0 ? 2 : 1);
                }
                else
                {
                    throw Unexpected($"a {kernel}x{kernel} convolution");
                }
            }

            convs++;
            var tensor = ToTensor(weight);
            if (prefix == "conv1")
            {
                // BGR -> RGB: the channel the model now receives first (R) used to be the third (B's slot).
                tensor = tensor.flip(1).contiguous();
            }

            Add(prefix + ".weight", tensor);
            MapBatchNorm(conv.Output[0], bnName);
        }

        private void MapBatchNorm(string convOutput, string name)
        {
            var bn = graph.Node.SingleOrDefault(n => n.OpType == "BatchNormalization" && n.Input[0] == convOutput)
                ?? throw Unexpected($"no BatchNormalization after the convolution for {name}");
            var epsilon = bn.Attribute.FirstOrDefault(a => a.Name == "epsilon")?.F ?? 1e-5f;
            if (Math.Abs(epsilon - 1e-5f) > 1e-9f)
            {
                throw Unexpected($"BatchNormalization epsilon {epsilon} instead of 1e-5 at {name}");
            }

            Add(name + ".weight", ToTensor(Initializer(bn.Input[1])));
            Add(name + ".bias", ToTensor(Initializer(bn.Input[2])));
            Add(name + ".running_mean", ToTensor(Initializer(bn.Input[3])));
            Add(name + ".running_var", ToTensor(Initializer(bn.Input[4])));
            Add(name + ".num_batches_tracked", tensor(0L));
        }

        private void ExpectStride(NodeProto conv, long actual, long expected)
        {
            if (actual != expected)
            {
                throw Unexpected($"stride {actual} instead of {expected} at convolution {conv.Output[0]}");
            }
        }

        private static IEnumerable<long> Ints(NodeProto node, string name)
        {
            var attribute = node.Attribute.FirstOrDefault(a => a.Name == name);
            if (attribute is null)
            {
                return [];
            }

            return attribute.Ints.Count > 0 ? attribute.Ints : [attribute.I];
        }

        private TensorProto Initializer(string name)
        {
            if (!_initializers.TryGetValue(name, out var proto))
            {
                throw Unexpected($"an input {name} that is not an initializer");
            }

            _used.Add(name);
            return proto;
        }

        private Tensor ToTensor(TensorProto proto)
        {
            var shape = proto.Dims.ToArray();
            var count = shape.Aggregate(1L, (a, b) => a * b);
            float[] values;
            if (proto.FloatData.Count == count)
            {
                values = [.. proto.FloatData];
            }
            else if (proto.RawData.Length == count * sizeof(float))
            {
                values = new float[count];
                Buffer.BlockCopy(proto.RawData.ToByteArray(), 0, values, 0, proto.RawData.Length);
            }
            else
            {
                throw Unexpected($"initializer {proto.Name} without {count} float values");
            }

            return tensor(values, shape);
        }

        private void Add(string key, Tensor value)
        {
            if (!_result.TryAdd(key, value))
            {
                throw Unexpected($"two tensors for {key}");
            }
        }

        private ModelLoadException Unexpected(string what) => new(
            $"'{path}' is not the ResNet-18 this converter expects: found {what}. Use the file from " +
            $"{PackageId} {PackageVersion}.");
    }
}
