using MedVision.Torch.Native;

namespace MedVision.Torch.Nn;

/// <summary>
/// A convolution module's inference copy of its weight in oneDNN's own blocked layout. Without it every oneDNN
/// convolution reorders the plain (C_out, C_in/groups, k…) weight before computing, which at batch 1 is a large share
/// of the work. The copy is made on the first call that can use it (no gradients needed, float32 on the CPU, 2-D or
/// 3-D, oneDNN routing on) and made again whenever the weight changed since: another tensor, or the same tensor changed
/// in place (optimizer step, <c>CopyFrom</c>, loading a state dict by copy), which libtorch's version counter records;
/// <see cref="Module.To(Device)"/> and <see cref="Module.To(ScalarType)"/>, which swap the weight's data without
/// counting a version, drop the copy through <c>Convolution.OnTensorsConverted</c>. Safe for concurrent callers: each call gets its
/// own handle to the copy, so replacing the copy never frees one in use.
/// </summary>
internal sealed class PackedConvolutionWeight : IDisposable
{
    private static readonly Lazy<bool> HasOneDnn = new(() => Tensors.HasOneDnn);
    private readonly object _gate = new();
    private Tensor? _source;
    private long _sourceVersion;
    private Tensor? _packed;

    /// <summary>True while a packed copy is held (for tests and diagnostics).</summary>
    internal bool IsHeld
    {
        get { lock (_gate) return _packed is not null; }
    }

    /// <summary>
    /// A new handle to the packed copy of <paramref name="weight"/> for a call on <paramref name="input"/>, or null when
    /// the call cannot use one (a gradient is needed for the input, weight or bias; not float32 CPU; 1-D; routing or
    /// packing off). The caller disposes it.
    /// </summary>
    internal unsafe Tensor? Acquire(Tensor input, Tensor weight, Tensor? bias, int spatialDims, long[] stride, long[] padding, long[] dilation, long groups)
    {
        if (!Tensors.PrepackConvolutionWeights || spatialDims is not (2 or 3) || !HasOneDnn.Value || !Tensors.RouteConvolutionsThroughOneDnn || !Tensors.OneDnnEnabled) return null;
        if (Tensors.IsGradEnabled && (weight.RequiresGrad || input.RequiresGrad || (bias?.RequiresGrad ?? false))) return null;
        // Under CPU autocast the convolution runs in bfloat16 through libtorch's autocast rule, not with this float32 copy.
        if (Tensors.AutocastState(DeviceType.Cpu).Enabled) return null;
        if (input.Dim != spatialDims + 2 || weight.ScalarType != ScalarType.Float32 || input.ScalarType != ScalarType.Float32
            || weight.Device.Type != DeviceType.Cpu || input.Device.Type != DeviceType.Cpu)
        {
            Release();
            return null;
        }
        var version = weight.Version;
        lock (_gate)
        {
            if (_packed is null || !ReferenceEquals(_source, weight) || _sourceVersion != version)
            {
                _packed?.Dispose();
                _packed = null;
                var s = Functional.Expand(stride, spatialDims, 1, nameof(stride));
                var p = Functional.Expand(padding, spatialDims, 0, nameof(padding));
                var d = Functional.Expand(dilation, spatialDims, 1, nameof(dilation));
                IntPtr h;
                fixed (long* ps = s, pp = p, pd = d)
                    h = NativeMethods.mvt_onednn_pack_conv_weight(weight.Handle, ps, pp, pd, spatialDims, groups);
                _packed = DisposeScope.Detach(Tensor.Wrap(h));
                _source = weight;
                _sourceVersion = version;
            }
            return _packed.Alias();
        }
    }

    /// <summary>Drops the packed copy (it is made again when next needed).</summary>
    internal void Release()
    {
        lock (_gate)
        {
            _packed?.Dispose();
            _packed = null;
            _source = null;
        }
    }

    public void Dispose() => Release();
}
