using System.CommandLine;
using MedVision.Samples.MedMnist;

// MedMNIST sample: train and evaluate ResNet-18/50 on any MedMNIST dataset with the MedMNIST v2 recipe.
// Default: the RetinaMNIST shipped inside MedVision.Nets. Run with --help for the options.
var root = new RootCommand("Train and evaluate ResNets on MedMNIST with MedVision.Nets (MedMNIST v2 recipe).");
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(PredictCommand.Create());
root.Subcommands.Add(EvaluateCommand.Create());
root.Subcommands.Add(CompareCommand.Create());
root.Subcommands.Add(CrossValidateCommand.Create());
root.Subcommands.Add(ExportCommand.Create());
root.Subcommands.Add(FindLrCommand.Create());
root.Subcommands.Add(AuditCommand.Create());
root.Subcommands.Add(ConformalCommand.Create());
root.Subcommands.Add(EnsembleCommand.Create());
root.Subcommands.Add(FaithfulnessCommand.Create());
root.Subcommands.Add(SanityCheckCommand.Create());
root.Subcommands.Add(ProfileCommand.Create());
return MedVision.Samples.SampleCommandLine.Invoke(root, args);
