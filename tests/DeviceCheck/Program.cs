using System.Diagnostics;
using System.Reflection;
using Xunit;

// Runs every [CudaFact]/[CudaTheory] test of the two test assemblies (or, with --all, every fact and theory) by
// reflection, the way xunit would: a new instance of the class per test case, disposed afterwards;
// theory rows from [InlineData] and [MemberData]. Prints one line per case and a summary; the exit code is the number
// of failures (2 for bad arguments). Arguments: [--all] [name-substring ...]. Test classes that take fixtures in
// their constructors are not supported (the CUDA tests take none).
var all = args.Contains("--all");
var filters = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).ToArray();
if (args.Any(a => a.StartsWith("--", StringComparison.Ordinal) && a != "--all"))
{
    Console.Error.WriteLine("error: usage: DeviceCheck [--all] [name-substring ...]");
    return 2;
}

Console.WriteLine($"MedVision.Torch over libtorch {MedVision.Torch.Tensors.Version}; CUDA available: {MedVision.Torch.Tensors.Cuda.IsAvailable}, devices: {MedVision.Torch.Tensors.Cuda.DeviceCount}");
var assemblies = new[] { typeof(MedVision.Torch.Tests.Cuda.OpTable).Assembly, typeof(MedVision.Nets.Tests.Cuda.NetsCudaTests).Assembly };
int passed = 0, failed = 0, skipped = 0;
foreach (var assembly in assemblies)
{
    foreach (var type in assembly.GetTypes().Where(t => t.IsClass && !t.IsAbstract && t.IsPublic).OrderBy(t => t.FullName, StringComparer.Ordinal))
    {
        foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly))
        {
            var fact = method.GetCustomAttribute<FactAttribute>();
            if (fact is null) continue;
            bool isCuda = fact.GetType().Name is "CudaFactAttribute" or "CudaTheoryAttribute";
            if (!isCuda && !all) continue;
            var name = $"{type.Name}.{method.Name}";
            if (filters.Length > 0 && !filters.Any(f => name.Contains(f, StringComparison.OrdinalIgnoreCase))) continue;
            if (fact.Skip is not null)
            {
                skipped++;
                Console.WriteLine($"SKIP {name}: {fact.Skip}");
                continue;
            }
            foreach (var row in Rows(method))
            {
                var caseName = row.Length == 0 ? name : $"{name}({string.Join(", ", row.Select(v => v?.ToString()))})";
                var clock = Stopwatch.StartNew();
                try
                {
                    var instance = Activator.CreateInstance(type)!;
                    try
                    {
                        var result = method.Invoke(instance, row);
                        if (result is Task task) task.GetAwaiter().GetResult();
                    }
                    finally
                    {
                        (instance as IDisposable)?.Dispose();
                    }
                    passed++;
                    Console.WriteLine($"PASS {caseName} ({clock.Elapsed.TotalSeconds:0.00} s)");
                }
                catch (Exception e)
                {
                    failed++;
                    var inner = e is TargetInvocationException { InnerException: { } i } ? i : e;
                    Console.WriteLine($"FAIL {caseName} ({clock.Elapsed.TotalSeconds:0.00} s)\n     {inner.GetType().Name}: {inner.Message.Replace("\n", "\n     ", StringComparison.Ordinal)}");
                    Console.WriteLine("     " + inner.StackTrace?.Split('\n').FirstOrDefault(l => l.Contains(" in ", StringComparison.Ordinal))?.Trim());
                }
            }
        }
    }
}
Console.WriteLine($"passed {passed}, failed {failed}, skipped {skipped}");
return failed;

static IEnumerable<object?[]> Rows(MethodInfo method)
{
    if (method.GetCustomAttribute<TheoryAttribute>() is null) return new[] { Array.Empty<object?>() };
    var rows = new List<object?[]>();
    foreach (var inline in method.GetCustomAttributes<InlineDataAttribute>())
        rows.AddRange(inline.GetData(method).Select(r => (object?[])r));
    foreach (var member in method.GetCustomAttributes<MemberDataAttribute>())
    {
        var owner = member.MemberType ?? method.DeclaringType!;
        var property = owner.GetProperty(member.MemberName, BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
            ?? throw new InvalidOperationException($"{owner.Name}.{member.MemberName} is not a static property");
        rows.AddRange(((IEnumerable<object?[]>)property.GetValue(null)!).Select(r => r));
    }
    return rows;
}
