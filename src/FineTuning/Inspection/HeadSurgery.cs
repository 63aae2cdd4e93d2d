using System.Collections;
using System.Reflection;
using TorchSharp;
using TorchSharp.Modules;

namespace FineTuning.Inspection;

/// <summary>
/// Replaces a module (usually the classification head) of an already built model, by its dotted path, so that
/// <c>forward</c> runs the new module and <c>parameters()</c>/<c>state_dict()</c> list it under the old key.
/// </summary>
/// <remarks>
/// <para>
/// In PyTorch this is <c>model.fc = nn.Linear(512, 120)</c>. TorchSharp has no such assignment: a model keeps each
/// child twice, once in a (usually private, readonly) field that <c>forward</c> calls, and once in the registration
/// table that <c>named_children()</c>, <c>parameters()</c> and <c>state_dict()</c> read. <c>register_module("fc",
/// m)</c> throws because "fc" exists, and changing only the registration leaves <c>forward</c> calling the old head.
/// A <c>Sequential</c> (VGG's and AlexNet's <c>classifier</c>, MobileNet's <c>classifier</c>) keeps its children
/// in a private list that both <c>forward</c> and its <c>named_children()</c> read.
/// </para>
/// <para>
/// This class therefore changes, by reflection, every reference the parent holds to the old module: fields whose
/// value is the old module, elements of list fields that contain it, and the entry in the registration table, kept
/// at its position so that the parameter order (and the order of optimizer parameter groups built from it) stays
/// the order of registration. It refuses, before changing anything, when a field's declared type cannot hold the
/// new module (GoogLeNet and Inception v3 declare <c>fc</c> as <c>Linear</c>) or when nothing forward could call
/// refers to the old module. The idiomatic alternative needs no reflection: build the model with the right head,
/// <c>torchvision.models.resnet50(num_classes: 120, weights_file: path, skipfc: true)</c>.
/// </para>
/// </remarks>
public static class HeadSurgery
{
    private const BindingFlags InstanceFields =
        BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;

    private static readonly FieldInfo RegisteredChildren =
        typeof(torch.nn.Module).GetField("_internal_submodules", BindingFlags.Instance | BindingFlags.NonPublic)
        ?? throw new MissingFieldException("TorchSharp's Module._internal_submodules was not found.");

    private static readonly MethodInfo RegisterComponents =
        typeof(torch.nn.Module).GetMethod("RegisterComponents", BindingFlags.Instance | BindingFlags.NonPublic)
        ?? throw new MissingMethodException("TorchSharp's Module.RegisterComponents was not found.");

    /// <summary>
    /// Puts <paramref name="newHead"/> where <paramref name="path"/> is, moves it to the old module's device,
    /// gives it the old module's training mode, and disposes the old module (unless told not to).
    /// </summary>
    /// <typeparam name="T">The new module's type.</typeparam>
    /// <param name="model">The built model to change in place.</param>
    /// <param name="path">The dotted path of the module to replace: <c>fc</c>, <c>classifier.6</c>.</param>
    /// <param name="newHead">The replacement; it must not already belong to another model.</param>
    /// <param name="disposeOld">Dispose the old module and its parameters (default); pass false to keep using
    /// it.</param>
    /// <returns><paramref name="newHead"/>, for chaining.</returns>
    /// <exception cref="ArgumentException">The path names nothing, or the new module cannot take the old one's place.
    /// </exception>
    public static T Replace<T>(torch.nn.Module model, string path, T newHead, bool disposeOld = true)
        where T : torch.nn.Module
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(newHead);
        if (path.Length == 0)
        {
            throw new ArgumentException("The path is empty: name the module to replace, such as 'fc'.", nameof(path));
        }

        var dot = path.LastIndexOf('.');
        var parentPath = dot < 0 ? "" : path[..dot];
        var name = path[(dot + 1)..];
        var parent = ModulePaths.Find(model, parentPath);
        var old = ModulePaths.Find(parent, name);
        if (ReferenceEquals(old, newHead))
        {
            return newHead;
        }

        var fieldSlots = new List<(FieldInfo Field, object Owner)>();
        var listSlots = new List<(IList List, int Index)>();
        foreach (var field in AllInstanceFields(parent.GetType()))
        {
            if (field == RegisteredChildren)
            {
                continue;
            }

            var value = field.GetValue(parent);
            if (ReferenceEquals(value, old))
            {
                if (!field.FieldType.IsInstanceOfType(newHead))
                {
                    throw new ArgumentException(
                        $"{ModulePaths.TypeName(parent)}.{field.Name} is declared as {field.FieldType.Name}, so " +
                        $"'{path}' cannot become a {ModulePaths.TypeName(newHead)}. Use a {field.FieldType.Name}.",
                        nameof(newHead));
                }

                fieldSlots.Add((field, parent));
            }
            else if (value is IList list and not Array)
            {
                for (var i = 0; i < list.Count; i++)
                {
                    if (ReferenceEquals(list[i], old))
                    {
                        var elementType = list.GetType().GetGenericArguments().FirstOrDefault() ?? typeof(object);
                        if (!elementType.IsInstanceOfType(newHead))
                        {
                            throw new ArgumentException(
                                $"{ModulePaths.TypeName(parent)} holds '{name}' in a list of {elementType.Name}; " +
                                $"a {ModulePaths.TypeName(newHead)} cannot take its place.", nameof(newHead));
                        }

                        listSlots.Add((list, i));
                    }
                }
            }
        }

        if (fieldSlots.Count == 0 && listSlots.Count == 0)
        {
            throw new ArgumentException(
                $"{ModulePaths.TypeName(parent)} lists '{name}' as a child but keeps no field or list that refers to " +
                "it, so its forward could not be made to use a new module. Build the model with the head you need.",
                nameof(path));
        }

        MatchDeviceAndMode(old, newHead);
        RegisterComponents.Invoke(newHead, null);

        foreach (var (field, owner) in fieldSlots)
        {
            field.SetValue(owner, newHead);
        }

        foreach (var (list, index) in listSlots)
        {
            list[index] = newHead;
        }

        var registered = (TorchSharp.Utils.OrderedDict<string, torch.nn.Module>)RegisteredChildren.GetValue(parent)!;
        if (registered.ContainsKey(name))
        {
            registered[name] = newHead;
        }

        if (!ReferenceEquals(ModulePaths.Find(model, path), newHead))
        {
            throw new InvalidOperationException(
                $"After replacing '{path}', the model still lists another module there; nothing was disposed.");
        }

        if (disposeOld)
        {
            old.Dispose();
        }

        return newHead;
    }

    /// <summary>
    /// Replaces the <c>Linear</c> at <paramref name="path"/> with a new, randomly initialized
    /// <c>Linear(in_features of the old head, <paramref name="classes"/>)</c> (with a bias when the old one had
    /// one, on its device and in its element type), and disposes the old head.
    /// </summary>
    /// <param name="model">The built model to change in place.</param>
    /// <param name="classes">Number of outputs of the new head, at least 1.</param>
    /// <param name="path">The head's dotted path: <c>fc</c> for ResNet, <c>classifier.6</c> for VGG and AlexNet,
    /// <c>classifier.1</c> for MobileNet v2, <c>classifier.3</c> for MobileNet v3.</param>
    /// <returns>The new head; its parameters are trainable.</returns>
    /// <exception cref="ArgumentException">The path names nothing or not a <c>Linear</c>, or classes is below 1.
    /// </exception>
    public static Linear ReplaceLinearHead(torch.nn.Module model, int classes, string path = "fc")
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        var old = ModulePaths.Find(model, path);
        if (old is not Linear linear)
        {
            throw new ArgumentException(
                $"'{path}' is a {ModulePaths.TypeName(old)}, not a Linear; pass the head's path (HeadLocator.Locate " +
                "finds it) or use HeadSurgery.Replace with a module you build.", nameof(path));
        }

        var weight = linear.weight;
        var head = torch.nn.Linear(
            linear.in_features, classes, hasBias: linear.bias is not null, device: weight.device, dtype: weight.dtype);
        return Replace(model, path, head);
    }

    private static void MatchDeviceAndMode(torch.nn.Module old, torch.nn.Module newHead)
    {
        var oldParameter = old.parameters().FirstOrDefault();
        var newParameter = newHead.parameters().FirstOrDefault();
        if (oldParameter is not null && newParameter is not null &&
            oldParameter.device.ToString() != newParameter.device.ToString())
        {
            newHead.to(oldParameter.device);
        }

        newHead.train(old.training);
    }

    private static IEnumerable<FieldInfo> AllInstanceFields(Type? type)
    {
        for (; type is not null && type != typeof(object); type = type.BaseType)
        {
            foreach (var field in type.GetFields(InstanceFields))
            {
                yield return field;
            }
        }
    }
}
