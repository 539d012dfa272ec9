using MedVision.Nets.Data.Images;
using MedVision.Nets.Data.MedMnist;
using MedVision.Nets.Data.Npy;

namespace MedVision.Samples.Tests;

/// <summary>Small files in the official MedMNIST layout, cut from the shipped RetinaMNIST, so sample runs take seconds.</summary>
public static class TinyRetinaMnist
{
    /// <summary>Writes the first <paramref name="train"/>, <paramref name="val"/> and <paramref name="test"/> images of each split (optionally upsampled by an integer factor) as an .npz.</summary>
    public static void Write(string path, int train = 48, int val = 16, int test = 16, int upsample = 1)
    {
        var data = MedMnistDataset.LoadEmbeddedRetinaMnist();
        var arrays = new Dictionary<string, NpyArray>();
        foreach (var (prefix, split, count) in new[] { ("train", data.Train, train), ("val", data.Validation, val), ("test", data.Test, test) })
        {
            int size = 28 * upsample;
            var pixels = new byte[count * size * size * 3];
            for (int i = 0; i < count; i++)
            {
                var image = split.GetImage(i).Span;
                for (int y = 0; y < size; y++)
                    for (int x = 0; x < size; x++)
                        for (int c = 0; c < 3; c++)
                            pixels[(((i * size) + y) * size + x) * 3 + c] = image[((y / upsample * 28) + (x / upsample)) * 3 + c];
            }

            arrays[prefix + "_images"] = NpyArray.FromBytes(pixels, count, size, size, 3);
            arrays[prefix + "_labels"] = NpyArray.FromBytes(Enumerable.Range(0, count).Select(i => (byte)split.Labels[i, 0]).ToArray(), count, 1);
        }

        NpzArchive.Write(path, arrays);
    }

    /// <summary>
    /// Writes an .npz whose splits hold the given images of the shipped RetinaMNIST (each named by its split and index
    /// there, so an image may be copied into several splits), with their own labels unless <paramref name="label"/>
    /// gives another for (split written, position).
    /// </summary>
    public static void WriteFrom(string path, (string Split, int Index)[] train, (string Split, int Index)[] val, (string Split, int Index)[] test, Func<string, int, int?>? label = null)
    {
        var data = MedMnistDataset.LoadEmbeddedRetinaMnist();
        MedMnistSplitData Split(string name) => name switch { "train" => data.Train, "val" => data.Validation, "test" => data.Test, _ => throw new ArgumentException(name) };
        var arrays = new Dictionary<string, NpyArray>();
        foreach (var (prefix, items) in new[] { ("train", train), ("val", val), ("test", test) })
        {
            var pixels = items.SelectMany(x => Split(x.Split).GetImage(x.Index).ToArray()).ToArray();
            var labels = items.Select((x, i) => (byte)(label?.Invoke(prefix, i) ?? Split(x.Split).Labels[x.Index, 0])).ToArray();
            arrays[prefix + "_images"] = NpyArray.FromBytes(pixels, items.Length, 28, 28, 3);
            arrays[prefix + "_labels"] = NpyArray.FromBytes(labels, items.Length, 1);
        }
        NpzArchive.Write(path, arrays);
    }

    /// <summary>Writes test images <c>0..count-1</c> of the shipped RetinaMNIST as PNG files named <c>test{i}.png</c> into <paramref name="folder"/>.</summary>
    public static string[] WritePngs(string folder, int count)
    {
        var test = MedMnistDataset.LoadEmbeddedRetinaMnist().Test;
        return Enumerable.Range(0, count).Select(i =>
        {
            var name = $"test{i}.png";
            ImageCodec.Save(Path.Combine(folder, name), new RasterImage(28, 28, 3, test.GetImage(i).ToArray()));
            return name;
        }).ToArray();
    }
}
