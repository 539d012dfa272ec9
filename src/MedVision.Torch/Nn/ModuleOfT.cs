namespace MedVision.Torch.Nn;

/// <summary>A module with a typed forward pass.</summary>
/// <typeparam name="TInput">The input type (usually <see cref="Tensor"/>).</typeparam>
/// <typeparam name="TOutput">The output type.</typeparam>
public abstract class Module<TInput, TOutput> : Module
{
    private readonly object _hookLock = new();
    private Action<Module<TInput, TOutput>, TInput, TOutput>[] _forwardHooks = Array.Empty<Action<Module<TInput, TOutput>, TInput, TOutput>>();

    /// <summary>The computation. Call submodules through <see cref="Call"/> so summaries and hooks can see them.</summary>
    public abstract TOutput Forward(TInput input);

    /// <summary>
    /// Runs <see cref="Forward"/>, then the forward hooks (see <see cref="RegisterForwardHook"/>), recording the call
    /// when a <see cref="ModelSummary"/> is being built.
    /// </summary>
    public TOutput Call(TInput input)
    {
        var recorder = ModelSummary.ActiveRecorder;
        if (recorder is null) return RunHooks(input, Forward(input));
        var row = recorder.Enter(this);
        var output = Forward(input);
        recorder.Exit(row, this, input, output);
        return RunHooks(input, output);
    }

    /// <summary>
    /// Registers a hook that <see cref="Call"/> invokes after every forward pass of this module with the module, its
    /// input and its output, in registration order (torch register_forward_hook; the hook observes and cannot replace
    /// the output). Dispose the returned handle to remove the hook.
    /// </summary>
    /// <remarks>
    /// The hook runs on the thread that called the module, inside that call's dispose scopes: the output is freed
    /// when the caller's scope ends, so a hook that keeps a tensor takes its own handle with
    /// <c>DisposeScope.Detach(output.Alias())</c> (which shares the data and the autograd graph) and disposes it later.
    /// Hooks are called from every thread that runs the module; filter on the thread if that matters.
    /// </remarks>
    public IDisposable RegisterForwardHook(Action<Module<TInput, TOutput>, TInput, TOutput> hook)
    {
        ArgumentNullException.ThrowIfNull(hook);
        lock (_hookLock) _forwardHooks = _forwardHooks.Append(hook).ToArray();
        return new HookHandle(this, hook);
    }

    /// <summary>The number of forward hooks currently registered.</summary>
    public int ForwardHookCount => Volatile.Read(ref _forwardHooks).Length;

    /// <summary>
    /// For a module whose forward takes more than <typeparamref name="TInput"/> (masks, options): runs
    /// <paramref name="forward"/> as <see cref="Call"/> runs <see cref="Forward"/> — recorded by an active
    /// <see cref="ModelSummary"/> and seen by the forward hooks, which are given <paramref name="input"/> — so that the
    /// module's own <c>Call</c> overloads behave as PyTorch's <c>module(...)</c> does for any arguments.
    /// </summary>
    protected TOutput CallWith(TInput input, Func<TOutput> forward)
    {
        ArgumentNullException.ThrowIfNull(forward);
        var recorder = ModelSummary.ActiveRecorder;
        if (recorder is null) return RunHooks(input, forward());
        var row = recorder.Enter(this);
        var output = forward();
        recorder.Exit(row, this, input, output);
        return RunHooks(input, output);
    }

    private TOutput RunHooks(TInput input, TOutput output)
    {
        var hooks = Volatile.Read(ref _forwardHooks);
        foreach (var hook in hooks) hook(this, input, output);
        return output;
    }

    private void RemoveHook(Action<Module<TInput, TOutput>, TInput, TOutput> hook)
    {
        lock (_hookLock)
        {
            int i = Array.IndexOf(_forwardHooks, hook);
            if (i >= 0) _forwardHooks = _forwardHooks.Where((_, j) => j != i).ToArray();
        }
    }

    private sealed class HookHandle : IDisposable
    {
        private Module<TInput, TOutput>? _owner;
        private readonly Action<Module<TInput, TOutput>, TInput, TOutput> _hook;

        public HookHandle(Module<TInput, TOutput> owner, Action<Module<TInput, TOutput>, TInput, TOutput> hook)
        {
            _owner = owner;
            _hook = hook;
        }

        public void Dispose() => Interlocked.Exchange(ref _owner, null)?.RemoveHook(_hook);
    }
}
