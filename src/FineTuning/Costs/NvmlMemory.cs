using System.Runtime.InteropServices;

namespace FineTuning.Costs;

/// <summary>
/// GPU memory in use, read from NVIDIA's management library (<c>libnvidia-ml.so.1</c>, <c>nvml.dll</c>), because
/// TorchSharp exposes no CUDA allocator statistics.
/// </summary>
/// <remarks>
/// NVML reports the memory in use on the whole device, by every process, so a peak is meaningful when nothing else
/// runs on the GPU. This code path needs an NVIDIA driver and was not exercised on the CPU-only machine where the
/// project's figures were measured.
/// </remarks>
public static class NvmlMemory
{
    private static readonly Lock Gate = new();
    private static Api? _api;
    private static bool _loaded;

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int InitFn();

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int HandleByIndexFn(uint index, out IntPtr device);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int MemoryInfoFn(IntPtr device, out MemoryInfo memory);

    /// <summary>Memory in use on CUDA device <paramref name="index"/> in bytes, or null when NVML is
    /// unavailable.</summary>
    /// <param name="index">The CUDA device index.</param>
    public static long? UsedBytes(int index)
    {
        var api = Load();
        if (api is null || api.HandleByIndex((uint)index, out var device) != 0)
        {
            return null;
        }

        return api.MemoryInfo(device, out var memory) == 0 ? (long)memory.Used : null;
    }

    private static Api? Load()
    {
        lock (Gate)
        {
            if (_loaded)
            {
                return _api;
            }

            _loaded = true;
            foreach (var name in new[] { "libnvidia-ml.so.1", "libnvidia-ml.so", "nvml.dll" })
            {
                if (!NativeLibrary.TryLoad(name, out var library))
                {
                    continue;
                }

                if (NativeLibrary.TryGetExport(library, "nvmlInit_v2", out var init)
                    && NativeLibrary.TryGetExport(library, "nvmlDeviceGetHandleByIndex_v2", out var byIndex)
                    && NativeLibrary.TryGetExport(library, "nvmlDeviceGetMemoryInfo", out var info)
                    && Marshal.GetDelegateForFunctionPointer<InitFn>(init)() == 0)
                {
                    _api = new Api(
                        Marshal.GetDelegateForFunctionPointer<HandleByIndexFn>(byIndex),
                        Marshal.GetDelegateForFunctionPointer<MemoryInfoFn>(info));
                    break;
                }
            }

            return _api;
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MemoryInfo
    {
        public ulong Total;
        public ulong Free;
        public ulong Used;
    }

    private sealed record Api(HandleByIndexFn HandleByIndex, MemoryInfoFn MemoryInfo);
}
