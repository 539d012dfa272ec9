using System.CommandLine;
using MedVision.Samples;
using MedVision.Samples.Segmentation;

// Segmentation sample: a U-Net trained on NIfTI scans with label maps in the Medical Segmentation Decathlon's layout
// (or, with --demo, on generated brain phantoms whose lesions are labelled), evaluated per class (Dice, IoU, HD95, ASSD,
// surface Dice), and a predict command that writes label maps on each scan's grid. --help for the options.
var root = new RootCommand("Train a U-Net on NIfTI scans with label maps (Medical Segmentation Decathlon layout) and report per-class Dice and surface distances.");
var train = TrainCommand.Create();
root.Subcommands.Add(train);
root.Subcommands.Add(PredictCommand.Create());
foreach (var option in train.Options) root.Options.Add(option);
root.WithChecksOf(train);
root.Action = train.Action;
return SampleCommandLine.Invoke(root, args);
