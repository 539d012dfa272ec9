using System.CommandLine;
using MedVision.Samples;
using MedVision.Samples.FundusFolder;

// Fundus-folder sample: pathologic-myopia classification on fundus photographs in the iChallenge-PM / PALM layout.
// Run with --help for the options, or --demo for a tiny generated folder.
var root = new RootCommand("Train ResNet-50 on fundus photographs in folders (iChallenge-PM / PALM layout) and report validation AUC/ACC/sensitivity/specificity; predict screens new photographs with the model file train writes; evaluate measures it on labelled test photographs.");
var train = TrainCommand.Create();
root.Subcommands.Add(train);
root.Subcommands.Add(PredictCommand.Create());
root.Subcommands.Add(EvaluateCommand.Create());
foreach (var option in train.Options) root.Options.Add(option);
root.WithChecksOf(train); // the command's cross-option checks hold without "train" too
root.Action = train.Action;
return MedVision.Samples.SampleCommandLine.Invoke(root, args);
