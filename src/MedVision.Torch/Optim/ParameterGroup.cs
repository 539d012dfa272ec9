namespace MedVision.Torch.Optim;

/// <summary>
/// A set of parameters optimised with shared hyper-parameters (one entry of PyTorch's <c>optimizer.param_groups</c>).
/// Algorithm-specific options live in the derived classes (<see cref="SgdParameterGroup"/>, <see cref="AdamParameterGroup"/>).
/// The group references the parameter tensors but does not own them: keep them alive while the optimizer is used.
/// </summary>
public abstract class ParameterGroup
{
    private double _learningRate;
    private double _initialLearningRate;
    private double _weightDecay;

    /// <summary>Creates a group over <paramref name="parameters"/>.</summary>
    /// <exception cref="ArgumentException">A parameter is null, disposed, not floating-point or not a leaf tensor.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The learning rate or weight decay is negative or not finite.</exception>
    protected ParameterGroup(IEnumerable<Tensor> parameters, double learningRate, double weightDecay)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var list = new List<Tensor>();
        foreach (var p in parameters)
        {
            if (p is null) throw new ArgumentException($"Parameter {list.Count} is null.", nameof(parameters));
            if (p.IsDisposed) throw new ArgumentException($"Parameter {list.Count} has been disposed.", nameof(parameters));
            if (!p.ScalarType.IsFloatingPoint())
                throw new ArgumentException($"Parameter {list.Count} has element type {p.ScalarType}; only floating-point tensors can be optimised.", nameof(parameters));
            if (!p.IsLeaf) throw new ArgumentException($"Parameter {list.Count} is not a leaf tensor; an optimizer can only update leaf tensors.", nameof(parameters));
            foreach (var q in list)
                if (ReferenceEquals(p, q)) throw new ArgumentException($"Parameter {list.Count} appears more than once in the group.", nameof(parameters));
            list.Add(p);
        }
        Parameters = list.AsReadOnly();
        LearningRate = learningRate;
        InitialLearningRate = learningRate;
        WeightDecay = weightDecay;
    }

    /// <summary>The parameters of this group, in order.</summary>
    public IReadOnlyList<Tensor> Parameters { get; }

    /// <summary>The current learning rate (changed by learning-rate schedulers).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative or not finite.</exception>
    public double LearningRate
    {
        get => _learningRate;
        set => _learningRate = RequireNonNegative(value, nameof(LearningRate));
    }

    /// <summary>
    /// The learning rate the group started with (PyTorch's <c>initial_lr</c>); schedulers scale it. Set to
    /// <see cref="LearningRate"/> when the group is created.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative or not finite.</exception>
    public double InitialLearningRate
    {
        get => _initialLearningRate;
        set => _initialLearningRate = RequireNonNegative(value, nameof(InitialLearningRate));
    }

    /// <summary>Weight decay factor; its meaning (L2 penalty or decoupled decay) depends on the optimizer.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative or not finite.</exception>
    public double WeightDecay
    {
        get => _weightDecay;
        set => _weightDecay = RequireNonNegative(value, nameof(WeightDecay));
    }

    /// <summary>Exports every hyper-parameter under PyTorch's names ("lr", "initial_lr", "weight_decay", …); booleans are 0 or 1.</summary>
    public virtual IReadOnlyDictionary<string, double> GetHyperParameters() => new Dictionary<string, double>
    {
        ["lr"] = LearningRate,
        ["initial_lr"] = InitialLearningRate,
        ["weight_decay"] = WeightDecay,
    };

    /// <summary>
    /// Checks that <paramref name="values"/> holds every hyper-parameter of this group with a valid value, without
    /// changing anything.
    /// </summary>
    /// <exception cref="ArgumentException">A value is missing or invalid.</exception>
    public virtual void ValidateHyperParameters(IReadOnlyDictionary<string, double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        RequireNonNegative(Get(values, "lr"), "lr");
        RequireNonNegative(Get(values, "initial_lr"), "initial_lr");
        RequireNonNegative(Get(values, "weight_decay"), "weight_decay");
    }

    /// <summary>Sets every hyper-parameter from a dictionary produced by <see cref="GetHyperParameters"/>.</summary>
    /// <exception cref="ArgumentException">A value is missing or invalid (nothing is changed then).</exception>
    public virtual void SetHyperParameters(IReadOnlyDictionary<string, double> values)
    {
        ValidateHyperParameters(values);
        LearningRate = values["lr"];
        InitialLearningRate = values["initial_lr"];
        WeightDecay = values["weight_decay"];
    }

    /// <summary>Reads a required hyper-parameter, throwing an <see cref="ArgumentException"/> naming it when missing.</summary>
    protected static double Get(IReadOnlyDictionary<string, double> values, string name)
    {
        ArgumentNullException.ThrowIfNull(values);
        return values.TryGetValue(name, out var v) ? v : throw new ArgumentException($"The hyper-parameter '{name}' is missing.", nameof(values));
    }

    /// <summary>Reads a 0/1 flag, throwing an <see cref="ArgumentException"/> when missing or not 0 or 1.</summary>
    protected static bool GetFlag(IReadOnlyDictionary<string, double> values, string name)
    {
        var v = Get(values, name);
        return v switch
        {
            0 => false,
            1 => true,
            _ => throw new ArgumentException($"The hyper-parameter '{name}' must be 0 or 1, not {v}.", nameof(values)),
        };
    }

    /// <summary>Returns <paramref name="value"/> or throws when it is negative or not finite.</summary>
    protected static double RequireNonNegative(double value, string name)
    {
        if (!double.IsFinite(value) || value < 0)
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be a finite value ≥ 0.");
        return value;
    }

    /// <summary>Returns <paramref name="value"/> or throws when it is outside [0, 1) (a decay rate such as Adam's betas).</summary>
    protected static double RequireBeta(double value, string name)
    {
        if (!(value >= 0 && value < 1)) throw new ArgumentOutOfRangeException(name, value, $"{name} must be in [0, 1).");
        return value;
    }
}
