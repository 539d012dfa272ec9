using System.CommandLine;
using MedVision.Samples;
using MedVision.Samples.Mtcsnn;

// MTCSNN sample: the multi-task clinical Siamese network against the plain ResNet on the shipped RetinaMNIST,
// with the same budget and seeds. Run with --help for the options.
var root = new RootCommand("MTCSNN (classification + pair-difference task) against the plain ResNet baseline on RetinaMNIST.");
var compare = CompareCommand.Create();
root.Subcommands.Add(compare);
root.Subcommands.Add(SummarizeCommand.Create());
foreach (var option in compare.Options) root.Options.Add(option);
root.WithChecksOf(compare); // the command's cross-option checks hold without "compare" too
root.Action = compare.Action;
return MedVision.Samples.SampleCommandLine.Invoke(root, args);
