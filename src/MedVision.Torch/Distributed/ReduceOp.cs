namespace MedVision.Torch.Distributed;

/// <summary>How <see cref="ProcessGroup.AllReduce"/> combines the tensors of all ranks.</summary>
public enum ReduceOp
{
    /// <summary>Element-wise sum.</summary>
    Sum = 0,
    /// <summary>Element-wise mean (sum divided by the world size; floating-point tensors only).</summary>
    Mean = 1,
    /// <summary>Element-wise maximum.</summary>
    Max = 2,
    /// <summary>Element-wise minimum.</summary>
    Min = 3,
    /// <summary>Element-wise product.</summary>
    Product = 4,
}
