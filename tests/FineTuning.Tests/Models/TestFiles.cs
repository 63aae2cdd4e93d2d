namespace FineTuning.Tests.Models;

/// <summary>Temporary folders for tests.</summary>
internal static class TestFiles
{
    public static string NewFolder(string purpose)
    {
        var path = Path.Combine(Path.GetTempPath(), "finetune-tests", $"{purpose}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        return path;
    }
}
