using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using MedVision.Torch.Autograd;
using MedVision.Torch.Nn;

namespace MedVision.Torch.Tests.Memory;

/// <summary>
/// Signals delivered to a thread while oneDNN's JIT float32 GEMM runs a convolution must not corrupt the heap: that
/// kernel runs with its stack pointer in a heap workspace, so a signal's frame (written below the stack pointer) landed
/// on the heap in front of the workspace and glibc aborted later ("corrupted size vs. prev_size while consolidating";
/// the samples' test host crashed so, with SIGCHLD from the sample apps it starts). The native calls that may run those
/// kernels defer asynchronous signals. A deterministic reproduction: before the fix this test's process aborted within
/// its first iterations.
/// </summary>
[Collection(NativeMemoryCollection.Name)]
[SupportedOSPlatform("linux")]
public sealed class SignalSafetyTests
{
    private const int SigWinch = 28; // Linux (x86-64 and arm64)

    [DllImport("libc", EntryPoint = "gettid")]
    private static extern int GetThreadId();

    [DllImport("libc", EntryPoint = "tgkill")]
    private static extern int SignalThread(int processId, int threadId, int signal);

    [Fact]
    public void SignalsDeliveredDuringGemmConvolutions_ArriveAfterTheCall_AndChangeNoResult()
    {
        using var scope = Tensors.NewDisposeScope();
        // A dilated 3-D convolution with 256 input channels, as in MedicalNet's last stage: oneDNN computes its forward
        // and backward passes with the JIT GEMM (reduction length 256 · 27 > 84, the size from which the kernel moves its
        // stack into the workspace). The input gradient's pass is oneDNN's too.
        var x = (Tensors.Arange(0, 256 * 8, 1, ScalarType.Float32) * 0.01).Sin().Reshape(1, 256, 2, 2, 2);
        var w = (Tensors.Arange(0, 512 * 256 * 27, 1, ScalarType.Float32) * 0.001).Cos().Reshape(512, 256, 3, 3, 3) * 0.02;
        var (expectedOutput, expectedGradient) = Step(x, w);

        int delivered = 0, threadId = 0;
        bool done = false;
        using var registration = PosixSignalRegistration.Create(PosixSignal.SIGWINCH, context =>
        {
            Interlocked.Increment(ref delivered);
            context.Cancel = true;
        });
        Exception? failure = null;
        var computing = new Thread(() =>
        {
            try
            {
                Volatile.Write(ref threadId, GetThreadId());
                for (int i = 0; i < 40; i++)
                {
                    var (output, gradient) = Step(x, w);
                    output.Should().Equal(expectedOutput, $"iteration {i}'s output");
                    gradient.Should().Equal(expectedGradient, $"iteration {i}'s input gradient");
                }
            }
            catch (Exception e)
            {
                failure = e;
            }
            finally
            {
                Volatile.Write(ref done, true);
            }
        });
        computing.Start();
        int sent = 0;
        while (!Volatile.Read(ref done))
        {
            int target = Volatile.Read(ref threadId);
            if (target != 0 && SignalThread(Environment.ProcessId, target, SigWinch) == 0) sent++;
            Thread.SpinWait(200);
        }
        computing.Join();
        failure.Should().BeNull();
        sent.Should().BeGreaterThan(100, "the computing thread was signalled throughout");
        SpinWait.SpinUntil(() => Volatile.Read(ref delivered) > 0, TimeSpan.FromSeconds(10));
        delivered.Should().BeGreaterThan(0, "deferred signals are delivered once the calls return");
    }

    private static (float[] Output, float[] Gradient) Step(Tensor x, Tensor w)
    {
        using var scope = Tensors.NewDisposeScope();
        var input = x.Detach().RequiresGradInPlace();
        var output = Functional.Conv3d(input, w, padding: 4, dilation: 4);
        var gradient = Gradients.Compute(output.Sum(), input);
        return (output.ToArray<float>(), gradient.ToArray<float>());
    }
}
