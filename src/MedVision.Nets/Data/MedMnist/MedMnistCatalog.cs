using MedVision.Nets.Metrics;
namespace MedVision.Nets.Data.MedMnist;

/// <summary>
/// The metadata of every MedMNIST dataset (12 2D, 6 3D), following the <c>INFO</c> table of the <c>medmnist</c>
/// package (v2 split sizes and class names) and the official MD5 checksums of the 28-pixel files.
/// </summary>
/// <remarks>
/// MD5s of the larger MedMNIST+ files are known here only for RetinaMNIST; for other sizes
/// <see cref="MedMnistInfo.GetMd5"/> returns <see langword="null"/> and a download needs an explicit checksum or an
/// explicit opt-out of verification.
/// </remarks>
public static class MedMnistCatalog
{
    /// <summary>The licence of every MedMNIST dataset except DermaMNIST.</summary>
    public const string CcBy40 = "CC BY 4.0";

    /// <summary>The licence of DermaMNIST (derived from HAM10000).</summary>
    public const string CcByNc40 = "CC BY-NC 4.0";

    private static readonly string[] Organs =
    [
        "bladder", "femur-left", "femur-right", "heart", "kidney-left", "kidney-right",
        "liver", "lung-left", "lung-right", "pancreas", "spleen",
    ];

    private static readonly MedMnistInfo[] Datasets =
    [
        Make("pathmnist", "PathMNIST", MedMnistTask.MultiClass, 3, false, 89996, 10004, 7180, "a8b06965200029087d5bd730944a56c1",
            "adipose", "background", "debris", "lymphocytes", "mucus", "smooth muscle", "normal colon mucosa",
            "cancer-associated stroma", "colorectal adenocarcinoma epithelium"),
        Make("chestmnist", "ChestMNIST", MedMnistTask.MultiLabel, 1, false, 78468, 11219, 22433, "02c8a6516a18b556561a56cbdd36c4a8",
            "atelectasis", "cardiomegaly", "effusion", "infiltration", "mass", "nodule", "pneumonia", "pneumothorax",
            "consolidation", "edema", "emphysema", "fibrosis", "pleural", "hernia"),
        Make("dermamnist", "DermaMNIST", MedMnistTask.MultiClass, 3, false, 7007, 1003, 2005, "0744692d530f8e62ec473284d019b0c7",
            "actinic keratoses and intraepithelial carcinoma", "basal cell carcinoma", "benign keratosis-like lesions",
            "dermatofibroma", "melanoma", "melanocytic nevi", "vascular lesions"),
        Make("octmnist", "OCTMNIST", MedMnistTask.MultiClass, 1, false, 97477, 10832, 1000, "c68d92d5b585d8d81f7112f81e2d0842",
            "choroidal neovascularization", "diabetic macular edema", "drusen", "normal"),
        Make("pneumoniamnist", "PneumoniaMNIST", MedMnistTask.Binary, 1, false, 4708, 524, 624, "28209eda62fecd6e6a2d98b1501bb15f",
            "normal", "pneumonia"),
        new MedMnistInfo("retinamnist", "RetinaMNIST", MedMnistTask.OrdinalRegression, ["0", "1", "2", "3", "4"], 3, false, 1080, 120, 400, CcBy40,
            new Dictionary<int, string>
            {
                [28] = "bd4c0672f1bba3e3a89f0e4e876791e4",
                [64] = "afda852cc34dcda56f86ad2b2457dbcc",
                [128] = "e48e916a24454daf90583d4e6efb1a18",
                [224] = "eae7e3b6f3fcbda4ae613ebdcbe35348",
            }),
        Make("breastmnist", "BreastMNIST", MedMnistTask.Binary, 1, false, 546, 78, 156, "750601b1f35ba3300ea97c75c52ff8f6",
            "malignant", "normal, benign"),
        Make("bloodmnist", "BloodMNIST", MedMnistTask.MultiClass, 3, false, 11959, 1712, 3421, "7053d0359d879ad8a5505303e11de1dc",
            "basophil", "eosinophil", "erythroblast", "immature granulocytes(myelocytes, metamyelocytes and promyelocytes)",
            "lymphocyte", "monocyte", "neutrophil", "platelet"),
        Make("tissuemnist", "TissueMNIST", MedMnistTask.MultiClass, 1, false, 165466, 23640, 47280, "ebe78ee8b05294063de985d821c1c34b",
            "Collecting Duct, Connecting Tubule", "Distal Convoluted Tubule", "Glomerular endothelial cells",
            "Interstitial endothelial cells", "Leukocytes", "Podocytes", "Proximal Tubule Segments", "Thick Ascending Limb"),
        Make("organamnist", "OrganAMNIST", MedMnistTask.MultiClass, 1, false, 34581, 6491, 17778, "68e3f8846a6bd62f0c9bf841c0d9eacc", Organs),
        Make("organcmnist", "OrganCMNIST", MedMnistTask.MultiClass, 1, false, 13000, 2392, 8268, "b9ceb9546e10131b32923c5bbeaea2b1", Organs),
        Make("organsmnist", "OrganSMNIST", MedMnistTask.MultiClass, 1, false, 13940, 2452, 8829, "9ab87b696fb54e2a387ebe992d6ed5f1", Organs),
        Make("organmnist3d", "OrganMNIST3D", MedMnistTask.MultiClass, 1, true, 971, 161, 610, "a0c5a1ff56af4f155c46d46fbb45a2fe", Organs),
        Make("nodulemnist3d", "NoduleMNIST3D", MedMnistTask.Binary, 1, true, 1158, 165, 310, "8755a7e9e05a4d9ce80a24c3e7a256f3",
            "benign", "malignant"),
        Make("adrenalmnist3d", "AdrenalMNIST3D", MedMnistTask.Binary, 1, true, 1188, 98, 298, "bbd3c5a5576322bc4cdfea780653b1ce",
            "normal", "hyperplasia"),
        Make("fracturemnist3d", "FractureMNIST3D", MedMnistTask.MultiClass, 1, true, 1027, 103, 240, "6aa7b0143a6b42da40027a9dda61302f",
            "buckle rib fracture", "nondisplaced rib fracture", "displaced rib fracture"),
        Make("vesselmnist3d", "VesselMNIST3D", MedMnistTask.Binary, 1, true, 1335, 192, 382, "b41fd4f7e7e2feedddb201585ecafa1b",
            "vessel", "aneurysm"),
        Make("synapsemnist3d", "SynapseMNIST3D", MedMnistTask.Binary, 1, true, 1230, 177, 352, "1235b78a3cd6280881dd7850a78eadb6",
            "inhibitory synapse", "excitatory synapse"),
    ];

    private static readonly Dictionary<string, MedMnistInfo> ByName =
        Datasets.ToDictionary(d => d.Name, StringComparer.OrdinalIgnoreCase);

    /// <summary>Every MedMNIST dataset: the 12 2D datasets, then the 6 3D datasets.</summary>
    public static IReadOnlyList<MedMnistInfo> All { get; } = Array.AsReadOnly(Datasets);

    /// <summary>The metadata of RetinaMNIST, the dataset embedded in this library.</summary>
    public static MedMnistInfo RetinaMnist => ByName["retinamnist"];

    /// <summary>Looks up a dataset by flag (e.g. <c>retinamnist</c>, case-insensitive).</summary>
    /// <param name="name">The dataset flag.</param>
    /// <returns>The metadata.</returns>
    /// <exception cref="ArgumentException">The name is not a MedMNIST dataset.</exception>
    public static MedMnistInfo Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return TryGet(name, out MedMnistInfo? info)
            ? info
            : throw new ArgumentException($"'{name}' is not a MedMNIST dataset; known: {string.Join(", ", Datasets.Select(d => d.Name))}.", nameof(name));
    }

    /// <summary>Looks up a dataset by flag (case-insensitive).</summary>
    /// <param name="name">The dataset flag.</param>
    /// <param name="info">The metadata when found.</param>
    /// <returns><see langword="true"/> if found.</returns>
    public static bool TryGet(string? name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out MedMnistInfo? info) =>
        ByName.TryGetValue(name ?? string.Empty, out info);

    /// <summary>
    /// Recognises a MedMNIST file name such as <c>retinamnist.npz</c> or <c>retinamnist_64.npz</c>.
    /// </summary>
    /// <param name="path">A file path or name.</param>
    /// <param name="info">The dataset when recognised.</param>
    /// <param name="size">The image size encoded in the name (28 when none).</param>
    /// <returns><see langword="true"/> if the name is a MedMNIST file name.</returns>
    public static bool TryParseFileName(string? path, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out MedMnistInfo? info, out int size)
    {
        size = 28;
        info = null;
        if (string.IsNullOrEmpty(path))
        {
            return false;
        }

        string stem = Path.GetFileNameWithoutExtension(path);
        int underscore = stem.LastIndexOf('_');
        if (underscore > 0 && int.TryParse(stem.AsSpan(underscore + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int s))
        {
            size = s;
            stem = stem[..underscore];
        }

        return TryGet(stem, out info) && info.Sizes.Contains(size);
    }

    private static MedMnistInfo Make(string name, string pythonClass, MedMnistTask task, int channels, bool is3D, int train, int validation, int test, string md5At28, params string[] classes) =>
        new(name, pythonClass, task, classes, channels, is3D, train, validation, test, name == "dermamnist" ? CcByNc40 : CcBy40, new Dictionary<int, string> { [28] = md5At28 });
}
