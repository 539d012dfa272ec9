using BenchmarkDotNet.Running;

// dotnet run -c Release --project benchmarks/MedVision.Benchmarks.Onnx -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(MedVision.Benchmarks.Onnx.OnnxRuntimeBenchmarks).Assembly).Run(args);
