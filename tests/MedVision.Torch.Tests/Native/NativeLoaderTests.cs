using System.Diagnostics;
using System.Runtime.InteropServices;
using MedVision.Torch.Native;

namespace MedVision.Torch.Tests.Native;

public class NativeLoaderTests
{
    private static string ShimPath()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libmedvision_torch.so");
        File.Exists(path).Should().BeTrue("the build places the shim beside the tests");
        return path;
    }

    [Fact]
    public void MissingLibtorch_IsExplainedWithTheLibraryAndTheInstallCommand()
    {
        // A copy of the shim whose libtorch_cpu dependency names a file that does not exist: loading it fails the way
        // it does on a machine without libtorch, and the loader's message must say what is missing and how to install it.
        var dir = Directory.CreateTempSubdirectory("mvt-loader-").FullName;
        try
        {
            var copy = Path.Combine(dir, "libmedvision_torch.so");
            File.Copy(ShimPath(), copy);
            var needed = Run("patchelf", $"--print-needed {copy}").Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Single(n => n.StartsWith("libtorch_cpu.so", StringComparison.Ordinal));
            using (var patch = Process.Start(new ProcessStartInfo("patchelf", $"--replace-needed {needed} libtorch_cpu.so.0-missing {copy}") { RedirectStandardError = true })!)
            {
                patch.WaitForExit();
                patch.ExitCode.Should().Be(0, patch.StandardError.ReadToEnd());
            }
            var load = () => NativeLibrary.Load(copy);
            var loaderError = load.Should().Throw<DllNotFoundException>().Which.Message;
            var message = NativeLibraryLoader.Explain(copy, loaderError);
            message.Should().Contain("libtorch is missing").And.Contain("libtorch_cpu.so").And.Contain("sudo apt-get install -y libtorch-dev");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string Run(string file, string arguments)
    {
        using var p = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true })!;
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        p.ExitCode.Should().Be(0);
        return output;
    }

    [Fact]
    public void OtherLoadFailures_StillNameTheShimAndTheLoaderMessage()
    {
        var message = NativeLibraryLoader.Explain("/opt/x/libmedvision_torch.so", "/opt/x/libmedvision_torch.so: invalid ELF header");
        message.Should().Contain("/opt/x/libmedvision_torch.so").And.Contain("invalid ELF header");
    }

    [Fact]
    public void VersionAndOneDnnAreReported()
    {
        Tensors.Version.Should().MatchRegex(@"^\d+\.\d+\.\d+$");
        Tensors.HasOneDnn.Should().BeTrue("Debian's libtorch is built with oneDNN");
    }
}
