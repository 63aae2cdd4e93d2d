namespace FineTuning.Data;

/// <summary>Splits a labelled set into training and validation parts.</summary>
public static class DataSplit
{
    /// <summary>
    /// A stratified split: each class contributes the same fraction of its images to validation (rounded, at least
    /// one image when the class has two or more and the fraction is positive, and never all of them). The choice is a
    /// seeded shuffle per class, so the same seed always gives the same split. Both parts keep the set's class
    /// list and the original sample order.
    /// </summary>
    /// <param name="set">The set to split.</param>
    /// <param name="validationFraction">Fraction of each class for validation, in [0, 1).</param>
    /// <param name="seed">Seed of the shuffle.</param>
    public static (LabeledImageSet Train, LabeledImageSet Validation) Stratified(
        LabeledImageSet set, double validationFraction, int seed)
    {
        ArgumentNullException.ThrowIfNull(set);
        if (!(validationFraction >= 0 && validationFraction < 1))
        {
            throw new ArgumentOutOfRangeException(
                nameof(validationFraction), validationFraction, "The validation fraction must be in [0, 1).");
        }

        var validation = new bool[set.Samples.Count];
        foreach (var group in Enumerable.Range(0, set.Samples.Count).GroupBy(i => set.Samples[i].Label))
        {
            var indices = group.ToArray();
            int take = (int)Math.Round(indices.Length * validationFraction, MidpointRounding.AwayFromZero);
            if (validationFraction > 0 && indices.Length >= 2)
            {
                take = Math.Clamp(take, 1, indices.Length - 1);
            }
            else
            {
                take = Math.Min(take, indices.Length - 1);
            }

            // Each class gets its own generator, so adding images to one class leaves the others' split unchanged.
            Seeds.For(Seeds.Split, seed, group.Key).Shuffle(indices);
            foreach (int i in indices.Take(take))
            {
                validation[i] = true;
            }
        }

        var train = set.Samples.Where((_, i) => !validation[i]).ToList();
        var val = set.Samples.Where((_, i) => validation[i]).ToList();
        return (new LabeledImageSet(set.Classes, train), new LabeledImageSet(set.Classes, val));
    }
}
