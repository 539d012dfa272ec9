using System.CommandLine;
using MedVision.Samples;
using MedVision.Samples.Cdsf;

// CDSF sample: collaborative PET synthesis and diagnosis on paired 3-D volumes (NIfTI folders, or built-in phantoms).
// Run with --help for the options.
var root = new RootCommand("Collaborative synthesis (MRI → PET) and diagnosis with CDSF on paired 3-D volumes, against a diagnosis-only baseline.");
var run = RunCommand.Create();
root.Subcommands.Add(run);
root.Subcommands.Add(ConvertCommand.Create());
foreach (var option in run.Options) root.Options.Add(option);
root.WithChecksOf(run); // the command's cross-option checks hold without "run" too
root.Action = run.Action;
return MedVision.Samples.SampleCommandLine.Invoke(root, args);
