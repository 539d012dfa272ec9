// Every public method of the tensor API, found by reflection and called with random arguments: Tensor (instance
// methods, operators, property setters), Tensors (factories, Cuda), Functional (ops and losses), Init,
// GradientClipping and Gradients. Each call must return a usable result or throw a .NET exception (TorchException from
// libtorch's checks, ArgumentException, InvalidOperationException incl. ObjectDisposedException, NotSupportedException,
// IndexOutOfRangeException from the indexer) — never crash the process, throw NullReference/Overflow/… or leak tensors.
// Unlike OpsFuzz (a hand-picked list), this one grows with the API: a new public op is fuzzed without being listed.
using System.Reflection;
using MedVision.Torch;
using MedVision.Torch.Autograd;
using MedVision.Torch.Nn;
using DataLoader = MedVision.Nets.Data.Loading.DataLoader;

internal static partial class ApiFuzz
{
    private static readonly bool Trace = Environment.GetEnvironmentVariable("FUZZ_TRACE") == "1";

    private static readonly ScalarType[] Types = { ScalarType.Float32, ScalarType.Float64, ScalarType.Int64, ScalarType.Int32, ScalarType.Byte, ScalarType.Bool, ScalarType.Float16, ScalarType.BFloat16 };

    private static readonly Type[] ElementTypes = { typeof(float), typeof(double), typeof(long), typeof(int), typeof(byte), typeof(bool), typeof(short) };

    // Not called: scope and lifetime management (the harness owns it), and global settings a call would leave behind.
    private static readonly HashSet<string> Excluded = new(StringComparer.Ordinal)
    {
        "Dispose", "MoveToOuter", "GetType", "GetHashCode", "Equals", "Finalize", "MemberwiseClone",
        "set_NumThreads", "set_NumInteropThreads", "set_RouteConvolutionsThroughOneDnn", "set_PrepackConvolutionWeights",
        "set_DeterministicAlgorithms", "set_CacheLimit",
    };

    // The tensor API, and the static loss functions of MedVision.Nets (focal, CORAL, ordinal decoding), which take tensors.
    private static readonly Type[] Declaring = new[]
    {
        typeof(Tensor), typeof(Tensors), typeof(Tensors.Cuda), typeof(Functional), typeof(Init), typeof(GradientClipping), typeof(Gradients),
    }.Concat(typeof(MedVision.Nets.Losses.FocalLoss).Assembly.GetExportedTypes()
        .Where(t => t.Namespace == "MedVision.Nets.Losses" && t.IsAbstract && t.IsSealed) // static classes
        .OrderBy(t => t.Name, StringComparer.Ordinal)).ToArray();

    // The metrics (MedVision.Nets.Metrics): AUC, accuracy, curves, calibration, bootstrap, confusion matrices, image
    // quality — static entry points fed random labels and scores (NaN, infinities, empty and ragged arrays included).
    private static readonly Type[] MetricTypes = typeof(MedVision.Nets.Metrics.MedMnistEvaluator).Assembly.GetExportedTypes()
        .Where(t => t.Namespace == "MedVision.Nets.Metrics" && t.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly).Length > 0)
        .OrderBy(t => t.Name, StringComparer.Ordinal).ToArray();

    /// <summary>The methods fuzzed, in a stable order (so a seed replays), and the ones skipped with the reason.</summary>
    public static (MethodInfo[] Methods, List<string> Skipped) Discover() => Discover(Declaring);

    private static (MethodInfo[] Methods, List<string> Skipped) Discover(IEnumerable<Type> declaring)
    {
        var methods = new List<MethodInfo>();
        var skipped = new List<string>();
        foreach (var type in declaring)
        {
            var flags = BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly | (type == typeof(Tensor) ? BindingFlags.Instance : 0);
            foreach (var m in type.GetMethods(flags))
            {
                if (Excluded.Contains(m.Name) || (m.IsSpecialName && m.Name.StartsWith("get_", StringComparison.Ordinal) && m.GetParameters().Length == 0 && m.IsStatic))
                    continue;
                string? why = m.GetParameters().Where(p => !NullByDefault(p)).Select(p => Unsupported(p.ParameterType)).FirstOrDefault(w => w is not null);
                if (why is not null) skipped.Add($"{Name(m)}: {why}");
                else methods.Add(m);
            }
        }
        return (methods.OrderBy(Name, StringComparer.Ordinal).ToArray(), skipped);
    }

    // An optional parameter of a type without a generator (BootstrapOptions? = null) is passed its default, null.
    private static bool NullByDefault(ParameterInfo p) => p.HasDefaultValue && p.DefaultValue is null && !p.ParameterType.IsValueType;

    private static string? Unsupported(Type t)
    {
        if (t.IsByRef || t.IsByRefLike || t.IsPointer) return $"{t.Name} (by-ref or span: reflection cannot pass it)";
        if (t == typeof(string) || t == typeof(IntPtr) || t == typeof(object)) return $"{t.Name} (paths and handles are not fuzzed here)";
        if (t.IsGenericParameter) return null;
        if (Nullable.GetUnderlyingType(t) is { } u) return Unsupported(u);
        if (t == typeof(Tensor) || t == typeof(Device) || t == typeof(TensorIndex) || t.IsEnum || t.IsPrimitive) return null;
        if (t.IsArray) return Unsupported(t.GetElementType()!);
        if (t.IsGenericType && t.GetGenericArguments().Length == 1
            && (t.GetGenericTypeDefinition() == typeof(IEnumerable<>) || t.GetGenericTypeDefinition() == typeof(IReadOnlyList<>) || t.GetGenericTypeDefinition() == typeof(IReadOnlyCollection<>) || t.GetGenericTypeDefinition() == typeof(IList<>)))
            return Unsupported(t.GetGenericArguments()[0]);
        return $"{t.Name} (no generator)";
    }

    public static string Name(MethodInfo m) =>
        $"{m.DeclaringType!.Name}.{m.Name}({string.Join(", ", m.GetParameters().Select(p => p.ParameterType.Name))})";

    private static readonly (MethodInfo[] Methods, List<string> Skipped) Api = Discover();

    private static readonly (MethodInfo[] Methods, List<string> Skipped) Metrics = Discover(MetricTypes);

    /// <summary>Public constructors of the layers (every public Module&lt;Tensor, Tensor&gt; of MedVision.Torch), stable order.</summary>
    public static (ConstructorInfo[] Constructors, List<string> Skipped) DiscoverLayers()
    {
        var constructors = new List<ConstructorInfo>();
        var skipped = new List<string>();
        foreach (var type in typeof(Module<Tensor, Tensor>).Assembly.GetExportedTypes().Where(t => !t.IsAbstract && !t.ContainsGenericParameters && typeof(Module<Tensor, Tensor>).IsAssignableFrom(t)))
        {
            foreach (var c in type.GetConstructors())
            {
                string? why = c.GetParameters().Select(p => Unsupported(p.ParameterType)).FirstOrDefault(w => w is not null);
                if (why is not null) skipped.Add($"new {type.Name}({string.Join(", ", c.GetParameters().Select(p => p.ParameterType.Name))}): {why}");
                else constructors.Add(c);
            }
        }
        return (constructors.OrderBy(c => $"{c.DeclaringType!.Name}({string.Join(", ", c.GetParameters().Select(p => p.ParameterType.Name))})", StringComparer.Ordinal).ToArray(), skipped);
    }

    private static readonly (ConstructorInfo[] Constructors, List<string> Skipped) Layers = DiscoverLayers();

    // A small integer argument, sometimes an extreme one (none a size that could really be allocated, see OpsFuzz).
    private static long Long(Random rng) => rng.Next(20) switch
    {
        0 => long.MaxValue,
        1 => long.MinValue,
        2 => 1L << 40,
        3 => -1_000_000_000,
        4 => 1L << 62,
        _ => rng.Next(-3, 6),
    };

    private static int Int(Random rng) => rng.Next(20) switch
    {
        0 => int.MaxValue,
        1 => int.MinValue,
        2 => -1_000_000_000,
        _ => rng.Next(-3, 6),
    };

    private static double Double(Random rng) => rng.Next(16) switch
    {
        0 => double.NaN,
        1 => double.PositiveInfinity,
        2 => double.NegativeInfinity,
        3 => 1e300,
        4 => -1e300,
        5 => 1e-300,
        6 => 0,
        7 => 1,
        8 => -1,
        _ => Math.Round(rng.NextDouble() * 6 - 2, 2),
    };

    private static Tensor RandomTensor(Random rng)
    {
        var shape = new long[rng.Next(0, 5)];
        for (int i = 0; i < shape.Length; i++) shape[i] = rng.Next(0, 4);
        var type = Types[rng.Next(Types.Length)];
        Tensor t;
        using (var x = Tensors.Randn(shape))
        using (var scaled = x * 3.0)
            t = scaled.To(type);
        if (rng.Next(6) == 0 && t.Dim >= 2) { var tt = t.Transpose(0, 1); t.Dispose(); t = tt; } // non-contiguous
        if (rng.Next(5) == 0 && (type == ScalarType.Float32 || type == ScalarType.Float64)) t.RequiresGrad = true;
        if (rng.Next(40) == 0) t.Dispose(); // use after dispose
        return t;
    }

    private static object? Value(Type t, Random rng, Type element)
    {
        if (_coherent is var (n, k) && rng.Next(4) != 0 && Coherent(t, rng, n, k) is { } coherent) return coherent;
        if (t.IsGenericParameter) t = element;
        if (Nullable.GetUnderlyingType(t) is { } u) return rng.Next(3) == 0 ? null : Value(u, rng, element);
        if (t == typeof(Tensor)) return RandomTensor(rng);
        if (t == typeof(long)) return Long(rng);
        if (t == typeof(int)) return Int(rng);
        if (t == typeof(ulong)) return (ulong)rng.NextInt64();
        if (t == typeof(double)) return Double(rng);
        if (t == typeof(float)) return (float)Double(rng);
        if (t == typeof(bool)) return rng.Next(2) == 0;
        if (t == typeof(byte)) return (byte)rng.Next(256);
        if (t == typeof(short)) return (short)rng.Next(-5, 6);
        if (t == typeof(Device))
        {
            return rng.Next(12) switch
            {
                0 => Device.Cuda(rng.Next(0, 2)),
                1 => new Device((DeviceType)rng.Next(-1, 9), rng.Next(-3, 3)), // not a device: must be refused, not passed on
                _ => Device.Cpu,
            };
        }
        if (t == typeof(TensorIndex))
        {
            return rng.Next(5) switch
            {
                0 => TensorIndex.Ellipsis,
                1 => TensorIndex.NewAxis,
                2 => TensorIndex.Slice(rng.Next(2) == 0 ? null : Long(rng), rng.Next(2) == 0 ? null : Long(rng), Long(rng)),
                _ => TensorIndex.Single(Long(rng)),
            };
        }
        if (t.IsEnum)
        {
            var values = Enum.GetValues(t);
            return rng.Next(12) == 0 ? Enum.ToObject(t, rng.Next(2) == 0 ? 99 : -1) : values.GetValue(rng.Next(values.Length));
        }
        if (t.IsArray)
        {
            var e = t.GetElementType()!;
            if (e.IsGenericParameter) e = element;
            if (t.GetArrayRank() == 2)
            {
                var array2 = Array.CreateInstance(e, rng.Next(0, 4), rng.Next(0, 4));
                for (int i = 0; i < array2.GetLength(0); i++)
                    for (int j = 0; j < array2.GetLength(1); j++)
                        array2.SetValue(Value(e, rng, element), i, j);
                return array2;
            }
            int length = e == typeof(Tensor) ? rng.Next(0, 4) : e == typeof(byte) && rng.Next(2) == 0 ? rng.Next(0, 6000) : rng.Next(0, 5);
            var array = Array.CreateInstance(e, length);
            for (int i = 0; i < length; i++) array.SetValue(Value(e, rng, element), i);
            return array;
        }
        if (t.IsGenericType) return Value(t.GetGenericArguments()[0].MakeArrayType(), rng, element); // IEnumerable<T>, IReadOnlyList<T>, …
        throw new InvalidOperationException($"no generator for {t}");
    }

    /// <summary>What the last step called (the method, or the layer type), for reports.</summary>
    public static string Last { get; private set; } = "";

    /// <summary>One call of a random public method with random arguments.</summary>
    public static void Step(Random rng) => _ = Call(Api.Methods, rng);

    /// <summary>
    /// One call of a random metric (MedVision.Nets.Metrics) with random labels, scores and options. Three arguments in
    /// four agree with each other (n samples, k classes: labels in [0, k), scores n×k), so that most calls get past the
    /// argument checks into the arithmetic; the scores are sometimes tied, constant, NaN or infinite.
    /// </summary>
    public static void MetricStep(Random rng)
    {
        _coherent = (rng.Next(1, 25), rng.Next(1, 6));
        try
        {
            var result = Call(Metrics.Methods, rng);
            CheckBounded(result, Last, 0);
        }
        finally
        {
            _coherent = null;
        }
    }

    private static (int N, int K)? _coherent;

    // An oracle for the metrics: proportions (AUC, accuracy, sensitivity, …) lie in [0, 1] or are NaN (undefined, e.g.
    // AUC with one class present); a value outside is a wrong result, reported as an exception the harness does not accept.
    private static readonly HashSet<string> Proportions = new(StringComparer.Ordinal)
    {
        "Accuracy", "BalancedAccuracy", "MacroSensitivity", "MacroSpecificity", "MacroPrecision", "MacroF1",
        "WeightedSensitivity", "WeightedSpecificity", "WeightedPrecision", "WeightedF1", "ExpectedCalibrationError",
        "MaximumCalibrationError", "Sensitivity", "Specificity", "Precision", "F1", "Recall",
        "PValue", "AucA", "AucB", "AccuracyA", "AccuracyB",
    };

    // The paired tests' own consistency: differences are A − B, intervals hold their estimate, standard errors ≥ 0,
    // correlations in [−1, 1], a McNemar table's cells add up to its accuracies.
    private static void CheckPairedTest(object result, string where)
    {
        void Fail(string what) => throw new ArithmeticException($"{where}: {what}");
        static bool Holds(MedVision.Nets.Metrics.ConfidenceInterval ci, double value) => !ci.IsDefined || ci.Contains(value) || double.IsNaN(value);
        switch (result)
        {
            case MedVision.Nets.Metrics.AucEstimate e:
                Bounded(e.Value, "AUC", where);
                if (e.StandardError < 0) Fail($"standard error {e.StandardError}");
                if (!Holds(e.Interval, e.Value)) Fail($"interval {e.Interval} misses the AUC {e.Value}");
                if (e.IsDefined && double.IsNaN(e.StandardError) && e.Warnings.Count == 0) Fail("a missing standard error without a reason");
                break;
            case MedVision.Nets.Metrics.DeLongComparison c:
                if (!double.IsNaN(c.Difference) && Math.Abs(c.Difference - (c.AucA - c.AucB)) > 1e-12) Fail($"difference {c.Difference} is not {c.AucA} − {c.AucB}");
                if (c.StandardError < 0) Fail($"standard error {c.StandardError}");
                if (Math.Abs(c.Correlation) > 1) Fail($"correlation {c.Correlation}");
                if (!Holds(c.DifferenceInterval, c.Difference)) Fail($"interval {c.DifferenceInterval} misses the difference {c.Difference}");
                if (!double.IsNaN(c.AucA) && double.IsNaN(c.PValue) && c.Warnings.Count == 0) Fail("a missing p-value without a reason");
                break;
            case MedVision.Nets.Metrics.McNemarComparison m:
                if (Math.Abs(m.Difference - (m.AccuracyA - m.AccuracyB)) > 1e-12) Fail($"difference {m.Difference} is not {m.AccuracyA} − {m.AccuracyB}");
                if (m.BothCorrect < 0 || m.OnlyACorrect < 0 || m.OnlyBCorrect < 0 || m.NeitherCorrect < 0) Fail("a negative count");
                break;
            case MedVision.Nets.Metrics.ResampledTTestResult t:
                if (t.StandardError < 0) Fail($"standard error {t.StandardError}");
                if (!Holds(t.Interval, t.MeanDifference)) Fail($"interval {t.Interval} misses the mean difference {t.MeanDifference}");
                break;
        }
    }

    private static void CheckBounded(object? result, string where, int depth)
    {
        if (result is null || depth > 2) return;
        if (result is double d && depth == 0 && where.Contains("GetAcc", StringComparison.Ordinal)) Bounded(d, "accuracy", where);
        var type = result.GetType();
        if (result is MedVision.Nets.Metrics.AucResult auc) Bounded(auc.Value, "AUC", where);
        CheckPairedTest(result, where);
        if (result is MedVision.Nets.Metrics.MetricEntry entry && !entry.Name.Contains("kappa", StringComparison.OrdinalIgnoreCase)
            && !entry.Name.Contains("error", StringComparison.OrdinalIgnoreCase))
            Bounded(entry.Value, entry.Name, where);
        if (type.IsPrimitive || result is string || type.Namespace?.StartsWith("MedVision", StringComparison.Ordinal) != true) return;
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0))
        {
            var value = property.GetValue(result);
            if (Proportions.Contains(property.Name))
            {
                if (value is double v) Bounded(v, property.Name, where);
                else if (value is IEnumerable<double> values) foreach (var x in values) Bounded(x, property.Name, where);
            }
            else if (value is System.Collections.IEnumerable items and not string)
            {
                foreach (var item in items.Cast<object?>().Take(50)) CheckBounded(item, where, depth + 1);
            }
            else CheckBounded(value, where, depth + 1);
        }
    }

    private static void Bounded(double value, string name, string where)
    {
        if (!double.IsNaN(value) && (value < 0 || value > 1 + 1e-12))
            throw new ArithmeticException($"{where}: {name} = {value}, outside [0, 1]");
    }

    private static object? Coherent(Type t, Random rng, int n, int k)
    {
        double Score() => rng.Next(400) switch { 0 => double.NaN, 1 => double.PositiveInfinity, < 40 => 0.5, _ => Math.Round(rng.NextDouble(), rng.Next(1, 4)) };
        if (t == typeof(int[])) return Enumerable.Range(0, n).Select(_ => rng.Next(k)).ToArray();
        if (t == typeof(double[]) || t == typeof(IReadOnlyList<double>)) return Enumerable.Range(0, n).Select(_ => Score()).ToArray();
        if (t == typeof(int[][])) return Enumerable.Range(0, n).Select(_ => Enumerable.Range(0, k).Select(_ => rng.Next(2)).ToArray()).ToArray();
        if (t == typeof(int[,]) || t == typeof(double[,]) || t == typeof(float[,]))
        {
            var a = Array.CreateInstance(t.GetElementType()!, n, k);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < k; j++)
                    a.SetValue(t == typeof(int[,]) ? rng.Next(2) : t == typeof(double[,]) ? Score() : (object)(float)Score(), i, j);
            return a;
        }
        if (t == typeof(int)) return k;
        if (t == typeof(double)) return Math.Round(rng.NextDouble(), 2);
        return null;
    }

    private static object? Call(MethodInfo[] methods, Random rng)
    {
        var method = methods[rng.Next(methods.Length)];
        var element = ElementTypes[rng.Next(ElementTypes.Length)];
        Last = Name(method);
        if (method.IsGenericMethodDefinition) method = method.MakeGenericMethod(method.GetGenericArguments().Select(_ => element).ToArray());
        using var scope = Tensors.NewDisposeScope();
        object? target = method.IsStatic ? null : RandomTensor(rng);
        var parameters = method.GetParameters();
        var args = new object?[parameters.Length];
        for (int p = 0; p < parameters.Length; p++)
        {
            // Optional parameters keep their default now and then, as most callers leave them.
            args[p] = (parameters[p].HasDefaultValue && rng.Next(3) == 0) || NullByDefault(parameters[p]) ? parameters[p].DefaultValue : Value(parameters[p].ParameterType, rng, element);
            args[p] = NullNowAndThen(parameters[p], args[p], rng);
        }
        if (Trace) Console.Error.WriteLine($"  {Name(method)} on {Describe(target)} with ({string.Join(", ", args.Select(Describe))})");
        var result = Invoke(method, target, args);
        Use(result);
        return result;
    }

    // A reference argument (tensor, array, sequence) is null now and then, and so is an element of a tensor array: where
    // the parameter is not annotated nullable the call must throw ArgumentNullException (an ArgumentException) naming it,
    // never a NullReferenceException from inside; where it is annotated nullable, null must be a working value.
    private static object? NullNowAndThen(ParameterInfo parameter, object? value, Random rng)
    {
        if (parameter.ParameterType.IsValueType || value is null) return value;
        if (rng.Next(25) == 0) return null;
        if (value is Tensor?[] tensors && tensors.Length > 0 && rng.Next(25) == 0) tensors[rng.Next(tensors.Length)] = null;
        return value;
    }

    /// <summary>
    /// One layer built with random arguments, then used: train or eval, maybe converted to another dtype, called on
    /// random inputs (some shaped to fit: a batch with the constructor's first size as channels or features), backward
    /// through the output, its state dict loaded back with random tensors put in.
    /// </summary>
    public static void LayerStep(Random rng)
    {
        var constructor = Layers.Constructors[rng.Next(Layers.Constructors.Length)];
        Last = $"new {constructor.DeclaringType!.Name}";
        using var scope = Tensors.NewDisposeScope();
        var parameters = constructor.GetParameters();
        var args = new object?[parameters.Length];
        // Sizes (1…4) and rates (0.01…0.51: eps, momentum, p, slope) are valid three times in four, so that most layers
        // get built and called.
        for (int p = 0; p < parameters.Length; p++)
        {
            var type = parameters[p].ParameterType;
            args[p] = parameters[p].HasDefaultValue && rng.Next(3) == 0 ? parameters[p].DefaultValue
                : (type == typeof(long) || type == typeof(int)) && rng.Next(4) != 0 ? Convert.ChangeType(rng.Next(1, 5), type, System.Globalization.CultureInfo.InvariantCulture)
                : (type == typeof(double) || type == typeof(double?)) && rng.Next(4) != 0 ? 0.01 + Math.Round(rng.NextDouble() * 0.5, 2)
                : Value(type, rng, typeof(float));
            args[p] = NullNowAndThen(parameters[p], args[p], rng);
        }
        if (Trace) Console.Error.WriteLine($"  new {constructor.DeclaringType!.Name}({string.Join(", ", args.Select(Describe))})");
        var layer = (Module<Tensor, Tensor>)Invoke(constructor, null, args)!;
        using (layer)
        {
            _ = layer.ToString();
            _ = layer.ParameterCount();
            layer.Train(rng.Next(2) == 0);
            if (rng.Next(6) == 0)
            {
                var type = (ScalarType)Value(typeof(ScalarType), rng, typeof(float))!;
                if (Trace) Console.Error.WriteLine($"  To({type})");
                layer.To(type);
            }
            for (int call = 0; call < 2; call++)
            {
                Tensor input;
                if (rng.Next(2) == 0 && args.FirstOrDefault(a => a is long) is long size && size is > 0 and < 6)
                {
                    var shape = new long[rng.Next(2, 6)];
                    shape[0] = rng.Next(1, 3);
                    shape[1] = size;
                    for (int i = 2; i < shape.Length; i++) shape[i] = rng.Next(1, 6);
                    if (rng.Next(3) == 0) (shape[1], shape[^1]) = (shape[^1], shape[1]); // features last (Linear, LayerNorm)
                    input = Tensors.Randn(shape);
                }
                else input = RandomTensor(rng);
                if (Trace) Console.Error.WriteLine($"  call on {Describe(input)}");
                var output = layer.Call(input);
                Use(output);
                if (output.RequiresGrad && rng.Next(2) == 0)
                {
                    using var sum = output.Sum();
                    sum.Backward();
                }
            }
            layer.ZeroGrad();
            var state = layer.StateDict().ToDictionary(kv => kv.Key, kv => rng.Next(4) == 0 ? RandomTensor(rng) : kv.Value);
            if (rng.Next(4) == 0) state["unexpected"] = RandomTensor(rng);
            if (Trace) Console.Error.WriteLine($"  LoadStateDict({string.Join(", ", state.Select(kv => $"{kv.Key}: {Describe(kv.Value)}"))})");
            _ = layer.LoadStateDict(state, strict: rng.Next(2) == 0);
        }
    }

    private static readonly MethodInfo[] BuilderSteps = typeof(MedVision.Nets.Transforms.TransformPipelineBuilder)
        .GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
        .Where(m => m.ReturnType == typeof(MedVision.Nets.Transforms.TransformPipelineBuilder) && m.Name != "Add")
        .OrderBy(Name, StringComparer.Ordinal).ToArray();

    /// <summary>
    /// A transform pipeline of 1–4 random builder steps with random arguments (sizes valid three times in four), applied
    /// to a random 2D (C, H, W) or 3D (C, D, H, W) image. The result must be a consistent image: positive sizes, as many
    /// values as its shape says, and no NaN or infinity that the input did not have.
    /// </summary>
    public static void TransformStep(Random rng)
    {
        var builder = MedVision.Nets.Transforms.TransformPipeline.Create();
        var steps = new List<string>();
        for (int i = rng.Next(1, 5); i > 0; i--)
        {
            var method = BuilderSteps[rng.Next(BuilderSteps.Length)];
            var parameters = method.GetParameters();
            var args = new object?[parameters.Length];
            for (int p = 0; p < parameters.Length; p++)
            {
                var type = parameters[p].ParameterType;
                args[p] = parameters[p].HasDefaultValue && rng.Next(3) == 0 ? parameters[p].DefaultValue
                    : type == typeof(int) && rng.Next(4) != 0 ? rng.Next(1, 9)
                    : type == typeof(double) && rng.Next(4) != 0 ? Math.Round(rng.NextDouble(), 2)
                    : type == typeof(float) && rng.Next(4) != 0 ? (float)Math.Round(rng.NextDouble(), 2)
                    : type == typeof(float[]) && rng.Next(4) != 0 ? Enumerable.Range(0, rng.Next(1, 4)).Select(_ => (float)Math.Round(rng.NextDouble() + 0.1, 2)).ToArray()
                    : Value(type, rng, typeof(float));
            }
            Last = method.Name;
            steps.Add($"{method.Name}({string.Join(", ", args.Select(Describe))})");
            if (Trace) Console.Error.WriteLine($"  .{steps[^1]}");
            Invoke(method, builder, args);
        }
        var pipeline = builder.Build();
        bool volume = rng.Next(3) == 0;
        var shape = (volume ? new int[4] : new int[3]).Select((_, d) => d == 0 ? rng.Next(1, 4) : rng.Next(1, 12)).ToArray();
        var data = new float[shape.Aggregate(1, (a, b) => a * b)];
        for (int i = 0; i < data.Length; i++) data[i] = (float)Math.Round(rng.NextDouble() * 2 - 0.5, 3);
        var image = new MedVision.Nets.Transforms.FloatImage(data, shape);
        if (Trace) Console.Error.WriteLine($"  apply to [{string.Join(", ", shape)}]");
        var output = pipeline.Apply(image, new Random(rng.Next()));
        if (output.Shape.Any(d => d < 1) || output.Data.Length != output.Shape.Aggregate(1L, (a, b) => a * b) || output.Shape.Length != shape.Length)
            throw new ArithmeticException($"{string.Join(" → ", steps)} on [{string.Join(", ", shape)}] gave shape [{string.Join(", ", output.Shape)}] with {output.Data.Length} values");
        // Non-finite arguments must be refused when the pipeline is built, so non-finite output is wrong — unless an
        // argument is astronomically large but finite (a jitter strength of 1e300 overflows float, as it should).
        if (output.Data.Any(v => !float.IsFinite(v)) && !steps.Any(s => s.Contains("E+", StringComparison.Ordinal)))
            throw new ArithmeticException($"{string.Join(" → ", steps)} on [{string.Join(", ", shape)}] produced NaN or infinity from finite input");
    }

    private static readonly ConstructorInfo[] OptimizerConstructors = typeof(MedVision.Torch.Optim.Optimizer).Assembly.GetExportedTypes()
        .Where(t => !t.IsAbstract && typeof(MedVision.Torch.Optim.Optimizer).IsAssignableFrom(t))
        .SelectMany(t => t.GetConstructors())
        .Where(c => c.GetParameters()[0].ParameterType == typeof(IEnumerable<Tensor>))
        .OrderBy(c => c.DeclaringType!.Name, StringComparer.Ordinal).ToArray();

    private static readonly ConstructorInfo[] SchedulerConstructors = typeof(MedVision.Torch.Optim.Optimizer).Assembly.GetExportedTypes()
        .Where(t => !t.IsAbstract && (typeof(MedVision.Torch.Optim.LearningRateScheduler).IsAssignableFrom(t) || t.Name == "ReduceLROnPlateau"))
        .SelectMany(t => t.GetConstructors())
        .Where(c => c.GetParameters().Length > 0 && c.GetParameters()[0].ParameterType == typeof(MedVision.Torch.Optim.Optimizer))
        .OrderBy(c => c.DeclaringType!.Name, StringComparer.Ordinal).ToArray();

    // Hyper-parameters: valid (sizes 1…5, rates in [0, 0.9]) three times in four, else anything (NaN, ±∞, 1e300, −1, …).
    private static object? Hyper(ParameterInfo p, Random rng)
    {
        var type = Nullable.GetUnderlyingType(p.ParameterType) ?? p.ParameterType;
        if (p.HasDefaultValue && rng.Next(3) == 0) return p.DefaultValue;
        if (rng.Next(4) != 0)
        {
            if (type == typeof(double)) return Math.Round(rng.NextDouble() * 0.9, 3);
            if (type == typeof(int)) return rng.Next(1, 6);
            if (type == typeof(IEnumerable<int>)) return Enumerable.Range(0, rng.Next(0, 4)).Select(_ => rng.Next(1, 8)).ToArray();
            if (type == typeof(IReadOnlyList<double>)) return rng.Next(2) == 0 ? null : new[] { 0.001 };
            if (type == typeof(IEnumerable<double>)) return Enumerable.Range(0, rng.Next(0, 3)).Select(_ => Math.Round(rng.NextDouble(), 3)).ToArray();
        }
        if (type == typeof(Func<int, double>))
        {
            // A LambdaLR factor: ordinary three times in four, else negative, NaN or throwing.
            return rng.Next(8) switch
            {
                0 => (Func<int, double>)(e => -1),
                1 => (Func<int, double>)(e => double.NaN),
                _ => (Func<int, double>)(e => Math.Pow(0.9, e)),
            };
        }
        if (type == typeof(IEnumerable<int>)) return Value(typeof(int[]), rng, typeof(int));
        if (type == typeof(IReadOnlyList<double>)) return Value(typeof(double[]), rng, typeof(double));
        return Value(p.ParameterType, rng, typeof(float));
    }

    // The parts of a SequentialLR: 0–3 simple schedules, now and then one of another optimizer or a null.
    private static MedVision.Torch.Optim.LearningRateScheduler?[] Schedules(MedVision.Torch.Optim.Optimizer optimizer, Random rng)
        => Enumerable.Range(0, rng.Next(0, 4)).Select(_ => rng.Next(10) switch
        {
            0 => null,
            1 => new MedVision.Torch.Optim.StepLR(new MedVision.Torch.Optim.Sgd(new[] { Tensors.Zeros(1).RequiresGradInPlace() }, 0.1), 2),
            < 5 => new MedVision.Torch.Optim.ExponentialLR(optimizer, Math.Round(rng.NextDouble(), 2)),
            < 8 => new MedVision.Torch.Optim.LinearLR(optimizer, 0.5, totalIterations: rng.Next(1, 4)),
            _ => (MedVision.Torch.Optim.LearningRateScheduler)new MedVision.Torch.Optim.OneCycleLR(optimizer, 0.1, rng.Next(1, 5), cycleMomentum: false),
        }).ToArray();

    /// <summary>
    /// An optimizer (SGD, Adam, AdamW, RMSprop, Adagrad, NAdam, RAdam) with random hyper-parameters over 1–3 random parameters (sometimes the same
    /// tensor twice, an integer, non-leaf or disposed one), maybe a learning-rate scheduler with random arguments, three
    /// steps with random gradients, and a state round trip. Oracle: learning rates stay finite and ≥ 0, and with finite
    /// arguments the parameters stay finite.
    /// </summary>
    public static void OptimStep(Random rng)
    {
        using var scope = Tensors.NewDisposeScope();
        var parameters = new List<Tensor>();
        for (int i = rng.Next(1, 4); i > 0; i--)
        {
            parameters.Add(rng.Next(6) switch
            {
                0 => RandomTensor(rng),
                1 when parameters.Count > 0 => parameters[0],
                _ => Tensors.Randn(new long[] { rng.Next(1, 4), rng.Next(1, 4) }, requiresGrad: true),
            });
        }
        var constructor = OptimizerConstructors[rng.Next(OptimizerConstructors.Length)];
        var args = constructor.GetParameters().Select((p, i) => i == 0 ? parameters : Hyper(p, rng)).ToArray();
        Last = $"new {constructor.DeclaringType!.Name}";
        var steps = new List<string> { $"new {constructor.DeclaringType!.Name}([{string.Join(", ", parameters.Select(Describe))}], {string.Join(", ", args.Skip(1).Select(Describe))})" };
        if (Trace) Console.Error.WriteLine($"  {steps[^1]}");
        using var optimizer = (MedVision.Torch.Optim.Optimizer)Invoke(constructor, null, args)!;
        object? scheduler = null;
        if (rng.Next(2) == 0)
        {
            var sc = SchedulerConstructors[rng.Next(SchedulerConstructors.Length)];
            var sargs = sc.GetParameters().Select((p, i) => i == 0 ? optimizer
                : p.ParameterType == typeof(IEnumerable<MedVision.Torch.Optim.LearningRateScheduler>) ? Schedules(optimizer, rng)
                : Hyper(p, rng)).ToArray();
            Last = $"new {sc.DeclaringType!.Name}";
            steps.Add($"new {sc.DeclaringType!.Name}({string.Join(", ", sargs.Skip(1).Select(Describe))})");
            if (Trace) Console.Error.WriteLine($"  {steps[^1]}");
            scheduler = Invoke(sc, null, sargs);
        }
        // Extreme arguments void the finiteness oracle: 1e300 overflows, and 1e-300 is 0 in float32, so an eps or beta2 of
        // 1e-300 divides by zero (as in PyTorch, whose Adam accepts eps = 0).
        // So does eps = 0 (allowed, as in PyTorch): an element whose gradient was zero since its first step divides 0 by 0.
        bool epsZero = constructor.GetParameters().Select((p, i) => (p, i)).Any(x => x.p.Name!.Contains("eps", StringComparison.OrdinalIgnoreCase) && args[x.i] is double e && e == 0);
        bool finiteArguments = !epsZero && !steps.Any(s => s.Contains("NaN", StringComparison.Ordinal) || s.Contains("Infinity", StringComparison.Ordinal) || s.Contains("E+", StringComparison.Ordinal) || s.Contains("E-", StringComparison.Ordinal));
        for (int step = 0; step < 3; step++)
        {
            foreach (var p in parameters.Distinct())
            {
                if (p.IsDisposed || !p.RequiresGrad || rng.Next(4) == 0) continue;
                using var square = p * p;
                using var loss = square.Sum();
                loss.Backward();
            }
            Last = "Step";
            optimizer.Step();
            switch (scheduler)
            {
                case MedVision.Torch.Optim.ReduceLROnPlateau plateau: plateau.Step(Math.Round(rng.NextDouble(), 2)); break;
                case MedVision.Torch.Optim.CosineAnnealingWarmRestarts restarts when rng.Next(2) == 0:
                {
                    // PyTorch's step(epoch + i / iters): any epoch, forwards or back; now and then an invalid one.
                    double e = rng.Next(8) == 0 ? new[] { -0.5, double.NaN, double.PositiveInfinity, 3e9 }[rng.Next(4)] : Math.Round(rng.NextDouble() * 40, 3);
                    steps.Add($"Step({e})");
                    if (Trace) Console.Error.WriteLine($"  .Step({e})");
                    Last = "Step(double)";
                    restarts.Step(e);
                    break;
                }
                case MedVision.Torch.Optim.LearningRateScheduler s: s.Step(); break;
            }
            foreach (var group in optimizer.ParameterGroups)
                if (!(group.LearningRate >= 0) || double.IsInfinity(group.LearningRate))
                    throw new ArithmeticException($"{string.Join(" → ", steps)}: learning rate {group.LearningRate} after step {step}");
            if (finiteArguments)
                foreach (var p in optimizer.Parameters.Where(p => !p.IsDisposed && p.ScalarType.IsFloatingPoint()))
                    using (var finite = p.IsFinite().All())
                        if (finite.Item() == 0) throw new ArithmeticException($"{string.Join(" → ", steps)}: a parameter became NaN or infinite at step {step}");
            optimizer.ZeroGrad(setToNone: rng.Next(2) == 0);
        }
        Last = "GetState";
        using var state = optimizer.GetState();
        optimizer.LoadState(state);
        if (scheduler is MedVision.Torch.Optim.LearningRateScheduler schedule)
        {
            Last = "scheduler GetState";
            var before = schedule.LastLearningRates.ToArray();
            schedule.LoadState(schedule.GetState());
            if (!schedule.LastLearningRates.SequenceEqual(before))
                throw new ArithmeticException($"{string.Join(" → ", steps)}: the scheduler's state did not round-trip");
        }
    }

    private static readonly MethodInfo[] ResNetBuilderSteps = typeof(MedVision.Nets.Models.ResNetBuilder)
        .GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
        .Where(m => m.ReturnType == typeof(MedVision.Nets.Models.ResNetBuilder))
        .OrderBy(Name, StringComparer.Ordinal).ToArray();

    /// <summary>
    /// A ResNet from 1–5 random builder steps with random arguments (valid and small three times in four: depths 18 and
    /// 34, 1–2 blocks per stage, widths 2–8, 1–3 channels, 1–5 classes, stage strides 1–2, dilations 1–3), then, when it builds, one training-mode call on an
    /// input shaped to fit (2D 8–32 pixels, 3D 8–12 voxels a side) and a backward pass. Oracle: a finite output with
    /// one row per sample, and the model's tensors freed when it is disposed (or when its construction fails).
    /// </summary>
    public static void ModelStep(Random rng)
    {
        using var scope = Tensors.NewDisposeScope();
        var builder = MedVision.Nets.Models.ResNet.Builder();
        var steps = new List<string>();
        var (channels, dims) = ConfigureResNet(builder, rng, steps);
        Last = "Build";
        using var model = builder.Build();
        _ = model.ParameterCount();
        var shape = InputShape(rng, channels, dims);
        if (Trace) Console.Error.WriteLine($"  call on [{string.Join(", ", shape)}]");
        Last = "Call";
        var input = Tensors.Randn(shape);
        var output = model.Call(input);
        if (output.Size(0) != shape[0]) throw new ArithmeticException($"{string.Join(" → ", steps)}: output [{string.Join(", ", output.Shape)}] for input [{string.Join(", ", shape)}]");
        RequireFinite(output, steps, $"output for input [{string.Join(", ", shape)}]");
        output.Sum().Backward();
    }

    // 1–5 random ResNetBuilder steps with random arguments (small and valid three times in four), and a narrow base
    // width unless a step chose widths: returns the input channels and spatial dimensions the steps asked for.
    private static (int Channels, int Dims) ConfigureResNet(MedVision.Nets.Models.ResNetBuilder builder, Random rng, List<string> steps)
    {
        int channels = 3, dims = 2;
        for (int i = rng.Next(1, 6); i > 0; i--)
        {
            var method = ResNetBuilderSteps[rng.Next(ResNetBuilderSteps.Length)];
            var parameters = method.GetParameters();
            var args = new object?[parameters.Length];
            bool friendly = rng.Next(4) != 0;
            for (int p = 0; p < parameters.Length; p++)
            {
                var name = parameters[p].Name!;
                var type = parameters[p].ParameterType;
                args[p] = !friendly ? Value(type, rng, typeof(int))
                    : name == "depth" ? (rng.Next(2) == 0 ? 18 : 34)
                    : name == "blocksPerStage" ? Enumerable.Range(0, rng.Next(1, 5)).Select(_ => rng.Next(1, 3)).ToArray()
                    : name == "widths" ? Enumerable.Range(0, rng.Next(1, 5)).Select(_ => rng.Next(2, 9)).ToArray()
                    : name == "baseWidth" ? rng.Next(2, 9)
                    : name == "channels" ? rng.Next(1, 4)
                    : name == "spatialDims" ? rng.Next(2, 4)
                    : name == "numClasses" ? rng.Next(1, 6)
                    : name == "rate" ? Math.Round(rng.NextDouble() * 0.9, 2)
                    : name == "strides" ? Enumerable.Range(0, rng.Next(1, 5)).Select(_ => rng.Next(1, 3)).ToArray()
                    : name == "dilations" ? Enumerable.Range(0, rng.Next(1, 5)).Select(_ => rng.Next(1, 4)).ToArray()
                    : Value(type, rng, typeof(int));
            }
            steps.Add($"{method.Name}({string.Join(", ", args.Select(Describe))})");
            if (Trace) Console.Error.WriteLine($"  .{steps[^1]}");
            Last = method.Name;
            Invoke(method, builder, args);
            if (method.Name == "ForInput") { channels = (int)args[0]!; dims = (int)args[1]!; }
        }
        // Depth 18/34 with full widths is ~11–21 M parameters: fine, but keep most models narrow.
        if (!steps.Any(s => s.StartsWith("WithWidths", StringComparison.Ordinal) || s.StartsWith("WithBaseWidth", StringComparison.Ordinal)) && rng.Next(4) != 0)
            builder.WithBaseWidth(rng.Next(2, 9));
        return (channels, dims);
    }

    private static long[] InputShape(Random rng, int channels, int dims)
    {
        var shape = new long[2 + dims];
        shape[0] = rng.Next(1, 4);
        shape[1] = channels;
        for (int d = 2; d < shape.Length; d++) shape[d] = dims == 2 ? rng.Next(8, 33) : rng.Next(8, 13);
        return shape;
    }

    private static void RequireFinite(Tensor t, List<string> steps, string what)
    {
        using var finite = t.IsFinite().All();
        if (finite.Item() == 0) throw new ArithmeticException($"{string.Join(" → ", steps)}: non-finite {what}");
    }

    /// <summary>
    /// One of the composite networks, built with random options (valid three times in four) and used:
    /// <list type="bullet">
    /// <item>MTCSNN (random backbone, classes, difference weight, signedness): <c>ComputeLoss</c> on a batch of 1–5 with
    /// random grades (now and then out of range or of another dtype), then backward. Oracle: PairCount = ⌊N/2⌋, the
    /// terms finite, Total = Classification + λ·Difference, Difference 0 for a batch of one.</item>
    /// <item>Siamese ResNet (random backbone and distance): a pair of batches (now and then of different shapes).
    /// Oracle: distances (N), finite, ≥ 0 (cosine ≤ 2), equal to <c>Measure</c> of the two embeddings.</item>
    /// <item>CDSF / MDM (random volume size around the minimum of 33, classes, normalisations, residual blocks): a
    /// diagnosis of a batch of 1–2 from (MRI, PET) and from MRI alone. Oracle: logits (N, classes), finite.</item>
    /// </list>
    /// </summary>
    public static void NetworkStep(Random rng)
    {
        using var scope = Tensors.NewDisposeScope();
        var steps = new List<string>();
        switch (rng.Next(3))
        {
            case 0: MtcsnnStep(rng, steps); break;
            case 1: SiameseStep(rng, steps); break;
            default: CdsfStep(rng, steps); break;
        }
    }

    private static T Friendly<T>(Random rng, Func<T> valid) => rng.Next(4) != 0 ? valid() : (T)Value(typeof(T), rng, typeof(int))!;

    private static void MtcsnnStep(Random rng, List<string> steps)
    {
        Last = "Mtcsnn.Builder";
        int channels = 3, dims = 2;
        var builder = MedVision.Nets.Models.Mtcsnn.Builder().WithBackbone(b => (channels, dims) = ConfigureResNet(b, rng, steps));
        int classes = Friendly(rng, () => rng.Next(2, 6));
        double weight = Friendly(rng, () => Math.Round(rng.NextDouble() * 2, 2));
        bool signed = rng.Next(2) == 0;
        steps.Add($"Mtcsnn classes {classes}, λ {weight}, signed {signed}");
        if (Trace) Console.Error.WriteLine($"  {steps[^1]}");
        builder.WithClasses(classes).WithDifferenceWeight(weight).WithSignedDifference(signed);
        Last = "Mtcsnn.Build";
        using var model = builder.Build();
        var shape = InputShape(rng, channels, dims);
        shape[0] = rng.Next(1, 6);
        var images = Tensors.Randn(shape);
        var grades = Enumerable.Range(0, (int)shape[0]).Select(_ => (long)rng.Next(classes)).ToArray();
        bool validLabels = true;
        if (rng.Next(8) == 0) { grades[rng.Next(grades.Length)] = rng.Next(2) == 0 ? -1 : classes; validLabels = false; }
        var labels = Tensors.FromArray(grades);
        if (rng.Next(8) == 0) { labels = labels.To(ScalarType.Float32); validLabels = false; }
        if (Trace) Console.Error.WriteLine($"  ComputeLoss on [{string.Join(", ", shape)}], grades [{string.Join(", ", grades)}] {labels.ScalarType}");
        Last = "Mtcsnn.ComputeLoss";
        using var loss = model.ComputeLoss(images, labels);
        if (!validLabels) throw new ArithmeticException($"{string.Join(" → ", steps)}: grades [{string.Join(", ", grades)}] ({labels.ScalarType}) of {classes} classes were accepted");
        if (loss.PairCount != shape[0] / 2) throw new ArithmeticException($"{string.Join(" → ", steps)}: {loss.PairCount} pairs in a batch of {shape[0]}");
        double total = loss.Total.Item(), classification = loss.Classification.Item(), difference = loss.Difference.Item();
        // A weight beyond float32's range (1e300 is accepted, as by PyTorch) overflows the float32 total; check the
        // total's finiteness for ordinary weights only.
        if ((!double.IsFinite(total) && weight <= 1e6) || !double.IsFinite(classification) || !double.IsFinite(difference))
            throw new ArithmeticException($"{string.Join(" → ", steps)}: loss terms {total}, {classification}, {difference}");
        if (weight <= 1e6 && Math.Abs(total - (classification + weight * difference)) > 1e-4 * (1 + Math.Abs(total)))
            throw new ArithmeticException($"{string.Join(" → ", steps)}: total {total} ≠ {classification} + {weight}·{difference}");
        if (shape[0] == 1 && difference != 0) throw new ArithmeticException($"{string.Join(" → ", steps)}: difference {difference} for a batch of one");
        loss.Total.Backward();
    }

    private static void SiameseStep(Random rng, List<string> steps)
    {
        Last = "SiameseResNet.Builder";
        int channels = 3, dims = 2;
        var distance = (MedVision.Nets.Models.EmbeddingDistance)Value(typeof(MedVision.Nets.Models.EmbeddingDistance), rng, typeof(int))!;
        steps.Add($"distance {distance}");
        var builder = MedVision.Nets.Models.SiameseResNet.Builder().WithBackbone(b => (channels, dims) = ConfigureResNet(b, rng, steps)).WithDistance(distance);
        Last = "SiameseResNet.Build";
        using var model = builder.Build();
        var shape = InputShape(rng, channels, dims);
        var other = (long[])shape.Clone();
        bool mismatched = rng.Next(8) == 0;
        if (mismatched) other[0] += 1;
        if (Trace) Console.Error.WriteLine($"  pair [{string.Join(", ", shape)}], [{string.Join(", ", other)}]");
        Last = "SiameseResNet.Call";
        var first = Tensors.Randn(shape);
        var second = rng.Next(4) == 0 ? first : Tensors.Randn(other);
        using var output = model.Call((first, second));
        if (mismatched && !ReferenceEquals(first, second)) throw new ArithmeticException($"{string.Join(" → ", steps)}: batches of {shape[0]} and {other[0]} were paired");
        if (output.Distance.Dim != 1 || output.Distance.Size(0) != shape[0]) throw new ArithmeticException($"{string.Join(" → ", steps)}: distances [{string.Join(", ", output.Distance.Shape)}] for {shape[0]} pairs");
        RequireFinite(output.Distance, steps, "distance");
        var d = output.Distance.To(ScalarType.Float64).ToArray<double>();
        double upper = distance == MedVision.Nets.Models.EmbeddingDistance.Cosine ? 2 + 1e-5 : double.PositiveInfinity;
        if (d.Any(v => v < -1e-5 || v > upper)) throw new ArithmeticException($"{string.Join(" → ", steps)}: distances [{string.Join(", ", d)}]");
        using var measured = model.Measure(output.First, output.Second);
        if (!measured.AllClose(output.Distance, 1e-4, 1e-5)) throw new ArithmeticException($"{string.Join(" → ", steps)}: Measure differs from the forward distance");
        output.Distance.Sum().Backward();
    }

    private static void CdsfStep(Random rng, List<string> steps)
    {
        Last = "Cdsf.Builder";
        long Size() => Friendly(rng, () => (long)(32 + 4 * rng.Next(1, 3))); // 36 or 40: CDSF needs multiples of 4, at least 33
        long depth = Size(), height = Size(), width = Size();
        int classes = Friendly(rng, () => rng.Next(2, 4));
        int blocks = Friendly(rng, () => rng.Next(1, 3));
        var synthesis = (MedVision.Nets.Blocks.NormalizationKind)Value(typeof(MedVision.Nets.Blocks.NormalizationKind), rng, typeof(int))!;
        var diagnosis = (MedVision.Nets.Blocks.NormalizationKind)Value(typeof(MedVision.Nets.Blocks.NormalizationKind), rng, typeof(int))!;
        steps.Add($"Cdsf volume [{depth}, {height}, {width}], {classes} classes, {blocks} blocks, {synthesis}/{diagnosis}");
        if (Trace) Console.Error.WriteLine($"  {steps[^1]}");
        Last = "Cdsf.Build";
        using var model = MedVision.Nets.Models.Cdsf.Builder().ForVolume(depth, height, width).WithClasses(classes).WithResidualBlocks(blocks)
            .WithSynthesisNormalization(synthesis).WithDiagnosisNormalization(diagnosis).Build();
        var shape = new long[] { rng.Next(1, 3), 1, depth, height, width };
        var mri = Tensors.Rand(shape);
        var pet = Tensors.Rand(shape);
        model.Train(rng.Next(2) == 0);
        Last = "Cdsf.Diagnose";
        foreach (var logits in new[] { model.Diagnose(mri, pet), model.Diagnose(mri) })
        {
            if (logits.Dim != 2 || logits.Size(0) != shape[0] || logits.Size(1) != classes)
                throw new ArithmeticException($"{string.Join(" → ", steps)}: logits [{string.Join(", ", logits.Shape)}]");
            RequireFinite(logits, steps, "logits");
        }
    }

    /// <summary>
    /// A predictor over a model file written for the step (a narrow ResNet-18 with a random task, class count, input
    /// size, channel count, normalisation and test-time flips, 2-D or 3-D), then 1–4 random calls: raw pixels of random
    /// size and channel count (now and then a wrong byte count), images of random shape (grey for an RGB model, or a
    /// channel count the model cannot take), batches of 0–3 images, explanations of a random class by a random
    /// class-activation or attribution method (cheap settings; now and then 0–3 reference images, some misshapen),
    /// volumes. Oracle: one probability per class, each in [0, 1] and (softmax tasks) summing to 1; the label is the most
    /// probable class and its name the card's; for ordinal tasks the grade is the label and the expected grade Σ k·p_k;
    /// explanation maps in [0, 1] of the card's input size, explaining the class asked for (or the predicted one); the
    /// SHAP attributions refused without reference images.
    /// </summary>
    public static void PredictorStep(Random rng)
    {
        using var scope = Tensors.NewDisposeScope();
        var steps = new List<string>();
        bool volume = rng.Next(5) == 0;
        int channels = rng.Next(2) == 0 ? 1 : 3;
        var tasks = Enum.GetValues<MedVision.Nets.Metrics.MedMnistTask>();
        var task = tasks[rng.Next(tasks.Length)];
        int classes = task == MedVision.Nets.Metrics.MedMnistTask.Binary ? 2 : rng.Next(2, 6);
        var size = Enumerable.Range(0, volume ? 3 : 2).Select(_ => volume ? rng.Next(8, 14) : rng.Next(8, 33)).ToList();
        var card = RandomCard(rng, volume, channels, size);
        var flips = (MedVision.Nets.Inference.TestTimeFlips)rng.Next(volume ? 8 : 4);
        var names = Enumerable.Range(0, classes).Select(i => $"class{i}").ToArray();
        steps.Add($"{task} model, {classes} classes, {channels} channel(s), input [{string.Join(", ", size)}], mean [{string.Join(", ", card.Mean)}], std [{string.Join(", ", card.Std)}], {card.Resize}{(card.IntensityNormalization is { } n ? $", per-input normalisation (non-zero {n.NonZero}, channel-wise {n.ChannelWise})" : "")}{(card.CropForeground is { } f ? $", crop above {f.Threshold} (margin {f.Margin})" : "")}{(card.Spacing is { } sp ? $", spacing [{string.Join(", ", sp)}]" : "")}{(card.Fit is { } fit ? $", fit {fit}" : "")}{(card.AlignModalities == true ? ", aligned" : "")}{(card.IntensityPercentiles is { } pc ? $", percentiles [{string.Join(", ", pc)}]" : "")}{(card.IntensityChannelWise == true ? ", channel-wise" : "")}, flips {flips}");
        if (Trace) Console.Error.WriteLine($"  {steps[^1]}");
        using (var predictor = TinyPredictor(channels, volume, card, names, task, flips))
        {
            for (int call = rng.Next(1, 5); call > 0; call--)
            {
                int c = rng.Next(6) == 0 ? rng.Next(-1, 5) : rng.Next(2) == 0 ? 1 : channels;
                int h = rng.Next(4) == 0 ? (int)Value(typeof(int), rng, typeof(int))! : rng.Next(1, 40), w = rng.Next(1, 40);
                switch (rng.Next(volume ? 5 : 4))
                {
                    case 0 when !volume:
                        {
                            long bytes = (long)Math.Max(0, h) * w * Math.Max(0, c);
                            var pixels = new byte[rng.Next(8) == 0 || bytes > 1 << 20 ? rng.Next(0, 100) : (int)bytes];
                            rng.NextBytes(pixels);
                            steps.Add($"PredictPixels({pixels.Length} bytes, w {w}, h {h}, c {c})");
                            if (Trace) Console.Error.WriteLine($"  {steps[^1]}");
                            Last = "PredictPixels";
                            CheckPrediction(predictor.PredictPixels(pixels, w, h, c), task, names, steps);
                            break;
                        }
                    case 1:
                    case 2:
                        {
                            var images = Enumerable.Range(0, rng.Next(1, 4)).Select(_ => RandomImage(rng, c, volume, size)).ToList();
                            steps.Add($"Predict([{string.Join("; ", images.Select(i => string.Join("×", i.Shape)))}])");
                            if (Trace) Console.Error.WriteLine($"  {steps[^1]}");
                            Last = "Predict";
                            var predictions = predictor.Predict(images);
                            if (predictions.Count != images.Count) throw new ArithmeticException($"{string.Join(" → ", steps)}: {predictions.Count} predictions");
                            foreach (var p in predictions) CheckPrediction(p, task, names, steps);
                            break;
                        }
                    case 3:
                        {
                            var image = RandomImage(rng, c, volume, size);
                            int? target = rng.Next(3) == 0 ? null : rng.Next(4) == 0 ? (int)Value(typeof(int), rng, typeof(int))! : rng.Next(classes);
                            MedVision.Nets.Inference.Explanation explanation;
                            if (rng.Next(2) == 0)
                            {
                                var method = (MedVision.Nets.Explainability.CamMethod)Value(typeof(MedVision.Nets.Explainability.CamMethod), rng, typeof(int))!;
                                steps.Add($"Explain({string.Join("×", image.Shape)}, {method}, class {target?.ToString() ?? "predicted"})");
                                if (Trace) Console.Error.WriteLine($"  {steps[^1]}");
                                Last = "Explain";
                                explanation = predictor.Explain(image, method, target);
                            }
                            else
                            {
                                // A gradient attribution with cheap settings and, now and then, reference images: none,
                                // none at all (empty), or 1–3 of random shapes (the SHAP methods need them; others ignore them).
                                var method = (MedVision.Nets.Explainability.AttributionMethod)Value(typeof(MedVision.Nets.Explainability.AttributionMethod), rng, typeof(int))!;
                                int kind = rng.Next(5);
                                var references = kind == 4 ? null : kind switch
                                {
                                    0 => null,
                                    1 => new List<MedVision.Nets.Transforms.FloatImage>(),
                                    _ => Enumerable.Range(0, rng.Next(1, 4)).Select(_ => RandomImage(rng, rng.Next(8) == 0 ? rng.Next(-1, 5) : channels, volume, size)).ToList(),
                                };
                                var options = MedVision.Nets.Explainability.AttributionOptions.Default with
                                {
                                    Steps = rng.Next(2, 6), Samples = rng.Next(1, 4), BatchSize = rng.Next(1, 5), Seed = rng.Next(), References = references,
                                    // reference files that cannot be read: a missing file, an empty name (refused by their place for the SHAP methods)
                                    ReferenceFiles = kind == 4 ? [rng.Next(2) == 0 ? "" : Path.Combine(Path.GetTempPath(), $"mvn-fuzz-missing-{rng.Next()}.png")] : null,
                                };
                                steps.Add($"Explain({string.Join("×", image.Shape)}, {method}, class {target?.ToString() ?? "predicted"}, {options.Steps} steps, {options.Samples} samples, batch {options.BatchSize}, references {(options.ReferenceFiles is { } files ? $"files ['{string.Join("'; '", files)}']" : references is null ? "none" : $"[{string.Join("; ", references.Select(r => string.Join("×", r.Shape)))}]")})");
                                if (Trace) Console.Error.WriteLine($"  {steps[^1]}");
                                Last = "Explain(attribution)";
                                explanation = predictor.Explain(image, method, target, options);
                                bool shap = method is MedVision.Nets.Explainability.AttributionMethod.GradientShap or MedVision.Nets.Explainability.AttributionMethod.DeepLiftShap;
                                if (shap && references is not { Count: > 0 })
                                    throw new ArithmeticException($"{string.Join(" → ", steps)}: {method} explained without reference images (or with unreadable reference files)");
                                // the methods that add up report by how much they miss, finite; the others report nothing
                                bool addsUp = shap || method is MedVision.Nets.Explainability.AttributionMethod.IntegratedGradients or MedVision.Nets.Explainability.AttributionMethod.DeepLift;
                                if (addsUp != explanation.ConvergenceDelta.HasValue || addsUp != explanation.ScoreChange.HasValue
                                    || explanation.ConvergenceDelta is { } d && !double.IsFinite(d) || explanation.ScoreChange is { } change && !double.IsFinite(change))
                                    throw new ArithmeticException($"{string.Join(" → ", steps)}: convergence delta {explanation.ConvergenceDelta?.ToString() ?? "none"}, score change {explanation.ScoreChange?.ToString() ?? "none"} from {method}");
                            }
                            CheckPrediction(explanation.Prediction, task, names, steps);
                            if (target is { } t && explanation.TargetClass != t || target is null && explanation.TargetClass != explanation.Prediction.Label)
                                throw new ArithmeticException($"{string.Join(" → ", steps)}: the map explains class {explanation.TargetClass}");
                            if (!explanation.MapShape.SequenceEqual(size) || explanation.Map.Length != size.Aggregate(1, (a, b) => a * b)
                                || explanation.Map.Any(v => !(v >= 0 && v <= 1)))
                                throw new ArithmeticException($"{string.Join(" → ", steps)}: a map of shape [{string.Join(", ", explanation.MapShape)}] with values outside [0, 1]");
                            break;
                        }
                    default:
                        {
                            var image = RandomImage(rng, 1, true, size);
                            // Now and then with voxel sizes, so that a card's spacing resamples it.
                            var voxelSize = rng.Next(2) == 0 ? null : Enumerable.Range(0, 3).Select(_ => (float)Math.Round(0.3 + (rng.NextDouble() * 3), 2)).ToArray();
                            var nifti = new MedVision.Nets.Data.Nifti.NiftiImage(image.Data, new[] { image.Shape[3], image.Shape[2], image.Shape[1] }, voxelSize);
                            steps.Add($"PredictVolume({string.Join("×", nifti.Shape)})");
                            if (Trace) Console.Error.WriteLine($"  {steps[^1]}");
                            Last = "PredictVolume";
                            CheckPrediction(predictor.PredictVolume(nifti), task, names, steps);
                            break;
                        }
                }
            }
        }
    }

    /// <summary>
    /// An ensemble of 1–3 predictors over model files written for the step: one task, class count and kind of input (2-D
    /// or 3-D), each member with its own random input size, channel count, preprocessing and flips, and now and then
    /// random weights (a negative or all-zero set among them); then 1–3 random calls: raw pixels, batches of images,
    /// volumes, explanations of a random class. Oracle: every member's prediction and the ensemble's are well-formed (as in the predictor step); the
    /// ensemble's probabilities are the weighted mean of the members', its agreement and spread follow from them; and a
    /// member asked directly gives exactly the prediction the ensemble reports for it (inputs are decoded once per group
    /// of members that prepare them alike, so this checks that grouping); an explanation predicts as Predict does,
    /// explains the class asked for (or the predicted one) and gives a map in [0, 1] of the largest member input size.
    /// </summary>
    public static void EnsembleStep(Random rng)
    {
        using var scope = Tensors.NewDisposeScope();
        var steps = new List<string>();
        bool volume = rng.Next(4) == 0;
        var tasks = Enum.GetValues<MedVision.Nets.Metrics.MedMnistTask>();
        var task = tasks[rng.Next(tasks.Length)];
        int classes = task == MedVision.Nets.Metrics.MedMnistTask.Binary ? 2 : rng.Next(2, 6);
        var names = Enumerable.Range(0, classes).Select(i => $"class{i}").ToArray();
        var members = new List<MedVision.Nets.Inference.Predictor>();
        MedVision.Nets.Inference.EnsemblePredictor ensemble;
        double[]? weights;
        try
        {
            for (int m = rng.Next(1, 4); m > 0; m--)
            {
                int channels = volume ? 1 : rng.Next(2) == 0 ? 1 : 3;
                var size = Enumerable.Range(0, volume ? 3 : 2).Select(_ => volume ? rng.Next(8, 12) : rng.Next(8, 33)).ToList();
                var card = RandomCard(rng, volume, channels, size);
                var flips = (MedVision.Nets.Inference.TestTimeFlips)rng.Next(volume ? 8 : 4);
                steps.Add($"member {members.Count}: {channels} channel(s), input [{string.Join(", ", size)}], {card.Resize}, flips {flips}");
                if (Trace) Console.Error.WriteLine($"  {steps[^1]}");
                members.Add(TinyPredictor(channels, volume, card, names, task, flips));
            }
            weights = rng.Next(3) != 0 ? null : members.Select(_ => rng.Next(8) == 0 ? (rng.Next(2) == 0 ? -1.0 : 0.0) : Math.Round(rng.NextDouble() * 3, 2)).ToArray();
            steps.Add($"weights {(weights is null ? "equal" : string.Join(", ", weights))}");
            Last = "EnsemblePredictor.Create";
            ensemble = MedVision.Nets.Inference.EnsemblePredictor.Create(members, weights);
        }
        catch
        {
            foreach (var member in members) member.Dispose(); // a refused Create leaves its members to the caller
            throw;
        }
        using (ensemble)
        {
            if (Math.Abs(ensemble.Weights.Sum() - 1) > 1e-12 || ensemble.Weights.Any(w => !(w >= 0)))
                throw new ArithmeticException($"{string.Join(" → ", steps)}: weights [{string.Join(", ", ensemble.Weights)}]");
            for (int call = rng.Next(1, 4); call > 0; call--)
            {
                int c = rng.Next(2) == 0 ? 1 : 3;
                int h = rng.Next(1, 40), w = rng.Next(1, 40);
                IReadOnlyList<MedVision.Nets.Inference.EnsemblePrediction> predictions;
                Func<MedVision.Nets.Inference.Predictor, IReadOnlyList<MedVision.Nets.Inference.Prediction>> direct;
                if (rng.Next(4) == 0)
                {
                    // An explanation: the members' maps of the ensemble's class (or one asked for) on the largest input size.
                    var image = RandomImage(rng, volume || rng.Next(4) != 0 ? 1 : 3, volume, new List<int>(ensemble.Members[0].Card.Preprocessing.InputSize));
                    var method = rng.Next(2) == 0 ? MedVision.Nets.Explainability.CamMethod.GradCam : MedVision.Nets.Explainability.CamMethod.GradCamPlusPlus;
                    int? target = rng.Next(2) == 0 ? null : rng.Next(-1, classes + 1);
                    steps.Add($"Explain({string.Join("×", image.Shape)}, {method}, class {target?.ToString() ?? "predicted"})");
                    if (Trace) Console.Error.WriteLine($"  {steps[^1]}");
                    Last = "EnsemblePredictor.Explain";
                    var explanation = ensemble.Explain(image, method, target);
                    var shape = Enumerable.Range(0, volume ? 3 : 2).Select(d => ensemble.Members.Max(m => m.Card.Preprocessing.InputSize[d])).ToArray();
                    CheckPrediction(explanation.Prediction, task, names, steps);
                    if (!explanation.Prediction.Probabilities.SequenceEqual(ensemble.Predict(image).Probabilities)
                        || explanation.TargetClass != (target ?? explanation.Prediction.Label)
                        || !explanation.MapShape.SequenceEqual(shape) || explanation.Map.Length != shape.Aggregate(1, (a, b) => a * b)
                        || explanation.Map.Any(v => !(v >= 0 && v <= 1)))
                        throw new ArithmeticException($"{string.Join(" → ", steps)}: class {explanation.TargetClass}, a map of shape [{string.Join(", ", explanation.MapShape)}] (largest input [{string.Join(", ", shape)}]) in [{explanation.Map.Min()}, {explanation.Map.Max()}]");
                    continue;
                }
                switch (rng.Next(volume ? 3 : 2))
                {
                    case 0 when !volume:
                        {
                            var pixels = new byte[h * w * c];
                            rng.NextBytes(pixels);
                            steps.Add($"PredictPixels(w {w}, h {h}, c {c})");
                            Last = "EnsemblePredictor.PredictPixels";
                            predictions = new[] { ensemble.PredictPixels(pixels, w, h, c) };
                            direct = p => new[] { p.PredictPixels(pixels, w, h, c) };
                            break;
                        }
                    case 0:
                    case 1:
                        {
                            var images = Enumerable.Range(0, rng.Next(1, 4)).Select(_ => RandomImage(rng, volume || rng.Next(4) != 0 ? 1 : 3, volume, new List<int>(ensemble.Members[0].Card.Preprocessing.InputSize))).ToList();
                            steps.Add($"Predict([{string.Join("; ", images.Select(i => string.Join("×", i.Shape)))}])");
                            Last = "EnsemblePredictor.Predict";
                            predictions = ensemble.Predict(images);
                            direct = p => p.Predict(images);
                            break;
                        }
                    default:
                        {
                            var image = RandomImage(rng, 1, true, new List<int>(ensemble.Members[0].Card.Preprocessing.InputSize));
                            var voxelSize = rng.Next(2) == 0 ? null : Enumerable.Range(0, 3).Select(_ => (float)Math.Round(0.3 + (rng.NextDouble() * 3), 2)).ToArray();
                            var nifti = new MedVision.Nets.Data.Nifti.NiftiImage(image.Data, new[] { image.Shape[3], image.Shape[2], image.Shape[1] }, voxelSize);
                            steps.Add($"PredictVolume({string.Join("×", nifti.Shape)})");
                            Last = "EnsemblePredictor.PredictVolume";
                            predictions = new[] { ensemble.PredictVolume(nifti) };
                            direct = p => new[] { p.PredictVolume(nifti) };
                            break;
                        }
                }
                if (Trace) Console.Error.WriteLine($"  {steps[^1]}");
                string where = string.Join(" → ", steps);
                foreach (var p in predictions)
                {
                    CheckPrediction(p, task, names, steps);
                    if (p.Members.Count != ensemble.Members.Count) throw new ArithmeticException($"{where}: {p.Members.Count} members' predictions");
                    foreach (var m in p.Members) CheckPrediction(m, task, names, steps);
                    for (int k = 0; k < classes; k++)
                    {
                        double mean = Enumerable.Range(0, p.Members.Count).Sum(m => ensemble.Weights[m] * p.Members[m].Probabilities[k]);
                        double spread = Math.Sqrt(Enumerable.Range(0, p.Members.Count).Sum(m => ensemble.Weights[m] * Math.Pow(p.Members[m].Probabilities[k] - p.Probabilities[k], 2)));
                        if (Math.Abs(mean - p.Probabilities[k]) > 1e-6 || Math.Abs(spread - p.ProbabilitySpread[k]) > 1e-5)
                            throw new ArithmeticException($"{where}: class {k}: probability {p.Probabilities[k]} (members' mean {mean}), spread {p.ProbabilitySpread[k]} ({spread})");
                    }
                    if (Math.Abs(p.Agreement - (p.Members.Count(m => m.Label == p.Label) / (double)p.Members.Count)) > 1e-12)
                        throw new ArithmeticException($"{where}: agreement {p.Agreement}");
                }
                int asked = rng.Next(ensemble.Members.Count);
                Last = "Predictor (a member, directly)";
                var alone = direct(ensemble.Members[asked]);
                for (int i = 0; i < alone.Count; i++)
                    if (!alone[i].Probabilities.SequenceEqual(predictions[i].Members[asked].Probabilities))
                        throw new ArithmeticException($"{where}: member {asked} alone gives [{string.Join(", ", alone[i].Probabilities)}], in the ensemble [{string.Join(", ", predictions[i].Members[asked].Probabilities)}]");
            }
        }
    }

    // A predictor over a model file written for the step (a narrow ResNet-18 with the card, classes and task given),
    // the file deleted once loaded.
    private static MedVision.Nets.Inference.Predictor TinyPredictor(int channels, bool volume, MedVision.Nets.Inference.PreprocessingCard card, string[] names,
        MedVision.Nets.Metrics.MedMnistTask task, MedVision.Nets.Inference.TestTimeFlips flips)
    {
        string path = Path.Combine(Path.GetTempPath(), $"mvfuzz-predictor-{Environment.ProcessId}.safetensors");
        Last = "ModelFile.Save";
        using (var model = MedVision.Nets.Models.ResNet.Builder().WithDepth(18).WithWidths(2, 2, 2, 2).ForInput(channels, volume ? 3 : 2).WithSmallInputStem().WithClasses(names.Length).Build())
            MedVision.Nets.Inference.ModelFile.Save(path, model, MedVision.Nets.Inference.ModelFile.Describe(model, card, names, task));
        try
        {
            Last = "Predictor.Load";
            return MedVision.Nets.Inference.Predictor.Load(path, flips: flips);
        }
        finally
        {
            File.Delete(path);
        }
    }

    // A model card's preprocessing for a model of `channels` and input `size`: random statistics, resizing, per-input
    // normalisation, 8-bit resizing of 2-D images, and for volumes foreground crops, spacing, crop-or-pad, alignment, percentiles and channel-wise scaling.
    private static MedVision.Nets.Inference.PreprocessingCard RandomCard(Random rng, bool volume, int channels, List<int> size)
    {
        int statistics = rng.Next(2) == 0 ? 1 : channels; // one mean and std for all channels, or one per channel
        string resize = rng.Next(2) == 0 ? "linear" : "nearest";
        return new MedVision.Nets.Inference.PreprocessingCard
        {
            InputSize = size, Channels = channels,
            Mean = Enumerable.Range(0, statistics).Select(_ => (float)Math.Round(rng.NextDouble(), 2)).ToList(),
            Std = Enumerable.Range(0, statistics).Select(_ => (float)Math.Round(0.1 + rng.NextDouble(), 2)).ToList(),
            Resize = resize,
            // 2-D images now and then resized as 8-bit pixels before the scaling (format 7).
            ResizeEightBit = !volume && resize == "linear" && rng.Next(2) == 0 ? true : null,
            // Now and then each input normalised by its own statistics first (card format 3).
            IntensityNormalization = rng.Next(4) == 0 ? new MedVision.Nets.Inference.IntensityNormalizationCard { NonZero = rng.Next(2) == 0, ChannelWise = rng.Next(2) == 0 } : null,
            // Volumes now and then cropped to their foreground first (a threshold inside or outside their range, a margin).
            CropForeground = volume && rng.Next(3) == 0 ? new MedVision.Nets.Inference.ForegroundCropCard { Threshold = (float)Math.Round(rng.NextDouble() * 2 - 0.5, 2), Margin = rng.Next(4) } : null,
            // Volumes now and then resampled to a voxel size first, and brought to the input size by crop-or-pad (format 5).
            Spacing = volume && rng.Next(3) == 0 ? Enumerable.Range(0, 3).Select(_ => (float)Math.Round(0.5 + (rng.NextDouble() * 2), 2)).ToList() : null,
            Fit = volume && rng.Next(3) == 0 ? "crop_or_pad" : null,
            AlignModalities = volume && rng.Next(4) == 0 ? true : null,
            IntensityPercentiles = volume && rng.Next(4) == 0 ? [Math.Round(rng.NextDouble() * 10, 1), Math.Round(90 + (rng.NextDouble() * 10), 1)] : null,
            // Volumes now and then scaled channel by channel (format 6).
            IntensityChannelWise = volume && rng.Next(3) == 0 ? true : null,
        };
    }

    // A [0, 1] image (C, H, W) or volume (C, D, H, W) of a random size, now and then with the card's exact size, and now
    // and then holding NaN or infinity.
    private static MedVision.Nets.Transforms.FloatImage RandomImage(Random rng, int channels, bool volume, List<int> size)
    {
        var shape = new List<int> { Math.Max(1, channels) };
        if (rng.Next(3) == 0) shape.AddRange(size);
        else shape.AddRange(Enumerable.Range(0, volume ? 3 : 2).Select(_ => rng.Next(1, volume ? 14 : 40)));
        var data = new float[shape.Aggregate(1, (a, b) => a * b)];
        for (int i = 0; i < data.Length; i++) data[i] = (float)rng.NextDouble();
        if (rng.Next(10) == 0) data[rng.Next(data.Length)] = rng.Next(2) == 0 ? float.NaN : float.PositiveInfinity;
        return new MedVision.Nets.Transforms.FloatImage(data, shape.ToArray());
    }

    private static void CheckPrediction(MedVision.Nets.Inference.Prediction p, MedVision.Nets.Metrics.MedMnistTask task, string[] names, List<string> steps)
    {
        string where = string.Join(" → ", steps);
        if (p.Probabilities.Count != names.Length || p.Probabilities.Any(q => !(q >= 0 && q <= 1)))
            throw new ArithmeticException($"{where}: probabilities [{string.Join(", ", p.Probabilities)}]");
        if (task != MedVision.Nets.Metrics.MedMnistTask.MultiLabel && Math.Abs(p.Probabilities.Sum() - 1) > 1e-4)
            throw new ArithmeticException($"{where}: probabilities [{string.Join(", ", p.Probabilities)}] sum to {p.Probabilities.Sum()}");
        if (p.Probabilities[p.Label] != p.Probabilities.Max() || p.LabelName != names[p.Label])
            throw new ArithmeticException($"{where}: label {p.Label} ({p.LabelName}) for [{string.Join(", ", p.Probabilities)}]");
        bool ordinal = task == MedVision.Nets.Metrics.MedMnistTask.OrdinalRegression;
        double expected = p.Probabilities.Select((q, k) => (double)q * k).Sum();
        if (ordinal != (p.Grade is not null) || ordinal && (p.Grade != p.Label || Math.Abs(p.ExpectedGrade!.Value - expected) > 1e-6))
            throw new ArithmeticException($"{where}: grade {p.Grade}, expected grade {p.ExpectedGrade} for [{string.Join(", ", p.Probabilities)}]");
    }

    /// <summary>
    /// A Trainer with random options over a tiny classifier (Flatten → Linear) and 4–24 in-memory images: optimizer
    /// (Adam or SGD with random hyper-parameters, or RMSprop, Adagrad, NAdam, RAdam), multi-step, cosine, 1cycle or plateau schedule, 1–4 epochs, early stopping, gradient clipping
    /// and accumulation, weight averaging, batch mixing, label smoothing, validation/test/train-evaluation loaders,
    /// checkpoints (then a resumed run for more epochs). Each number is an ordinary one nine times in ten. Oracle: one history
    /// record per epoch run (all of them unless it stopped early), epochs numbered in order, the best epoch among them,
    /// finite losses and learning rates, metrics in [0, 1] or NaN (not evaluated, or one class present), progress
    /// reports for every step, and, with a folder, a resumed run that continues where the first one ended.
    /// </summary>
    public static void TrainerStep(Random rng)
    {
        using var scope = Tensors.NewDisposeScope();
        var steps = new List<string>();
        bool ordinary = true; // false once an argument is outside the everyday range (divergence is then accepted)
        double Number(double low, double high)
        {
            if (rng.Next(10) != 0) return Math.Round(low + rng.NextDouble() * (high - low), 3);
            ordinary = false;
            return Double(rng);
        }
        int Count(int low, int high)
        {
            if (rng.Next(10) != 0) return rng.Next(low, high + 1);
            ordinary = false;
            return Int(rng);
        }
        var source = new MemorySource(rng.Next(4, 25), rng);
        DataLoader Loader(bool shuffle) => new(source, new MedVision.Nets.Data.Loading.DataLoaderOptions { BatchSize = rng.Next(1, 9), Shuffle = shuffle, Seed = rng.Next(100) });
        using var model = new MedVision.Torch.Nn.Sequential(new MedVision.Torch.Nn.Flatten(), new MedVision.Torch.Nn.Linear(16, 3));
        double smoothing = rng.Next(3) == 0 ? Number(0, 0.3) : 0;
        var task = new MedVision.Nets.Training.ClassificationTask(model, MedVision.Nets.Metrics.MedMnistTask.MultiClass, labelSmoothing: smoothing);
        steps.Add($"{source.Count} images, label smoothing {smoothing}");
        if (rng.Next(4) == 0)
        {
            var mixing = rng.Next(2) == 0 ? MedVision.Nets.Training.BatchMixing.Mixup(Number(0.1, 1), Number(0, 1)) : MedVision.Nets.Training.BatchMixing.CutMix(Number(0.1, 1), Number(0, 1));
            task.WithBatchMixing(mixing);
            steps.Add($"{mixing}");
        }
        // Every configuration step is kept, so that a resumed run can be configured as the first one was.
        var builder = MedVision.Nets.Training.Trainer.Create(task);
        var config = new List<Action<MedVision.Nets.Training.TrainerBuilder>>();
        void Apply(Action<MedVision.Nets.Training.TrainerBuilder> step) { config.Add(step); step(builder); }
        var train = Loader(true);
        Apply(b => b.TrainOn(train));
        bool validation = rng.Next(3) != 0;
        if (validation) { var loader = Loader(false); Apply(b => b.ValidateOn(loader)); }
        if (rng.Next(3) == 0) { var loader = Loader(false); Apply(b => b.TestOn(loader)); steps.Add("test"); }
        if (rng.Next(3) == 0) { var loader = Loader(false); Apply(b => b.EvaluateTrainingOn(loader)); steps.Add("train evaluation"); }
        int epochs = Count(1, 4);
        if (epochs > 4)
        {
            // Accepted (a run of 2^31 epochs is legal, only long): check that much, then run four.
            builder.ForEpochs(epochs);
            epochs = 4;
        }
        int seed = rng.Next(100);
        int? patience = null;
        string? folder = null;
        var progress = new List<MedVision.Nets.Training.TrainingProgress>();
        try
        {
            foreach (var option in Enumerable.Range(0, 14).Where(_ => rng.Next(2) == 0))
            {
                switch (option)
                {
                    case 0: { double lr = Number(1e-4, 0.1), wd = rng.Next(2) == 0 ? 0 : Number(0, 0.1); steps.Add($"UseAdam({lr}, {wd})"); Apply(b => b.UseAdam(lr, wd)); break; }
                    case 1: { double lr = Number(1e-3, 0.5), m = Number(0, 0.99), wd = rng.Next(2) == 0 ? 0 : Number(0, 0.1); bool n = rng.Next(2) == 0; steps.Add($"UseSgd({lr}, {m}, {wd}, {n})"); Apply(b => b.UseSgd(lr, m, wd, n)); break; }
                    case 2: { double a = Number(0.1, 0.6), b = Number(0.6, 0.9), g = Number(0.05, 0.5); steps.Add($"WithMultiStepSchedule({a}, {b}, {g})"); Apply(t => t.WithMultiStepSchedule(a, b, g)); break; }
                    case 3: { patience = Count(1, 2); steps.Add($"StopEarlyAfter({patience})"); Apply(b => b.StopEarlyAfter(patience.Value)); break; }
                    case 4: { double c = Number(0.1, 5); steps.Add($"ClipGradientsTo({c})"); Apply(b => b.ClipGradientsTo(c)); break; }
                    case 5: { int a = Count(1, 3); steps.Add($"AccumulateGradients({a})"); Apply(b => b.AccumulateGradients(a)); break; }
                    case 6: { double d = Number(0, 0.99); steps.Add($"AverageWeights({d})"); Apply(b => b.AverageWeights(d)); break; }
                    case 8: { double m = Number(1e-3, 0.1), f = Number(0, 1); bool c = rng.Next(2) == 0; steps.Add($"WithOneCycleSchedule({m}, {f}, cycleMomentum: {c})"); Apply(b => b.WithOneCycleSchedule(m, f, cycleMomentum: c)); break; }
                    case 11: { double f = Number(0, 0.9); int p = Count(0, 2); steps.Add($"WithPlateauSchedule({f}, {p})"); Apply(b => b.WithPlateauSchedule(f, p)); break; }
                    case 9: { int w = Count(0, 2); double m = Number(0, 1e-3); steps.Add($"WithCosineSchedule({w}, {m})"); Apply(b => b.WithCosineSchedule(w, m)); break; }
                    case 13: { int t = Count(1, 2), m = Count(1, 3); double e = Number(0, 1e-3); steps.Add($"WithWarmRestartsSchedule({t}, {m}, {e})"); Apply(b => b.WithWarmRestartsSchedule(t, m, e)); break; }
                    case 12: { double lr = Number(1e-4, 0.05), f = Number(0, 0.99); int a = Count(0, 3); steps.Add($"WithStochasticWeightAveraging({lr}, {f}, {a})"); Apply(b => b.WithStochasticWeightAveraging(lr, f, a)); break; }
                    case 10:
                    {
                        double lr = Number(1e-4, 0.05);
                        int which = rng.Next(4);
                        steps.Add($"UseOptimizer({new[] { "RmsProp", "Adagrad", "NAdam", "RAdam" }[which]}({lr}))");
                        Apply(b => b.UseOptimizer(p => which switch
                        {
                            0 => new MedVision.Torch.Optim.RmsProp(p, lr, momentum: 0.5),
                            1 => new MedVision.Torch.Optim.Adagrad(p, lr),
                            2 => new MedVision.Torch.Optim.NAdam(p, lr),
                            _ => (MedVision.Torch.Optim.Optimizer)new MedVision.Torch.Optim.RAdam(p, lr),
                        }));
                        break;
                    }
                    default: { folder = Directory.CreateTempSubdirectory("mvfuzz-trainer-").FullName; steps.Add("SaveTo(folder)"); Apply(b => b.SaveTo(folder)); break; }
                }
            }
            if (!steps.Any(s => s.StartsWith("Use", StringComparison.Ordinal))) Apply(b => b.UseAdam(0.01));
            steps.Add($"ForEpochs({epochs})");
            if (Trace) Console.Error.WriteLine($"  {string.Join(" → ", steps)}");
            Last = "ForEpochs";
            Apply(b => b.WithSeed(seed));
            builder.ForEpochs(epochs).ReportProgressTo(new SyncProgress(progress));
            Last = "Build";
            var trainer = builder.Build();
            Last = "Run";
            var result = Diverges(() => trainer.Run(), ordinary, steps);
            CheckRun(result, epochs, patience, validation, steps);
            int stepsPerEpoch = progress.Count == 0 ? 0 : progress[0].StepsPerEpoch;
            if (progress.Count(p => p.Completed is null) != result.History.Count * stepsPerEpoch || progress.Count(p => p.Completed is not null) != result.History.Count)
                throw new ArithmeticException($"{string.Join(" → ", steps)}: {progress.Count} progress reports for {result.History.Count} epochs of {stepsPerEpoch} steps");
            if (folder is not null && !result.StoppedEarly)
            {
                // The same configuration for more epochs, resumed: the history continues from the saved one.
                int more = epochs + rng.Next(1, 3);
                Last = "Resume";
                var again = MedVision.Nets.Training.Trainer.Create(task);
                foreach (var step in config) step(again);
                again.ForEpochs(more);
                var resumed = Diverges(() => again.Build().Run(resume: true), ordinary, steps);
                if ((resumed.StoppedEarly ? resumed.History.Count > more || resumed.History.Count <= result.History.Count : resumed.History.Count != more) || !resumed.History.Take(result.History.Count).Select(h => h.TrainLoss).SequenceEqual(result.History.Select(h => h.TrainLoss)))
                    throw new ArithmeticException($"{string.Join(" → ", steps)}: resumed for {more} epochs, the history has {resumed.History.Count} records or rewrote the first {result.History.Count}");
            }
        }
        finally
        {
            if (folder is not null) Directory.Delete(folder, recursive: true);
        }
    }

    private sealed class SyncProgress : IProgress<MedVision.Nets.Training.TrainingProgress>
    {
        private readonly List<MedVision.Nets.Training.TrainingProgress> _reports;
        public SyncProgress(List<MedVision.Nets.Training.TrainingProgress> reports) => _reports = reports;
        public void Report(MedVision.Nets.Training.TrainingProgress value) { lock (_reports) _reports.Add(value); }
    }

    // A run that diverges (NaN or infinite loss) is an accepted outcome when an argument was extraordinary (a learning
    // rate of 1e300), and a finding otherwise.
    private static MedVision.Nets.Training.TrainingResult Diverges(Func<MedVision.Nets.Training.TrainingResult> run, bool ordinary, List<string> steps)
    {
        try
        {
            return run();
        }
        catch (MedVision.Nets.Training.TrainingDivergedException e)
        {
            if (ordinary) throw new ArithmeticException($"{string.Join(" → ", steps)}: diverged with ordinary options: {e.Message}");
            throw new InvalidOperationException($"accepted: {e.Message}", e);
        }
    }

    private static void CheckRun(MedVision.Nets.Training.TrainingResult result, int epochs, int? patience, bool validation, List<string> steps)
    {
        string where = string.Join(" → ", steps);
        var history = result.History;
        if (history.Count == 0 || history.Count > epochs || (history.Count < epochs) != result.StoppedEarly || (result.StoppedEarly && patience is null))
            throw new ArithmeticException($"{where}: {history.Count} of {epochs} epochs, stopped early {result.StoppedEarly}");
        if (history.Select(h => h.Epoch).Where((e, i) => e != i).Any() || result.BestEpoch < 0 || result.BestEpoch >= history.Count || (!validation && result.BestEpoch != history.Count - 1))
            throw new ArithmeticException($"{where}: epochs [{string.Join(", ", history.Select(h => h.Epoch))}], best {result.BestEpoch}");
        foreach (var h in history)
        {
            if (!double.IsFinite(h.TrainLoss) || !(h.LearningRate >= 0) || !double.IsFinite(h.LearningRate) || h.TrainLossTerms.Values.Any(v => !double.IsFinite(v)))
                throw new ArithmeticException($"{where}: epoch {h.Epoch} loss {h.TrainLoss}, learning rate {h.LearningRate}");
            if (validation && double.IsNaN(h.Validation.Acc)) throw new ArithmeticException($"{where}: epoch {h.Epoch} was not validated");
        }
        foreach (var m in history.Select(h => h.Validation).Append(result.Train).Append(result.Validation).Append(result.Test))
            if (!(double.IsNaN(m.Auc) || m.Auc is >= 0 and <= 1) || !(double.IsNaN(m.Acc) || m.Acc is >= 0 and <= 1))
                throw new ArithmeticException($"{where}: metrics AUC {m.Auc}, ACC {m.Acc}");
    }

    private sealed class MemorySource : MedVision.Nets.Data.Loading.ILabeledImageSource
    {
        private readonly int[] _labels;
        public MemorySource(int count, Random rng) => _labels = Enumerable.Range(0, count).Select(_ => rng.Next(3)).ToArray();
        public int Count => _labels.Length;
        public int LabelColumns => 1;
        public (MedVision.Nets.Transforms.FloatImage Image, int[] Labels) Load(int index) =>
            (new MedVision.Nets.Transforms.FloatImage(Enumerable.Repeat((float)index, 16).ToArray(), 1, 4, 4), new[] { _labels[index] });
    }

    private static int LoaderInt(Random rng) => rng.Next(4) != 0 ? rng.Next(1, 9) : (int)Value(typeof(int), rng, typeof(int))!;

    /// <summary>
    /// A DataLoader over 1–20 in-memory images with random options (batch size, shuffle, drop-last, seed, prefetch, a
    /// weighted sampler with random weights and sample count, a distributed sampler with random rank and world size),
    /// iterated for one epoch. Oracle: as many batches as <c>BatchesPerEpoch</c> says, as many samples as
    /// <c>SamplesPerEpoch</c>, every batch no larger than the batch size, every index one of the source's.
    /// </summary>
    public static void LoaderStep(Random rng)
    {
        using var scope = Tensors.NewDisposeScope();
        var source = new MemorySource(rng.Next(1, 21), rng);
        var options = new MedVision.Nets.Data.Loading.DataLoaderOptions();
        var steps = new List<string> { $"source of {source.Count}" };
        Last = "options";
        options.BatchSize = LoaderInt(rng);
        options.Shuffle = rng.Next(2) == 0;
        options.DropLast = rng.Next(3) == 0;
        options.Seed = rng.Next();
        options.Prefetch = rng.Next(4) != 0 ? rng.Next(0, 4) : LoaderInt(rng);
        if (rng.Next(8) == 0) options.LabelKind = (MedVision.Nets.Data.Loading.LabelKind)Value(typeof(MedVision.Nets.Data.Loading.LabelKind), rng, typeof(int))!;
        steps.Add($"batch {options.BatchSize}, shuffle {options.Shuffle}, drop-last {options.DropLast}, prefetch {options.Prefetch}, labels {options.LabelKind}");
        if (rng.Next(3) == 0)
        {
            Last = "new WeightedRandomSampler";
            var weights = Enumerable.Range(0, rng.Next(4) == 0 ? rng.Next(0, 25) : source.Count).Select(_ => rng.Next(10) == 0 ? Double(rng) : rng.NextDouble()).ToArray();
            int? numSamples = rng.Next(3) == 0 ? null : LoaderInt(rng);
            bool replacement = rng.Next(3) != 0;
            steps.Add($"weighted [{string.Join(", ", weights.Select(w => w.ToString("G3", System.Globalization.CultureInfo.InvariantCulture)))}], {numSamples?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "null"}, replacement {replacement}");
            options.WeightedSampler = new MedVision.Nets.Data.Loading.WeightedRandomSampler(weights, numSamples, replacement);
        }
        if (rng.Next(3) == 0)
        {
            Last = "new DistributedSampler";
            int world = LoaderInt(rng), rank = rng.Next(4) != 0 && world > 0 ? rng.Next(world) : LoaderInt(rng);
            bool pad = rng.Next(2) == 0;
            steps.Add($"distributed rank {rank} of {world}, pad {pad}");
            options.Sampler = new MedVision.Nets.Data.Loading.DistributedSampler(rank, world, pad);
        }
        if (Trace) Console.Error.WriteLine($"  {string.Join("; ", steps)}");
        Last = "new DataLoader";
        var loader = new MedVision.Nets.Data.Loading.DataLoader(source, options);
        Last = "Epoch";
        int expectedBatches = loader.BatchesPerEpoch, expectedSamples = loader.SamplesPerEpoch;
        if (expectedBatches < 0 || expectedSamples < 0)
            throw new ArithmeticException($"{string.Join("; ", steps)}: {expectedBatches} batches, {expectedSamples} samples per epoch");
        int batches = 0, samples = 0;
        foreach (var batch in loader.Epoch(rng.Next(3)))
        {
            using (batch)
            {
                batches++;
                samples += batch.Count;
                if (batch.Count > options.BatchSize || batch.Count == 0 || batch.Images.Size(0) != batch.Count || batch.Indices.Any(i => i < 0 || i >= source.Count))
                    throw new ArithmeticException($"{string.Join("; ", steps)}: batch {batches} of {batch.Count} samples, images [{string.Join(", ", batch.Images.Shape)}], indices [{string.Join(", ", batch.Indices)}]");
            }
        }
        if (batches != expectedBatches || (options.DropLast ? samples > expectedSamples : samples != expectedSamples))
            throw new ArithmeticException($"{string.Join("; ", steps)}: {batches} batches of {samples} samples, but BatchesPerEpoch {expectedBatches}, SamplesPerEpoch {expectedSamples}");
    }

    private static object? Invoke(MethodBase method, object? target, object?[] args)
    {
        try
        {
            return method is ConstructorInfo constructor ? constructor.Invoke(args) : method.Invoke(target, args);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
    }

    private static void Use(object? result)
    {
        switch (result)
        {
            case Tensor t:
                _ = t.Shape;
                using (var c = t.Contiguous())
                    if (c.NumElements > 0 && c.NumElements < 1_000_000) _ = c.To(ScalarType.Float64).ToArray<double>();
                _ = t.ToString();
                break;
            case System.Collections.IEnumerable items and not string:
                foreach (var item in items) Use(item);
                break;
            case System.Runtime.CompilerServices.ITuple tuple:
                for (int i = 0; i < tuple.Length; i++) Use(tuple[i]);
                break;
            case IDisposable d:
                d.Dispose();
                break;
        }
    }

    private static string Describe(object? value) => value switch
    {
        null => "null",
        Tensor t when t.IsDisposed => "disposed tensor",
        Tensor t => $"{t.ScalarType}[{string.Join(", ", t.Shape)}]{(t.RequiresGrad ? " grad" : "")}",
        Array a => $"{a.GetType().GetElementType()!.Name}[{string.Join(", ", a.Cast<object?>().Take(8).Select(Describe))}{(a.Length > 8 ? $", … ({a.Length})" : "")}]",
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "?",
    };

    /// <summary>Prints the methods fuzzed and those skipped (with why).</summary>
    public static void List()
    {
        foreach (var m in Api.Methods) Console.WriteLine(Name(m));
        foreach (var s in Api.Skipped) Console.WriteLine($"skipped {s}");
        Console.WriteLine($"{Api.Methods.Length} methods fuzzed, {Api.Skipped.Count} skipped");
        foreach (var m in Metrics.Methods) Console.WriteLine(Name(m));
        foreach (var s in Metrics.Skipped) Console.WriteLine($"skipped {s}");
        Console.WriteLine($"{Metrics.Methods.Length} metric methods fuzzed, {Metrics.Skipped.Count} skipped");
        foreach (var c in Layers.Constructors) Console.WriteLine($"new {c.DeclaringType!.Name}({string.Join(", ", c.GetParameters().Select(p => p.ParameterType.Name))})");
        foreach (var s in Layers.Skipped) Console.WriteLine($"skipped {s}");
        Console.WriteLine($"{Layers.Constructors.Length} layer constructors fuzzed, {Layers.Skipped.Count} skipped");
    }
}
