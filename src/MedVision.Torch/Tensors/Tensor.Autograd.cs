using System.Text;
using MedVision.Torch.Native;

namespace MedVision.Torch;

public sealed partial class Tensor
{
    /// <summary>Whether autograd records operations on this tensor (settable on leaf tensors).</summary>
    public bool RequiresGrad
    {
        get
        {
            var r = NativeMethods.mvt_requires_grad(Handle);
            Check(r);
            return r == 1;
        }
        set
        {
            if (NativeMethods.mvt_set_requires_grad(Handle, value ? 1 : 0) < 0)
                throw new InvalidOperationException(TorchException.FromNative("RequiresGrad can only be changed on leaf tensors").Message);
        }
    }

    /// <summary>Sets <see cref="RequiresGrad"/> and returns this tensor (torch requires_grad_).</summary>
    public Tensor RequiresGradInPlace(bool value = true)
    {
        RequiresGrad = value;
        return this;
    }

    /// <summary>
    /// Keeps this non-leaf tensor's gradient after <see cref="Backward"/> so that <see cref="Grad"/> returns it
    /// (torch retain_grad). Leaf tensors that require gradients keep theirs anyway; a tensor that does not require
    /// gradients is an error. Returns this tensor.
    /// </summary>
    public Tensor RetainGrad()
    {
        if (NativeMethods.mvt_retain_grad(Handle) < 0)
            throw new InvalidOperationException(TorchException.FromNative("RetainGrad failed").Message);
        return this;
    }

    /// <summary>Whether <see cref="Backward"/> stores a gradient in <see cref="Grad"/> for this non-leaf tensor (torch retains_grad).</summary>
    public bool RetainsGrad
    {
        get
        {
            var r = NativeMethods.mvt_retains_grad(Handle);
            Check(r);
            return r == 1;
        }
    }

    /// <summary>True for tensors created by the user rather than by a recorded operation.</summary>
    public bool IsLeaf
    {
        get
        {
            var r = NativeMethods.mvt_is_leaf(Handle);
            Check(r);
            return r == 1;
        }
    }

    /// <summary>The name of the autograd node that produced this tensor, or an empty string for leaves.</summary>
    public unsafe string GradFnName
    {
        get
        {
            var buffer = stackalloc byte[256];
            var n = NativeMethods.mvt_grad_fn_name(Handle, buffer, 256);
            Check(n);
            return Encoding.UTF8.GetString(buffer, Math.Min(n, 255));
        }
    }

    /// <summary>
    /// Computes gradients of this tensor with respect to the graph leaves (torch backward). A non-scalar tensor
    /// needs <paramref name="gradient"/> of the same shape.
    /// </summary>
    public void Backward(Tensor? gradient = null, bool retainGraph = false, bool createGraph = false)
    {
        if (NativeMethods.mvt_backward(Handle, HandleOrZero(gradient), retainGraph ? 1 : 0, createGraph ? 1 : 0) < 0)
        {
            var error = TorchException.FromNative("Backward failed");
            // A failed gradient all-reduce (data-parallel training) keeps its type so callers can tell it apart.
            if (error is Distributed.DistributedException) throw error;
            throw new InvalidOperationException(error.Message);
        }
    }

    /// <summary>
    /// The accumulated gradient, or null when none has been computed. Each read returns a new handle to the same
    /// gradient tensor (registered in the current dispose scope); setting null clears the gradient.
    /// </summary>
    public unsafe Tensor? Grad
    {
        get
        {
            IntPtr g;
            Check(NativeMethods.mvt_grad(Handle, &g));
            return g == IntPtr.Zero ? null : new Tensor(g);
        }
        set => Check(NativeMethods.mvt_set_grad(Handle, HandleOrZero(value)));
    }
}
