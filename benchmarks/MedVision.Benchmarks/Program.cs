using BenchmarkDotNet.Running;
using MedVision.Benchmarks;

// BenchmarkDotNet, e.g.: dotnet run -c Release --project benchmarks/MedVision.Benchmarks -- --filter '*TensorOverhead*'
// Side-by-side timings with Python (benchmarks/compare/run.sh): ... -- --compare [workload ...]
if (args.Length > 0 && args[0] == "--compare")
{
    return CompareRunner.Run(args[1..]);
}
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
