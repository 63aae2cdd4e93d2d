using System.Runtime.CompilerServices;
using FineTuning.Platform;

namespace FineTuning.Tests;

internal static class TestSetup
{
    // Runs before any test touches torch, so the Debian 12 loader fix is in place first.
    [ModuleInitializer]
    internal static void Initialize() => TorchSharpNativeFix.Apply();
}
