// Null arguments, checked exhaustively (not at random): every public constructor and method of MedVision.Torch,
// MedVision.Nets and MedVision.Onnx, once for each reference parameter that is not annotated nullable, with null there and plausible
// values elsewhere. The call must throw ArgumentNullException naming that parameter (a property setter may name the
// property) before it does anything else, also for iterators and async methods (eagerly, as the .NET design
// guidelines ask): never a NullReferenceException from inside, another exception, a native crash, or a silent success.
//   FormatFuzzer nulls [--script f.pt]       (exit 0 when every case threw ArgumentNullException with the right ParamName;
//                                             a TorchScript file brings the ScriptModule members in)
//   FormatFuzzer nulls-list [--script f.pt]  (the cases, and the members skipped with the reason)
using System.Collections;
using System.Reflection;
using MedVision.Torch;
using MedVision.Torch.Nn;

internal static class NullFuzz
{
    private static readonly NullabilityInfoContext Nullability = new();

    private static readonly Assembly[] Assemblies = { typeof(Tensor).Assembly, typeof(MedVision.Nets.Losses.FocalLoss).Assembly, typeof(MedVision.Onnx.OnnxExporter).Assembly };

    // Members whose call would change the process for the rest of the run, or that are not argument-taking API.
    private static readonly HashSet<string> Excluded = new(StringComparer.Ordinal) { "Equals", "GetHashCode", "GetType", "ToString", "Dispose", "Deconstruct", "<Clone>$" };

    /// <summary>A case: a member, and the index of the parameter set to null.</summary>
    private sealed record Case(MethodBase Member, int Parameter)
    {
        public string Name => $"{Describe(Member)} with {Member.GetParameters()[Parameter].Name} = null";
    }

    private static string Describe(MethodBase m) =>
        $"{(m is ConstructorInfo ? "new " : "")}{m.DeclaringType!.FullName!.Replace("MedVision.", "", StringComparison.Ordinal)}{(m is ConstructorInfo ? "" : "." + m.Name)}({string.Join(", ", m.GetParameters().Select(p => p.ParameterType.Name))})";

    private static (List<Case> Cases, List<string> Skipped) Discover()
    {
        var cases = new List<Case>();
        var skipped = new List<string>();
        foreach (var exported in Assemblies.SelectMany(a => a.GetExportedTypes()).OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            if (exported.IsInterface || typeof(Delegate).IsAssignableFrom(exported)) continue;
            var type = Close(exported);
            if (type is null) { skipped.Add($"{exported.FullName}: no type argument meets its constraints"); continue; }
            var members = new List<MethodBase>();
            if (!type.IsAbstract) members.AddRange(type.GetConstructors());
            var flags = BindingFlags.Public | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly;
            members.AddRange(type.GetMethods(flags).Where(m => !Excluded.Contains(m.Name) && !m.IsAbstract));
            foreach (var member in members.OrderBy(Describe, StringComparer.Ordinal))
            {
                if (ExemptSetter(type, member)) continue;
                var parameters = member.GetParameters();
                for (int p = 0; p < parameters.Length; p++)
                {
                    if (!NonNullable(parameters[p])) continue;
                    string? why = parameters.Any(q => q.ParameterType.IsByRefLike || q.ParameterType.IsPointer) ? "span or pointer parameter (reflection cannot pass it)"
                        : member.ContainsGenericParameters && member is MethodInfo { IsGenericMethodDefinition: false } ? "open generic type" : null;
                    if (why is null && !member.IsStatic && member is MethodInfo && Instance(type, 0) is null) why = $"no instance of {type.Name} can be made here";
                    if (why is not null) { skipped.Add($"{Describe(member)}: {why}"); break; }
                    cases.Add(new Case(member, p));
                }
            }
        }
        return (cases, skipped);
    }

    // Setters not checked: the init accessors of positional records (their constructor checks; a `with` copy is left as
    // C# makes it), and properties of JSON documents (model cards), which take what the file says and are validated when
    // the file is loaded (ModelFormatException, fuzzed by the "card" mode). Options classes' setters are checked.
    private static bool ExemptSetter(Type type, MethodBase member)
    {
        if (member is not MethodInfo { IsSpecialName: true } m || !m.Name.StartsWith("set_", StringComparison.Ordinal)) return false;
        var property = type.GetProperty(m.Name[4..], BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static);
        if (property?.GetCustomAttribute<System.Text.Json.Serialization.JsonPropertyNameAttribute>() is not null) return true;
        bool init = m.ReturnParameter.GetRequiredCustomModifiers().Contains(typeof(System.Runtime.CompilerServices.IsExternalInit));
        return init && type.GetMethod("<Clone>$") is not null && type.GetConstructors().Any(c => c.GetParameters().Any(p => p.Name == property?.Name));
    }

    // A generic type closed over Tensor (Module<Tensor, Tensor>, LossComposite<Tensor>), else over float.
    private static Type? Close(Type type)
    {
        if (!type.IsGenericTypeDefinition) return type;
        foreach (var argument in new[] { typeof(Tensor), typeof(float) })
        {
            try { return type.MakeGenericType(type.GetGenericArguments().Select(_ => argument).ToArray()); }
            catch (ArgumentException) { }
        }
        return null;
    }

    private static bool NonNullable(ParameterInfo p)
    {
        var t = p.ParameterType;
        if (t.IsByRef) t = t.GetElementType()!;
        if (t.IsValueType || t.IsGenericParameter || t.IsPointer || p.IsOut) return false;
        return Nullability.Create(p).WriteState == NullabilityState.NotNull;
    }

    // Plausible values: small sizes, a 2×3 float tensor, a short array, an object made by its simplest constructor.
    private static object? Plausible(Type t, int depth)
    {
        if (t.IsByRef) t = t.GetElementType()!;
        if (Nullable.GetUnderlyingType(t) is not null) return null;
        if (t == typeof(Tensor)) return Tensors.Randn(new long[] { 2, 3 });
        if (t == typeof(string)) return "x";
        if (t == typeof(Device)) return Device.Cpu;
        if (t.IsEnum) return Enum.GetValues(t).GetValue(0);
        if (t == typeof(bool)) return false;
        if (t == typeof(double)) return 0.5;
        if (t == typeof(float)) return 0.5f;
        if (t.IsPrimitive) return Convert.ChangeType(2, t, System.Globalization.CultureInfo.InvariantCulture);
        if (t == typeof(TimeSpan)) return TimeSpan.FromSeconds(1);
        if (t == typeof(CancellationToken)) return CancellationToken.None;
        if (t == typeof(Uri)) return new Uri("file:///nonexistent");
        if (t == typeof(MedVision.Nets.Data.Download.FileChecksum)) return MedVision.Nets.Data.Download.FileChecksum.Sha256("f37072fd");
        if (t.IsArray)
        {
            var e = t.GetElementType()!;
            if (t.GetArrayRank() == 2)
            {
                var table = Array.CreateInstance(e, 2, 2);
                for (int i = 0; i < 4; i++) table.SetValue(Plausible(e, depth + 1), i / 2, i % 2);
                return table;
            }
            var array = Array.CreateInstance(e, 2);
            for (int i = 0; i < 2; i++) array.SetValue(Plausible(e, depth + 1), i);
            return array;
        }
        if (t.IsGenericType && t.GetGenericArguments().Length == 1 && t.IsInterface && t.GetGenericTypeDefinition() is var g
            && (g == typeof(IEnumerable<>) || g == typeof(IReadOnlyList<>) || g == typeof(IReadOnlyCollection<>) || g == typeof(IList<>) || g == typeof(ICollection<>)))
            return Plausible(t.GetGenericArguments()[0].MakeArrayType(), depth + 1);
        if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>) || t.IsGenericType && t.GetGenericTypeDefinition() == typeof(IDictionary<,>))
            return Activator.CreateInstance(typeof(Dictionary<,>).MakeGenericType(t.GetGenericArguments()));
        if (t == typeof(Stream)) return new MemoryStream();
        if (t == typeof(TextWriter)) return new StringWriter();
        if (typeof(Delegate).IsAssignableFrom(t))
        {
            // A delegate that returns its type's default (a Func<Tensor> returns null: the null check comes first).
            var invoke = t.GetMethod("Invoke")!;
            var inputs = invoke.GetParameters().Select(p => System.Linq.Expressions.Expression.Parameter(p.ParameterType, p.Name)).ToArray();
            return System.Linq.Expressions.Expression.Lambda(t, System.Linq.Expressions.Expression.Default(invoke.ReturnType), inputs).Compile();
        }
        return Instance(t, depth + 1);
    }

    private static readonly Dictionary<Type, object?> Instances = new();

    // A bare Implicit VR Little Endian data set: modality, a 2×2 8-bit grey image.
    // Folders written for instances (an image folder), removed with the instances.
    private static readonly List<string> Folders = new();

    // Two 2×2 PNG photographs in class sub-folders a/ and b/.
    private static object TinyImageFolder()
    {
        var root = Directory.CreateTempSubdirectory("mvfuzz-images-").FullName;
        Folders.Add(root);
        foreach (var name in new[] { "a", "b" })
            MedVision.Nets.Data.Images.ImageCodec.Save(Path.Combine(Directory.CreateDirectory(Path.Combine(root, name)).FullName, "1.png"),
                new MedVision.Nets.Data.Images.RasterImage(2, 2, 1, new byte[4]));
        return MedVision.Nets.Data.Images.ImageFolderDataset.FromSubfolders(root);
    }

    private static byte[] TinyDicom()
    {
        var bytes = new List<byte>();
        void Element(ushort group, ushort element, byte[] value)
        {
            bytes.AddRange(BitConverter.GetBytes(group));
            bytes.AddRange(BitConverter.GetBytes(element));
            bytes.AddRange(BitConverter.GetBytes((uint)value.Length));
            bytes.AddRange(value);
        }
        Element(0x0008, 0x0060, "OT"u8.ToArray());
        Element(0x0028, 0x0010, [2, 0]);
        Element(0x0028, 0x0011, [2, 0]);
        Element(0x7FE0, 0x0010, [1, 2, 3, 4]);
        return bytes.ToArray();
    }

    // Types that plausible constructor arguments do not make (sizes must agree, a model file must exist, a builder
    // comes from a factory method).
    private static readonly Dictionary<Type, Func<object?>> Made = new()
    {
        [typeof(MedVision.Nets.Transforms.FloatImage)] = () => new MedVision.Nets.Transforms.FloatImage(new float[12], 3, 2, 2),
        [typeof(MedVision.Nets.Data.Images.RasterImage)] = () => new MedVision.Nets.Data.Images.RasterImage(2, 2, 1, new byte[4]),
        [typeof(MedVision.Nets.Data.Nifti.NiftiImage)] = () => new MedVision.Nets.Data.Nifti.NiftiImage(new float[8], new[] { 2, 2, 2 }),
        [typeof(MedVision.Nets.Data.Nifti.NiftiAffine)] = () => MedVision.Nets.Data.Nifti.NiftiAffine.FromSpacing([1f, 1f, 1f]),
        [typeof(MedVision.Nets.Data.Dicom.DicomFile)] = () => MedVision.Nets.Data.Dicom.DicomFile.Read(TinyDicom(), "tiny.dcm"),
        [typeof(MedVision.Nets.Models.ResNetBuilder)] = () => MedVision.Nets.Models.ResNet.Builder(),
        [typeof(MedVision.Nets.Models.SiameseResNetBuilder)] = () => MedVision.Nets.Models.SiameseResNet.Builder(),
        [typeof(MedVision.Nets.Models.UNetBuilder)] = () => MedVision.Nets.Models.UNet.Builder(),
        [typeof(MedVision.Nets.Metrics.Segmentation.SegmentationEvaluator)] = () => MedVision.Nets.Metrics.Segmentation.SegmentationEvaluator.ForClasses(2),
        [typeof(MedVision.Nets.Metrics.Segmentation.SegmentationSummary)] = () => MedVision.Nets.Metrics.Segmentation.SegmentationSummary.Of(
            [MedVision.Nets.Metrics.Segmentation.SegmentationEvaluator.ForClasses(2).Evaluate([0, 1, 1, 0], [0, 1, 0, 0], [2, 2])]),
        [typeof(MedVision.Nets.Inference.SegmentationPredictor)] = () => new MedVision.Nets.Inference.SegmentationPredictor(MedVision.Nets.Models.UNet.Builder().WithFeatures(2, 2).Build(), new MedVision.Nets.Data.Segmentation.NiftiSegmentationOptions(), new MedVision.Nets.Inference.SlidingWindowInferer([2, 2, 2])),
        [typeof(MedVision.Nets.Inference.SegmentationCard)] = () => new MedVision.Nets.Inference.SegmentationCard(),
        [typeof(MedVision.Nets.Inference.ImageSegmentationPredictor)] = () => new MedVision.Nets.Inference.ImageSegmentationPredictor(MedVision.Nets.Models.UNet.Builder().ForInput(3, 2).WithFeatures(2, 2).Build(), new MedVision.Nets.Data.Segmentation.ImageSegmentationOptions(), new MedVision.Nets.Inference.SlidingWindowInferer([2, 2]), ["background", "structure"]),
        [typeof(MedVision.Nets.Inference.SegmentationMap)] = () => new MedVision.Nets.Inference.SegmentationMap([0, 1, 1, 0], 2, 2, ["background", "structure"]),
        [typeof(MedVision.Nets.Data.Segmentation.ImageSegmentationOptions)] = () => new MedVision.Nets.Data.Segmentation.ImageSegmentationOptions(),
        [typeof(MedVision.Nets.Data.Segmentation.SegmentationSubset)] = () => new MedVision.Nets.Data.Segmentation.SegmentationSubset(new MedVision.Nets.Data.Segmentation.PhantomSegmentationSource(new MedVision.Nets.Data.Synthetic.PhantomGenerator(8), 0, 2), [1]),
        [typeof(MedVision.Nets.Data.Segmentation.SegmentationSample)] = () => new MedVision.Nets.Data.Segmentation.SegmentationSample(new MedVision.Nets.Transforms.FloatImage(new float[4], 1, 2, 2), new int[4]),
        [typeof(MedVision.Nets.Data.Segmentation.SegmentationPipeline)] = () => MedVision.Nets.Data.Segmentation.SegmentationPipeline.Create().RandomFlip(MedVision.Nets.Transforms.SpatialAxis.Width).Build(),
        [typeof(MedVision.Nets.Data.Segmentation.SegmentationPipelineBuilder)] = () => MedVision.Nets.Data.Segmentation.SegmentationPipeline.Create(),
        [typeof(MedVision.Nets.Training.SegmentationTrainerBuilder)] = () => MedVision.Nets.Training.SegmentationTrainer.Create(MedVision.Nets.Models.UNet.Builder().WithFeatures(2, 2).Build()),
        [typeof(MedVision.Nets.Training.SegmentationTrainer)] = () => MedVision.Nets.Training.SegmentationTrainer.Create(MedVision.Nets.Models.UNet.Builder().ForInput(2, 3).WithFeatures(2, 2).Build())
            .TrainOn(new MedVision.Nets.Data.Segmentation.SegmentationLoader(new MedVision.Nets.Data.Segmentation.PhantomSegmentationSource(new MedVision.Nets.Data.Synthetic.PhantomGenerator(8), 0, 1))).Build(),
        [typeof(MedVision.Nets.Models.MtcsnnBuilder)] = () => MedVision.Nets.Models.Mtcsnn.Builder(),
        [typeof(MedVision.Nets.Metrics.TemperatureScaling)] = () => MedVision.Nets.Metrics.TemperatureScaling.WithTemperature(1.5),
        [typeof(MedVision.Nets.Metrics.Clinical.OperatingPoint)] = () => MedVision.Nets.Metrics.Clinical.OperatingPoint.AtThreshold(0.3),
        [typeof(MedVision.Nets.Metrics.Conformal.ConformalClassifierBuilder)] = () => MedVision.Nets.Metrics.Conformal.ConformalClassifier.Create(),
        [typeof(MedVision.Nets.Metrics.Conformal.ConformalClassifier)] = () => MedVision.Nets.Metrics.Conformal.ConformalClassifier.Create().WithCoverage(0.5)
            .Calibrate(new[] { 0, 1, 1 }, new double[,] { { 0.8, 0.2 }, { 0.3, 0.7 }, { 0.6, 0.4 } }),
        [typeof(MedVision.Nets.Training.BatchMixing)] = () => MedVision.Nets.Training.BatchMixing.Mixup(),
        [typeof(MedVision.Nets.Transforms.TransformPipeline)] = () => MedVision.Nets.Transforms.TransformPipeline.Identity,
        [typeof(MedVision.Nets.Metrics.EvaluationResult)] = () => MedVision.Nets.Metrics.ModelEvaluator.Evaluate(MedVision.Nets.Metrics.MedMnistTask.MultiClass, new[] { 0, 1 }, new double[,] { { 0.8, 0.2 }, { 0.3, 0.7 } }),
        [typeof(MedVision.Nets.Models.Mdm)] = () => new MedVision.Nets.Models.Mdm(new long[] { 33, 33, 33 }),
        [typeof(MedVision.Nets.Training.TrainerBuilder)] = () => MedVision.Nets.Training.Trainer.Create(new MedVision.Nets.Training.ClassificationTask(new Linear(2, 2), MedVision.Nets.Metrics.MedMnistTask.MultiClass)),
        [typeof(MedVision.Nets.Data.Npy.NpyArray)] = () => MedVision.Nets.Data.Npy.NpyArray.FromSingle(new float[4], 2, 2),
        [typeof(MedVision.Nets.Metrics.ConfusionMatrix)] = () => MedVision.Nets.Metrics.ConfusionMatrix.FromPredictions(new[] { 0, 1 }, new[] { 0, 0 }, 2),
        [typeof(MedVision.Nets.Metrics.CalibrationResult)] = () => MedVision.Nets.Metrics.Calibration.Evaluate(MedVision.Nets.Metrics.MedMnistTask.MultiClass, new[] { 0, 1 }, new double[,] { { 0.8, 0.2 }, { 0.3, 0.7 } }),
        [typeof(MedVision.Nets.Data.Images.FileNameLabelRule)] = () => MedVision.Nets.Data.Images.FileNameLabelRule.PathologicMyopia,
        [typeof(MedVision.Nets.Data.Images.ImageFolderDataset)] = TinyImageFolder,
        [typeof(MedVision.Nets.Data.Loading.ILabeledImageSource)] = () => new MedVision.Nets.Data.Loading.MedMnistImageSource(MedVision.Nets.Data.MedMnist.MedMnistDataset.LoadEmbeddedRetinaMnist().Test),
        [typeof(MedVision.Nets.Losses.LossComposite<(Tensor Logits, Tensor Labels)>)] = () => MedVision.Nets.Losses.LossComposite.For<(Tensor Logits, Tensor Labels)>().Add("ce", c => Functional.CrossEntropy(c.Logits, c.Labels)).Build(),
        [typeof(MedVision.Nets.Data.Loading.DistributedSampler)] = () => new MedVision.Nets.Data.Loading.DistributedSampler(0, 1),
        [typeof(MedVision.Nets.Inference.IPredictorNetwork)] = () => new ZeroLogitsNetwork(),
        [typeof(MedVision.Nets.Data.Npy.NpzArchive)] = () => MedVision.Nets.Data.Npy.NpzArchive.Open(MedVision.Nets.Data.MedMnist.MedMnistDataset.OpenEmbeddedRetinaMnistStream(), "retinamnist.npz"),
        [typeof(MedVision.Torch.Serialization.SafeTensorDictionary)] = () =>
        {
            using var t = Tensors.Zeros(2);
            return MedVision.Torch.Serialization.SafeTensors.Load(MedVision.Torch.Serialization.SafeTensors.ToBytes(new Dictionary<string, Tensor> { ["a"] = t }));
        },
        [typeof(MedVision.Nets.Losses.LossComposite<Tensor>)] = () => MedVision.Nets.Losses.LossComposite.For<Tensor>().Add("x", t => t).Build(),
        [typeof(MedVision.Nets.Models.Cdsf)] = () => new MedVision.Nets.Models.Cdsf(new MedVision.Nets.Models.CdsfOptions { VolumeSize = new long[] { 36, 36, 36 }, ResidualBlocks = 1 }),
        [typeof(MedVision.Nets.Models.CdsfTrainer)] = () => new MedVision.Nets.Models.CdsfTrainer((MedVision.Nets.Models.Cdsf)Instance(typeof(MedVision.Nets.Models.Cdsf), 0)!),
        [typeof(MedVision.Torch.Optim.ParameterState)] = () =>
        {
            var layer = (Linear)Instance(typeof(Linear), 0)!;
            var optimizer = new MedVision.Torch.Optim.Adam(layer.Parameters().ToList());
            Instances[typeof(MedVision.Torch.Optim.Adam)] = optimizer; // disposed with the others
            return optimizer.GetParameterState(0, 0);
        },
        [typeof(MedVision.Nets.Training.Trainer)] = () =>
        {
            var loader = new MedVision.Nets.Data.Loading.DataLoader((MedVision.Nets.Data.Loading.ILabeledImageSource)Instance(typeof(MedVision.Nets.Data.Loading.ILabeledImageSource), 0)!);
            var task = new MedVision.Nets.Training.ClassificationTask(new Linear(2, 2), MedVision.Nets.Metrics.MedMnistTask.MultiClass);
            return MedVision.Nets.Training.Trainer.Create(task).TrainOn(loader).UseAdam().Build();
        },
        [typeof(MedVision.Torch.Jit.ScriptModule)] = () => ScriptPath is null ? null : MedVision.Torch.Jit.ScriptModule.Load(ScriptPath),
        [typeof(MedVision.Torch.Distributed.ProcessGroup)] = () =>
        {
            // A world of one process (Gloo on a free local port).
            using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
            listener.Start();
            int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            return MedVision.Torch.Distributed.ProcessGroup.Initialize(new MedVision.Torch.Distributed.DistributedOptions { MasterPort = port, WorldSize = 1 });
        },
        [typeof(MedVision.Nets.Inference.Predictor)] = TinyPredictor,
        [typeof(MedVision.Nets.Inference.EnsemblePredictor)] = () => MedVision.Nets.Inference.EnsemblePredictor.Create(new[] { TinyPredictor(), TinyPredictor() }),
    };

    // A predictor of a narrow ResNet-18 for 8×8 grey images and two classes.
    private static MedVision.Nets.Inference.Predictor TinyPredictor()
    {
        string path = Path.Combine(Path.GetTempPath(), $"mvfuzz-nulls-{Environment.ProcessId}.safetensors");
        try
        {
            using var model = MedVision.Nets.Models.ResNet.Builder().WithDepth(18).WithWidths(2, 2, 2, 2).ForInput(channels: 1).WithSmallInputStem().WithClasses(2).Build();
            var card = MedVision.Nets.Inference.ModelFile.Describe(model, new MedVision.Nets.Inference.PreprocessingCard { InputSize = new() { 8, 8 }, Channels = 1, Mean = new() { 0.5f }, Std = new() { 0.5f }, Resize = "linear" },
                new[] { "a", "b" }, MedVision.Nets.Metrics.MedMnistTask.MultiClass);
            MedVision.Nets.Inference.ModelFile.Save(path, model, card);
            return MedVision.Nets.Inference.Predictor.Load(path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static readonly Type[] Concrete = Assemblies.SelectMany(a => a.GetExportedTypes())
        .Where(t => !t.IsAbstract && !t.IsInterface && !t.ContainsGenericParameters)
        .OrderBy(t => t.FullName, StringComparer.Ordinal).ToArray();

    // An instance of a library type: its parameterless constructor, else its simplest public constructor fed plausible
    // values. Made once per type and kept (the members called must not care: the null check comes first).
    private static object? Instance(Type t, int depth)
    {
        if (Instances.TryGetValue(t, out var known)) return known;
        if (Made.TryGetValue(t, out var make))
        {
            try { return Instances[t] = make(); }
            catch (Exception e) { Console.WriteLine($"  (could not make a {t.Name}: {e.GetType().Name}: {e.Message})"); return Instances[t] = null; }
        }
        if (t == typeof(Tensor)) return Instances[t] = DisposeScope.Detach(Tensors.Randn(new long[] { 2, 3 }));
        if (depth > 3 || t.ContainsGenericParameters) return null;
        object? made = null;
        if (t.IsAbstract || t.IsInterface)
        {
            // An abstract type or an interface (Module, ITransform, ILabeledImageSource): the first library type that
            // derives from it and can be made.
            foreach (var concrete in Concrete.Where(c => t.IsAssignableFrom(c)))
                if ((made = Instance(concrete, depth + 1)) is not null) break;
            Instances[t] = made;
            return made;
        }
        foreach (var c in t.GetConstructors().OrderBy(c => c.GetParameters().Length))
        {
            try
            {
                var args = c.GetParameters().Select(p => p.HasDefaultValue ? p.DefaultValue : Plausible(p.ParameterType, depth)).ToArray();
                if (args.Zip(c.GetParameters()).Any(a => a.First is null && NonNullable(a.Second))) continue;
                made = c.Invoke(args);
                break;
            }
            catch (Exception e) when (e is TargetInvocationException or TargetException or ArgumentException or MemberAccessException or NotSupportedException)
            {
                // not made this way: try the next constructor
            }
        }
        if (made is null && !t.IsSealed)
        {
            // A base class without public constructors (BatchNorm): the first library type that derives from it.
            foreach (var concrete in Concrete.Where(c => c != t && t.IsAssignableFrom(c)))
                if ((made = Instance(concrete, depth + 1)) is not null) break;
        }
        Instances[t] = made;
        return made;
    }

    /// <summary>Prints the cases and the skipped members.</summary>
    public static int List(string? scriptPath = null)
    {
        ScriptPath = scriptPath is null ? null : Path.GetFullPath(scriptPath);
        using var scope = Tensors.NewDisposeScope();
        var (cases, skipped) = Discover();
        foreach (var c in cases) Console.WriteLine(c.Name);
        foreach (var s in skipped) Console.WriteLine($"skipped {s}");
        Console.WriteLine($"{cases.Count} cases, {skipped.Count} members skipped");
        DisposeInstances();
        return 0;
    }

    // A TorchScript file (nulls --script tiny.pt), for the ScriptModule members; without one they are skipped.
    private static string? ScriptPath;

    /// <summary>Runs every case; prints "NULLS cases=… ok=… bad=…" and each bad case.</summary>
    public static int Run(string? scriptPath = null)
    {
        ScriptPath = scriptPath is null ? null : Path.GetFullPath(scriptPath);
        var work = Directory.CreateTempSubdirectory("mvfuzz-nulls-");
        string cwd = Environment.CurrentDirectory;
        Environment.CurrentDirectory = work.FullName; // a call that wrongly goes ahead writes its files here
        var bad = new List<string>();
        var unmade = new List<string>();
        int ok = 0;
        (List<Case> Cases, List<string> Skipped) discovered;
        using (var scope = Tensors.NewDisposeScope())
        {
            discovered = Discover();
            foreach (var c in discovered.Cases)
            {
                string? problem = Check(c);
                if (problem is null) ok++;
                else if (problem == Unmade) unmade.Add(c.Name);
                else bad.Add($"{c.Name}: {problem}");
            }
        }
        DisposeInstances();
        Environment.CurrentDirectory = cwd;
        work.Delete(recursive: true);
        foreach (var u in unmade) Console.WriteLine($"not run: {u} (no plausible value for another parameter)");
        foreach (var b in bad) Console.WriteLine($"BAD {b}");
        Console.WriteLine($"NULLS cases={discovered.Cases.Count} ok={ok} bad={bad.Count} not-run={unmade.Count} skipped={discovered.Skipped.Count}");
        return bad.Count == 0 ? 0 : 1;
    }

    private static void DisposeInstances()
    {
        foreach (var d in Instances.Values.OfType<IDisposable>()) DisposeQuietly(d);
        Instances.Clear();
        foreach (var folder in Folders) Directory.Delete(folder, recursive: true);
        Folders.Clear();
    }

    // The object a constructor made in spite of the null (a bad case already) may fail to dispose too.
    private static void DisposeQuietly(IDisposable d)
    {
        try { d.Dispose(); }
        catch (Exception e) when (e is not OutOfMemoryException) { Console.WriteLine($"  (disposing the {d.GetType().Name} made with null threw {e.GetType().Name})"); }
    }

    private const string Unmade = "(not run: no plausible value for another parameter)";

    private static string? Check(Case c)
    {
        var member = c.Member;
        if (member is MethodInfo { IsGenericMethodDefinition: true } generic)
        {
            // Over Tensor (ModelSummary.Create<Tensor>), else over float (FromArray<float>).
            MethodInfo? closed = null;
            foreach (var argument in new[] { typeof(Tensor), typeof(float) })
            {
                try { closed = generic.MakeGenericMethod(generic.GetGenericArguments().Select(_ => argument).ToArray()); break; }
                catch (ArgumentException) { }
            }
            if (closed is null) return null; // constraints neither meets: nothing to call
            member = closed;
        }
        var parameters = member.GetParameters();
        var name = parameters[c.Parameter].Name;
        using var scope = Tensors.NewDisposeScope();
        var args = new object?[parameters.Length];
        for (int p = 0; p < parameters.Length; p++)
            args[p] = p == c.Parameter ? null : parameters[p].HasDefaultValue && parameters[p].DefaultValue is not null ? parameters[p].DefaultValue : Plausible(parameters[p].ParameterType, 0);
        for (int p = 0; p < parameters.Length; p++)
            if (p != c.Parameter && args[p] is null && NonNullable(parameters[p])) return Unmade;
        object? target = member.IsStatic || member is ConstructorInfo ? null : Instance(member.DeclaringType!, 0);
        Exception? thrown = null;
        object? result = null;
        try
        {
            result = member is ConstructorInfo ctor ? ctor.Invoke(args) : member.Invoke(target, args);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            thrown = e.InnerException;
        }
        if (thrown is null && result is not null)
        {
            // Deferred validation: an iterator or a task that fails only when used.
            try
            {
                if (result is Task task) { task.Wait(TimeSpan.FromSeconds(30)); return "validated late: the call returned a task"; }
                if (result is IEnumerable items and not string and not Array)
                {
                    items.GetEnumerator().MoveNext();
                    return "validated late: the call returned a sequence";
                }
            }
            catch (AggregateException e) when (e.InnerException is not null)
            {
                return $"validated late (the task failed with {e.InnerException.GetType().Name}: {e.InnerException.Message})";
            }
            catch (Exception e)
            {
                return $"validated late (enumerating threw {e.GetType().Name}: {e.Message})";
            }
            finally
            {
                if (result is IDisposable d and not Tensor) DisposeQuietly(d);
            }
        }
        if (thrown is null) return "accepted null";
        if (thrown is not ArgumentNullException ane) return $"{thrown.GetType().Name}: {thrown.Message} (at {thrown.StackTrace?.Split('\n').FirstOrDefault()?.Trim()})";
        // A property setter names the property (more use to a caller than "value"); the BCL's "value" is accepted too.
        bool setter = member is MethodInfo { IsSpecialName: true } && member.Name.StartsWith("set_", StringComparison.Ordinal);
        return ane.ParamName == name || (setter && ane.ParamName == member.Name[4..]) ? null : $"ArgumentNullException names '{ane.ParamName}'";
    }
}

/// <summary>A predictor network that gives zero logits for five classes (an IPredictorNetwork to pass where one is needed).</summary>
internal sealed class ZeroLogitsNetwork : MedVision.Nets.Inference.IPredictorNetwork
{
    public Device Device => Device.Cpu;

    public Tensor Logits(Tensor batch) => Tensors.Zeros(batch.Size(0), 5);

    public void Dispose() { }
}
