using System.Runtime.InteropServices;
using MedVision.Torch.Autograd;
using MedVision.Torch.Native;

namespace MedVision.Torch;

/// <summary>
/// Entry point of MedVision.Torch (PyTorch's torch.* functions): tensor factories, dispose scopes, gradient mode, seeds,
/// threads and devices. Named Tensors rather than Torch so that it never collides with the MedVision.Torch namespace.
/// </summary>
public static partial class Tensors
{
    /// <summary>The libtorch version the native shim was built against, e.g. "1.13.1".</summary>
    public static string Version => Marshal.PtrToStringUTF8(NativeMethods.mvt_torch_version()) ?? "unknown";

    /// <summary>
    /// The full path of the native shim (libmedvision_torch.so) this process loaded: from MEDVISION_NATIVE_LIB, from
    /// beside the assembly (runtimes/linux-x64/native/, where builds and the NuGet package put it), or — for a package
    /// consumer whose libtorch differs from the packager's — the one built from the package's source.
    /// </summary>
    public static string NativeLibraryPath => NativeLibraryLoader.LoadedPath;

    /// <summary>True when libtorch was built with oneDNN (MKL-DNN).</summary>
    public static bool HasOneDnn => NativeMethods.mvt_has_mkldnn() == 1;

    /// <summary>
    /// Whether libtorch may use oneDNN (MKL-DNN) at all — PyTorch's <c>torch.backends.mkldnn.enabled</c>. True by
    /// default, unless the <see cref="OneDnnSelfCheck"/> failed; the environment variable <c>MEDVISION_ONEDNN=0</c> at
    /// process start makes it false, <c>MEDVISION_ONEDNN=1</c> keeps it true without the check. When false, no
    /// convolution or linear layer is routed to oneDNN (whatever <see cref="RouteConvolutionsThroughOneDnn"/> and
    /// <see cref="RouteLinearLayersThroughOneDnn"/> say), weights are not
    /// pre-packed, and libtorch's own kernels choose other paths (slower on CPU, but correct).
    /// </summary>
    public static bool OneDnnEnabled
    {
        get
        {
            int enabled = NativeMethods.mvt_get_onednn_enabled();
            Tensor.Check(enabled);
            return enabled == 1;
        }
        set => Tensor.Check(NativeMethods.mvt_set_onednn_enabled(value ? 1 : 0));
    }

    /// <summary>
    /// The result of the once-per-process check of oneDNN's convolution gradients (run before the first convolution,
    /// or when this property or <see cref="OneDnnEnabled"/> is first read): oneDNN's gradients of a small convolution
    /// against a float64 computation, 16 times. <see cref="OneDnnCheckResult.Failed"/> means this libtorch's oneDNN
    /// computes wrong gradients and has been turned off — as on Debian 13, whose libtorch 2.6 with oneDNN 3.7.2 returns
    /// NaN or wrong convolution gradients in over half of the backward passes, in Python PyTorch too
    /// (docs/troubleshooting.md). Samples print it when it failed.
    /// </summary>
    public static OneDnnCheckResult OneDnnSelfCheck
    {
        get
        {
            int result = NativeMethods.mvt_onednn_self_check();
            Tensor.Check(result);
            return (OneDnnCheckResult)result;
        }
    }

    /// <summary>
    /// When true (the default), every float32 CPU convolution, forward and backward, runs through oneDNN; libtorch
    /// 1.13's own heuristic otherwise sends batch-1 convolutions on small maps to a much slower reference path, in the
    /// forward pass and again in the backward pass (the backward on oneDNN needs
    /// <see cref="OneDnnConvolutionBackwardAvailable"/>). Has no effect while <see cref="OneDnnEnabled"/> is false.
    /// </summary>
    public static bool RouteConvolutionsThroughOneDnn
    {
        get => NativeMethods.mvt_get_conv_routing() == 1;
        set => Tensor.Check(NativeMethods.mvt_set_conv_routing(value ? 1 : 0));
    }

    /// <summary>
    /// When true (the default), float32 CPU linear layers (<see cref="Nn.Functional.Linear"/>, and so
    /// <see cref="Nn.Linear"/>, attention projections and transformer feed-forward layers) whose product has at least
    /// 2^20 multiply-adds run on oneDNN's inner product, forward and backward, instead of libtorch's BLAS sgemm: with
    /// Debian's OpenBLAS on 2 threads a vision transformer's projections took a quarter to a ninth of the time
    /// (docs/architecture.md).
    /// Smaller products (a classifier head) stay on BLAS. Results agree to float rounding. Has no effect while
    /// <see cref="OneDnnEnabled"/> is false, or under CPU autocast (bfloat16 linear layers are libtorch's).
    /// </summary>
    public static bool RouteLinearLayersThroughOneDnn
    {
        get => NativeMethods.mvt_get_linear_routing() == 1;
        set => Tensor.Check(NativeMethods.mvt_set_linear_routing(value ? 1 : 0));
    }

    /// <summary>
    /// Whether routed convolutions (<see cref="RouteConvolutionsThroughOneDnn"/>) compute their backward pass on oneDNN
    /// too: true when the native shim was built against a libtorch that exports oneDNN's convolution backward entry
    /// point (Debian's 1.13 and PyTorch 2.x on x86-64); otherwise libtorch chooses the backward kernel by its own
    /// heuristic, slower for batch-1 convolutions on small maps (e.g. a 3-D ResNet trained one volume at a time).
    /// Gradients recorded for higher-order derivatives (<c>createGraph</c>) always take libtorch's differentiable path.
    /// </summary>
    public static bool OneDnnConvolutionBackwardAvailable => NativeMethods.mvt_onednn_conv_backward_available() == 1;

    private static volatile bool _prepackConvolutionWeights = true;

    /// <summary>
    /// When true (the default), <see cref="Nn.Conv2d"/> and <see cref="Nn.Conv3d"/> modules keep a copy of their weight
    /// in oneDNN's blocked layout for calls that record no gradients (inference and no-grad evaluation of float32 CPU
    /// models with oneDNN routing on), instead of reordering the weight on every call. The copy costs as much memory as
    /// the weight; it is made again after the weight changes and freed with the module. Set false to save that memory.
    /// Results are the same either way (to float rounding).
    /// </summary>
    public static bool PrepackConvolutionWeights
    {
        get => _prepackConvolutionWeights;
        set => _prepackConvolutionWeights = value;
    }

    /// <summary>Number of native tensor handles currently alive (for leak checks).</summary>
    public static long LiveTensors => NativeMethods.mvt_live_tensors();

    /// <summary>
    /// Frees every tensor that was never disposed and that nothing references any more (runs the garbage collector and
    /// the tensors' finalizers, the backstop for leaks), so that <see cref="LiveTensors"/> counts only what is held. For
    /// leak checks and tests; call it when no other thread is running a tensor operation.
    /// </summary>
    public static void CollectUnreachable()
    {
        Tensor.ForgetRecentHandles();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    /// <summary>Number of threads libtorch uses for intra-op parallelism. Setting it applies to every thread (each picks it up on its next libtorch call), not only the calling one.</summary>
    public static int NumThreads
    {
        get => NativeMethods.mvt_get_num_threads();
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            Tensor.Check(NativeMethods.mvt_set_num_threads(value));
        }
    }

    /// <summary>Seeds every libtorch random generator (CPU and all CUDA devices).</summary>
    public static void ManualSeed(ulong seed) => Tensor.Check(NativeMethods.mvt_manual_seed(seed));

    /// <summary>The CPU generator's state, for exact resumption of a run.</summary>
    public static byte[] GetRngState()
    {
        using var state = Tensor.Wrap(NativeMethods.mvt_rng_get_state());
        return state.ToArray<byte>();
    }

    /// <summary>Restores a state returned by <see cref="GetRngState"/>.</summary>
    public static void SetRngState(byte[] state)
    {
        ArgumentNullException.ThrowIfNull(state);
        using var t = FromArray(state);
        if (NativeMethods.mvt_rng_set_state(t.Handle) < 0) throw new ArgumentException(TorchException.FromNative("invalid RNG state").Message, nameof(state));
    }

    /// <summary>Opens a scope that disposes every tensor created in it (see <see cref="DisposeScope"/>).</summary>
    public static DisposeScope NewDisposeScope() => new();

    /// <summary>Disables gradient recording on this thread until the returned object is disposed.</summary>
    public static GradModeScope NoGrad() => new(false);

    /// <summary>Enables gradient recording on this thread until the returned object is disposed.</summary>
    public static GradModeScope EnableGrad() => new(true);

    /// <summary>
    /// Begins a region of automatic mixed precision on this thread (torch.autocast): until the returned scope is
    /// disposed, convolutions, matrix products and linear layers on <paramref name="device"/> compute in
    /// <paramref name="dtype"/> — by default bfloat16 on the CPU and float16 on CUDA — and everything numerically
    /// sensitive stays float32. Wrap the forward pass and the loss; call <c>Backward</c> after the region.
    /// With float16 on CUDA, scale the loss with <see cref="Optim.GradScaler"/> so small gradients do not underflow;
    /// bfloat16 has float32's range and needs no scaling.
    /// </summary>
    /// <param name="device">The device type whose operations are cast.</param>
    /// <param name="dtype">The lower precision: <see cref="ScalarType.BFloat16"/> on the CPU; <see cref="ScalarType.Float16"/>
    /// or <see cref="ScalarType.BFloat16"/> on CUDA; null for the device's default.</param>
    /// <param name="enabled">False begins a region without casting (to compute part of a model in float32 inside an outer region).</param>
    /// <exception cref="ArgumentException">A precision the device's autocast does not support.</exception>
    /// <exception cref="InvalidOperationException">CUDA was asked for and cannot be used.</exception>
    public static AutocastScope Autocast(DeviceType device = DeviceType.Cpu, ScalarType? dtype = null, bool enabled = true)
    {
        Guard.Defined(device);
        var type = dtype ?? (device == DeviceType.Cuda ? ScalarType.Float16 : ScalarType.BFloat16);
        if (device == DeviceType.Cpu && type != ScalarType.BFloat16)
            throw new ArgumentException($"CPU autocast computes in BFloat16, not {type}.", nameof(dtype));
        if (device == DeviceType.Cuda)
        {
            if (type is not (ScalarType.Float16 or ScalarType.BFloat16))
                throw new ArgumentException($"CUDA autocast computes in Float16 or BFloat16, not {type}.", nameof(dtype));
            if (enabled) Cuda.EnsureUsable(Device.Cuda(), "autocast");
        }
        return new AutocastScope(device, type, enabled);
    }

    /// <summary>Whether an autocast region for <paramref name="device"/> is in force on this thread, and its precision.</summary>
    public static unsafe (bool Enabled, ScalarType ScalarType) AutocastState(DeviceType device = DeviceType.Cpu)
    {
        Guard.Defined(device);
        int dtype;
        int enabled = NativeMethods.mvt_autocast_state(device == DeviceType.Cuda ? 1 : 0, &dtype);
        if (enabled < 0) throw TorchException.FromNative("Reading the autocast state");
        return (enabled == 1, (ScalarType)dtype);
    }

    /// <summary>Whether gradient recording is enabled on this thread.</summary>
    public static bool IsGradEnabled => NativeMethods.mvt_grad_enabled() == 1;

    /// <summary>CUDA availability and devices.</summary>
    public static class Cuda
    {
        /// <summary>True when libtorch was built with CUDA and a GPU is present.</summary>
        public static bool IsAvailable => NativeMethods.mvt_cuda_is_available() == 1;

        /// <summary>
        /// True when libtorch is a CUDA build, whether or not this machine has a usable GPU (PyTorch's
        /// <c>torch.backends.cuda.is_built()</c>).
        /// </summary>
        public static bool IsBuilt => NativeMethods.mvt_cuda_compiled_version() > 0;

        /// <summary>
        /// The CUDA runtime version libtorch was compiled against (e.g. 12.4), or null for a CPU-only libtorch (PyTorch's
        /// <c>torch.version.cuda</c>).
        /// </summary>
        public static Version? CompiledVersion
        {
            get
            {
                int v = NativeMethods.mvt_cuda_compiled_version(); // major × 1000 + minor × 10
                return v > 0 ? new Version(v / 1000, v % 1000 / 10) : null;
            }
        }

        /// <summary>Throws when <paramref name="device"/> is a CUDA device and CUDA cannot be used, saying why.</summary>
        /// <param name="device">The device asked for.</param>
        /// <param name="what">What it was asked for (e.g. "the model"), for the message; null for nothing.</param>
        /// <exception cref="InvalidOperationException">CUDA was asked for and libtorch is CPU-only or finds no usable GPU.</exception>
        public static void EnsureUsable(Device device, string? what = null)
        {
            Guard.Valid(device);
            if (!device.IsCuda || IsAvailable) return;
            throw new InvalidOperationException($"CUDA was requested ({device}{(what is null ? "" : " for " + what)}) but is not available: {UnavailableReason}");
        }

        /// <summary>
        /// Why CUDA cannot be used here — a CPU-only libtorch, or a CUDA build that finds no usable GPU — as a sentence
        /// for error messages; null when <see cref="IsAvailable"/>.
        /// </summary>
        public static string? UnavailableReason => IsAvailable ? null : CompiledVersion is { } cuda
            ? $"this libtorch ({Tensors.Version}) is built with CUDA {cuda} but finds no usable GPU (no device, or the NVIDIA driver is missing or too old for CUDA {cuda}; nvidia-smi shows what the driver sees)."
            : $"this libtorch ({Tensors.Version}) is a CPU-only build; build the shim against a CUDA libtorch (MEDVISION_LIBTORCH=/path/to/libtorch dotnet build) to use a GPU.";

        /// <summary>Number of visible CUDA devices (0 on a CPU-only build).</summary>
        public static int DeviceCount => Math.Max(0, NativeMethods.mvt_cuda_device_count());

        /// <summary>Waits for all work on a CUDA device to finish.</summary>
        public static void Synchronize(int device = 0)
        {
            EnsureUsable(Device.Cuda(device));
            Tensor.Check(NativeMethods.mvt_cuda_synchronize(device));
        }
    }
}
