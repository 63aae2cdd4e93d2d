namespace FineTuning.Tests;

/// <summary>The 180 real dog photos (DOGS_DATA, else ../shared/data/dogs-sample next to the repo), when
/// present.</summary>
internal static class DogsSample
{
    public static string? Folder()
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

/// <summary>A fact that xunit reports as skipped when the dog photos are absent.</summary>
public sealed class DogsSampleFactAttribute : FactAttribute
{
    public DogsSampleFactAttribute()
    {
        if (DogsSample.Folder() is null)
        {
            Skip = "The dog photos are absent: set DOGS_DATA or put them in ../shared/data/dogs-sample.";
        }
    }
}
