using TorchSharp;

namespace FineTuning.Inspection;

/// <summary>
/// Dotted module paths as PyTorch and state dicts spell them (<c>layer4.1.conv2</c>, <c>classifier.6</c>): how a
/// path matches a prefix, and how to walk from a model to the module a path names.
/// </summary>
public static class ModulePaths
{
    /// <summary>
    /// True when <paramref name="path"/> is <paramref name="prefix"/> or lies under it, segment by segment:
    /// <c>fc</c> matches <c>fc</c> and <c>fc.weight</c> but not <c>fc2.weight</c>.
    /// </summary>
    /// <param name="path">A module or parameter path.</param>
    /// <param name="prefix">A module path; must not be empty.</param>
    public static bool IsUnder(string path, string prefix) =>
        path.Length == prefix.Length
            ? string.Equals(path, prefix, StringComparison.Ordinal)
            : path.Length > prefix.Length && path[prefix.Length] == '.' &&
              path.StartsWith(prefix, StringComparison.Ordinal);

    /// <summary>
    /// The module at a dotted path, found through <c>named_children()</c> one segment at a time (so Sequential
    /// children are found by their index names, <c>classifier.6</c>).
    /// </summary>
    /// <param name="model">The root module.</param>
    /// <param name="path">A dotted path such as <c>layer4.1</c>; an empty path is the model itself.</param>
    /// <exception cref="ArgumentException">A segment names no child; the message lists the children there.</exception>
    public static torch.nn.Module Find(torch.nn.Module model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(path);
        var current = model;
        var walked = "";
        foreach (var segment in path.Length == 0 ? [] : path.Split('.'))
        {
            torch.nn.Module? next = null;
            foreach (var (name, child) in current.named_children())
            {
                if (name == segment)
                {
                    next = child;
                    break;
                }
            }

            if (next is null)
            {
                var names = string.Join(", ", current.named_children().Select(c => c.name));
                var where = walked.Length == 0 ? $"the model ({TypeName(model)})" : $"'{walked}'";
                throw new ArgumentException(
                    $"'{path}' does not name a module: {where} has no child '{segment}'. " +
                    $"Its children are: {(names.Length == 0 ? "(none)" : names)}.", nameof(path));
            }

            current = next;
            walked = walked.Length == 0 ? segment : walked + "." + segment;
        }

        return current;
    }

    /// <summary>
    /// Every module under <paramref name="model"/> with its dotted path, depth first in registration order
    /// (PyTorch's order; TorchSharp's own <c>named_modules()</c> is breadth first). The root is listed first with
    /// the empty path.
    /// </summary>
    /// <param name="model">The root module.</param>
    public static IEnumerable<(string Path, torch.nn.Module Module)> DepthFirst(torch.nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Walk(model, "");

        static IEnumerable<(string, torch.nn.Module)> Walk(torch.nn.Module module, string path)
        {
            yield return (path, module);
            foreach (var (name, child) in module.named_children())
            {
                foreach (var item in Walk(child, path.Length == 0 ? name : path + "." + name))
                {
                    yield return item;
                }
            }
        }
    }

    /// <summary>The module's class name without generic arity (<c>Linear</c>, <c>Sequential</c>,
    /// <c>ResNet</c>).</summary>
    /// <param name="module">Any module.</param>
    public static string TypeName(torch.nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        var name = module.GetType().Name;
        var tick = name.IndexOf('`', StringComparison.Ordinal);
        return tick < 0 ? name : name[..tick];
    }
}
