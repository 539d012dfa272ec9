using System.CommandLine;
using MedVision.Samples;
using MedVision.Samples.Segmentation;

// Segmentation sample: a U-Net trained on NIfTI scans with label maps in the Medical Segmentation Decathlon's layout
// (or, with --demo, on generated brain phantoms whose lesions are labelled), evaluated per class (Dice, IoU, HD95, ASSD,
// surface Dice); images: a 2-D U-Net on images with PNG masks in two folders; and a predict command that writes label
// maps on each scan's grid, or PNG masks and overlays for images; evaluate measures a model or an ensemble (ensemble
// writes a manifest of model files) on labelled data. --help for the options.
var root = new RootCommand("Train a U-Net on NIfTI scans with label maps (Medical Segmentation Decathlon layout) and report per-class Dice and surface distances.");
var train = TrainCommand.Create();
root.Subcommands.Add(train);
root.Subcommands.Add(ImagesCommand.Create());
root.Subcommands.Add(PredictCommand.Create());
root.Subcommands.Add(ExportCommand.Create());
root.Subcommands.Add(EvaluateCommand.Create());
root.Subcommands.Add(EnsembleCommand.Create());
root.Subcommands.Add(MergeCommand.Create());
foreach (var option in train.Options) root.Options.Add(option);
root.WithChecksOf(train);
root.Action = train.Action;
return SampleCommandLine.Invoke(root, args);
