using BenchmarkDotNet.Running;

// Run with a filter, e.g.: dotnet run -c Release --project benchmarks/MedVision.Benchmarks -- --filter '*TensorOverhead*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
