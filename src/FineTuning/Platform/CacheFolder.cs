namespace FineTuning.Platform;

/// <summary>
/// The folder where converted and downloaded weights are kept between runs, so that a conversion or a download
/// happens once per machine.
/// </summary>
/// <remarks>
/// The first of these that is set wins: the <c>FINETUNE_CACHE</c> environment variable, then
/// <c>$XDG_CACHE_HOME/finetune</c>, then <c>~/.cache/finetune</c> (on Windows, <c>%LOCALAPPDATA%\finetune</c> when
/// no home cache folder can be found). The folder is created on first use.
/// </remarks>
public static class CacheFolder
{
    /// <summary>The environment variable that overrides the cache location.</summary>
    public const string EnvironmentVariable = "FINETUNE_CACHE";

    /// <summary>The absolute path of the cache folder (not created by reading this property).</summary>
    public static string Path => Resolve();

    /// <summary>Returns the cache folder, creating it when it does not exist yet.</summary>
    public static string Ensure()
    {
        var path = Resolve();
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Returns the path of a file inside the cache folder, creating the folder.</summary>
    /// <param name="fileName">A bare file name such as <c>resnet18-f37072fd.pth</c>.</param>
    public static string FileIn(string fileName) => System.IO.Path.Combine(Ensure(), fileName);

    private static string Resolve()
    {
        var overridden = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(overridden))
        {
            return System.IO.Path.GetFullPath(overridden);
        }

        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        if (!string.IsNullOrWhiteSpace(xdg))
        {
            return System.IO.Path.Combine(System.IO.Path.GetFullPath(xdg), "finetune");
        }

        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (!string.IsNullOrEmpty(home))
        {
            return System.IO.Path.Combine(home, ".cache", "finetune");
        }

        return System.IO.Path.Combine(
            Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "finetune");
    }
}
