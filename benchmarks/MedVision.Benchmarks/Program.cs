using BenchmarkDotNet.Running;
using MedVision.Benchmarks;

// BenchmarkDotNet, e.g.: dotnet run -c Release --project benchmarks/MedVision.Benchmarks -- --filter '*TensorOverhead*'
// Side-by-side timings with Python (benchmarks/compare/run.sh): ... -- --compare [workload ...]
if (args.Length > 0 && args[0] == "--compare")
{
    return CompareRunner.Run(args[1..]);
}
// Data-parallel throughput (benchmarks/distributed/run.sh): ... -- --distributed [--batch 128 --steps 10]
if (args.Length > 0 && args[0] == "--distributed")
{
    return DistributedRunner.Run(args[1..]);
}
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
