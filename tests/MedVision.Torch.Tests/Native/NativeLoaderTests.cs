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

    /// <summary>
    /// A copy of the shim whose libtorch_cpu dependency is patched to libtorch_cpu.so.1.99, a version no machine has:
    /// loading it fails the way a shim built against another libtorch fails, and returns the loader's message.
    /// </summary>
    private static string LoadShimNeedingLibtorch199(string dir)
    {
        var copy = Path.Combine(dir, "libmedvision_torch.so");
        File.Copy(ShimPath(), copy);
        var needed = Run("patchelf", $"--print-needed {copy}").Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Single(n => n.StartsWith("libtorch_cpu.so", StringComparison.Ordinal));
        using (var patch = Process.Start(new ProcessStartInfo("patchelf", $"--replace-needed {needed} libtorch_cpu.so.1.99 {copy}") { RedirectStandardError = true })!)
        {
            patch.WaitForExit();
            patch.ExitCode.Should().Be(0, patch.StandardError.ReadToEnd());
        }
        var load = () => NativeLibrary.Load(copy);
        return load.Should().Throw<DllNotFoundException>().Which.Message;
    }

    [Fact]
    public void MissingLibtorch_IsExplainedWithTheLibraryAndTheInstallCommand()
    {
        // No libtorch in the folders the loader searches: the message says what is missing and how to install it.
        var dir = Directory.CreateTempSubdirectory("mvt-loader-").FullName;
        try
        {
            var loaderError = LoadShimNeedingLibtorch199(dir);
            var copy = Path.Combine(dir, "libmedvision_torch.so");
            var message = NativeLibraryLoader.Explain(copy, loaderError, new[] { dir, Path.Combine(dir, "absent") });
            message.Should().Contain("libtorch is missing").And.Contain("libtorch_cpu.so.1.99").And.Contain("sudo apt-get install -y libtorch-dev");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void ShimBuiltAgainstAnotherLibtorch_IsExplainedWithBothVersionsAndHowToRebuild()
    {
        // This machine has a libtorch (the one the tests run on), not the 1.99 the patched shim asks for: installing
        // libtorch-dev would not help, so the message must say the versions differ and how to rebuild the shim.
        var dir = Directory.CreateTempSubdirectory("mvt-loader-").FullName;
        try
        {
            var loaderError = LoadShimNeedingLibtorch199(dir);
            var copy = Path.Combine(dir, "libmedvision_torch.so");
            var message = NativeLibraryLoader.Explain(copy, loaderError);
            var parts = Tensors.Version.Split('.');
            var installed = $"libtorch_cpu.so.{parts[0]}.{parts[1]}";
            message.Should().Contain("built against another libtorch").And.Contain("needs libtorch_cpu.so.1.99")
                .And.Contain(installed).And.Contain("MEDVISION_NATIVE_LIB").And.Contain("native/build.sh")
                .And.NotContain("libtorch is missing");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void LoadedShimPath_IsTheFileBesideTheTestsOrTheOneNamedByTheEnvironment()
    {
        var named = Environment.GetEnvironmentVariable("MEDVISION_NATIVE_LIB");
        Tensors.NativeLibraryPath.Should().Be(Path.GetFullPath(string.IsNullOrWhiteSpace(named) ? ShimPath() : named));
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
