using MedVision.Nets.Inference;
using MedVision.Nets.Metrics;
using MedVision.Nets.Models;
using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Samples;

/// <summary>What the training samples do alike with either kind of classifier they train: a ResNet or a vision transformer.</summary>
internal static class SampleNetworks
{
    /// <summary>The network's classifier layer (its own learning rate under --head-lr-mult): a ResNet's fc (linear or CORAL), a vision transformer's head.</summary>
    public static Module Classifier(Module<Tensor, Tensor> network) => network switch
    {
        ResNet resnet => resnet.Head!,
        VisionTransformer vit => vit.Head,
        _ => throw new InvalidOperationException($"No classifier known for a {network.GetType().Name}."),
    };

    /// <summary>The model file's card for either kind of network.</summary>
    public static ModelCard Describe(Module<Tensor, Tensor> network, PreprocessingCard preprocessing, IReadOnlyList<string> classNames, MedMnistTask task, IReadOnlyDictionary<string, double>? metrics = null) => network switch
    {
        ResNet resnet => ModelFile.Describe(resnet, preprocessing, classNames, task, metrics),
        VisionTransformer vit => ModelFile.Describe(vit, preprocessing, classNames, task, metrics),
        _ => throw new InvalidOperationException($"No model card for a {network.GetType().Name}."),
    };
}
