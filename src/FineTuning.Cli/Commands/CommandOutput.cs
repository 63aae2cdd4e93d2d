using System.CommandLine;

namespace FineTuning.Cli.Commands;

/// <summary>The writers a command prints to: the invocation's (redirected in tests), else the console's.</summary>
internal static class CommandOutput
{
    public static TextWriter Out(ParseResult parse) => parse.InvocationConfiguration.Output ?? Console.Out;

    public static TextWriter Error(ParseResult parse) => parse.InvocationConfiguration.Error ?? Console.Error;

    /// <summary>Reports library progress lines on standard error (standard output stays for results).</summary>
    public static IProgress<string> Progress(ParseResult parse) => new LineProgress(Error(parse));

    private sealed class LineProgress(TextWriter writer) : IProgress<string>
    {
        public void Report(string value) => writer.WriteLine(value);
    }
}
