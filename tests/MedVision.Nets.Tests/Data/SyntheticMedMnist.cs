using MedVision.Nets.Data.Npy;

namespace MedVision.Nets.Tests.Data;

/// <summary>Generates small MedMNIST-layout NPZ archives with random pixels and labels.</summary>
public static class SyntheticMedMnist
{
    public static Dictionary<string, NpyArray> Arrays(int seed, int[] sampleShape, int classes, int labelColumns = 1, (int Train, int Val, int Test)? counts = null, bool int64Labels = false)
    {
        var random = new Random(seed);
        (int train, int val, int test) = counts ?? (12, 4, 5);
        var arrays = new Dictionary<string, NpyArray>();
        foreach ((string prefix, int n) in new[] { ("train", train), ("val", val), ("test", test) })
        {
            int sampleLength = sampleShape.Aggregate(1, (a, b) => a * b);
            var pixels = new byte[n * sampleLength];
            random.NextBytes(pixels);
            arrays[prefix + "_images"] = NpyArray.FromBytes(pixels, [n, .. sampleShape]);
            var labels = new long[n * labelColumns];
            for (int i = 0; i < labels.Length; i++)
            {
                labels[i] = labelColumns > 1 ? random.Next(2) : random.Next(classes);
            }

            arrays[prefix + "_labels"] = int64Labels
                ? NpyArray.FromInt64(labels, n, labelColumns)
                : NpyArray.FromBytes(labels.Select(v => (byte)v).ToArray(), n, labelColumns);
        }

        return arrays;
    }

    public static byte[] NpzBytes(int seed, int[] sampleShape, int classes, int labelColumns = 1)
    {
        var ms = new MemoryStream();
        NpzArchive.Write(ms, Arrays(seed, sampleShape, classes, labelColumns));
        return ms.ToArray();
    }
}
