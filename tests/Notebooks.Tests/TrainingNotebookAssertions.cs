using System.Globalization;
using System.Text.RegularExpressions;

namespace Notebooks.Tests;

/// <summary>
/// What notebooks 04 to 06 must show, read from their printed lines: 04 beats chance, 05's cached and uncached heads
/// train to the same weights, 06's reloaded model measures the accuracy recorded at training. No wall-clock times are
/// asserted (they are shown, not tested).
/// </summary>
internal static partial class TrainingNotebookAssertions
{
    public static void Check(string notebook, string text)
    {
        switch (notebook)
        {
            case "04-train-a-dog-breed-classifier":
                var accuracy = ValidationAccuracy().Match(text);
                Assert.True(accuracy.Success, "04 printed no 'validation accuracy: A % of N images (chance: C %)' line.");
                var measured = Percent(accuracy.Groups[1].Value);
                var chance = Percent(accuracy.Groups[3].Value);
                Assert.True(measured > 1.5 * chance, $"04's validation accuracy {measured} % is not well above chance {chance} %.");
                break;
            case "05-fine-tune-deeper":
                Assert.Matches(RunsCompared(), text);
                Assert.Matches(CacheSpeedUp(), text);
                var difference = HeadDifference().Match(text);
                Assert.True(difference.Success, "05 printed no difference between the cached and uncached heads.");
                var value = double.Parse(difference.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture);
                Assert.True(value < 1e-3, $"05's cached and uncached heads differ by {value} after one epoch.");
                break;
            case "06-predict":
                Assert.Matches(TopOfPhotos(), text);
                var recorded = SameAsRecorded().Match(text);
                if (recorded.Success)
                {
                    Assert.True(recorded.Groups[1].Value == "True",
                        "06's reloaded model does not measure the validation accuracy recorded at training.");
                }
                else
                {
                    Assert.Contains("recorded no validation accuracy", text, StringComparison.Ordinal);
                }

                break;
            default:
                break;
        }
    }

    // "72.2 %", "72.2%" or "72,2 %", whatever the culture.
    private static double Percent(string text) =>
        double.Parse(text.Replace(',', '.'), NumberStyles.Float, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"validation accuracy: ([\d.,]+)\s*% of (\d+) images \(chance: ([\d.,]+)\s*%\)")]
    private static partial Regex ValidationAccuracy();

    [GeneratedRegex(@"accuracy: frozen [\d.,]+\s*%, layer4 [\d.,]+\s*%, layer3\+4 [\d.,]+\s*%")]
    private static partial Regex RunsCompared();

    [GeneratedRegex(@"feature cache: an epoch is \d+× faster")]
    private static partial Regex CacheSpeedUp();

    [GeneratedRegex(@"largest difference between the two heads' weights after the epoch: ([-\d.eE+]+)")]
    private static partial Regex HeadDifference();

    [GeneratedRegex(@"\d+ of \d+ right at the top; \d+ ms per photo")]
    private static partial Regex TopOfPhotos();

    [GeneratedRegex(@"recorded at training: [\d.,]+\s*%; same: (True|False)")]
    private static partial Regex SameAsRecorded();
}
