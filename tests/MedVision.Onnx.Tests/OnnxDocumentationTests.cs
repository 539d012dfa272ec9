using MedVision.Nets.Tests.Docs;

namespace MedVision.Onnx.Tests;

/// <summary>Every C# block of docs/onnx.md compiles against MedVision.Torch, MedVision.Nets, MedVision.Onnx and ONNX Runtime.</summary>
public sealed class OnnxDocumentationTests
{
    private const string Page = "docs/onnx.md";

    public static TheoryData<int> Blocks() => new(Enumerable.Range(0, SnippetCompiler.CSharpBlocks(Page).Count));

    [Fact]
    public void ThePageHasItsExamples() => SnippetCompiler.CSharpBlocks(Page).Should().HaveCountGreaterThanOrEqualTo(4);

    [Theory]
    [MemberData(nameof(Blocks))]
    public void CompilesAgainstTheLibrariesAndOnnxRuntime(int block)
    {
        var errors = SnippetCompiler.Compile(Page, block, "",
            typeof(MedVision.Torch.Tensor).Assembly, typeof(MedVision.Nets.Models.ResNet).Assembly, typeof(OnnxExporter).Assembly);
        errors.Should().BeEmpty($"C# block {block + 1} of {Page} must compile:\n{SnippetCompiler.CSharpBlocks(Page)[block]}");
    }
}
