// Float32 CPU linear layers computed by oneDNN's inner product, forward and backward.
//
// libtorch's at::linear on the CPU is a BLAS sgemm; Debian's libtorch links the system BLAS (OpenBLAS), which on the
// machine this was measured on ran a vision transformer's projections (1450 × 192 by 192 × 576, ViT-Tiny on 29
// 28 × 28 images) at ~31 GFLOP/s on one core, where oneDNN's inner product ran the same product at ~150 (3-5× less
// time with the copies into and out of oneDNN's layout; /usr/bin/python3 with torch 1.13, docs/architecture.md). Small
// products (a classifier head of a few outputs) stay on BLAS: the copies and the weight reorder cost more than they
// save there. The backward pass runs oneDNN's inner-product backward kernels (ATen's mkldnn_linear_backward_input and
// _weights); gradients recorded for higher-order derivatives take the differentiable matrix products instead.
#include "common.h"
#include <torch/csrc/autograd/custom_function.h>

namespace {
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

std::atomic<int32_t> g_linear_routing{1};

// Products below this many multiply-adds stay on BLAS.
constexpr int64_t kMinRoutedMacs = int64_t{1} << 20;

at::Tensor Forward(const at::Tensor& x2d, const at::Tensor& w, const c10::optional<at::Tensor>& b) {
  return at::mkldnn_linear(x2d.to_mkldnn(), w.contiguous(), b.has_value() ? c10::optional<at::Tensor>(b->contiguous()) : c10::nullopt).to_dense();
}

struct OneDnnLinearFunction : public torch::autograd::Function<OneDnnLinearFunction> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x2d, const at::Tensor& w, const at::Tensor& b, bool has_bias) {
    ctx->save_for_backward({x2d, w});
    ctx->saved_data["bias"] = has_bias;
    return Forward(x2d, w, has_bias ? c10::optional<at::Tensor>(b) : c10::nullopt);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const at::Tensor& x = saved[0];
    const at::Tensor& w = saved[1];
    const bool bias = ctx->saved_data["bias"].toBool();
    at::Tensor gx, gw, gb;
    if (!grads[0].defined()) return {gx, gw, gb, at::Tensor()};
    const at::Tensor g = grads[0].contiguous();
    const bool need_x = ctx->needs_input_grad(0), need_w = ctx->needs_input_grad(1), need_b = bias && ctx->needs_input_grad(2);
    if (at::GradMode::is_enabled()) {
      // create_graph: differentiable products (oneDNN's kernels record no history)
      if (need_x) gx = g.mm(w);
      if (need_w) gw = g.t().mm(x);
      if (need_b) gb = g.sum(0);
    } else {
      at::AutoDispatchBelowADInplaceOrView below_autograd;
      const at::Tensor gm = g.to_mkldnn();
      const at::Tensor wc = w.contiguous();
      if (need_x) gx = at::mkldnn_linear_backward_input(x.sizes(), gm, wc).to_dense();
      if (need_w || need_b) {
        at::Tensor weight_grad, bias_grad;
        std::tie(weight_grad, bias_grad) = at::mkldnn_linear_backward_weights(gm, x.to_mkldnn(), wc, need_b);
        if (need_w) gw = weight_grad;
        if (need_b) gb = bias_grad;
      }
    }
    return {gx, gw, gb, at::Tensor()};
  }
};
}  // namespace

namespace mvt {
bool UseOneDnnLinear(const at::Tensor& x, const at::Tensor& w, const c10::optional<at::Tensor>& b) {
  if (g_linear_routing.load(std::memory_order_relaxed) != 1 || !at::hasMKLDNN() || !at::globalContext().userEnabledMkldnn()) return false;
  if (!x.device().is_cpu() || x.layout() != at::kStrided || w.layout() != at::kStrided || x.scalar_type() != at::kFloat ||
      w.scalar_type() != at::kFloat || w.dim() != 2 || x.dim() < 1 || x.size(-1) != w.size(1) || !w.device().is_cpu())
    return false;
  if (b.has_value() && b->defined() && (b->dim() != 1 || b->size(0) != w.size(0) || b->scalar_type() != at::kFloat || b->layout() != at::kStrided)) return false;
  // Under CPU autocast at::linear's autocast rule casts to bfloat16, which this float32 path would bypass.
  if (CpuAutocastEnabled()) return false;
  const int64_t rows = x.numel() / std::max<int64_t>(x.size(-1), 1);
  if (rows == 0 || w.size(0) == 0 || w.size(1) == 0) return false;
  return rows * w.size(0) * w.size(1) >= kMinRoutedMacs;
}

at::Tensor OneDnnLinear(const at::Tensor& x, const at::Tensor& w, const c10::optional<at::Tensor>& b) {
  const bool has_bias = b.has_value() && b->defined();
  const at::Tensor x2d = x.reshape({-1, x.size(-1)}).contiguous();
  const bool records = at::GradMode::is_enabled() && (x.requires_grad() || w.requires_grad() || (has_bias && b->requires_grad()));
  at::Tensor y = records ? OneDnnLinearFunction::apply(x2d, w, has_bias ? *b : at::empty({0}, x.options()), has_bias)
                         : Forward(x2d, w, has_bias ? b : c10::nullopt);
  std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end() - 1);
  shape.push_back(w.size(0));
  return y.view(shape);
}
}  // namespace mvt

MVT_API int32_t mvt_set_linear_routing(int32_t mode) { MVT_STATUS_OP(mvt::SetRouting(g_linear_routing, mode, "linear")) }
MVT_API int32_t mvt_get_linear_routing(void) { return g_linear_routing.load(); }
