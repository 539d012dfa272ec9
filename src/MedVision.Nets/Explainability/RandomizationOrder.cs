namespace MedVision.Nets.Explainability;

/// <summary>How <see cref="ParameterRandomization"/> randomises a model's layers (Adebayo et al. 2018, section 3.1).</summary>
public enum RandomizationOrder
{
    /// <summary>From the output towards the input, each step keeping the layers randomised before it ("cascading"; Quantus's top-down order).</summary>
    Cascading,

    /// <summary>One layer (or block) at a time, the others keeping their trained values.</summary>
    Independent,
}
