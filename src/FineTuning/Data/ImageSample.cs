namespace FineTuning.Data;

/// <summary>One labelled image file.</summary>
/// <param name="Path">The image file.</param>
/// <param name="Label">Index into <see cref="LabeledImageSet.Classes"/>.</param>
public sealed record ImageSample(string Path, int Label);
