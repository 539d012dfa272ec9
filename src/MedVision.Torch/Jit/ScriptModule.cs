using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text;
using MedVision.Torch.Native;
using MedVision.Torch.Nn;
using MedVision.Torch.Serialization;

namespace MedVision.Torch.Jit;

/// <summary>
/// A TorchScript module: a model that PyTorch exported with <c>torch.jit.script</c> or <c>torch.jit.trace</c> and
/// saved with <c>torch.jit.save</c>, run by libtorch's TorchScript interpreter (PyTorch's <c>torch.jit.load</c>).
/// </summary>
/// <remarks>
/// <para>
/// It is a <see cref="Module{TInput, TOutput}"/> like any other: its submodules, parameters and buffers carry
/// PyTorch's names, so <see cref="Module.StateDict"/>, <see cref="Module.LoadStateDict"/> (safetensors weights),
/// <see cref="Module.Train(bool)"/>/<see cref="Module.Eval"/>, <see cref="Module.To(Device)"/>, parameter counts and
/// optimizers work on it. Its parameters are the script module's own tensors, so an optimizer step changes what the
/// script computes and gradients flow through it: a TorchScript model can be fine-tuned in .NET and saved again
/// with <see cref="Save"/>.
/// </para>
/// <para>
/// The training flag is taken from the file (torch.jit.load keeps it) and synchronised with the script before each
/// call. Methods take tensors and return a tensor, or a tuple or list of tensors (<see cref="InvokeTuple"/>).
/// Inference on one module from several threads is safe; do not change its mode, device or weights meanwhile.
/// </para>
/// </remarks>
public sealed class ScriptModule : Module<Tensor, Tensor>
{
    private IntPtr _handle;
    private readonly string _typeName;
    private readonly Lazy<IReadOnlyList<string>> _methodNames;
    private bool _appliedTraining;

    private unsafe ScriptModule(IntPtr handle, Dictionary<long, Tensor> tensors)
    {
        _handle = handle;
        try
        {
            _typeName = ReadString((b, c) => NativeMethods.mvt_jit_type_name(handle, b, c));
            RegisterOwnTensors(handle, kind: 0, tensors);
            RegisterOwnTensors(handle, kind: 1, tensors);
            int children = Check(NativeMethods.mvt_jit_child_count(handle));
            for (int i = 0; i < children; i++)
            {
                var index = i;
                var name = ReadString((b, c) => NativeMethods.mvt_jit_child_name(handle, index, b, c));
                var child = NativeMethods.mvt_jit_child(handle, index);
                if (child == IntPtr.Zero) throw TorchException.FromNative("Reading a TorchScript submodule failed");
                RegisterModule(name, new ScriptModule(child, tensors));
            }
            _appliedTraining = Check(NativeMethods.mvt_jit_is_training(handle)) != 0;
            Training = _appliedTraining;
            _methodNames = new Lazy<IReadOnlyList<string>>(() =>
            {
                var joined = ReadString((b, c) => NativeMethods.mvt_jit_method_names(Handle, b, c));
                return joined.Length == 0 ? Array.Empty<string>() : joined.Split('\n');
            });
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>
    /// Loads a TorchScript file (torch.jit.load). With <paramref name="device"/> its tensors are placed there while
    /// loading; otherwise where they were saved.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a zip archive, not a TorchScript one, or damaged (an entry's
    /// CRC-32 or length differs from the archive's record: libtorch itself does not check them).</exception>
    /// <exception cref="TorchException">The archive is intact but libtorch cannot load it (e.g. made by a newer PyTorch).</exception>
    /// <exception cref="InvalidOperationException">A CUDA device was asked for and CUDA is not available.</exception>
    public static ScriptModule Load(string path, Device? device = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw new FileNotFoundException($"The TorchScript file '{full}' does not exist.", full);
        var d = device ?? Device.Cpu;
        Tensors.Cuda.EnsureUsable(d, $"'{full}'");
        VerifyArchive(full);
        var handle = NativeMethods.mvt_jit_load(full, device is null ? 0 : 1, (int)d.Type, d.Index);
        if (handle == IntPtr.Zero)
        {
            var native = TorchException.FromNative();
            throw new TorchException(
                $"'{full}' could not be loaded as a TorchScript module: {native.Message} (TorchScript files come from " +
                "torch.jit.save of a torch.jit.script or torch.jit.trace module; a torch.save file holds only weights: " +
                "save its state dict as safetensors and load that into a model instead)", native.Kind);
        }
        return new ScriptModule(handle, new Dictionary<long, Tensor>());
    }

    /// <inheritdoc/>
    public override string TypeName => _typeName;

    /// <summary>
    /// Whether TorchScript's graph executor may optimise the module's methods (libtorch's default, true). It profiles
    /// the first calls and then switches to an optimised graph, whose floating-point rounding can differ slightly, so
    /// results depend on how often a method ran since loading. Set false for bit-exact reproducibility (a resumed
    /// training run equal to an uninterrupted one), at some cost in speed. Applies to calls made through this module.
    /// </summary>
    public bool OptimizedExecution { get; set; } = true;

    /// <summary>
    /// A layer table: the script's output shape for <paramref name="inputShape"/> (one forward pass on zeros, see
    /// <see cref="ModelSummary.Create{TOutput}"/>), then its submodules with their parameters (their calls run inside
    /// libtorch: no output shapes or mult-adds).
    /// </summary>
    public ModelSummary Summary(params long[] inputShape) => ModelSummary.Create(this, inputShape);

    /// <summary>The names of the module's methods ("forward" and those exported with @torch.jit.export).</summary>
    public IReadOnlyList<string> MethodNames => _methodNames.Value;

    /// <summary>True when the module has a method named <paramref name="name"/>.</summary>
    public bool HasMethod(string name) => MethodNames.Contains(name ?? throw new ArgumentNullException(nameof(name)));

    /// <summary>Runs the module's forward method on one tensor.</summary>
    public override Tensor Forward(Tensor input) => Invoke("forward", Tensor.NotNull(input));

    /// <summary>Runs the module's forward method on several tensors (a Siamese pair, an image and its mask).</summary>
    public Tensor Forward(params Tensor[] inputs) => Invoke("forward", inputs);

    /// <summary>
    /// Runs the method <paramref name="method"/> (torch.jit's <c>module.method(*inputs)</c>) and returns its tensor
    /// result. Use <see cref="InvokeTuple"/> for methods that return several tensors.
    /// </summary>
    public Tensor Invoke(string method, params Tensor[] inputs)
    {
        var outputs = InvokeTuple(method, inputs);
        if (outputs.Count == 1) return outputs[0];
        foreach (var t in outputs) t.Dispose();
        throw new InvalidOperationException(
            $"{_typeName}.{method} returned {outputs.Count} tensors, not one; call InvokeTuple to receive them all.");
    }

    /// <summary>
    /// Runs the method <paramref name="method"/> and returns every tensor of its result: a single tensor, or the
    /// elements of a (nested) tuple or list of tensors in order.
    /// </summary>
    public unsafe IReadOnlyList<Tensor> InvokeTuple(string method, params Tensor[] inputs)
    {
        ArgumentException.ThrowIfNullOrEmpty(method);
        ArgumentNullException.ThrowIfNull(inputs);
        for (int i = 0; i < inputs.Length; i++)
            if (inputs[i] is null) throw new ArgumentNullException(nameof(inputs), $"Input {i} of {_typeName}.{method} is null.");
        if (!HasMethod(method))
            throw new ArgumentException($"{_typeName} has no method '{method}'; its methods are: {string.Join(", ", MethodNames)}.", nameof(method));
        SynchroniseTraining();
        var handles = new IntPtr[inputs.Length];
        for (int i = 0; i < inputs.Length; i++) handles[i] = inputs[i].Handle;
        int count;
        fixed (IntPtr* p = handles) count = NativeMethods.mvt_jit_invoke(Handle, method, p, handles.Length, OptimizedExecution ? 1 : 0);
        GC.KeepAlive(inputs);
        if (count < 0) throw TorchException.FromNative($"{_typeName}.{method} failed");
        var results = new IntPtr[count];
        fixed (IntPtr* p = results) Tensor.Check(NativeMethods.mvt_jit_take_outputs(p, count));
        return results.Select(h => new Tensor(h)).ToArray();
    }

    /// <summary>
    /// Saves the module as a TorchScript file (torch.jit.save) with its current weights, mode and device, so Python
    /// and other libtorch programs can load it. <paramref name="extraFiles"/> are stored beside the code (torch.jit.save's
    /// <c>_extra_files</c>; read them back with <see cref="ReadExtraFiles"/> or torch.jit.load). The file is written to
    /// a temporary file first, then renamed.
    /// </summary>
    public unsafe void Save(string path, IReadOnlyDictionary<string, string>? extraFiles = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var extra = extraFiles?.ToArray() ?? Array.Empty<KeyValuePair<string, string>>();
        foreach (var (name, _) in extra)
            if (string.IsNullOrEmpty(name) || name.Contains('/') || name.Contains('\\') || name.Contains('\0'))
                throw new ArgumentException($"'{name}' is not a valid extra-file name: names are non-empty and contain no slashes.", nameof(extraFiles));
        SynchroniseTraining();
        var handle = Handle;
        AtomicFile.WriteFile(path, temp =>
        {
            var strings = new List<IntPtr>();
            try
            {
                var names = new IntPtr[extra.Length];
                var contents = new IntPtr[extra.Length];
                var lengths = new long[extra.Length];
                for (int i = 0; i < extra.Length; i++)
                {
                    strings.Add(names[i] = Marshal.StringToCoTaskMemUTF8(extra[i].Key));
                    var bytes = Encoding.UTF8.GetBytes(extra[i].Value ?? "");
                    strings.Add(contents[i] = Marshal.AllocCoTaskMem(Math.Max(1, bytes.Length)));
                    Marshal.Copy(bytes, 0, contents[i], bytes.Length);
                    lengths[i] = bytes.Length;
                }
                int status;
                fixed (IntPtr* n = names)
                fixed (IntPtr* c = contents)
                fixed (long* l = lengths)
                    status = NativeMethods.mvt_jit_save(handle, temp, n, c, l, extra.Length);
                if (status < 0) throw TorchException.FromNative($"Saving '{path}' failed");
            }
            finally
            {
                foreach (var p in strings) Marshal.FreeCoTaskMem(p);
            }
        });
    }

    // The file as a zip archive that holds a TorchScript module's pickles.
    private static ZipArchive OpenArchive(string full)
    {
        var zip = ZipFile.OpenRead(full);
        if (!zip.Entries.Any(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal) || e.FullName.EndsWith("/constants.pkl", StringComparison.Ordinal)))
        {
            zip.Dispose();
            throw new InvalidDataException($"'{full}' is a zip file but not a TorchScript archive (it has no data.pkl).");
        }
        return zip;
    }

    // libtorch reads a TorchScript archive without checking its entries' CRC-32 (PyTorch builds miniz with
    // MINIZ_DISABLE_ZIP_READER_CRC32_CHECKS), and its TorchScript parser can crash the process on a damaged code file
    // (found by tests/FormatFuzzer: a segmentation fault in ScriptTypeParser::parseClassConstant, one load in six). So
    // every entry is decompressed and checked here first: a damaged file is an InvalidDataException, not a crash.
    // (A file crafted with valid checksums is not caught: TorchScript files are programs; load trusted ones only.)
    private static void VerifyArchive(string full)
    {
        try
        {
            using var zip = OpenArchive(full);
            var buffer = new byte[1 << 16];
            foreach (var entry in zip.Entries)
            {
                var crc = new System.IO.Hashing.Crc32();
                long length = 0;
                using (var stream = entry.Open())
                {
                    int n;
                    while ((n = stream.Read(buffer, 0, buffer.Length)) > 0)
                    {
                        crc.Append(buffer.AsSpan(0, n));
                        length += n;
                    }
                }
                uint actual = crc.GetCurrentHashAsUInt32();
                if (actual != entry.Crc32 || length != entry.Length)
                    throw new InvalidDataException($"'{full}' is damaged: its entry '{entry.FullName}' has CRC-32 {actual:x8} and {length} bytes, the archive records {entry.Crc32:x8} and {entry.Length}.");
            }
        }
        catch (InvalidDataException e) when (e.Message.IndexOf(full, StringComparison.Ordinal) < 0)
        {
            throw new InvalidDataException(
                $"'{full}' is not a readable TorchScript archive: {e.Message} (TorchScript files come from torch.jit.save of a " +
                "torch.jit.script or torch.jit.trace module; a torch.save file holds only weights: save its state dict as " +
                "safetensors and load that into a model instead)", e);
        }
    }

    /// <summary>
    /// Reads the extra files stored in a TorchScript file (torch.jit.save's <c>_extra_files</c>, as UTF-8 text) without
    /// loading the module.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a TorchScript (zip) archive.</exception>
    public static IReadOnlyDictionary<string, string> ReadExtraFiles(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw new FileNotFoundException($"The TorchScript file '{full}' does not exist.", full);
        var result = new Dictionary<string, string>();
        try
        {
            using var zip = OpenArchive(full);
            foreach (var entry in zip.Entries)
            {
                // <archive>/extra/<name>
                var parts = entry.FullName.Split('/');
                if (parts.Length != 3 || parts[1] != "extra" || parts[2].Length == 0) continue;
                using var reader = new StreamReader(entry.Open(), new UTF8Encoding(false));
                result[parts[2]] = reader.ReadToEnd();
            }
        }
        catch (InvalidDataException e) when (e.Message.IndexOf(full, StringComparison.Ordinal) < 0)
        {
            throw new InvalidDataException($"'{full}' is not a TorchScript archive: {e.Message}", e);
        }
        return result;
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        var h = Interlocked.Exchange(ref _handle, IntPtr.Zero);
        if (h != IntPtr.Zero) NativeMethods.mvt_jit_free(h);
    }

    private IntPtr Handle
    {
        get
        {
            var h = _handle;
            if (h == IntPtr.Zero) throw new ObjectDisposedException(nameof(ScriptModule), "The script module has been disposed.");
            return h;
        }
    }

    // Sets the script's training flags to this tree's (Train/Eval only change the managed flags).
    private void SynchroniseTraining()
    {
        foreach (var (_, m) in NamedModules())
        {
            if (m is not ScriptModule s || s._appliedTraining == s.Training) continue;
            Tensor.Check(NativeMethods.mvt_jit_set_training(s.Handle, s.Training ? 1 : 0));
            s._appliedTraining = s.Training;
        }
    }

    // One Tensor per tensor of the loaded file: a tensor the script holds in several slots (a block saved under two
    // names, tied weights) is registered as the same Tensor in each, so Parameters() lists it once and an optimizer
    // steps it once, as PyTorch's parameters() does. (torch.jit.load gives such blocks separate module objects that
    // share their tensors, so the modules themselves are listed under each name, as in PyTorch.)
    private unsafe void RegisterOwnTensors(IntPtr handle, int kind, Dictionary<long, Tensor> tensors)
    {
        int n = Check(NativeMethods.mvt_jit_tensor_count(handle, kind));
        for (int i = 0; i < n; i++)
        {
            var index = i;
            var name = ReadString((b, c) => NativeMethods.mvt_jit_tensor_name(handle, kind, index, b, c));
            var tensor = NativeMethods.mvt_jit_tensor(handle, kind, index);
            if (tensor == IntPtr.Zero) throw TorchException.FromNative("Reading a TorchScript module failed");
            var t = new Tensor(tensor);
            long id;
            try
            {
                id = Identity(NativeMethods.mvt_tensor_identity(tensor));
            }
            catch
            {
                t.Dispose();
                throw;
            }
            if (tensors.TryGetValue(id, out var tied))
            {
                t.Dispose();
                t = tied;
            }
            else tensors.Add(id, t);
            if (kind == 0)
            {
                bool requiresGrad = t.RequiresGrad;
                RegisterParameter(name, t);
                t.RequiresGrad = requiresGrad; // keep the file's choice (frozen layers stay frozen)
            }
            else RegisterBuffer(name, t);
        }
    }

    private static int Check(int status) => status < 0 ? throw TorchException.FromNative("Reading a TorchScript module failed") : status;

    private static long Identity(long id) => id == 0 ? throw TorchException.FromNative("Reading a TorchScript module failed") : id;

    private unsafe delegate int StringReader(byte* buffer, int capacity);

    // Calls read with a buffer; when the returned length does not fit, calls it again with a buffer that does.
    private static unsafe string ReadString(StringReader read)
    {
        int capacity = 256;
        while (true)
        {
            var buffer = new byte[capacity];
            int length;
            fixed (byte* b = buffer) length = read(b, capacity);
            Check(length);
            if (length < capacity) return Encoding.UTF8.GetString(buffer, 0, length);
            capacity = length + 1;
        }
    }
}
