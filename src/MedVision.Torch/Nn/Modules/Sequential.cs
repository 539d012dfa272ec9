namespace MedVision.Torch.Nn;

/// <summary>Runs its modules in order, each on the previous one's output (torch.nn.Sequential); children are named "0", "1", ….</summary>
public sealed class Sequential : Module<Tensor, Tensor>
{
    private readonly List<Module<Tensor, Tensor>> _layers = new();

    /// <summary>Creates the container from modules.</summary>
    public Sequential(params Module<Tensor, Tensor>[] modules)
    {
        ArgumentNullException.ThrowIfNull(modules);
        foreach (var m in modules) Add(m);
    }

    /// <summary>Creates the container from named modules (the names become state-dict prefixes).</summary>
    public Sequential(IEnumerable<(string Name, Module<Tensor, Tensor> Module)> modules)
    {
        ArgumentNullException.ThrowIfNull(modules);
        foreach (var (name, m) in modules) Add(name, m);
    }

    /// <summary>Number of modules.</summary>
    public int Count => _layers.Count;

    /// <summary>The module at <paramref name="index"/>.</summary>
    public Module<Tensor, Tensor> this[int index] => _layers[index];

    /// <summary>Appends a module named by its position.</summary>
    public Sequential Add(Module<Tensor, Tensor> module) => Add(_layers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), module);

    /// <summary>Appends a named module.</summary>
    public Sequential Add(string name, Module<Tensor, Tensor> module)
    {
        ArgumentNullException.ThrowIfNull(module);
        RegisterModule(name, module);
        _layers.Add(module);
        return this;
    }

    /// <inheritdoc />
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (_layers.Count == 0) return input.Alias();
        using var scope = Tensors.NewDisposeScope();
        var x = input;
        foreach (var layer in _layers) x = layer.Call(x);
        return scope.MoveToOuter(x);
    }
}
