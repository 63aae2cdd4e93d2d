using FineTuning.Platform;
using TorchSharp;

namespace FineTuning.Tests.Models;

public class DevicesAndCacheTests
{
    [Fact]
    public void Cpu_and_auto_resolve_and_unknown_names_list_the_known_ones()
    {
        Assert.Equal(DeviceType.CPU, Devices.Resolve("cpu").type);
        Assert.Equal(DeviceType.CPU, Devices.Resolve("CPU").type);
        var auto = Devices.Resolve("auto").type;
        Assert.Equal(torch.cuda.is_available() ? DeviceType.CUDA : DeviceType.CPU, auto);
        Assert.Equal(auto, Devices.Resolve(null).type);

        var error = Assert.Throws<ArgumentException>(() => Devices.Resolve("tpu"));
        Assert.Contains("'tpu'", error.Message);
        Assert.Contains("auto, cpu, cuda", error.Message);
    }

    [Fact]
    public void Cuda_without_cuda_explains_why_and_what_to_do()
    {
        if (torch.cuda.is_available())
        {
            Assert.Equal(DeviceType.CUDA, Devices.Resolve("cuda").type);
            return;
        }

        var error = Assert.Throws<ArgumentException>(() => Devices.Resolve("cuda"));

        Assert.Contains("CUDA is not available", error.Message);
        Assert.Contains("TorchDevice=cuda", error.Message);
        Assert.Contains("--device cpu", error.Message);
    }

    [Fact]
    public void Cache_folder_prefers_finetune_cache_then_xdg_then_home()
    {
        var root = Path.GetTempPath();
        var explicitFolder = Path.Combine(root, "explicit");
        var xdg = Path.Combine(root, "xdg");
        var home = Path.Combine(root, "home");

        Assert.Equal(explicitFolder, CacheFolder.ResolveFrom(explicitFolder, xdg, home, "lad"));
        Assert.Equal(Path.Combine(xdg, "finetune"), CacheFolder.ResolveFrom(null, xdg, home, "lad"));
        Assert.Equal(Path.Combine(home, ".cache", "finetune"), CacheFolder.ResolveFrom("", " ", home, "lad"));
        Assert.Equal(Path.Combine("lad", "finetune"), CacheFolder.ResolveFrom(null, null, "", "lad"));
    }
}
