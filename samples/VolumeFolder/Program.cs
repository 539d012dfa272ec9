using System.CommandLine;
using MedVision.Samples;
using MedVision.Samples.VolumeFolder;

// Volume-folder sample: 3-D classification of NIfTI volumes or DICOM series sorted into class folders, with MedicalNet's
// 3-D ResNets, from scratch or fine-tuned from MedicalNet's pretrained weights. --help for the options, --demo for a
// tiny generated folder.
var root = new RootCommand("Train a 3-D ResNet (MedicalNet's layout, optionally its pretrained weights) on NIfTI volumes or DICOM series in class folders and report validation AUC/ACC.");
var train = TrainCommand.Create();
root.Subcommands.Add(train);
root.Subcommands.Add(PredictCommand.Create());
root.Subcommands.Add(EvaluateCommand.Create());
foreach (var option in train.Options) root.Options.Add(option);
root.WithChecksOf(train); // the command's cross-option checks hold without "train" too
root.Action = train.Action;
return MedVision.Samples.SampleCommandLine.Invoke(root, args);
