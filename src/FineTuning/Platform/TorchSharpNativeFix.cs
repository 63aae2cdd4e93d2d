using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace FineTuning.Platform;

/// <summary>
/// Makes TorchSharp 0.107's native library loadable on Linux distributions whose libstdc++ predates GCC 13
/// (Debian 12, Ubuntu 22.04).
/// </summary>
/// <remarks>
/// <para>
/// <c>libLibTorchSharp.so</c> declares that it needs the symbol version <c>GLIBCXX_3.4.32</c>, which only GCC 13's
/// libstdc++ provides. The only symbol with that version is a marker that no relocation uses, so the library runs
/// fine on an older libstdc++ once the requirement is marked weak: the loader then accepts a missing version.
/// </para>
/// <para>
/// <see cref="Apply"/> sets the <c>VER_FLG_WEAK</c> bit on that one requirement in every copy TorchSharp may load
/// (the application folder and the NuGet package cache). The edit is two bytes, keeps the file's size, is written
/// through a temporary file and a rename, and is idempotent. It does nothing on Windows and macOS, or where the
/// system libstdc++ already provides <c>GLIBCXX_3.4.32</c>. Call it before the first use of <c>torch</c>.
/// </para>
/// </remarks>
public static class TorchSharpNativeFix
{
    /// <summary>The symbol version that the shipped library requires and older systems lack.</summary>
    public const string MissingVersion = "GLIBCXX_3.4.32";

    private const string LibraryName = "libLibTorchSharp.so";
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlagWeak = 0x2;

    private static readonly Lock Gate = new();
    private static FixReport? _report;

    /// <summary>
    /// Applies the fix once per process and returns what it did. Later calls return the first report.
    /// </summary>
    public static FixReport Apply()
    {
        lock (Gate)
        {
            return _report ??= ApplyCore(CandidateFiles());
        }
    }

    /// <summary>
    /// Applies the fix to the given library files, unconditionally of the cached report (for tests and tools).
    /// </summary>
    /// <param name="files">Paths of <c>libLibTorchSharp.so</c> copies; missing files are ignored.</param>
    public static FixReport ApplyTo(IEnumerable<string> files) => ApplyCore(files);

    /// <summary>Whether the system's libstdc++ already provides <see cref="MissingVersion"/>.</summary>
    public static bool SystemHasRequiredLibStdCxx()
    {
        foreach (var path in LibStdCxxCandidates())
        {
            if (File.Exists(path) && FileContains(path, Encoding.ASCII.GetBytes(MissingVersion + "\0")))
            {
                return true;
            }
        }

        return false;
    }

    private static FixReport ApplyCore(IEnumerable<string> files)
    {
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
        {
            return new FixReport(FixOutcome.NotNeeded, [], "not Linux");
        }

        if (SystemHasRequiredLibStdCxx())
        {
            return new FixReport(FixOutcome.NotNeeded, [], $"the system libstdc++ provides {MissingVersion}");
        }

        var patched = new List<string>();
        var problems = new List<string>();
        foreach (var file in files.Distinct())
        {
            if (!File.Exists(file))
            {
                continue;
            }

            try
            {
                if (PatchFile(file))
                {
                    patched.Add(file);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
            {
                problems.Add($"{file}: {e.Message}");
            }
        }

        var detail = problems.Count == 0
            ? $"{patched.Count} file(s) patched"
            : $"{patched.Count} file(s) patched; could not patch {string.Join("; ", problems)}";
        return new FixReport(patched.Count > 0 ? FixOutcome.Patched : FixOutcome.AlreadyApplied, patched, detail);
    }

    /// <summary>
    /// Marks the <see cref="MissingVersion"/> requirement of one ELF file weak. Returns false when it already was,
    /// or when the file does not require that version.
    /// </summary>
    public static bool PatchFile(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var offset = FindRequirementFlags(bytes, path);
        if (offset < 0)
        {
            return false;
        }

        var flags = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(offset));
        if ((flags & VerFlagWeak) != 0)
        {
            return false;
        }

        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(offset), (ushort)(flags | VerFlagWeak));
        var temporary = path + $".{Environment.ProcessId}.tmp";
        try
        {
            File.WriteAllBytes(temporary, bytes);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(temporary, File.GetUnixFileMode(path));
            }

            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }

        return true;
    }

    /// <summary>
    /// Whether the file's requirement of <see cref="MissingVersion"/> is already weak; null when the file does not
    /// require that version at all.
    /// </summary>
    public static bool? IsRequirementWeak(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var offset = FindRequirementFlags(bytes, path);
        return offset < 0 ? null : (BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(offset)) & VerFlagWeak) != 0;
    }

    // Returns the file offset of vna_flags in the Vernaux entry named MissingVersion, or -1.
    private static int FindRequirementFlags(byte[] elf, string path)
    {
        var span = elf.AsSpan();
        if (elf.Length < 64 || span[0] != 0x7f || span[1] != (byte)'E' || span[2] != (byte)'L' || span[3] != (byte)'F')
        {
            throw new InvalidDataException($"{path} is not an ELF file.");
        }

        if (span[4] != 2 || span[5] != 1)
        {
            throw new InvalidDataException($"{path} is not a 64-bit little-endian ELF file.");
        }

        var sectionTable = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(span[0x28..]));
        int entrySize = BinaryPrimitives.ReadUInt16LittleEndian(span[0x3A..]);
        int count = BinaryPrimitives.ReadUInt16LittleEndian(span[0x3C..]);
        for (var i = 0; i < count; i++)
        {
            var header = span.Slice(sectionTable + (i * entrySize), entrySize);
            if (BinaryPrimitives.ReadUInt32LittleEndian(header[4..]) != ShtGnuVerneed)
            {
                continue;
            }

            var offset = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(header[0x18..]));
            var link = (int)BinaryPrimitives.ReadUInt32LittleEndian(header[0x28..]);
            var needCount = (int)BinaryPrimitives.ReadUInt32LittleEndian(header[0x2C..]);
            var strings = span.Slice(sectionTable + (link * entrySize), entrySize);
            var stringsOffset = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(strings[0x18..]));
            return FindInVerneed(span, offset, needCount, stringsOffset);
        }

        return -1;
    }

    private static int FindInVerneed(ReadOnlySpan<byte> elf, int need, int needCount, int stringsOffset)
    {
        var wanted = Encoding.ASCII.GetBytes(MissingVersion);
        for (var n = 0; n < needCount; n++)
        {
            int auxCount = BinaryPrimitives.ReadUInt16LittleEndian(elf[(need + 2)..]);
            var aux = need + (int)BinaryPrimitives.ReadUInt32LittleEndian(elf[(need + 8)..]);
            for (var a = 0; a < auxCount; a++)
            {
                var name = stringsOffset + (int)BinaryPrimitives.ReadUInt32LittleEndian(elf[(aux + 8)..]);
                var end = elf[name..].IndexOf((byte)0);
                if (elf.Slice(name, end).SequenceEqual(wanted))
                {
                    return aux + 4;
                }

                aux += (int)BinaryPrimitives.ReadUInt32LittleEndian(elf[(aux + 12)..]);
            }

            var next = (int)BinaryPrimitives.ReadUInt32LittleEndian(elf[(need + 12)..]);
            if (next == 0)
            {
                break;
            }

            need += next;
        }

        return -1;
    }

    /// <summary>Every copy of the TorchSharp native library that this process might load.</summary>
    public static IEnumerable<string> CandidateFiles()
    {
        var folders = new List<string> { AppContext.BaseDirectory };
        var torchAssembly = typeof(TorchSharp.torch).Assembly.Location;
        if (!string.IsNullOrEmpty(torchAssembly))
        {
            // In a package cache: .../torchsharp/0.107.0/lib/net8.0/TorchSharp.dll -> .../torchsharp/0.107.0
            var packageFolder = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(torchAssembly)!, "..", ".."));
            folders.Add(Path.GetDirectoryName(torchAssembly)!);
            if (File.Exists(Path.Combine(packageFolder, "torchsharp.nuspec")))
            {
                folders.Add(packageFolder);
            }
        }

        var version = typeof(TorchSharp.torch).Assembly.GetName().Version;
        var cached = Path.Combine(NuGetPackagesFolder(), "torchsharp");
        if (Directory.Exists(cached))
        {
            folders.AddRange(Directory.GetDirectories(cached)
                .Where(d => version is null || Path.GetFileName(d).StartsWith($"{version.Major}.{version.Minor}.", StringComparison.Ordinal)));
        }

        return folders
            .Where(Directory.Exists)
            .SelectMany(folder => Directory.EnumerateFiles(folder, LibraryName, SearchOption.AllDirectories))
            .Select(Path.GetFullPath)
            .Distinct();
    }

    /// <summary>The NuGet global packages folder: <c>NUGET_PACKAGES</c>, else <c>~/.nuget/packages</c>.</summary>
    public static string NuGetPackagesFolder()
    {
        var configured = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
        return !string.IsNullOrEmpty(configured)
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
    }

    private static IEnumerable<string> LibStdCxxCandidates()
    {
        var arch = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "aarch64" : "x86_64";
        yield return $"/usr/lib/{arch}-linux-gnu/libstdc++.so.6";
        yield return $"/lib/{arch}-linux-gnu/libstdc++.so.6";
        yield return "/usr/lib64/libstdc++.so.6";
        yield return "/usr/lib/libstdc++.so.6";
    }

    private static bool FileContains(string path, byte[] needle)
    {
        var bytes = File.ReadAllBytes(path);
        return bytes.AsSpan().IndexOf(needle) >= 0;
    }
}

/// <summary>What <see cref="TorchSharpNativeFix.Apply"/> did.</summary>
public enum FixOutcome
{
    /// <summary>Nothing to do on this system.</summary>
    NotNeeded,

    /// <summary>Every copy found already carried the fix (or none was found).</summary>
    AlreadyApplied,

    /// <summary>At least one copy was patched now.</summary>
    Patched,
}

/// <summary>The outcome of the native-library fix.</summary>
/// <param name="Outcome">What happened.</param>
/// <param name="PatchedFiles">The files changed by this call.</param>
/// <param name="Detail">One human-readable sentence.</param>
public sealed record FixReport(FixOutcome Outcome, IReadOnlyList<string> PatchedFiles, string Detail);
