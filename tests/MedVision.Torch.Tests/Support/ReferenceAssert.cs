namespace MedVision.Torch.Tests.Support;

/// <summary>Element-by-element comparison with a reference tensor made by PyTorch (|a − e| ≤ atol + rtol·|e|, NaN fails).</summary>
public static class ReferenceAssert
{
    /// <summary>The fixture's tensors whose names start with <paramref name="prefix"/>, by the rest of their names (a case's state dict, its gradients).</summary>
    public static Dictionary<string, Tensor> Prefixed(MedVision.Torch.Serialization.SafeTensorDictionary reference, string prefix)
        => reference.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(k => k[prefix.Length..], k => reference[k]);

    public static void Close(Tensor actual, Tensor expected, double rtol, double atol, string what)
    {
        actual.Shape.Should().Equal(expected.Shape, $"{what} has PyTorch's shape");
        var a = actual.Detach().To(ScalarType.Float64).ToArray<double>();
        var e = expected.To(ScalarType.Float64).ToArray<double>();
        for (int k = 0; k < e.Length; k++)
        {
            double tolerance = atol + rtol * Math.Abs(e[k]);
            if (!(Math.Abs(a[k] - e[k]) <= tolerance))
                throw new Xunit.Sdk.XunitException($"{what} element {k} is {a[k]:R}, PyTorch gives {e[k]:R} (tolerance {tolerance:G3}).");
        }
    }
}
