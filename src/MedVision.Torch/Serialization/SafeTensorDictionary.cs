using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace MedVision.Torch.Serialization;

/// <summary>
/// Tensors loaded from a safetensors file, by name, with the file's metadata. The dictionary owns the tensors
/// (they belong to no dispose scope): dispose it, or take a tensor out with <see cref="Take"/> to own it yourself.
/// </summary>
public sealed class SafeTensorDictionary : IReadOnlyDictionary<string, Tensor>, IDisposable
{
    private readonly Dictionary<string, Tensor> _tensors;
    private bool _disposed;

    internal SafeTensorDictionary(Dictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        _tensors = tensors;
        Metadata = metadata;
    }

    /// <summary>The "__metadata__" entries of the header (empty when there were none).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The tensor called <paramref name="key"/> (owned by this dictionary).</summary>
    /// <exception cref="KeyNotFoundException">There is no tensor with that name.</exception>
    public Tensor this[string key]
    {
        get
        {
            ThrowIfDisposed();
            return _tensors.TryGetValue(key, out var t) ? t : throw new KeyNotFoundException($"There is no tensor '{key}' (there are {_tensors.Count}: {string.Join(", ", _tensors.Keys.Take(10))}{(_tensors.Count > 10 ? ", …" : "")}).");
        }
    }

    /// <summary>The tensor names.</summary>
    public IEnumerable<string> Keys => _tensors.Keys;

    /// <summary>The tensors.</summary>
    public IEnumerable<Tensor> Values => _tensors.Values;

    /// <summary>Number of tensors.</summary>
    public int Count => _tensors.Count;

    /// <summary>True when a tensor has that name.</summary>
    public bool ContainsKey(string key) => _tensors.ContainsKey(key);

    /// <summary>Looks up a tensor by name.</summary>
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out Tensor value)
    {
        ThrowIfDisposed();
        return _tensors.TryGetValue(key, out value);
    }

    /// <summary>Removes the tensor <paramref name="key"/> from the dictionary and hands it to the caller, who must dispose it.</summary>
    /// <exception cref="KeyNotFoundException">There is no tensor with that name.</exception>
    public Tensor Take(string key)
    {
        var t = this[key];
        _tensors.Remove(key);
        return t;
    }

    /// <summary>
    /// Puts <paramref name="tensor"/> under <paramref name="key"/> (e.g. a resized or converted copy of an entry): the
    /// dictionary owns it from now on (it leaves any dispose scope), and the tensor the key held, if another, is disposed.
    /// </summary>
    /// <exception cref="ArgumentException">The key is empty.</exception>
    public void Replace(string key, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(tensor);
        if (key.Length == 0) throw new ArgumentException("The key is empty.", nameof(key));
        ThrowIfDisposed();
        DisposeScope.Detach(tensor);
        if (_tensors.TryGetValue(key, out var old) && !ReferenceEquals(old, tensor)) old.Dispose();
        _tensors[key] = tensor;
    }

    /// <summary>
    /// Renames the tensors in place (e.g. another library's parameter names to this one's); <paramref name="rename"/>
    /// returns the new name of each key (or the key itself). The order of the tensors is kept.
    /// </summary>
    /// <exception cref="ArgumentException">Two keys get the same new name, or a new name is null or empty; nothing is renamed.</exception>
    public void RenameKeys(Func<string, string> rename)
    {
        ArgumentNullException.ThrowIfNull(rename);
        ThrowIfDisposed();
        var renamed = new List<KeyValuePair<string, Tensor>>(_tensors.Count);
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, tensor) in _tensors)
        {
            var name = rename(key);
            if (string.IsNullOrEmpty(name)) throw new ArgumentException($"The new name of '{key}' is null or empty.", nameof(rename));
            if (!seen.TryAdd(name, key)) throw new ArgumentException($"'{seen[name]}' and '{key}' would both be named '{name}'.", nameof(rename));
            renamed.Add(new(name, tensor));
        }
        _tensors.Clear();
        foreach (var (name, tensor) in renamed) _tensors.Add(name, tensor);
    }

    /// <summary>Enumerates name–tensor pairs.</summary>
    public IEnumerator<KeyValuePair<string, Tensor>> GetEnumerator()
    {
        ThrowIfDisposed();
        return _tensors.GetEnumerator();
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Disposes every tensor still in the dictionary.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var t in _tensors.Values) t.Dispose();
        _tensors.Clear();
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);
}
