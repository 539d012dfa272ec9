using System.Collections;

namespace MedVision.Torch.Nn;

/// <summary>Holds submodules in a list, named "0", "1", … (torch.nn.ModuleList). It has no forward pass of its own.</summary>
/// <typeparam name="T">The module type.</typeparam>
public sealed class ModuleList<T> : Module, IReadOnlyList<T> where T : Module
{
    private readonly List<T> _items = new();

    /// <summary>Creates the list.</summary>
    public ModuleList(params T[] modules)
    {
        ArgumentNullException.ThrowIfNull(modules);
        foreach (var m in modules) Add(m);
    }

    /// <summary>Appends a module.</summary>
    public void Add(T module)
    {
        ArgumentNullException.ThrowIfNull(module);
        RegisterModule(_items.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), module);
        _items.Add(module);
    }

    /// <inheritdoc />
    public T this[int index] => _items[index];
    /// <inheritdoc />
    public int Count => _items.Count;
    /// <inheritdoc />
    public override string TypeName => "ModuleList";
    /// <inheritdoc />
    public IEnumerator<T> GetEnumerator() => _items.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
