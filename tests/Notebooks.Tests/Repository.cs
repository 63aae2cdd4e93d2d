namespace Notebooks.Tests;

/// <summary>Paths in the repository under test, found from the test assembly's folder.</summary>
internal static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string Notebooks => Path.Combine(Root, "notebooks");

    public static IEnumerable<string> NotebookFiles() =>
        Directory.Exists(Notebooks)
            ? Directory.EnumerateFiles(Notebooks, "*.ipynb").OrderBy(f => f, StringComparer.Ordinal)
            : [];

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FineTuning.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No FineTuning.slnx above {AppContext.BaseDirectory}.");
    }
}
