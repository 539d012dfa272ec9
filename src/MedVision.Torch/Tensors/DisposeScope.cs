namespace MedVision.Torch;

/// <summary>
/// Collects every tensor created on this thread while the scope is the innermost one, and disposes them when the
/// scope is disposed, except those moved out with <see cref="MoveToOuter(Tensor)"/> or detached with
/// <see cref="Detach(Tensor)"/>. Scopes nest; create one with <see cref="Tensors.NewDisposeScope"/>.
/// </summary>
/// <example><code>
/// using var scope = Tensors.NewDisposeScope();
/// var y = (x * 2 + 1).Relu();          // intermediates are freed when the scope ends
/// return scope.MoveToOuter(y);          // y survives
/// </code></example>
public sealed class DisposeScope : IDisposable
{
    [ThreadStatic] private static DisposeScope? _current;
    private readonly List<Tensor> _tensors = new();
    private readonly DisposeScope? _outer;
    private readonly int _threadId;
    private bool _disposed;

    internal DisposeScope()
    {
        _outer = _current;
        _threadId = Environment.CurrentManagedThreadId;
        _current = this;
    }

    /// <summary>The innermost scope of the calling thread, or null.</summary>
    public static DisposeScope? Current => _current;

    /// <summary>The scope this one is nested in, or null.</summary>
    public DisposeScope? Outer => _outer;

    /// <summary>Number of tensors this scope currently owns (including ones already disposed by hand).</summary>
    public int Count => _tensors.Count(t => ReferenceEquals(t.OwnerScope, this));

    internal void Register(Tensor tensor)
    {
        tensor.OwnerScope = this;
        _tensors.Add(tensor);
    }

    /// <summary>Moves a tensor to the enclosing scope (or out of all scopes) so that it survives this one.</summary>
    public Tensor MoveToOuter(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (ReferenceEquals(tensor.OwnerScope, this))
        {
            tensor.OwnerScope = null;
            _outer?.Register(tensor);
        }
        return tensor;
    }

    /// <summary>Moves several tensors to the enclosing scope.</summary>
    public void MoveToOuter(params Tensor[] tensors)
    {
        foreach (var t in tensors) MoveToOuter(t);
    }

    /// <summary>Removes a tensor from every scope: the caller owns it and must dispose it.</summary>
    public static Tensor Detach(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        tensor.OwnerScope = null;
        return tensor;
    }

    /// <summary>Disposes every tensor still owned by this scope and makes the enclosing scope current again.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        if (Environment.CurrentManagedThreadId != _threadId)
            throw new InvalidOperationException("A DisposeScope must be disposed on the thread that created it.");
        if (!ReferenceEquals(_current, this))
            throw new InvalidOperationException("DisposeScopes must be disposed in reverse order of creation (an inner scope is still open).");
        _disposed = true;
        _current = _outer;
        foreach (var t in _tensors)
            if (ReferenceEquals(t.OwnerScope, this))
            {
                t.OwnerScope = null;
                t.Dispose();
            }
        _tensors.Clear();
    }
}
