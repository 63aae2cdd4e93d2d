using System.Globalization;
using System.Reflection;
using System.Text;
using TorchSharp;
using TorchSharp.Modules;

namespace FineTuning.Inspection;

/// <summary>
/// Prints any TorchSharp module as PyTorch's <c>print(model)</c> does: the tree of children in registration order,
/// each line <c>(name): Type(configuration)</c>, e.g. <c>(fc): Linear(in_features=512, out_features=1000,
/// bias=True)</c>. TorchSharp's own <c>ToString()</c> gives only the type name.
/// </summary>
/// <remarks>
/// The configuration comes from the modules' public properties (Conv2d's <c>in_channels</c>, <c>kernel_size</c>,
/// <c>stride</c>...; BatchNorm's <c>eps</c>, <c>momentum</c>...) in PyTorch's wording for the common layers;
/// other leaf modules list their public settings as <c>name=value</c>, or their parameter shapes when they have no
/// settings. Names are TorchSharp's: its ResNet blocks call their ReLU <c>relu1</c>, and a printout lists modules
/// in registration order, which is not always the order <c>forward</c> runs them (see
/// <see cref="HeadLocator.ExecutionOrder"/>).
/// </remarks>
public static class ModelPrinter
{
    private static readonly HashSet<Type> FrameworkBases =
    [
        typeof(torch.nn.Module), typeof(torch.nn.Module<torch.Tensor, torch.Tensor>),
        typeof(ParameterLessModule<torch.Tensor, torch.Tensor>),
    ];

    /// <summary>The PyTorch-style tree of <paramref name="module"/>, lines separated by <c>\n</c>.</summary>
    /// <param name="module">Any module.</param>
    public static string Print(torch.nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        var builder = new StringBuilder();
        Append(builder, module, "");
        return builder.ToString();
    }

    /// <summary>
    /// One module's own line without its children: <c>Conv2d(3, 64, kernel_size=(7, 7), stride=(2, 2),
    /// padding=(3, 3), bias=False)</c>, or <c>Sequential</c> for a container.
    /// </summary>
    /// <param name="module">Any module.</param>
    public static string Describe(torch.nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        var name = ModulePaths.TypeName(module);
        var hasChildren = module.named_children().Any();
        var config = Configuration(module, hasChildren);
        return hasChildren && config.Length == 0 ? name : $"{name}({config})";
    }

    private static void Append(StringBuilder builder, torch.nn.Module module, string indent)
    {
        var children = module.named_children().ToList();
        var name = ModulePaths.TypeName(module);
        var config = Configuration(module, children.Count > 0);
        if (children.Count == 0)
        {
            builder.Append(name).Append('(').Append(config).Append(')');
            return;
        }

        builder.Append(name).Append('(');
        if (config.Length > 0)
        {
            builder.Append('\n').Append(indent).Append("  ").Append(config);
        }

        foreach (var (childName, child) in children)
        {
            builder.Append('\n').Append(indent).Append("  (").Append(childName).Append("): ");
            Append(builder, child, indent + "  ");
        }

        builder.Append('\n').Append(indent).Append(')');
    }

    private static string Configuration(torch.nn.Module module, bool hasChildren)
    {
        switch (module)
        {
            case Convolution conv:
                return ConvolutionConfig(conv);
            case Linear linear:
                return $"in_features={linear.in_features}, out_features={linear.out_features}, " +
                       $"bias={Py(HasParameter(linear, "bias"))}";
            case NormBase norm:
                return $"{norm.num_features}, eps={Py(norm.eps)}, momentum={Py(norm.momentum)}, " +
                       $"affine={Py(norm.affine)}, track_running_stats={Py(norm.track_running_stats)}";
            case MaxPool1d or MaxPool2d or MaxPool3d:
                return Settings(module, "kernel_size", "stride", "padding", "dilation", "ceil_mode");
            case AvgPool1d or AvgPool2d or AvgPool3d:
                return Settings(module, "kernel_size", "stride", "padding");
            case Flatten flatten:
                return $"start_dim={flatten.start_dim}, end_dim={flatten.end_dim}";
            case Identity:
                return "";
        }

        if (hasChildren)
        {
            return "";
        }

        var properties = ConfigProperties(module.GetType()).ToList();
        if (properties.Count == 1 && properties[0].Name == "inplace")
        {
            return (bool)properties[0].GetValue(module)! ? "inplace=True" : "";
        }

        if (properties.Count > 0)
        {
            var ordered = properties.OrderBy(p => p.Name == "inplace" ? 1 : 0).ToList();
            return string.Join(", ", ordered.Select(p => $"{p.Name}={Py(p.GetValue(module), p.Name)}"));
        }

        return string.Join(", ", module.named_parameters(false).Select(p => $"{p.name}=[{Shape(p.parameter)}]"));
    }

    private static string ConvolutionConfig(Convolution conv)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{conv.in_channels}, {conv.out_channels}, ");
        text.Append(CultureInfo.InvariantCulture, $"kernel_size={Tuple(conv.kernel_size)}, stride={Tuple(conv.stride)}");
        if (conv.padding is null)
        {
            text.Append(", padding=").Append(conv.padding_type?.ToString().ToLowerInvariant() ?? "same");
        }
        else if (conv.padding.Any(p => p != 0))
        {
            text.Append(", padding=").Append(Tuple(conv.padding));
        }

        if (conv.dilation.Any(d => d != 1))
        {
            text.Append(", dilation=").Append(Tuple(conv.dilation));
        }

        if (conv.transposed && conv.output_padding.Any(p => p != 0))
        {
            text.Append(", output_padding=").Append(Tuple(conv.output_padding));
        }

        if (conv.groups != 1)
        {
            text.Append(CultureInfo.InvariantCulture, $", groups={conv.groups}");
        }

        if (!HasParameter(conv, "bias"))
        {
            text.Append(", bias=False");
        }

        if (conv.padding_mode != PaddingModes.Zeros)
        {
            text.Append(", padding_mode=").Append(conv.padding_mode.ToString().ToLowerInvariant());
        }

        return text.ToString();
    }

    private static string Settings(torch.nn.Module module, params string[] names)
    {
        var type = module.GetType();
        return string.Join(", ", names
            .Select(n => (Name: n, Property: type.GetProperty(n, BindingFlags.Public | BindingFlags.Instance)))
            .Where(p => p.Property is not null)
            .Select(p => $"{p.Name}={Py(PoolDefault(module, p.Name, p.Property!.GetValue(module)), p.Name, true)}"));
    }

    // TorchSharp keeps unset pooling settings as null; PyTorch's defaults are stride = kernel_size, padding 0,
    // dilation 1.
    private static object? PoolDefault(torch.nn.Module module, string name, object? value) => value switch
    {
        not null => value,
        _ when name == "stride" => module.GetType().GetProperty("kernel_size")?.GetValue(module),
        _ when name == "padding" => 0L,
        _ when name == "dilation" => 1L,
        _ => null,
    };

    private static IEnumerable<PropertyInfo> ConfigProperties(Type type)
    {
        for (var t = type; t is not null && !FrameworkBases.Contains(t) && t != typeof(object); t = t.BaseType)
        {
            if (t.IsGenericType && FrameworkBases.Contains(t))
            {
                yield break;
            }

            foreach (var property in t.GetProperties(
                         BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            {
                var kind = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
                if (property.GetIndexParameters().Length == 0 && property.CanRead &&
                    (kind.IsPrimitive || kind.IsEnum || kind == typeof(string) || kind == typeof(long[]) ||
                     kind == typeof(double[])))
                {
                    yield return property;
                }
            }
        }
    }

    private static bool HasParameter(torch.nn.Module module, string name) =>
        module.named_parameters(false).Any(p => p.name == name);

    private static string Shape(torch.Tensor tensor) => string.Join(", ", tensor.shape);

    private static string Tuple(long[] values) =>
        values.Length == 1 ? $"({values[0]},)" : "(" + string.Join(", ", values) + ")";

    private static string Py(object? value, string name = "", bool collapse = false) => value switch
    {
        null => "None",
        bool b => b ? "True" : "False",
        double d => PyFloat(d),
        float f => PyFloat(f),
        long[] a when collapse && a.Length > 0 && a.All(x => x == a[0]) => a[0].ToString(CultureInfo.InvariantCulture),
        long[] a => Tuple(a),
        double[] a => "(" + string.Join(", ", a.Select(PyFloat)) + ")",
        string s => "'" + s + "'",
        Enum e => e.ToString().ToLowerInvariant(),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? name,
    };

    // Python's repr of a float: shortest round-trip digits, "1e-05" style exponents, "1.0" for whole numbers.
    private static string PyFloat(double value)
    {
        if (double.IsNaN(value))
        {
            return "nan";
        }

        if (double.IsInfinity(value))
        {
            return value > 0 ? "inf" : "-inf";
        }

        // A float setting widened to double (0.2f is 0.20000000298023224) prints as the float it was.
        var single = (float)value;
        var text = (double)single == value
            ? single.ToString("R", CultureInfo.InvariantCulture)
            : value.ToString("R", CultureInfo.InvariantCulture);
        var e = text.IndexOf('E', StringComparison.Ordinal);
        if (e >= 0)
        {
            var mantissa = text[..e];
            var exponent = int.Parse(text[(e + 1)..], CultureInfo.InvariantCulture);
            return $"{mantissa}e{(exponent < 0 ? "-" : "+")}{Math.Abs(exponent):00}";
        }

        return text.Contains('.', StringComparison.Ordinal) ? text : text + ".0";
    }
}
