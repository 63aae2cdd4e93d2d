namespace FineTuning.Data;

/// <summary>
/// A labelled set of image files and the class names that its labels index. The class names travel with a trained
/// model, so that predictions can be printed as breed names.
/// </summary>
public sealed class LabeledImageSet
{
    /// <summary>Creates a set; every label must index <paramref name="classes"/>.</summary>
    /// <exception cref="ArgumentException">A label is out of range, or a class name repeats.</exception>
    public LabeledImageSet(IReadOnlyList<string> classes, IReadOnlyList<ImageSample> samples)
    {
        ArgumentNullException.ThrowIfNull(classes);
        ArgumentNullException.ThrowIfNull(samples);
        var duplicate = classes.GroupBy(c => c, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ArgumentException($"The class name '{duplicate.Key}' appears more than once.", nameof(classes));
        }

        var outOfRange = samples.FirstOrDefault(s => s.Label < 0 || s.Label >= classes.Count);
        if (outOfRange is not null)
        {
            throw new ArgumentException(
                $"{outOfRange.Path} has label {outOfRange.Label}, but there are {classes.Count} classes.",
                nameof(samples));
        }

        Classes = classes;
        Samples = samples;
    }

    /// <summary>Class names; a sample's label is an index into this list.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>The images, in a stable order.</summary>
    public IReadOnlyList<ImageSample> Samples { get; }
}
