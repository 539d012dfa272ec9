namespace MedVision.Nets.Inference;

/// <summary>
/// Lets an object that many threads call at once be disposed while calls are still running, without freeing native
/// memory under them: <see cref="Dispose"/> refuses new calls at once (<see cref="ObjectDisposedException"/>) and runs
/// the release when the last call in progress has returned — the reference count of a <c>SafeHandle</c>, for a
/// predictor's network. Dispose does not wait.
/// </summary>
internal sealed class UsageGuard
{
    private readonly Action _release;
    private int _references = 1; // the owner's own, given up by Dispose
    private int _disposed;

    public UsageGuard(Action release) => _release = release;

    /// <summary>Whether <see cref="Dispose"/> has been called (the release may still wait for calls in progress).</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Starts a call: dispose the returned lease when it ends.</summary>
    /// <exception cref="ObjectDisposedException">The owner has been disposed.</exception>
    public Lease Enter(object owner)
    {
        while (true)
        {
            int references = Volatile.Read(ref _references);
            ObjectDisposedException.ThrowIf(references == 0 || IsDisposed, owner);
            if (Interlocked.CompareExchange(ref _references, references + 1, references) == references) return new Lease(this);
        }
    }

    /// <summary>Refuses new calls, and releases now or when the last call in progress ends. Idempotent.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) Exit();
    }

    private void Exit()
    {
        if (Interlocked.Decrement(ref _references) == 0) _release();
    }

    /// <summary>One call in progress.</summary>
    public readonly struct Lease : IDisposable
    {
        private readonly UsageGuard? _guard;

        internal Lease(UsageGuard guard) => _guard = guard;

        /// <summary>Ends the call; the last one after the owner's disposal releases.</summary>
        public void Dispose() => _guard?.Exit();
    }
}
