using System.IO.Compression;
using System.Security.Cryptography;

namespace Notebooks.Tests;

/// <summary>
/// Makes sure that the notebooks under test load this checkout's FineTuning package. The build installs it into the
/// NuGet global packages folder (build/LocalPackage.targets), but that folder is shared by every checkout on the
/// machine, so another checkout's build may have replaced or removed it since: the tests install their own copy
/// again, and give the kernel this checkout's artifacts/packages as a package source as well.
/// </summary>
internal static class LocalPackage
{
    public const string Id = "FineTuning";
    public const string Version = "0.1.0-local";

    public static string Folder => Path.Combine(Repository.Root, "artifacts", "packages");

    public static string File => Path.Combine(Folder, $"{Id}.{Version}.nupkg");

    /// <summary>The directive the runner submits before a notebook's first cell.</summary>
    public static string SourceDirective => $"#i \"nuget: {Folder}\"";

    public static void Install()
    {
        if (!System.IO.File.Exists(File))
        {
            throw new InvalidOperationException($"{File} is missing: run `dotnet build` at the repository root first.");
        }

        var root = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
        if (string.IsNullOrEmpty(root))
        {
            root = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        }

        var idFolder = Path.Combine(root, Id.ToLowerInvariant());
        var target = Path.Combine(idFolder, Version);
        var staging = Path.Combine(idFolder, ".staging-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(staging);
        using (var zip = ZipFile.OpenRead(File))
        {
            foreach (var entry in zip.Entries)
            {
                var name = entry.FullName;
                if (name.StartsWith("_rels/", StringComparison.Ordinal) || name.StartsWith("package/", StringComparison.Ordinal)
                    || name == "[Content_Types].xml" || name.EndsWith('/'))
                {
                    continue;
                }

                if (name.EndsWith(".nuspec", StringComparison.Ordinal) && !name.Contains('/', StringComparison.Ordinal))
                {
                    name = Id.ToLowerInvariant() + ".nuspec";
                }

                var destination = Path.Combine(staging, name);
                Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
                entry.ExtractToFile(destination, overwrite: true);
            }
        }

        var nupkg = Path.Combine(staging, $"{Id.ToLowerInvariant()}.{Version}.nupkg");
        System.IO.File.Copy(File, nupkg, overwrite: true);
        var hash = Convert.ToBase64String(SHA512.HashData(System.IO.File.ReadAllBytes(nupkg)));
        System.IO.File.WriteAllText(nupkg + ".sha512", hash);
        System.IO.File.WriteAllText(Path.Combine(staging, ".nupkg.metadata"),
            $"{{\n  \"version\": 2,\n  \"contentHash\": \"{hash}\",\n  \"source\": \"{Folder.Replace("\\", "\\\\", StringComparison.Ordinal)}\"\n}}");

        var old = Path.Combine(idFolder, ".old-" + Guid.NewGuid().ToString("N"));
        if (Directory.Exists(target))
        {
            Directory.Move(target, old);
        }

        Directory.Move(staging, target);
        if (Directory.Exists(old))
        {
            Directory.Delete(old, recursive: true);
        }
    }
}
