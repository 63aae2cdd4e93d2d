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

    /// <summary>
    /// The rule behind <see cref="Path"/>, with its inputs passed in (so it can be checked without changing the
    /// process's environment).
    /// </summary>
    /// <param name="finetuneCache">The value of <c>FINETUNE_CACHE</c>, or null.</param>
    /// <param name="xdgCacheHome">The value of <c>XDG_CACHE_HOME</c>, or null.</param>
    /// <param name="home">The user's home folder, or null or empty when there is none.</param>
    /// <param name="localApplicationData">The fallback without a home folder (Windows' LocalApplicationData).</param>
    public static string ResolveFrom(
        string? finetuneCache, string? xdgCacheHome, string? home, string localApplicationData)
    {
        if (!string.IsNullOrWhiteSpace(finetuneCache))
        {
            return System.IO.Path.GetFullPath(finetuneCache);
        }

        if (!string.IsNullOrWhiteSpace(xdgCacheHome))
        {
            return System.IO.Path.Combine(System.IO.Path.GetFullPath(xdgCacheHome), "finetune");
        }

        if (!string.IsNullOrEmpty(home))
        {
            return System.IO.Path.Combine(home, ".cache", "finetune");
        }

        return System.IO.Path.Combine(localApplicationData, "finetune");
    }

    private static string Resolve() => ResolveFrom(
        Environment.GetEnvironmentVariable(EnvironmentVariable),
        Environment.GetEnvironmentVariable("XDG_CACHE_HOME"),
        Environment.GetFolderPath(Environment.SpecialFolder.UserProfile),
        Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData));
}
