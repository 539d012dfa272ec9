namespace MedVision.Nets.Explainability;

/// <summary>
/// How a predictor computes and draws a gradient attribution (<see cref="AttributionMethod"/>): the settings of
/// <see cref="IntegratedGradients"/>, <see cref="SmoothGrad"/>, <see cref="GradientShap"/> and
/// <see cref="Attributions.ToMaps"/>, and the reference images of the SHAP methods. The defaults are Captum's (50
/// Gauss–Legendre points; 25 noisy copies at 15 % of the input's range) and its visualisation's (absolute values, the
/// top 2 % treated as outliers). A value out of range is refused when it is set.
/// </summary>
/// <example><code>
/// var options = AttributionOptions.Default with { Steps = 200, Sign = AttributionSign.Positive };
/// var explanation = predictor.ExplainFile("fundus.png", AttributionMethod.IntegratedGradients, options: options);
/// var references = Directory.GetFiles("training/myopia").Take(32).ToArray();   // a few dozen training images
/// var shap = predictor.ExplainFile("fundus.png", AttributionMethod.DeepLiftShap, options: AttributionOptions.Default with { ReferenceFiles = references });
/// Console.WriteLine(shap.ConvergenceDelta);                                   // near 0: the attributions add up
/// </code></example>
public sealed record AttributionOptions
{
    private readonly int _steps = 50, _samples = 25, _batchSize = 64;
    private readonly double _noiseLevel = 0.15, _outlierPercent = 2;
    private readonly IntegrationRule _rule = IntegrationRule.GaussLegendre;
    private readonly AttributionSign _sign = AttributionSign.Absolute;

    /// <summary>Captum's defaults.</summary>
    public static AttributionOptions Default { get; } = new();

    /// <summary>Integrated gradients: points on the path from the zero baseline to the input, 1 to 100,000 (at least 2 for the trapezoid rule).</summary>
    public int Steps
    {
        get => _steps;
        init => _steps = value is >= 1 and <= 100_000 ? value : throw new ArgumentOutOfRangeException(nameof(Steps), value, "Integrated gradients take 1 to 100,000 steps.");
    }

    /// <summary>Integrated gradients: the quadrature rule.</summary>
    public IntegrationRule Rule
    {
        get => _rule;
        init => _rule = Enum.IsDefined(value) ? value : throw new ArgumentOutOfRangeException(nameof(Rule), value, "Unknown integration rule.");
    }

    /// <summary>SmoothGrad: noisy copies averaged; GradientSHAP: draws; 1 to 100,000.</summary>
    public int Samples
    {
        get => _samples;
        init => _samples = value is >= 1 and <= 100_000 ? value : throw new ArgumentOutOfRangeException(nameof(Samples), value, "SmoothGrad takes 1 to 100,000 samples.");
    }

    /// <summary>SmoothGrad: the noise's standard deviation as a fraction of each sample's range; finite and ≥ 0.</summary>
    public double NoiseLevel
    {
        get => _noiseLevel;
        init => _noiseLevel = value >= 0 && double.IsFinite(value) ? value : throw new ArgumentOutOfRangeException(nameof(NoiseLevel), value, "The noise level must be a finite fraction ≥ 0 of the input's range.");
    }

    /// <summary>SmoothGrad: average squared gradients (SmoothGrad²) instead of gradients.</summary>
    public bool Squared { get; init; }

    /// <summary>SmoothGrad: seeds the noise; GradientSHAP: seeds the draws.</summary>
    public int Seed { get; init; }

    /// <summary>Path points, noisy copies, GradientSHAP draws or DeepLIFT SHAP references per forward and backward pass; at least 1.</summary>
    public int BatchSize
    {
        get => _batchSize;
        init => _batchSize = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(BatchSize), value, "The batch size is at least 1.");
    }

    /// <summary>
    /// GradientSHAP and DeepLIFT SHAP: the reference images (or volumes) the prediction is explained against, in [0, 1]
    /// as the predictor takes its inputs, prepared as the inputs are (resized, normalised) — typically a few dozen
    /// training images; those methods need at least one. Null for none.
    /// </summary>
    public IReadOnlyList<Transforms.FloatImage>? References { get; init; }

    /// <summary>
    /// GradientSHAP and DeepLIFT SHAP: the reference images given as files instead, which the predictor reads as it
    /// reads the file it explains (<c>ExplainFile</c>): JPEG or PNG images for a 2-D model; for a 3-D model NIfTI files,
    /// DICOM series folders or subject folders, prepared as the card says (each ensemble member reads them its own
    /// way). Read at every explanation. Give these or <see cref="References"/>, not both; null for none.
    /// </summary>
    public IReadOnlyList<string>? ReferenceFiles { get; init; }

    /// <summary>Which attributions the map shows: absolute values (the default), positive or negative evidence.</summary>
    public AttributionSign Sign
    {
        get => _sign;
        init => _sign = Enum.IsDefined(value) ? value : throw new ArgumentOutOfRangeException(nameof(Sign), value, "Unknown attribution sign.");
    }

    /// <summary>The map's top percentage treated as outliers (saturated at 1), in [0, 100).</summary>
    public double OutlierPercent
    {
        get => _outlierPercent;
        init => _outlierPercent = value is >= 0 and < 100 ? value : throw new ArgumentOutOfRangeException(nameof(OutlierPercent), value, "The outlier percentage lies in [0, 100).");
    }
}
