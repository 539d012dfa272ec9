using System.Globalization;
using MedVision.Nets.Inference;

namespace MedVision.Samples;

/// <summary>What the samples that predict with several models (--model given more than once, or a manifest) share.</summary>
internal static class EnsembleModels
{
    /// <summary>Whether --model names an ensemble manifest (a .json file written by <see cref="EnsemblePredictor.SaveManifest(string, IReadOnlyList{string}, IReadOnlyList{double}?)"/>).</summary>
    public static bool IsManifest(string path) => path.EndsWith(".json", StringComparison.OrdinalIgnoreCase);

    /// <summary>The manifest among the --model values, which must then be the only one; null when there is none.</summary>
    /// <exception cref="ArgumentException">A manifest given together with other --model values.</exception>
    public static string? ManifestAlone(IReadOnlyList<string> models)
    {
        var manifest = models.FirstOrDefault(IsManifest);
        if (manifest is not null && models.Count != 1)
            throw new ArgumentException($"--model {manifest} is an ensemble manifest, which lists the whole ensemble: give it as the only --model.");
        return manifest;
    }

    /// <summary>
    /// Whether the ensemble holds fold models of a cross-validation (their cards name their fold), which trained on the
    /// training and validation splits pooled, so the validation split is not held out for them.
    /// </summary>
    public static bool FromCrossValidation(EnsemblePredictor ensemble) => ensemble.Members.Any(p => p.Card.Metrics.ContainsKey("fold"));

    /// <summary>"Ensemble of N models (probabilities averaged[, weights …])" — the weights when they differ.</summary>
    public static string Banner(EnsemblePredictor ensemble)
        => $"Ensemble of {ensemble.Members.Count} models (probabilities averaged{(ensemble.Weights.Distinct().Count() > 1 ? $", weights {string.Join(", ", ensemble.Weights.Select(w => w.ToString("G3", CultureInfo.InvariantCulture)))}" : "")})";

    /// <summary>A prediction's table cells for an ensemble: how many members agree with its label ("2/3"), and each member's label.</summary>
    public static string[] AgreementCells(EnsemblePrediction prediction)
        => [$"{prediction.Members.Count(m => m.Label == prediction.Label)}/{prediction.Members.Count}", string.Join(" ", prediction.Members.Select(m => m.Label))];
}
