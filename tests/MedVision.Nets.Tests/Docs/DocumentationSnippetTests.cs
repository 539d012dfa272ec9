namespace MedVision.Nets.Tests.Docs;

/// <summary>
/// Every C# block of the README and docs/*.md compiles against the current libraries (with Roslyn, in memory), so an
/// API change cannot leave a page showing code that no longer builds. docs/guide.md is not listed: its examples run as
/// tests (<see cref="GuideExamplesTests"/>). Blocks that are fragments use variables a reader has at that point (a
/// batch, an optimizer); each page declares them below, typed as the page describes them.
/// </summary>
public sealed class DocumentationSnippetTests
{
    // What a page's fragments take as given, declared before each of its blocks.
    private static readonly Dictionary<string, string> Given = new()
    {
        ["README.md"] = "",
        ["docs/interop.md"] = """
            Tensor batch = Tensors.Zeros(1, 3, 28, 28), labels = Tensors.Zeros([1], ScalarType.Int64);
            Module<Tensor, Tensor> model = null!;
            Optimizer optimizer = null!;
            string json = "{}";
            """,
        ["docs/distributed.md"] = """
            Module<Tensor, Tensor> model = null!;
            ProcessGroup group = null!;
            DataLoader loader = null!;
            int epoch = 0;
            """,
    };

    public static TheoryData<string, int> Blocks()
    {
        var data = new TheoryData<string, int>();
        foreach (var page in Given.Keys)
            for (int i = 0; i < CSharpBlocks(page).Count; i++) data.Add(page, i);
        return data;
    }

    [Fact]
    public void EveryPageWithCSharp_IsCovered()
    {
        var root = RepositoryRoot();
        var pages = Directory.GetFiles(Path.Combine(root, "docs"), "*.md").Append(Path.Combine(root, "README.md"))
            .Select(p => Path.GetRelativePath(root, p).Replace('\\', '/'))
            .Where(p => CSharpBlocks(p).Count > 0 && p != "docs/guide.md" && p != "docs/onnx.md");
        Given.Keys.Should().BeEquivalentTo(pages, "each page with C# blocks is compiled here (docs/guide.md runs in GuideExamplesTests; docs/onnx.md, which uses ONNX Runtime, compiles in MedVision.Onnx.Tests)");
        CSharpBlocks("README.md").Should().NotBeEmpty();
    }

    [Theory]
    [MemberData(nameof(Blocks))]
    public void CompilesAgainstTheLibraries(string page, int block)
    {
        var errors = SnippetCompiler.Compile(page, block, Given[page], typeof(MedVision.Torch.Tensor).Assembly, typeof(MedVision.Nets.Models.ResNet).Assembly);
        errors.Should().BeEmpty($"C# block {block + 1} of {page} must compile:\n{CSharpBlocks(page)[block]}");
    }

    private static IReadOnlyList<string> CSharpBlocks(string page) => SnippetCompiler.CSharpBlocks(page);

    private static string RepositoryRoot() => SnippetCompiler.RepositoryRoot();
}
