using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

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

    private static readonly string[] Namespaces =
    [
        "System", "System.IO", "System.Linq", "System.Collections.Generic", "System.Threading", "System.Threading.Tasks",
    ];

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
            .Where(p => CSharpBlocks(p).Count > 0 && p != "docs/guide.md");
        Given.Keys.Should().BeEquivalentTo(pages, "each page with C# blocks is compiled here (docs/guide.md runs in GuideExamplesTests)");
        CSharpBlocks("README.md").Should().NotBeEmpty();
    }

    [Theory]
    [MemberData(nameof(Blocks))]
    public void CompilesAgainstTheLibraries(string page, int block)
    {
        var code = CSharpBlocks(page)[block];
        // using directives at the top of a block go to the top of the file; the rest is the body of a method
        var lines = code.Split('\n');
        var directives = lines.TakeWhile(l => Regex.IsMatch(l, @"^using [A-Za-z0-9_.=\s]+;\s*$") || l.Trim().Length == 0).ToList();
        var body = string.Join('\n', lines.Skip(directives.Count));
        var source =
            string.Join('\n', Namespaces.Concat(LibraryNamespaces()).Select(n => $"using {n};")) + "\n" +
            "using F = MedVision.Torch.Nn.Functional;\n" +
            string.Join('\n', directives) + "\n" +
            "internal static class Snippet\n{\n    internal static void Run()\n    {\n" + Given[page] + "\n#line 1\n" + body + "\n    }\n}\n";
        var compilation = CSharpCompilation.Create(
            "Snippet",
            [CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest), path: $"{page}#{block}")],
            References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        var errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()).ToList();
        errors.Should().BeEmpty($"C# block {block + 1} of {page} must compile:\n{code}");
    }

    private static readonly Lazy<IReadOnlyList<MetadataReference>> References = new(() =>
    {
        // the running framework's assemblies, and the libraries this test project references
        var trusted = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        return trusted.Where(p => p.EndsWith(".dll", StringComparison.Ordinal))
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToList();
    });

    private static IEnumerable<string> LibraryNamespaces() =>
        new[] { typeof(MedVision.Torch.Tensor).Assembly, typeof(MedVision.Nets.Models.ResNet).Assembly }
            .SelectMany(a => a.GetExportedTypes()).Select(t => t.Namespace!).Distinct().Order(StringComparer.Ordinal);

    private static readonly Dictionary<string, IReadOnlyList<string>> BlockCache = new();

    private static IReadOnlyList<string> CSharpBlocks(string page)
    {
        lock (BlockCache)
        {
            if (BlockCache.TryGetValue(page, out var cached)) return cached;
            var text = File.ReadAllText(Path.Combine(RepositoryRoot(), page)).ReplaceLineEndings("\n");
            var blocks = Regex.Matches(text, @"^```csharp\n(?<code>.*?)\n```", RegexOptions.Singleline | RegexOptions.Multiline)
                .Select(m => m.Groups["code"].Value).ToList();
            return BlockCache[page] = blocks;
        }
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MedVision.Nets.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("The repository root (with MedVision.Nets.sln) was not found above the test binaries.");
    }
}
