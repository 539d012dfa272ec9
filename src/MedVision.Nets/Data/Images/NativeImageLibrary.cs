using System.Runtime.InteropServices;

namespace MedVision.Nets.Data.Images;

/// <summary>Loads a native shared library by trying several names, with an actionable error when none is found.</summary>
internal static class NativeImageLibrary
{
    internal static nint Load(string description, string installHint, params string[] names)
    {
        foreach (string name in names)
        {
            if (NativeLibrary.TryLoad(name, typeof(NativeImageLibrary).Assembly, null, out nint handle))
            {
                return handle;
            }
        }

        throw new DllNotFoundException($"{description} could not be loaded (tried {string.Join(", ", names)}). {installHint}");
    }

    internal static nint Export(nint library, string name, string libraryName) =>
        NativeLibrary.TryGetExport(library, name, out nint address)
            ? address
            : throw new EntryPointNotFoundException($"{libraryName} has no function '{name}'; a newer version of the library is needed.");
}
