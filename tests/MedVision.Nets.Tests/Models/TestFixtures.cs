using System.Text.Json;
using MedVision.Torch;

namespace MedVision.Nets.Tests.Models;

using Torch = MedVision.Torch.Torch;

/// <summary>Finds committed fixture files and reads the small safetensors files the Python fixture script writes.</summary>
internal static class TestFixtures
{
    public static string PathOf(string fileName)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "MedVision.Nets.Tests", "Fixtures", fileName);
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException($"Fixture {fileName} not found above {AppContext.BaseDirectory}.");
    }

    /// <summary>
    /// Reads a safetensors file (8-byte little-endian header length, JSON header, raw bytes); F32 and I64 only.
    /// The caller owns the returned tensors.
    /// </summary>
    public static Dictionary<string, Tensor> ReadSafeTensors(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var headerLength = checked((int)BitConverter.ToUInt64(bytes, 0));
        using var header = JsonDocument.Parse(bytes.AsMemory(8, headerLength));
        var dataStart = 8 + headerLength;
        var result = new Dictionary<string, Tensor>();
        foreach (var entry in header.RootElement.EnumerateObject())
        {
            if (entry.Name == "__metadata__") continue;
            var dtype = entry.Value.GetProperty("dtype").GetString();
            var shape = entry.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            var offsets = entry.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var span = bytes.AsSpan(dataStart + offsets[0], offsets[1] - offsets[0]);
            var tensor = dtype switch
            {
                "F32" => Torch.FromSpan<float>(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(span), shape),
                "I64" => Torch.FromSpan<long>(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(span), shape),
                _ => throw new NotSupportedException($"dtype {dtype}"),
            };
            if (shape.Length == 0)
            {
                var scalar = tensor.Reshape(Array.Empty<long>());
                tensor.Dispose();
                tensor = scalar;
            }
            result[entry.Name] = DisposeScope.Detach(tensor);
        }
        return result;
    }
}
