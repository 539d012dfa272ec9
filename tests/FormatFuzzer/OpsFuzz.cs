// Random tensor operations with random (often invalid) arguments: every call must return a usable tensor or throw a
// .NET exception (TorchException from libtorch's checks, ArgumentException or InvalidOperationException from the
// managed layer, IndexOutOfRangeException from the indexer, as arrays do) — never crash the process or throw
// NullReference/Overflow/AccessViolation or leak tensors.
using MedVision.Torch;
using MedVision.Torch.Nn;

internal static class OpsFuzz
{
    private static readonly bool Trace = Environment.GetEnvironmentVariable("FUZZ_TRACE") == "1";

    private static readonly ScalarType[] Types = { ScalarType.Float32, ScalarType.Float64, ScalarType.Int64, ScalarType.Int32, ScalarType.Byte, ScalarType.Bool, ScalarType.Float16, ScalarType.BFloat16 };

    // A small integer argument, sometimes an extreme one. No extreme is a size that could be allocated: 2^31 elements
    // (8 GB of floats) is memory a machine may have, so a run would only measure the OOM killer; 2^40 is refused.
    private static long Arg(Random rng) => rng.Next(20) switch
    {
        0 => long.MaxValue,
        1 => long.MinValue,
        2 => 1L << 40,
        3 => -1_000_000_000,
        _ => rng.Next(-3, 6),
    };

    private static long[] Shape(Random rng)
    {
        var shape = new long[rng.Next(0, 5)];
        for (int i = 0; i < shape.Length; i++) shape[i] = rng.Next(0, 4);
        return shape;
    }

    private static Tensor Random(Random rng)
    {
        var shape = Shape(rng);
        var type = Types[rng.Next(Types.Length)];
        using var x = Tensors.Randn(shape);
        using var scaled = x * 3.0;
        var t = scaled.To(type);
        if (rng.Next(6) == 0 && t.Dim >= 2) { var tt = t.Transpose(0, 1); t.Dispose(); return tt; } // non-contiguous
        return t;
    }

    private static long[] Args(Random rng, int max) => Enumerable.Range(0, rng.Next(0, max + 1)).Select(_ => Arg(rng)).ToArray();

    // One random operation on random tensors (the operation and its arguments go to stderr when tracing).
    public static void Step(Random rng)
    {
        using var scope = Tensors.NewDisposeScope();
        var a = Random(rng);
        var b = Random(rng);
        var i = rng.Next(0, 3) == 0 ? Tensors.FromArray(Args(rng, 4).Select(v => v % 7).ToArray()) : Random(rng);
        int op = rng.Next(60);
        if (Trace) Console.Error.WriteLine($"  op {op}: a {a.ScalarType} [{string.Join(", ", a.Shape)}], b {b.ScalarType} [{string.Join(", ", b.Shape)}], i {i.ScalarType} [{string.Join(", ", i.Shape)}]");
        // Integer arguments are drawn before the call (in the order the call takes them) and shown when tracing.
        long[] n = Enumerable.Range(0, 5).Select(_ => Arg(rng)).ToArray();
        if (Trace) Console.Error.WriteLine($"  args {string.Join(", ", n)}");
        Tensor? r = op switch
        {
            0 => a.View(Args(rng, 4)),
            1 => a.Reshape(Args(rng, 4)),
            2 => a.Flatten(n[0], n[1]),
            3 => a.Squeeze(n[0]),
            4 => a.Unsqueeze(n[0]),
            5 => a.Permute(Args(rng, 4)),
            6 => a.Transpose(n[0], n[1]),
            7 => a.Expand(Args(rng, 4)),
            8 => a.Repeat(Args(rng, 4)),
            9 => a.Flip(Args(rng, 3)),
            10 => a.Narrow(n[0], n[1], n[2]),
            11 => a.Slice(n[0], n[1], n[2], n[3]),
            12 => a.Select(n[0], n[1]),
            13 => a.IndexSelect(n[0], i),
            14 => a.Gather(n[0], i),
            15 => a.MaskedFill(b, 1.5),
            16 => a.MaskedSelect(b),
            17 => Tensors.Cat(new[] { a, b }, n[0]),
            18 => Tensors.Stack(new[] { a, b }, n[0]),
            19 => a.Split(n[0], n[1]).FirstOrDefault(),
            20 => a.Chunk(n[0], n[1]).FirstOrDefault(),
            21 => a[n[0]],
            22 => a[TensorIndex.Slice(n[0], n[1], n[2])],
            23 => a.Add(b),
            24 => a.Div(b),
            25 => a.FloorDivide(b),
            26 => a.Pow(b),
            27 => a.Remainder(0),
            28 => a.MatMul(b),
            29 => a.Bmm(b),
            30 => a.Mm(b),
            31 => a.Dot(b),
            32 => a.OneHot(n[0]),
            33 => a.Sum(Args(rng, 3), rng.Next(2) == 0),
            34 => a.Mean(n[0]),
            35 => a.Amax(Args(rng, 2)),
            36 => a.ArgMax(n[0]),
            37 => a.Std(Args(rng, 2)),
            38 => a.CumSum(n[0]),
            39 => a.Softmax(n[0]),
            40 => a.LogSumExp(n[0]),
            41 => Tensors.Where(b, a, i),
            42 => Functional.Conv2d(a, b, null, n[0], n[1], n[2], n[3]),
            43 => Functional.Conv3d(a, b, null, n[0], n[1], n[2], n[3]),
            44 => Functional.ConvTranspose2d(a, b, null, n[0], n[1], n[2], n[3], n[4]),
            45 => Functional.MaxPool2d(a, n[0], n[1], n[2], n[3]),
            46 => Functional.AvgPool3d(a, n[0], n[1], n[2]),
            47 => Functional.AdaptiveAvgPool2d(a, n[0], n[1]),
            48 => Functional.Interpolate(a, Args(rng, 3), (InterpolationMode)rng.Next(0, 3)),
            49 => Functional.BatchNorm(a, b, i, null, null, rng.Next(2) == 0),
            50 => Functional.GroupNorm(a, n[0]),
            51 => Functional.CrossEntropy(a, i, null, n[0]),
            52 => Functional.NllLoss(a, i),
            53 => Functional.BinaryCrossEntropy(a, b),
            54 => Functional.Linear(a, b, i),
            55 => Functional.PairwiseDistance(a, b),
            56 => Functional.Normalize(a, 2.0, n[0]),
            57 => Functional.GridSample(a, b, (GridSampleMode)rng.Next(-1, 4), (GridPaddingMode)rng.Next(-1, 4), rng.Next(2) == 0),
            58 => Functional.Dropout(a, rng.NextDouble() * 3 - 1),
            _ => Tensors.Zeros(Args(rng, 4)),
        };
        if (r is not null)
        {
            _ = r.Shape;
            using var c = r.Contiguous();
            if (c.NumElements > 0 && c.NumElements < 1_000_000) _ = c.To(ScalarType.Float64).ToArray<double>();
        }
    }
}
