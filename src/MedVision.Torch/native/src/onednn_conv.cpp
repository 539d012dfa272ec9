// A float32 CPU convolution computed by oneDNN forward and backward.
//
// at::mkldnn_convolution runs the forward pass on oneDNN, but its autograd formula calls at::convolution_backward,
// which picks the backward kernel again with libtorch's own heuristic: batch-1 convolutions on small feature maps go to
// the native (im2col) kernels, single-threaded in effect and 2-3x slower than oneDNN's there (a MedicalNet ResNet-10
// training step on one 64^3 volume spent longer in its backward pass than the same step on two volumes). Here the
// backward pass calls oneDNN's convolution backward directly (ATen's mkldnn_convolution_backward_stub). When the
// gradient itself is recorded (create_graph, for higher-order derivatives) it falls back to at::convolution_backward,
// which is differentiable. Built when this libtorch exports the stub (CMake checks; MVT_HAVE_ONEDNN_CONV_BACKWARD).
#include "common.h"

#if MVT_HAVE_ONEDNN_CONV_BACKWARD
#include <ATen/native/ConvUtils.h>
#include <torch/csrc/autograd/custom_function.h>

namespace {
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct OneDnnConvolution : public torch::autograd::Function<OneDnnConvolution> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& w, const at::Tensor& b, bool has_bias,
                            std::vector<int64_t> padding, std::vector<int64_t> stride, std::vector<int64_t> dilation,
                            int64_t groups) {
    ctx->save_for_backward({x, w});
    ctx->saved_data["padding"] = padding;
    ctx->saved_data["stride"] = stride;
    ctx->saved_data["dilation"] = dilation;
    ctx->saved_data["groups"] = groups;
    ctx->saved_data["bias"] = has_bias;
    if (has_bias) ctx->saved_data["bias_size"] = b.size(0);
    return at::mkldnn_convolution(x, w, has_bias ? c10::optional<at::Tensor>(b) : c10::nullopt, padding, stride, dilation, groups);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const at::Tensor& x = saved[0];
    const at::Tensor& w = saved[1];
    const at::Tensor& g = grads[0];
    auto padding = ctx->saved_data["padding"].toIntVector();
    auto stride = ctx->saved_data["stride"].toIntVector();
    auto dilation = ctx->saved_data["dilation"].toIntVector();
    const int64_t groups = ctx->saved_data["groups"].toInt();
    const bool bias = ctx->saved_data["bias"].toBool();
    std::array<bool, 3> mask{ctx->needs_input_grad(0), ctx->needs_input_grad(1), bias && ctx->needs_input_grad(2)};
    at::Tensor gx, gw, gb;
    if (!g.defined()) return {gx, gw, gb, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
    if (at::GradMode::is_enabled()) {
      // create_graph: a differentiable backward (oneDNN's kernel records no history).
      std::vector<int64_t> bias_sizes;
      if (bias) bias_sizes.push_back(ctx->saved_data["bias_size"].toInt());
      std::vector<int64_t> output_padding(padding.size(), 0);
      const at::OptionalIntArrayRef sizes = bias ? at::OptionalIntArrayRef(bias_sizes) : at::OptionalIntArrayRef(c10::nullopt);
      std::tie(gx, gw, gb) = at::convolution_backward(g, x, w, sizes, stride, padding, dilation, false, output_padding, groups, mask);
    } else {
      // A kernel called directly, below the dispatcher: autograd must be out of its way (as the dispatcher would put it).
      at::AutoDispatchBelowADInplaceOrView below_autograd;
      std::tie(gx, gw, gb) = at::native::mkldnn_convolution_backward_stub(
          at::kCPU, x, g.contiguous(x.suggest_memory_format()), w, padding, stride, dilation, groups, mask);
    }
    return {gx, gw, gb, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};
}  // namespace

namespace mvt {
bool OneDnnConvolutionBackwardAvailable() { return true; }

at::Tensor OneDnnConvolution(const at::Tensor& x, const at::Tensor& w, const c10::optional<at::Tensor>& b,
                             at::IntArrayRef padding, at::IntArrayRef stride, at::IntArrayRef dilation, int64_t groups) {
  const bool has_bias = b.has_value() && b->defined();
  const bool records = at::GradMode::is_enabled() && (x.requires_grad() || w.requires_grad() || (has_bias && b->requires_grad()));
  if (!records) return at::mkldnn_convolution(x, w, b, padding, stride, dilation, groups);
  // A custom function's inputs must be defined tensors: without a bias, an empty placeholder that records nothing.
  const at::Tensor bias = has_bias ? *b : at::empty({0}, x.options());
  return OneDnnConvolution::apply(x, w, bias, has_bias, padding.vec(), stride.vec(), dilation.vec(), groups);
}
}  // namespace mvt

#else

namespace mvt {
bool OneDnnConvolutionBackwardAvailable() { return false; }

at::Tensor OneDnnConvolution(const at::Tensor& x, const at::Tensor& w, const c10::optional<at::Tensor>& b,
                             at::IntArrayRef padding, at::IntArrayRef stride, at::IntArrayRef dilation, int64_t groups) {
  return at::mkldnn_convolution(x, w, b, padding, stride, dilation, groups);
}
}  // namespace mvt

#endif
