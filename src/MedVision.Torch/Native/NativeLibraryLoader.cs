using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MedVision.Torch.Native;

/// <summary>
/// Finds and loads the native shim (libmedvision_torch.so) and, through it, libtorch. The shim is looked for in
/// MEDVISION_NATIVE_LIB (when set), then beside the assembly under runtimes/linux-x64/native/ (where the build
/// and the NuGet package place it), then beside the assembly itself.
/// </summary>
internal static class NativeLibraryLoader
{
    private const string FileName = "libmedvision_torch.so";
    private static readonly object Gate = new();
    private static IntPtr _handle;
    private static Exception? _failure;

#pragma warning disable CA2255 // a library must register its resolver before the first P/Invoke
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Register() => NativeLibrary.SetDllImportResolver(typeof(NativeLibraryLoader).Assembly, Resolve);

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
        => libraryName == NativeMethods.Lib ? Load() : IntPtr.Zero;

    /// <summary>Loads the shim once; throws <see cref="TorchNotFoundException"/> with an actionable message on failure.</summary>
    internal static IntPtr Load()
    {
        if (_handle != IntPtr.Zero) return _handle;
        lock (Gate)
        {
            if (_handle != IntPtr.Zero) return _handle;
            if (_failure is not null) throw _failure;
            var candidates = Candidates().ToList();
            string? path = candidates.FirstOrDefault(File.Exists);
            if (path is null)
            {
                _failure = new TorchNotFoundException(
                    $"The MedVision.Torch native shim ({FileName}) was not found. Looked in: {string.Join(", ", candidates)}. " +
                    "Build the solution (dotnet build builds the shim with CMake) or set MEDVISION_NATIVE_LIB to its path.");
                throw _failure;
            }
            try
            {
                _handle = NativeLibrary.Load(path);
                return _handle;
            }
            catch (DllNotFoundException e)
            {
                _failure = new TorchNotFoundException(Explain(path, e.Message), e);
                throw _failure;
            }
        }
    }

    internal static string Explain(string path, string loaderMessage)
    {
        string? missing = null;
        foreach (var lib in new[] { "libtorch_cpu.so", "libtorch.so", "libc10.so", "libtorch_cuda.so", "libc10_cuda.so" })
            if (loaderMessage.Contains(lib, StringComparison.Ordinal)) { missing = lib; break; }
        return missing is not null
            ? $"libtorch is missing: loading {path} needs {missing}, which the system cannot find ({loaderMessage}). " +
              "Install it with: sudo apt-get install -y libtorch-dev libopenblas0-pthread (or, for another libtorch, add its lib folder to LD_LIBRARY_PATH)."
            : $"The MedVision.Torch native shim at {path} could not be loaded: {loaderMessage}. " +
              "If a library it needs is missing, install libtorch with: sudo apt-get install -y libtorch-dev libopenblas0-pthread.";
    }

    private static IEnumerable<string> Candidates()
    {
        var env = Environment.GetEnvironmentVariable("MEDVISION_NATIVE_LIB");
        if (!string.IsNullOrWhiteSpace(env)) yield return env;
        var dirs = new List<string>();
        var asmDir = Path.GetDirectoryName(typeof(NativeLibraryLoader).Assembly.Location);
        if (!string.IsNullOrEmpty(asmDir)) dirs.Add(asmDir);
        if (!dirs.Contains(AppContext.BaseDirectory.TrimEnd('/'))) dirs.Add(AppContext.BaseDirectory.TrimEnd('/'));
        foreach (var d in dirs)
        {
            yield return Path.Combine(d, "runtimes", "linux-x64", "native", FileName);
            yield return Path.Combine(d, FileName);
        }
    }
}
