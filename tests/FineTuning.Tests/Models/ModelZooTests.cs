using FineTuning.Inspection;
using FineTuning.Models;
using static TorchSharp.torch;

namespace FineTuning.Tests.Models;

public class ModelZooTests
{
    [Fact]
    public void Mlnet_resnet18_loads_offline_with_its_preset_and_an_untrained_head()
    {
        var loaded = ModelZoo.Load(ModelZoo.MlNetResNet18Name);
        using var model = loaded.Model;

        Assert.Equal(Preset.MlNetResNet18, loaded.Preset);
        Assert.Equal(1000, loaded.Classes);
        Assert.False(loaded.HeadIsTrained);
        Assert.Equal("golden retriever", loaded.Labels[207]);
        Assert.False(model.training);
        using var scope = NewDisposeScope();
        using (no_grad())
        {
            Assert.Equal([2L, 1000], model.call(zeros(2, 3, 64, 64)).shape);
        }
    }

    [Fact]
    public void Mlnet_resnet18_with_classes_gets_a_head_of_that_size()
    {
        var loaded = ModelZoo.Load(ModelZoo.MlNetResNet18Name, classes: 6);
        using var model = loaded.Model;

        Assert.Equal(6, loaded.Classes);
        Assert.Equal("class 5", loaded.Labels[5]);
        Assert.Equal([6L, 512], model.state_dict()["fc.weight"].shape);
    }

    [Fact]
    public void An_unknown_name_lists_the_known_ones()
    {
        var error = Assert.Throws<ModelLoadException>(() => ModelZoo.Load("resnet19"));

        Assert.Contains("resnet19", error.Message);
        foreach (var name in ModelZoo.Names)
        {
            Assert.Contains(name, error.Message);
        }
    }

    [Fact]
    public void Every_architecture_builds_with_torchvision_key_names()
    {
        foreach (var name in ModelZoo.Names)
        {
            using var model = ModelZoo.Create(name, classes: 3);
            var keys = model.state_dict().Keys.ToList();
            Assert.Contains("conv1.weight", keys);
            Assert.Contains("layer4.0.downsample.0.weight", keys);
            Assert.Contains("fc.bias", keys);
        }
    }

    [Fact]
    public void The_mlnet_head_can_be_located_and_replaced_like_torchvisions()
    {
        using var model = ModelZoo.Create(ModelZoo.MlNetResNet18Name);

        Assert.Equal("fc", HeadLocator.Locate(model, [1, 3, 64, 64]).Path);
        HeadSurgery.ReplaceLinearHead(model, 4);

        Assert.Equal([4L, 512], model.state_dict()["fc.weight"].shape);
        using var scope = NewDisposeScope();
        using (no_grad())
        {
            Assert.Equal([2L, 4], model.call(zeros(2, 3, 64, 64)).shape);
        }
    }
}
