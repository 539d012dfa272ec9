using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace MedVision.Nets.Tests.Docs;

/// <summary>
/// Compiles the C# blocks of a documentation page with Roslyn, in memory, against the running test's assemblies
/// (shared by the test projects whose libraries the pages use).
/// </summary>
internal static class SnippetCompiler
{
    private static readonly string[] Namespaces =
    [
        "System", "System.IO", "System.Linq", "System.Collections.Generic", "System.Threading", "System.Threading.Tasks",
    ];

    /// <summary>
    /// The compiler errors of block <paramref name="block"/> of <paramref name="page"/>: using directives at its top go
    /// to the top of the file, the rest becomes a method body after <paramref name="given"/>; every namespace of
    /// <paramref name="libraries"/> is imported.
    /// </summary>
    public static IReadOnlyList<string> Compile(string page, int block, string given, params Assembly[] libraries)
    {
        var code = CSharpBlocks(page)[block];
        var lines = code.Split('\n');
        var directives = lines.TakeWhile(l => Regex.IsMatch(l, @"^using [A-Za-z0-9_.=\s]+;\s*$") || l.Trim().Length == 0).ToList();
        var body = string.Join('\n', lines.Skip(directives.Count));
        var libraryNamespaces = libraries.SelectMany(a => a.GetExportedTypes()).Select(t => t.Namespace!).Distinct().Order(StringComparer.Ordinal);
        var source =
            string.Join('\n', Namespaces.Concat(libraryNamespaces).Select(n => $"using {n};")) + "\n" +
            "using F = MedVision.Torch.Nn.Functional;\n" +
            string.Join('\n', directives) + "\n" +
            "internal static class Snippet\n{\n    internal static async System.Threading.Tasks.Task Run()\n    {\n" + given + "\n#line 1\n" + body + "\n    }\n}\n";
        var compilation = CSharpCompilation.Create(
            "Snippet",
            [CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest), path: $"{page}#{block}")],
            References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        return compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()).ToList();
    }

    private static readonly Lazy<IReadOnlyList<MetadataReference>> References = new(() =>
    {
        // the running framework's assemblies, and the libraries the test project references
        var trusted = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        return trusted.Where(p => p.EndsWith(".dll", StringComparison.Ordinal))
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToList();
    });

    private static readonly Dictionary<string, IReadOnlyList<string>> BlockCache = new();

    /// <summary>The ```csharp blocks of a page (a path relative to the repository root).</summary>
    public static IReadOnlyList<string> CSharpBlocks(string page)
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

    /// <summary>The folder holding MedVision.Nets.sln, above the test binaries.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MedVision.Nets.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("The repository root (with MedVision.Nets.sln) was not found above the test binaries.");
    }
}
