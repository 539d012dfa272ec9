
// Starts N processes of one command for data-parallel training, the way `torchrun --nproc-per-node N` does: each gets
// WORLD_SIZE, RANK, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT and its share of the cores (OMP_NUM_THREADS,
// MEDVISION_THREADS); output lines are prefixed with the rank; when one process fails the others are stopped.
//
//   dotnet run --project samples/Launch -c Release -- --nproc-per-node 2 -- \
//       dotnet samples/MedMnist/bin/Release/net10.0/medmnist.dll train --epochs 4
//
// Several machines: run the same line on each with --nnodes M --node-rank K --master-addr <node 0's address>.
return await MedVision.Samples.SampleCommandLine.InvokeAsync(MedVision.Samples.Launch.LaunchCommand.Create(), args);
