using System.Runtime.CompilerServices;

namespace MedVision.Torch;

/// <summary>
/// Argument checks shared by the public API. Enum values travel to libtorch as integers, and libtorch trusts them: an
/// undefined <see cref="ScalarType"/> crashed the process (found by the API fuzzer), an undefined reduction silently
/// computed something else. So every enum argument is checked before it leaves managed code.
/// </summary>
internal static class Guard
{
    /// <summary>Returns <paramref name="value"/> when it is a named member of its enum; else throws naming the parameter.</summary>
    public static T Defined<T>(T value, [CallerArgumentExpression(nameof(value))] string? name = null) where T : struct, Enum
        => Enum.IsDefined(value) ? value : throw new ArgumentOutOfRangeException(name, value, $"{value} is not a {typeof(T).Name}: use one of {string.Join(", ", Enum.GetNames<T>())}.");

    /// <summary>Returns <paramref name="value"/> when it is positive and finite (NaN is neither); else throws naming the parameter.</summary>
    public static double PositiveFinite(double value, [CallerArgumentExpression(nameof(value))] string? name = null)
        => value > 0 && double.IsFinite(value) ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive and finite.");

    /// <summary>Returns <paramref name="device"/> when its type is defined and its index is −1 or more.</summary>
    public static Device Valid(Device device, [CallerArgumentExpression(nameof(device))] string? name = null)
    {
        if (!Enum.IsDefined(device.Type) || device.Index < -1 || (device.Type == DeviceType.Cpu && device.Index > 0))
            throw new ArgumentOutOfRangeException(name, device, $"({device.Type}, {device.Index}) is not a device: use Device.Cpu or Device.Cuda(i).");
        return device;
    }
}
