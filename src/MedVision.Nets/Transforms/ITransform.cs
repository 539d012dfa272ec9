namespace MedVision.Nets.Transforms;

/// <summary>One step of a <see cref="TransformPipeline"/>: maps an image to an image, drawing randomness only from the given generator so runs are reproducible under a seed.</summary>
public interface ITransform
{
    /// <summary>Applies the transform (it may modify and return <paramref name="image"/> or return a new one).</summary>
    FloatImage Apply(FloatImage image, Random random);
}
