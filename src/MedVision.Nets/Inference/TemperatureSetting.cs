using System.Globalization;
using MedVision.Nets.Losses;
using MedVision.Nets.Metrics;

namespace MedVision.Nets.Inference;

// A card's temperature and, for a CORAL head, where it applies (the "coral_temperature" names), as the model card and
// the calibrations stored in it (conformal sets, referral thresholds) record them: a calibration holds only for the
// probabilities of the temperature setting it was made at.
internal static class TemperatureSetting
{
    private const string GradeProbabilitiesName = "grade_probabilities";

    // The name a calibration made with `scaling` records: null for the grade probabilities (as older files, which have none).
    public static string? NameOf(TemperatureScaling scaling) => scaling.OnCumulativeLogits ? ModelCard.CumulativeLogitsTemperature : null;

    // Where a recorded name says a temperature applies; unknown names are refused. owner: whose name it is, e.g. "the
    // referral's" ("" for the card's own).
    public static CoralTemperature Parse(string? name, string source, string owner) =>
        name is null || name.Equals(GradeProbabilitiesName, StringComparison.OrdinalIgnoreCase) ? CoralTemperature.GradeProbabilities
        : name.Equals(ModelCard.CumulativeLogitsTemperature, StringComparison.OrdinalIgnoreCase) ? CoralTemperature.CumulativeLogits
        : throw new ModelFormatException($"{source}: {owner}coral_temperature '{name}' is unknown ({GradeProbabilitiesName} or {ModelCard.CumulativeLogitsTemperature}).");

    // Refuses a calibration made at another temperature than the card's, or at the same one applied elsewhere (a CORAL
    // head's cumulative logits rather than its grade probabilities: other probabilities unless T = 1). A null card is an
    // ensemble manifest's: temperature 1.
    // owner: e.g. "the referral's "; made: e.g. "referral threshold was chosen".
    public static void CheckHeld(double temperature, string? name, ModelCard? card, string source, string owner, string made, string remedy)
    {
        var where = Parse(name, source, owner);
        double cardTemperature = card?.Temperature ?? 1;
        var cardWhere = card?.CoralTemperature ?? CoralTemperature.GradeProbabilities;
        if (temperature == cardTemperature && (temperature == 1 || where == cardWhere)) return;
        // Where each applies is named for a CORAL head, or when the two differ only there.
        bool named = card?.HasCoralHead == true || where != cardWhere;
        string Describe(double t, CoralTemperature w) => string.Create(CultureInfo.InvariantCulture,
            $"{t}{(named ? w == CoralTemperature.CumulativeLogits ? " on the cumulative logits" : " on the grade probabilities" : "")}");
        throw new ModelFormatException($"{source}: the {made} at temperature {Describe(temperature, where)} but the card's temperature is {Describe(cardTemperature, cardWhere)}; {remedy}");
    }
}
