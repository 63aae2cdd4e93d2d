using FineTuning.Models;

namespace FineTuning.Tests.Models;

public class ImageNetLabelsTests
{
    [Fact]
    public void There_are_a_thousand_names_in_imagenet_index_order()
    {
        var names = ImageNetLabels.Names;

        Assert.Equal(1000, names.Count);
        Assert.Equal("tench, Tinca tinca", names[0]);
        Assert.Equal("golden retriever", names[207]);
        Assert.Equal("pug, pug-dog", names[254]);
        Assert.Equal("toilet tissue, toilet paper, bathroom tissue", names[999]);
        // ImageNet has two classes named "crane": the bird (134) and the machine (517).
        Assert.Equal(999, names.Distinct().Count());
        Assert.Equal("crane", names[134]);
        Assert.Equal("crane", names[517]);
        Assert.Equal("Samoyed", ImageNetLabels.ShortName(258));
    }
}
