// The "duplicates" mode: NearDuplicates and SplitAudit against brute-force searches.
using MedVision.Nets.Data.Loading;
using MedVision.Nets.Data.Quality;
using MedVision.Nets.Transforms;

internal static partial class ApiFuzz
{
    /// <summary>
    /// One to three sources of 0–30 random images of one random shape (1–3 channels, 2-D or 3-D, 1–9 voxels a side;
    /// now and then one image of another shape, or a NaN), a third of them near-copies of earlier ones (exact, noisy,
    /// shifted, patched), searched at a random threshold (now and then negative, NaN or infinite). Oracles: refused
    /// exactly when the threshold, a shape or a value is bad; otherwise <c>Find</c> (within one source and between
    /// two), <c>Nearest</c>, <c>Groups</c> (connected components) and <c>SplitAudit</c>'s pairs equal a brute-force
    /// comparison of every pair, and every reported difference is the pair's own.
    /// </summary>
    public static void DuplicateStep(Random rng)
    {
        var steps = new List<string>();
        int spatial = rng.Next(2, 4);
        var shape = new[] { rng.Next(1, 4) }.Concat(Enumerable.Range(0, spatial).Select(_ => rng.Next(1, 10))).ToArray();
        int length = shape.Aggregate(1, (a, b) => a * b);
        var pool = new List<float[]>();
        float[] NewImage()
        {
            if (pool.Count > 0 && rng.Next(3) == 0)
            {
                var original = pool[rng.Next(pool.Count)];
                double amount = rng.NextDouble() * 0.06;
                return rng.Next(4) switch
                {
                    0 => (float[])original.Clone(),
                    1 => original.Select(v => Math.Clamp(v + (float)((rng.NextDouble() - 0.5) * amount), 0f, 1f)).ToArray(),
                    2 => original.Select(v => Math.Clamp(v + (float)amount, 0f, 1f)).ToArray(),
                    _ => original.Select((v, k) => k % 5 == 0 ? (float)rng.NextDouble() : v).ToArray(),
                };
            }
            float level = (float)rng.NextDouble();
            var image = Enumerable.Range(0, length).Select(_ => Math.Clamp(level + (float)((rng.NextDouble() - 0.5) * 0.2), 0f, 1f)).ToArray();
            pool.Add(image);
            return image;
        }
        int sourceCount = rng.Next(1, 4);
        var sets = Enumerable.Range(0, sourceCount).Select(_ => Enumerable.Range(0, rng.Next(0, 31)).Select(_ => NewImage()).ToList()).ToArray();
        bool badShape = false, badValue = false;
        var shapes = sets.Select(set => set.Select(_ => shape).ToList()).ToArray();
        if (rng.Next(12) == 0 && sets.Any(s => s.Count > 0))
        {
            var set = sets.First(s => s.Count > 0);
            int i = rng.Next(set.Count);
            shapes[Array.IndexOf(sets, set)][i] = shape.Select(d => d + 1).ToArray();
            set[i] = new float[shapes[Array.IndexOf(sets, set)][i].Aggregate(1, (a, b) => a * b)];
            badShape = true;
        }
        if (rng.Next(12) == 0 && sets.Any(s => s.Count > 0))
        {
            var set = sets.First(s => s.Count > 0);
            int copied = rng.Next(set.Count);
            var image = (float[])set[copied].Clone();
            image[rng.Next(image.Length)] = rng.Next(2) == 0 ? float.NaN : float.PositiveInfinity;
            set.Add(image);
            shapes[Array.IndexOf(sets, set)].Add(shapes[Array.IndexOf(sets, set)][copied]);
            badValue = true;
        }
        double threshold = rng.Next(10) == 0 ? new[] { -0.01, double.NaN, double.PositiveInfinity }[rng.Next(3)] : new[] { 0, 0.001, 0.01, 0.03, 0.1, rng.NextDouble() * 0.2 }[rng.Next(6)];
        steps.Add($"shape ({string.Join(", ", shape)}), sources of {string.Join(", ", sets.Select(s => s.Count))}, threshold {threshold}{(badShape ? ", a misshapen image" : "")}{(badValue ? ", a non-finite value" : "")}");
        var sources = sets.Select((set, s) => (ILabeledImageSource)new ImageListSource(set.Select((d, i) => new FloatImage(d, shapes[s][i])).ToList(), rng)).ToArray();
        bool thresholdValid = threshold >= 0 && double.IsFinite(threshold);
        // Bad input is what the data is, not what was planted: a lone misshapen image has no other shape to clash with.
        var allShapes = shapes.SelectMany(x => x).ToArray();
        bool valid = thresholdValid && allShapes.All(x => x.SequenceEqual(allShapes[0])) && sets.All(set => set.All(d => d.All(float.IsFinite)));

        static double Brute(float[] a, float[] b)
        {
            double sum = 0;
            for (int k = 0; k < a.Length; k++) sum += Math.Abs(a[k] - b[k]);
            return a.Length == 0 ? 0 : sum / a.Length;
        }
        // Pairs near the threshold may fall either way by rounding: the oracle leaves them out of the comparison.
        bool Clear(double d) => Math.Abs(d - threshold) > 1e-6;
        void Expect(string what, IEnumerable<(int, int)> actual, IEnumerable<(int A, int B, double D)> all)
        {
            var found = actual.ToHashSet();
            foreach (var (a, b, d) in all.Where(x => Clear(x.D)))
                if ((d <= threshold) != found.Contains((a, b)))
                    throw new ArithmeticException($"{string.Join(" → ", steps)}: {what}: pair ({a}, {b}) at {d} {(found.Contains((a, b)) ? "reported" : "missed")}");
        }

        // A bad shape or value in another source than the first is not the first call's business.
        bool firstBad = !thresholdValid || (sets[0].Count > 0 && (shapes[0].Any(s => !s.SequenceEqual(shapes[0][0])) || sets[0].Any(d => d.Any(v => !float.IsFinite(v)))));
        Last = "NearDuplicates.Find";
        IReadOnlyList<NearDuplicatePair> within;
        try
        {
            within = NearDuplicates.Find(sources[0], threshold);
        }
        catch (ArgumentException e) when (!firstBad)
        {
            throw new ArithmeticException($"{string.Join(" → ", steps)}: refused good input: {e.Message}");
        }
        // (A refusal of bad input propagates: the harness counts it as accepted.)
        if (firstBad) throw new ArithmeticException($"{string.Join(" → ", steps)}: accepted");
        var first = sets[0];
        Expect("Find", within.Select(p => (p.First, p.Second)),
            from i in Enumerable.Range(0, first.Count) from j in Enumerable.Range(i + 1, first.Count - i - 1) select (i, j, Brute(first[i], first[j])));
        foreach (var p in within)
            if (p.First >= p.Second || Math.Abs(p.Difference - Brute(first[p.First], first[p.Second])) > 1e-5)
                throw new ArithmeticException($"{string.Join(" → ", steps)}: pair ({p.First}, {p.Second}) reported at {p.Difference}");

        Last = "NearDuplicates.Groups";
        var groups = NearDuplicates.Groups(sources[0], threshold);
        for (int i = 0; i < first.Count; i++)
            for (int j = i + 1; j < first.Count; j++)
            {
                double d = Brute(first[i], first[j]);
                if (Clear(d) && d <= threshold && groups[i] != groups[j]) throw new ArithmeticException($"{string.Join(" → ", steps)}: near-duplicates {i} and {j} in groups {groups[i]} and {groups[j]}");
            }
        foreach (var name in groups.Where(g => g.StartsWith("image-", StringComparison.Ordinal)))
            if (groups.Count(g => g == name) != 1) throw new ArithmeticException($"{string.Join(" → ", steps)}: {name} names several images");

        if (sourceCount < 2) return;
        if (!valid)
        {
            // The bad shape or value is in another source: the audit of all of them refuses it.
            Last = "SplitAudit (bad input)";
            var refusing = SplitAudit.Create();
            for (int s = 0; s < sourceCount; s++) refusing.AddSplit($"s{s}", sources[s]);
            refusing.Run();
            throw new ArithmeticException($"{string.Join(" → ", steps)}: the audit accepted a misshapen image or a non-finite value");
        }
        var second = sets[1];
        Last = "NearDuplicates.Find(other)";
        var between = NearDuplicates.Find(sources[0], sources[1], threshold);
        Expect("Find(other)", between.Select(p => (p.First, p.Second)),
            from i in Enumerable.Range(0, first.Count) from j in Enumerable.Range(0, second.Count) select (i, j, Brute(first[i], second[j])));
        if (second.Count > 0)
        {
            Last = "NearDuplicates.Nearest";
            var nearest = NearDuplicates.Nearest(sources[0], sources[1]);
            for (int q = 0; q < first.Count; q++)
            {
                double best = second.Min(r => Brute(first[q], r));
                if (Math.Abs(nearest[q].Difference - best) > 1e-5 || Math.Abs(Brute(first[q], second[nearest[q].Index]) - best) > 1e-5)
                    throw new ArithmeticException($"{string.Join(" → ", steps)}: image {q}'s nearest {nearest[q].Index} at {nearest[q].Difference}, the best at {best}");
            }
        }
        Last = "SplitAudit";
        var builder = SplitAudit.Create().WithMaxDifference(threshold);
        for (int s = 0; s < sourceCount; s++) builder.AddSplit($"s{s}", sources[s]);
        var audit = builder.Run();
        int expected = 0, clearCount = 0;
        var flat = sets.SelectMany((set, s) => set.Select((d, i) => (s, i, d))).ToArray();
        for (int a = 0; a < flat.Length; a++)
            for (int b = a + 1; b < flat.Length; b++)
            {
                double d = Brute(flat[a].d, flat[b].d);
                if (!Clear(d)) continue;
                clearCount++;
                if (d <= threshold) expected++;
            }
        int reportedClear = audit.Duplicates.Count(d => Clear(Brute(sets[int.Parse(d.FirstSplit[1..], System.Globalization.CultureInfo.InvariantCulture)][d.FirstIndex], sets[int.Parse(d.SecondSplit[1..], System.Globalization.CultureInfo.InvariantCulture)][d.SecondIndex])));
        if (reportedClear != expected) throw new ArithmeticException($"{string.Join(" → ", steps)}: the audit reports {reportedClear} clear pairs, brute force {expected} of {clearCount}");
        if (audit.CrossSplit.Any(d => d.FirstSplit == d.SecondSplit) || audit.IsClean != (audit.CrossSplit.Count == 0))
            throw new ArithmeticException($"{string.Join(" → ", steps)}: cross-split pairs or cleanliness inconsistent");
    }

    private sealed class ImageListSource(IReadOnlyList<FloatImage> images, Random rng) : ILabeledImageSource
    {
        private readonly int[] _labels = images.Select(_ => rng.Next(3)).ToArray();

        public int Count => images.Count;

        public int LabelColumns => 1;

        public (FloatImage Image, int[] Labels) Load(int index) => (images[index].Clone(), new[] { _labels[index] });
    }
}
