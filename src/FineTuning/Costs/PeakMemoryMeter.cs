using TorchSharp;

namespace FineTuning.Costs;

/// <summary>
/// Measures the peak memory of the work done between <see cref="Start"/> and <see cref="Stop"/>: the process's
/// resident high-water mark on CPU, NVML's device memory in use (sampled every 2 ms) on CUDA.
/// </summary>
internal sealed class PeakMemoryMeter : IDisposable
{
    private readonly Thread? _sampler;
    private readonly int _cudaIndex;
    private readonly bool _resetWorked;
    private volatile bool _stopping;
    private long _cudaPeak;

    private PeakMemoryMeter(torch.Device device)
    {
        if (device.type == DeviceType.CUDA)
        {
            _cudaIndex = Math.Max(0, (int)device.index);
            Baseline = NvmlMemory.UsedBytes(_cudaIndex);
            if (Baseline is not null)
            {
                _cudaPeak = Baseline.Value;
                _sampler = new Thread(Sample) { IsBackground = true, Name = "nvml-sampler" };
                _sampler.Start();
            }

            return;
        }

        _resetWorked = ProcessMemory.TryResetPeak();
        Baseline = ProcessMemory.ResidentBytes();
    }

    /// <summary>Memory in use when the meter started, in bytes; null where unavailable.</summary>
    public long? Baseline { get; }

    /// <summary>Starts measuring on <paramref name="device"/>.</summary>
    public static PeakMemoryMeter Start(torch.Device device) => new(device);

    /// <summary>Stops measuring; returns the peak in bytes (null where unavailable) and how it was measured.</summary>
    public (long? Peak, string Source) Stop()
    {
        if (_sampler is not null)
        {
            _stopping = true;
            _sampler.Join();
            return (Interlocked.Read(ref _cudaPeak),
                "NVML device memory in use, sampled every 2 ms (counts every process on the GPU)");
        }

        if (Baseline is null && !ProcessMemory.IsSupported)
        {
            return (null, "unavailable: neither /proc/self/status nor NVML");
        }

        var peak = ProcessMemory.PeakResidentBytes();
        return _resetWorked
            ? (peak, "process resident high-water mark (VmHWM), reset before the steps")
            : (peak, "process resident high-water mark (VmHWM) since the process started (reset not permitted)");
    }

    public void Dispose()
    {
        _stopping = true;
        _sampler?.Join();
    }

    private void Sample()
    {
        while (!_stopping)
        {
            var used = NvmlMemory.UsedBytes(_cudaIndex);
            if (used is { } value && value > Interlocked.Read(ref _cudaPeak))
            {
                Interlocked.Exchange(ref _cudaPeak, value);
            }

            Thread.Sleep(2);
        }
    }
}
