namespace MedVision.Torch.Tests.Memory;

/// <summary>
/// Tensors that nothing references once their handle is taken (unscoped, undisposed temporaries) must stay alive until
/// the native call that uses the handle returns: otherwise a garbage collection during the call lets the finalizer free
/// the native tensor under it. A stress check, not a deterministic reproduction: without the fix a 60-second variant
/// of this loop (the product alone) crashed the test host, while this 20-second run survived once; the fix is that
/// <c>Tensor.Handle</c> keeps the tensor reachable (and array-taking calls keep their arrays alive).
/// </summary>
[Collection(NativeMemoryCollection.Name)]
public sealed class ReachabilityTests
{
    [Fact]
    public void UnscopedTemporaries_SurviveTheirNativeCalls_WhileAnotherThreadForcesCollections()
    {
        var stop = false;
        var collector = new Thread(() =>
        {
            while (!Volatile.Read(ref stop))
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        });
        collector.Start();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        long iterations = 0;
        try
        {
            while (watch.Elapsed < TimeSpan.FromSeconds(20))
            {
                // every intermediate is garbage as soon as its handle is passed on; only the finalizer frees them
                double product = Tensors.Ones(256, 256).MatMul(Tensors.Ones(256, 256)).Relu().Sum().Item();
                product.Should().Be(256.0 * 256 * 256);
                double joined = Tensors.Cat([Tensors.Ones(64, 64), Tensors.Ones(64, 64) * 2]).Sum().Item();
                joined.Should().Be(3.0 * 64 * 64);
                iterations++;
            }
        }
        finally
        {
            Volatile.Write(ref stop, true);
            collector.Join();
            Tensors.CollectUnreachable();
        }
        iterations.Should().BeGreaterThan(10);
    }
}
