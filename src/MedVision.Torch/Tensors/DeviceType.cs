namespace MedVision.Torch;

/// <summary>Kind of device a tensor lives on (values are libtorch's c10::DeviceType codes).</summary>
public enum DeviceType
{
    /// <summary>Host memory.</summary>
    Cpu = 0,
    /// <summary>An NVIDIA GPU.</summary>
    Cuda = 1,
}
