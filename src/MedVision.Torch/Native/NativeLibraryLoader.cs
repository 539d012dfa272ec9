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
    private static string? _loadedPath;

    /// <summary>The full path of the loaded shim; loads it first when it is not loaded yet.</summary>
    internal static string LoadedPath
    {
        get
        {
            Load();
            return _loadedPath!;
        }
    }

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
                var full = Path.GetFullPath(path);
                _handle = NativeLibrary.Load(full);
                _loadedPath = full;
                return _handle;
            }
            catch (DllNotFoundException e)
            {
                _failure = new TorchNotFoundException(Explain(path, e.Message), e);
                throw _failure;
            }
        }
    }

    internal static string Explain(string path, string loaderMessage) => Explain(path, loaderMessage, LibraryFolders());

    /// <summary>
    /// The message for a shim that would not load. When the loader names a libtorch library (libtorch_cpu.so.1.13, ...)
    /// and one of <paramref name="libraryFolders"/> holds another version of it, the shim was built against another
    /// libtorch than this machine's, and installing libtorch-dev would not help: say so and how to rebuild it.
    /// </summary>
    internal static string Explain(string path, string loaderMessage, IEnumerable<string> libraryFolders)
    {
        var match = System.Text.RegularExpressions.Regex.Match(loaderMessage, @"\b(libtorch_cpu|libtorch_cuda|libtorch|libc10_cuda|libc10)\.so(\.[0-9][0-9.]*)?");
        if (!match.Success)
            return $"The MedVision.Torch native shim at {path} could not be loaded: {loaderMessage}. " +
                   "If a library it needs is missing, install libtorch with: sudo apt-get install -y libtorch-dev libopenblas0-pthread.";
        string missing = match.Value.TrimEnd('.');
        string stem = match.Groups[1].Value + ".so";
        if (match.Groups[2].Success)
        {
            var present = libraryFolders.Where(Directory.Exists)
                .SelectMany(d => SafeFiles(d, stem + ".*"))
                .Select(Path.GetFileName)
                .OfType<string>()
                .Where(f => f != missing && System.Text.RegularExpressions.Regex.IsMatch(f, @"\.so\.[0-9]+\.[0-9]+$"))
                .Distinct()
                .OrderBy(f => f, StringComparer.Ordinal)
                .ToList();
            if (present.Count > 0)
                return $"The MedVision.Torch native shim at {path} was built against another libtorch: it needs {missing}, and this machine has " +
                       $"{string.Join(", ", present)} ({loaderMessage}). A shim works only with the libtorch version it was built against. " +
                       "Rebuild it against this machine's libtorch: a project that references the MedVision.Torch package does that when it is built " +
                       "(needs cmake, g++ and libtorch's headers: sudo apt-get install -y cmake g++ libtorch-dev; see the package's buildTransitive/MedVision.Torch.targets), " +
                       "and in the MedVision.Nets repository `dotnet build` does it; or build one with the package's native/build.sh and set MEDVISION_NATIVE_LIB to it.";
        }
        return $"libtorch is missing: loading {path} needs {missing}, which the system cannot find ({loaderMessage}). " +
               "Install it with: sudo apt-get install -y libtorch-dev libopenblas0-pthread (or, for another libtorch, add its lib folder to LD_LIBRARY_PATH).";
    }

    private static IEnumerable<string> SafeFiles(string folder, string pattern)
    {
        try { return Directory.GetFiles(folder, pattern); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return Array.Empty<string>(); }
    }

    /// <summary>Where the dynamic loader looks for libraries: LD_LIBRARY_PATH, then the usual system folders.</summary>
    private static IEnumerable<string> LibraryFolders()
    {
        var env = Environment.GetEnvironmentVariable("LD_LIBRARY_PATH");
        if (!string.IsNullOrEmpty(env))
            foreach (var d in env.Split(':', StringSplitOptions.RemoveEmptyEntries)) yield return d;
        foreach (var d in new[] { "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/lib" })
            yield return d;
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
