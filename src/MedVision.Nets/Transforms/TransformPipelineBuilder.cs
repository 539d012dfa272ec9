namespace MedVision.Nets.Transforms;

/// <summary>Builds a <see cref="TransformPipeline"/> step by step; every method appends one transform and returns the builder.</summary>
public sealed class TransformPipelineBuilder
{
    private readonly List<ITransform> _steps = new();
    private bool _built;

    /// <summary>Appends any transform.</summary>
    public TransformPipelineBuilder Add(ITransform transform)
    {
        if (_built) throw new InvalidOperationException("This builder has already built its pipeline; start a new one with TransformPipeline.Create().");
        ArgumentNullException.ThrowIfNull(transform);
        _steps.Add(transform);
        return this;
    }

    /// <summary>Normalises every channel with the same mean and standard deviation (0.5, 0.5 maps [0, 1] to [−1, 1]).</summary>
    public TransformPipelineBuilder Normalize(float mean, float std) => Add(new Normalize(new[] { mean }, new[] { std }));
    /// <summary>Normalises per channel.</summary>
    public TransformPipelineBuilder Normalize(float[] mean, float[] std) => Add(new Normalize(mean, std));
    /// <summary>
    /// Normalises each image by its own mean and standard deviation (MONAI's <c>NormalizeIntensity</c>): over its non-zero
    /// values only when <paramref name="nonZero"/> (MedicalNet's preparation of MRI), per channel when <paramref name="channelWise"/>.
    /// </summary>
    public TransformPipelineBuilder NormalizeIntensity(bool nonZero = false, bool channelWise = false) => Add(new NormalizeIntensity(nonZero, channelWise));
    /// <summary>
    /// Crops to the bounding box of the values above <paramref name="threshold"/> plus <paramref name="margin"/>
    /// (MONAI's <c>CropForeground</c>); follow it with a <see cref="Resize(int, int, int, ResizeMode)"/>, as the size varies.
    /// </summary>
    public TransformPipelineBuilder CropForeground(float threshold = 0, int margin = 0) => Add(new CropForeground(threshold, margin));
    /// <summary>Flips left–right with probability p.</summary>
    public TransformPipelineBuilder RandomHorizontalFlip(double probability = 0.5) => Add(new RandomFlip(SpatialAxis.Width, probability));
    /// <summary>Flips top–bottom with probability p.</summary>
    public TransformPipelineBuilder RandomVerticalFlip(double probability = 0.5) => Add(new RandomFlip(SpatialAxis.Height, probability));
    /// <summary>Flips a volume along its depth axis with probability p.</summary>
    public TransformPipelineBuilder RandomDepthFlip(double probability = 0.5) => Add(new RandomFlip(SpatialAxis.Depth, probability));
    /// <summary>Rotates by a random angle in [−degrees, degrees].</summary>
    public TransformPipelineBuilder RandomRotation(double degrees, float fill = 0f) => Add(new RandomRotation(degrees, fill));
    /// <summary>Random brightness, contrast and saturation.</summary>
    public TransformPipelineBuilder ColorJitter(double brightness = 0, double contrast = 0, double saturation = 0) => Add(new ColorJitter(brightness, contrast, saturation));
    /// <summary>Resizes 2-D images.</summary>
    public TransformPipelineBuilder Resize(int height, int width, ResizeMode mode = ResizeMode.Linear) => Add(new Resize(height, width, mode));
    /// <summary>Resizes volumes (trilinear by default).</summary>
    public TransformPipelineBuilder Resize(int depth, int height, int width, ResizeMode mode = ResizeMode.Linear) => Add(new Resize(depth, height, width, mode));
    /// <summary>Crops at a random position after optional zero padding.</summary>
    public TransformPipelineBuilder RandomCrop(int height, int width, int padding = 0) => Add(new Crop(height, width, random: true, padding));
    /// <summary>Crops the centre.</summary>
    public TransformPipelineBuilder CenterCrop(int height, int width) => Add(new Crop(height, width, random: false));
    /// <summary>
    /// Crops volumes to (depth, height, width) at a random position after optional zero padding (MONAI's RandSpatialCrop
    /// with a fixed size). Named apart from <see cref="RandomCrop(int, int, int)"/>, whose third argument is the padding.
    /// </summary>
    public TransformPipelineBuilder RandomVolumeCrop(int depth, int height, int width, int padding = 0) => Add(new Crop(depth, height, width, random: true, padding));
    /// <summary>Crops the centre of volumes to (depth, height, width) (MONAI's CenterSpatialCrop).</summary>
    public TransformPipelineBuilder CenterVolumeCrop(int depth, int height, int width) => Add(new Crop(depth, height, width, random: false));
    /// <summary>Center-crops or pads 2-D images to (height, width) without resampling (MONAI's ResizeWithPadOrCrop); padding: each channel's minimum unless <paramref name="padValue"/> is given.</summary>
    public TransformPipelineBuilder ResizeWithPadOrCrop(int height, int width, float? padValue = null) => Add(new ResizeWithPadOrCrop(height, width, padValue));
    /// <summary>Center-crops or pads volumes to (depth, height, width) without resampling (MONAI's ResizeWithPadOrCrop), keeping their voxel size; padding: each channel's minimum unless <paramref name="padValue"/> is given.</summary>
    public TransformPipelineBuilder ResizeWithPadOrCrop(int depth, int height, int width, float? padValue = null) => Add(new ResizeWithPadOrCrop(depth, height, width, padValue));
    /// <summary>
    /// Random rotation (about each axis of a volume, or in the plane of an image) by up to ± <paramref name="degrees"/>,
    /// scaling of each axis by up to ± <paramref name="scale"/> and shift by up to ± <paramref name="translate"/> of its
    /// size, with probability <paramref name="probability"/> (MONAI's RandAffine, torchvision's RandomAffine).
    /// </summary>
    public TransformPipelineBuilder RandomAffine(double degrees, double scale = 0, double translate = 0, double probability = 1) => Add(new RandomAffine(degrees, scale, translate, probability));
    /// <summary>Adds Gaussian noise N(mean, std²) with the given probability (MONAI's RandGaussianNoise).</summary>
    public TransformPipelineBuilder RandomGaussianNoise(double probability = 0.1, double mean = 0, double std = 0.1) => Add(new RandomGaussianNoise(probability, mean, std));
    /// <summary>Scales intensities by a random factor in [1 − s, 1 + s].</summary>
    public TransformPipelineBuilder RandomIntensityScale(double strength, double probability = 1.0) => Add(new RandomIntensityScale(strength, probability));
    /// <summary>Shifts intensities by a random offset in [−offset, offset] with the given probability (MONAI's RandShiftIntensity).</summary>
    public TransformPipelineBuilder RandomIntensityShift(double offset, double probability = 0.1, bool channelWise = false) => Add(new RandomIntensityShift(offset, probability, channelWise));
    /// <summary>Changes the contrast by a gamma curve, γ from [gammaMin, gammaMax], with the given probability (MONAI's RandAdjustContrast).</summary>
    public TransformPipelineBuilder RandomAdjustContrast(double probability = 0.1, double gammaMin = 0.5, double gammaMax = 4.5) => Add(new RandomAdjustContrast(probability, gammaMin, gammaMax));
    /// <summary>Multiplies by a smooth random MRI-like bias field of Legendre polynomials up to <paramref name="degree"/> (MONAI's RandBiasField).</summary>
    public TransformPipelineBuilder RandomBiasField(int degree = 3, double coefficientMin = 0, double coefficientMax = 0.1, double probability = 0.1) => Add(new RandomBiasField(degree, coefficientMin, coefficientMax, probability));
    /// <summary>Blurs with a Gaussian of a random standard deviation (voxels) per axis from [sigmaMin, sigmaMax] (MONAI's RandGaussianSmooth).</summary>
    public TransformPipelineBuilder RandomGaussianSmooth(double sigmaMin = 0.25, double sigmaMax = 1.5, double probability = 0.1) => Add(new RandomGaussianSmooth(sigmaMin, sigmaMax, probability));
    /// <summary>
    /// Deforms elastically: uniform noise per voxel and axis smoothed by a Gaussian of σ from [sigmaMin, sigmaMax] voxels,
    /// times a magnitude from [magnitudeMin, magnitudeMax], as displacements (MONAI's Rand3DElastic; e.g. σ 5–8, magnitude 100–200).
    /// </summary>
    public TransformPipelineBuilder RandomElasticDeformation(double sigmaMin, double sigmaMax, double magnitudeMin, double magnitudeMax, double probability = 0.1)
        => Add(new RandomElasticDeformation(sigmaMin, sigmaMax, magnitudeMin, magnitudeMax, probability));
    /// <summary>Blanks out holes (cutout) of <paramref name="size"/> to <paramref name="maxSize"/> voxels per axis with the given probability (MONAI's RandCoarseDropout).</summary>
    public TransformPipelineBuilder RandomCoarseDropout(int holes, int size, int? maxHoles = null, int? maxSize = null, float? fillValue = null, double probability = 0.1)
        => Add(new RandomCoarseDropout(holes, size, maxHoles, maxSize, fillValue, probability));
    /// <summary>A crop of a random share of the area and aspect ratio, resized to (height, width) (torchvision's RandomResizedCrop, with its defaults).</summary>
    public TransformPipelineBuilder RandomResizedCrop(int height, int width, double scaleMin = 0.08, double scaleMax = 1.0, double ratioMin = 3.0 / 4, double ratioMax = 4.0 / 3)
        => Add(new RandomResizedCrop(height, width, scaleMin, scaleMax, ratioMin, ratioMax));
    /// <summary>
    /// Rotates a plane — (H, W) unless <paramref name="fromAxis"/> and <paramref name="towardsAxis"/> name another — by 1
    /// to <paramref name="maxTurns"/> quarter turns with the given probability (MONAI's RandRotate90).
    /// </summary>
    public TransformPipelineBuilder RandomRotate90(double probability = 0.1, int maxTurns = 3, SpatialAxis fromAxis = SpatialAxis.Height, SpatialAxis towardsAxis = SpatialAxis.Width)
        => Add(new RandomRotate90(probability, maxTurns, fromAxis, towardsAxis));
    /// <summary>Remaps intensities through a random monotone piecewise-linear curve of 3 or more control points with the given probability (MONAI's RandHistogramShift).</summary>
    public TransformPipelineBuilder RandomHistogramShift(int controlPointsMin = 10, int controlPointsMax = 10, double probability = 0.1)
        => Add(new RandomHistogramShift(controlPointsMin, controlPointsMax, probability));
    /// <summary>Shrinks the image by a random zoom factor (nearest) and brings it back to its size (linear) with the given probability, simulating a lower resolution (MONAI's RandSimulateLowResolution).</summary>
    public TransformPipelineBuilder RandomSimulateLowResolution(double zoomMin = 0.5, double zoomMax = 1.0, double probability = 0.1)
        => Add(new RandomSimulateLowResolution(zoomMin, zoomMax, probability));
    /// <summary>Adds Rician noise (the noise of magnitude MR images) with the given probability (MONAI's RandRicianNoise).</summary>
    public TransformPipelineBuilder RandomRicianNoise(double probability = 0.1, double mean = 0, double std = 1, bool channelWise = false, bool relative = false, bool sampleStd = true)
        => Add(new RandomRicianNoise(probability, mean, std, channelWise, relative, sampleStd));
    /// <summary>Adds Gibbs ringing by cutting k-space short with the given probability (MONAI's RandGibbsNoise).</summary>
    public TransformPipelineBuilder RandomGibbsNoise(double probability = 0.1, double alphaMin = 0, double alphaMax = 1)
        => Add(new RandomGibbsNoise(probability, alphaMin, alphaMax));
    /// <summary>Adds a spike (herringbone) artefact by setting one k-space sample's magnitude with the given probability (MONAI's RandKSpaceSpikeNoise).</summary>
    public TransformPipelineBuilder RandomKSpaceSpikeNoise(double probability = 0.1, (double Low, double High)? intensityRange = null, bool channelWise = true)
        => Add(new RandomKSpaceSpikeNoise(probability, intensityRange, channelWise));
    /// <summary>Maps intensities to [0, 1] by each image's own minimum and maximum (each channel's own when <paramref name="channelWise"/>).</summary>
    public TransformPipelineBuilder ScaleIntensity(bool channelWise = false) => Add(new ScaleIntensity(channelWise));
    /// <summary>Maps intensities to [0, 1] through a fixed window (center, width), clamping values outside it.</summary>
    public TransformPipelineBuilder ScaleIntensity(double center, double width) => Add(new ScaleIntensity(center, width));
    /// <summary>Maps intensities to [0, 1] by two percentiles (0–100) of each image's own values (each channel's own when <paramref name="channelWise"/>), clamping (MONAI's ScaleIntensityRangePercentiles).</summary>
    public TransformPipelineBuilder ScaleIntensityPercentiles(double lower, double upper, bool channelWise = false) => Add(Transforms.ScaleIntensity.FromPercentiles(lower, upper, channelWise));

    /// <summary>Creates the pipeline; the builder cannot be used afterwards.</summary>
    public TransformPipeline Build()
    {
        if (_built) throw new InvalidOperationException("This builder has already built its pipeline.");
        _built = true;
        return new TransformPipeline(_steps.ToArray());
    }
}
