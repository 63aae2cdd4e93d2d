using System.Globalization;

namespace FineTuning.Costs;

/// <summary>
/// The resident memory of this process as Linux reports it in <c>/proc/self/status</c>: the current size (VmRSS)
/// and the high-water mark (VmHWM), which can be reset so that a peak covers only the work measured.
/// </summary>
public static class ProcessMemory
{
    private const string StatusFile = "/proc/self/status";
    private const string ClearRefsFile = "/proc/self/clear_refs";

    /// <summary>Whether this platform reports process memory this way (Linux).</summary>
    public static bool IsSupported => OperatingSystem.IsLinux() && File.Exists(StatusFile);

    /// <summary>Current resident memory in bytes (VmRSS), or null where unsupported.</summary>
    public static long? ResidentBytes() => ReadStatusKilobytes("VmRSS:") * 1024;

    /// <summary>Peak resident memory in bytes since the process started or the last reset (VmHWM).</summary>
    public static long? PeakResidentBytes() => ReadStatusKilobytes("VmHWM:") * 1024;

    /// <summary>
    /// Resets the high-water mark to the current resident size (writes 5 to <c>/proc/self/clear_refs</c>, Linux 4.0
    /// and later). Returns false where that is not permitted; the peak then counts from the process's start.
    /// </summary>
    public static bool TryResetPeak()
    {
        if (!IsSupported)
        {
            return false;
        }

        try
        {
            File.WriteAllText(ClearRefsFile, "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static long? ReadStatusKilobytes(string key)
    {
        if (!IsSupported)
        {
            return null;
        }

        foreach (var line in File.ReadLines(StatusFile))
        {
            if (line.StartsWith(key, StringComparison.Ordinal))
            {
                var parts = line[key.Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return long.Parse(parts[0], CultureInfo.InvariantCulture);
            }
        }

        return null;
    }
}
