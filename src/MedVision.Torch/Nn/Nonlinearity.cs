namespace MedVision.Torch.Nn;

/// <summary>The nonlinearity an initialiser's gain is computed for (torch.nn.init.calculate_gain).</summary>
public enum Nonlinearity
{
    /// <summary>Gain 1 (linear, convolutions, sigmoid).</summary>
    Linear,
    /// <summary>Gain 1.</summary>
    Sigmoid,
    /// <summary>Gain 5/3.</summary>
    Tanh,
    /// <summary>Gain √2.</summary>
    Relu,
    /// <summary>Gain √(2 / (1 + a²)) for negative slope a.</summary>
    LeakyRelu,
}
