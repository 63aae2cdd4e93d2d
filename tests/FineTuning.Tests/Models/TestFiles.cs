namespace FineTuning.Tests.Models;

/// <summary>Temporary folders for tests, and the optional real dog photos.</summary>
internal static class TestFiles
{
    public static string NewFolder(string purpose)
    {
        var path = Path.Combine(Path.GetTempPath(), "finetune-tests", $"{purpose}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>The 180-photo sample (DOGS_DATA, else ../shared/data/dogs-sample next to the repo), or null.</summary>
    public static string? DogsSample()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("DOGS_DATA");
        if (!string.IsNullOrEmpty(fromEnvironment) && Directory.Exists(fromEnvironment))
        {
            return fromEnvironment;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FineTuning.slnx")))
            {
                var candidate = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "data", "dogs-sample"));
                return Directory.Exists(candidate) ? candidate : null;
            }
        }

        return null;
    }
}
