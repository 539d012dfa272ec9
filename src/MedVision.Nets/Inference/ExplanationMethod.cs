using MedVision.Nets.Explainability;

namespace MedVision.Nets.Inference;

/// <summary>How a predictor explains: a class-activation map on the last stage or a gradient attribution on the input.</summary>
internal readonly record struct ExplanationMethod(CamMethod? Cam, AttributionMethod? Attribution, AttributionOptions? Options = null)
{
    /// <summary>The attribution's settings: those given, or Captum's defaults.</summary>
    public AttributionOptions Settings => Options ?? AttributionOptions.Default;

    /// <summary>An attribution with its settings (null: the defaults).</summary>
    public static ExplanationMethod Of(AttributionMethod method, AttributionOptions? options) => new(null, method, options);

    public static implicit operator ExplanationMethod(CamMethod method) => new(method, null);

    public static implicit operator ExplanationMethod(AttributionMethod method) => new(null, method);

    /// <summary>Throws for a value outside either enumeration.</summary>
    public void Check(string parameterName)
    {
        if (Cam is { } cam && !Enum.IsDefined(cam)) throw new ArgumentOutOfRangeException(parameterName, cam, "Unknown class-activation method.");
        if (Attribution is { } attribution && !Enum.IsDefined(attribution)) throw new ArgumentOutOfRangeException(parameterName, attribution, "Unknown attribution method.");
        if (Settings is { References: not null, ReferenceFiles: not null })
            throw new ArgumentException("The options give reference images both as AttributionOptions.References and as ReferenceFiles: give one.", "options");
        if (Attribution == AttributionMethod.IntegratedGradients && Settings is { Rule: IntegrationRule.RiemannTrapezoid, Steps: < 2 })
            throw new ArgumentException($"The trapezoid rule needs at least 2 steps; the options give {Settings.Steps}.", "options");
    }

    /// <summary>Throws when a SHAP method has no reference images (checked after whether the model can be explained with it at all).</summary>
    public void RequireReferences()
    {
        if (UsesReferences && Settings.References is not { Count: > 0 } && Settings.ReferenceFiles is not { Count: > 0 })
            throw new ArgumentException($"{Attribution} explains a prediction against reference images: give them as AttributionOptions.References (in [0, 1] as the predictor's inputs) or ReferenceFiles (read as the input files are), e.g. a few dozen training images.", "options");
    }

    /// <summary>Whether the method explains against reference images (the SHAP methods).</summary>
    public bool UsesReferences => Attribution is AttributionMethod.GradientShap or AttributionMethod.DeepLiftShap;

    public override string ToString() => Cam?.ToString() ?? Attribution?.ToString() ?? "none";
}
