using FineTuning.Models;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace FineTuning.Tests.Models;

/// <summary>One random resnet18 saved in every format, shared by the tests (each file is ~45 MB).</summary>
public sealed class ResNet18Files : IDisposable
{
    public ResNet18Files()
    {
        Folder = TestFiles.NewFolder("weights");
        using var model = torchvision.models.resnet18();
        using (no_grad())
        {
            // BatchNorm buffers get non-default values, so a load that skipped buffers would be caught.
            foreach (var (name, buffer) in model.named_buffers())
            {
                if (buffer.is_floating_point())
                {
                    buffer.uniform_(0.5, 1.5);
                }
            }
        }

        Expected = model.state_dict().ToDictionary(e => e.Key, e => e.Value.clone().DetachFromDisposeScope());
        Pth = Path.Combine(Folder, "random-resnet18.pth");
        Safetensors = Path.Combine(Folder, "random-resnet18.safetensors");
        Dat = Path.Combine(Folder, "random-resnet18.dat");
        model.save_py(Pth);
        model.save_safetensors(Safetensors);
        model.save(Dat);
    }

    public string Folder { get; }

    public string Pth { get; }

    public string Safetensors { get; }

    public string Dat { get; }

    public Dictionary<string, Tensor> Expected { get; }

    public string Truncated(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var truncated = Path.Combine(Folder, "truncated-" + Path.GetFileName(path));
        File.WriteAllBytes(truncated, bytes[..(bytes.Length * 2 / 3)]);
        return truncated;
    }

    public void Dispose()
    {
        foreach (var tensor in Expected.Values)
        {
            tensor.Dispose();
        }

        Directory.Delete(Folder, recursive: true);
    }
}

public class WeightsFileTests(ResNet18Files files) : IClassFixture<ResNet18Files>
{
    [Theory]
    [InlineData("pth")]
    [InlineData("safetensors")]
    [InlineData("dat")]
    public void Every_format_loads_every_tensor_with_the_files_own_head(string format)
    {
        var loaded = ModelZoo.Load("resnet18", PathOf(format));
        using var model = loaded.Model;

        Assert.True(loaded.HeadIsTrained);
        Assert.Equal(1000, loaded.Classes);
        Assert.Equal(Preset.TorchVision, loaded.Preset);
        var actual = model.state_dict();
        Assert.Equal(files.Expected.Count, actual.Count);
        foreach (var (key, expected) in files.Expected)
        {
            Assert.True(Same(expected, actual[key]), $"{key} differs after loading {format}");
        }
    }

    [Fact]
    public void A_number_of_classes_gives_a_new_head_on_the_loaded_backbone()
    {
        var loaded = ModelZoo.Load("resnet18", files.Pth, classes: 5);
        using var model = loaded.Model;

        Assert.False(loaded.HeadIsTrained);
        Assert.Equal(5, loaded.Classes);
        var actual = model.state_dict();
        Assert.Equal([5L, 512], actual["fc.weight"].shape);
        Assert.True(Same(files.Expected["layer4.1.bn2.running_var"], actual["layer4.1.bn2.running_var"]));
        Assert.True(Same(files.Expected["conv1.weight"], actual["conv1.weight"]));
    }

    [Fact]
    public void A_file_for_another_architecture_names_the_first_mismatching_key_and_both_shapes()
    {
        var error = Assert.Throws<ModelLoadException>(() => ModelZoo.Load("resnet50", files.Pth));

        Assert.Contains(files.Pth, error.Message);
        Assert.Contains("'layer1.0.conv1.weight'", error.Message);
        Assert.Contains("[64, 64, 3, 3] in the file", error.Message);
        Assert.Contains("[64, 64, 1, 1] in the model", error.Message);
    }

    [Fact]
    public void A_file_with_fewer_blocks_names_the_first_missing_key()
    {
        var error = Assert.Throws<ModelLoadException>(() => ModelZoo.Load("resnet34", files.Safetensors));

        Assert.Contains(files.Safetensors, error.Message);
        Assert.Contains("no 'layer1.2.conv1.weight'", error.Message);
    }

    [Fact]
    public void A_failed_load_leaves_the_module_untouched()
    {
        using var model = torchvision.models.resnet34();
        using var before = model.state_dict()["conv1.weight"].clone();

        Assert.Throws<ModelLoadException>(() => WeightsFile.Load(model, files.Dat));

        Assert.True(Same(before, model.state_dict()["conv1.weight"]));
    }

    [Theory]
    [InlineData("pth")]
    [InlineData("safetensors")]
    [InlineData("dat")]
    public void A_truncated_file_gives_a_clear_error_naming_it(string format)
    {
        var truncated = files.Truncated(PathOf(format));

        var error = Assert.Throws<ModelLoadException>(() => ModelZoo.Load("resnet18", truncated));

        Assert.Contains(truncated, error.Message);
        Assert.Contains("truncated or corrupt", error.Message);
    }

    [Fact]
    public void A_missing_file_and_an_unknown_extension_are_named()
    {
        var missing = Path.Combine(files.Folder, "nowhere.pth");
        var missingError = Assert.Throws<ModelLoadException>(() => ModelZoo.Load("resnet18", missing));
        Assert.Contains(missing, missingError.Message);
        Assert.Contains("does not exist", missingError.Message);

        var onnx = Path.Combine(files.Folder, "model.onnx");
        File.WriteAllText(onnx, "not weights");
        var extensionError = Assert.Throws<ModelLoadException>(() => ModelZoo.Load("resnet18", onnx));
        Assert.Contains(onnx, extensionError.Message);
        Assert.Contains("'.onnx'", extensionError.Message);
    }

    [Fact]
    public void Files_written_by_this_library_load_with_torchsharp_and_pybridge()
    {
        var dat = Path.Combine(files.Folder, "written.dat");
        var pth = Path.Combine(files.Folder, "written.pth");
        WeightsFile.Write(dat, files.Expected);
        WeightsFile.Write(pth, files.Expected);

        using var fromDat = torchvision.models.resnet18();
        fromDat.load(dat);
        using var fromPth = torchvision.models.resnet18();
        fromPth.load_py(pth);

        Assert.True(Same(files.Expected["fc.weight"], fromDat.state_dict()["fc.weight"]));
        Assert.True(Same(files.Expected["bn1.running_mean"], fromPth.state_dict()["bn1.running_mean"]));
        Assert.Empty(Directory.GetFiles(files.Folder, "*.tmp"));
    }

    private static bool Same(Tensor a, Tensor b)
    {
        // Tensor.equal is element-wise in TorchSharp; compare shapes, then every element.
        using var scope = NewDisposeScope();
        return a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();
    }

    private string PathOf(string format) => format switch
    {
        "pth" => files.Pth,
        "safetensors" => files.Safetensors,
        _ => files.Dat,
    };
}
