// Neural-network functional ops and losses.
#include "common.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>

using mvt::T;
using mvt::Opt;
using mvt::wrap;
using mvt::Ints;
using mvt::ReductionCode;
namespace F = torch::nn::functional;

namespace {
// 1: route every float32 CPU convolution (2D and 3D, forward and backward: onednn_conv.cpp) through oneDNN. libtorch
// 1.13's own heuristic sends batch-1 convolutions on small feature maps to a much slower reference path, in the forward
// pass and again in the backward pass; oneDNN computes the same result (to float rounding) faster there. 0: leave the
// choice to libtorch.
std::atomic<int32_t> g_conv_routing{1};

// MEDVISION_ONEDNN at process start: "0" turns libtorch's use of oneDNN off (as torch.backends.mkldnn.enabled = False),
// for libtorch builds whose oneDNN computes wrong results (see docs/troubleshooting.md); "0" and "1" both skip the
// self-check below. -1 when unset or anything else.
int OneDnnEnvironment() {
  const char* env = std::getenv("MEDVISION_ONEDNN");
  if (env != nullptr && std::strcmp(env, "0") == 0) return 0;
  if (env != nullptr && std::strcmp(env, "1") == 0) return 1;
  return -1;
}
bool ApplyOneDnnEnvironment() {
  if (OneDnnEnvironment() == 0) at::globalContext().setUserEnabledMkldnn(false);
  return true;
}
const bool g_onednn_environment = ApplyOneDnnEnvironment();

// The oneDNN self-check. Some libtorch builds pair libtorch with a oneDNN that computes wrong convolution gradients —
// Debian 13's libtorch 2.6 with its system oneDNN 3.7.2 returns NaN or wrong values in over half of the backward
// passes, in Python PyTorch too — so before the first convolution, oneDNN's gradients of a small convolution are
// compared with a float64 computation (which never uses oneDNN) 16 times; on any mismatch oneDNN is turned off.
std::once_flag g_onednn_once;
std::atomic<int32_t> g_onednn_check{-1};

bool OneDnnGradientsAgree() {
  torch::AutoGradMode grad_mode(true);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(20261202);
  const std::vector<int64_t> one{1, 1};
  for (int trial = 0; trial < 16; ++trial) {
    auto x = at::randn({16, 6, 8, 8}, gen, at::TensorOptions().dtype(at::kFloat));
    auto w = at::randn({6, 6, 3, 3}, gen, at::TensorOptions().dtype(at::kFloat)).mul_(0.2);
    auto g = at::randn({16, 6, 8, 8}, gen, at::TensorOptions().dtype(at::kFloat));
    auto xf = x.clone().requires_grad_(true), wf = w.clone().requires_grad_(true);
    auto y = mvt::OneDnnConvolution(xf, wf, c10::nullopt, one, one, one, 1);   // the backward pass routed convolutions use
    auto got = torch::autograd::grad({y}, {xf, wf}, {g});
    auto xd = x.to(at::kDouble).requires_grad_(true), wd = w.to(at::kDouble).requires_grad_(true);
    auto yd = at::conv2d(xd, wd, {}, one, one);
    auto want = torch::autograd::grad({yd}, {xd, wd}, {g.to(at::kDouble)});
    for (size_t i = 0; i < 2; ++i) {
      const double diff = (got[i].to(at::kDouble) - want[i]).abs().max().item<double>();
      const double scale = want[i].abs().max().item<double>();
      if (!(diff <= 1e-3 * scale)) return false;  // NaN fails too
    }
  }
  return true;
}
}  // namespace

namespace mvt {
void EnsureOneDnnChecked() {
  std::call_once(g_onednn_once, [] {
    SignalsDeferred signals_deferred;  // the check runs oneDNN convolutions
    if (OneDnnEnvironment() >= 0 || !at::hasMKLDNN() || !at::globalContext().userEnabledMkldnn()) {
      g_onednn_check.store(2);
      return;
    }
    bool agree = false;
    try {
      agree = OneDnnGradientsAgree();
    } catch (const std::exception&) {
      agree = false;  // a oneDNN that throws on a plain convolution is no better
    }
    if (!agree) at::globalContext().setUserEnabledMkldnn(false);
    g_onednn_check.store(agree ? 1 : 0);
  });
}
}  // namespace mvt

namespace {

// Autocast state of this thread (PyTorch 2.4 replaced the per-backend functions by ones taking a device type).
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
bool autocast_enabled(bool cuda) { return at::autocast::is_autocast_enabled(cuda ? at::kCUDA : at::kCPU); }
void set_autocast_enabled(bool cuda, bool on) { at::autocast::set_autocast_enabled(cuda ? at::kCUDA : at::kCPU, on); }
at::ScalarType autocast_dtype(bool cuda) { return at::autocast::get_autocast_dtype(cuda ? at::kCUDA : at::kCPU); }
void set_autocast_dtype(bool cuda, at::ScalarType t) { at::autocast::set_autocast_dtype(cuda ? at::kCUDA : at::kCPU, t); }
#else
bool autocast_enabled(bool cuda) { return cuda ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled(); }
void set_autocast_enabled(bool cuda, bool on) { if (cuda) at::autocast::set_enabled(on); else at::autocast::set_cpu_enabled(on); }
at::ScalarType autocast_dtype(bool cuda) { return cuda ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype(); }
void set_autocast_dtype(bool cuda, at::ScalarType t) { if (cuda) at::autocast::set_autocast_gpu_dtype(t); else at::autocast::set_autocast_cpu_dtype(t); }
#endif

}  // namespace

bool mvt::CpuAutocastEnabled() { return autocast_enabled(false); }

namespace {
bool use_onednn(const at::Tensor& x, const at::Tensor& w) {
  // Under CPU autocast the convolution goes through at::conv*d, whose autocast rule casts it to the lower precision
  // (oneDNN then computes in bfloat16); the float32 routing below would bypass that rule.
  return g_conv_routing.load(std::memory_order_relaxed) == 1 && at::hasMKLDNN() && at::globalContext().userEnabledMkldnn() && x.device().is_cpu() &&
         !autocast_enabled(false) &&
         x.layout() == at::kStrided && x.scalar_type() == at::kFloat && w.scalar_type() == at::kFloat &&
         (x.dim() == 4 || x.dim() == 5) && x.dim() == w.dim() && x.size(1) > 0 && x.size(0) > 0;
}
}  // namespace

// Autocast (torch.autocast): device 0 CPU, 1 CUDA. Enter saves the previous state in *prev_enabled/*prev_dtype, sets
// the new one and counts the nesting; exit restores it and, leaving the outermost region, frees the cast cache.
MVT_API int32_t mvt_autocast_enter(int32_t device, int32_t enabled, int32_t dtype, int32_t* prev_enabled, int32_t* prev_dtype) {
  MVT_GUARD_BEGIN
  if (device != 0 && device != 1) throw std::invalid_argument("autocast device must be 0 (CPU) or 1 (CUDA)");
  const bool cuda = device == 1;
  *prev_enabled = autocast_enabled(cuda) ? 1 : 0;
  *prev_dtype = static_cast<int32_t>(autocast_dtype(cuda));
  set_autocast_dtype(cuda, static_cast<at::ScalarType>(dtype));
  set_autocast_enabled(cuda, enabled != 0);
  at::autocast::increment_nesting();
  return 0;
  MVT_GUARD_END(-1)
}
MVT_API int32_t mvt_autocast_exit(int32_t device, int32_t prev_enabled, int32_t prev_dtype) {
  MVT_GUARD_BEGIN
  if (device != 0 && device != 1) throw std::invalid_argument("autocast device must be 0 (CPU) or 1 (CUDA)");
  const bool cuda = device == 1;
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  set_autocast_enabled(cuda, prev_enabled != 0);
  set_autocast_dtype(cuda, static_cast<at::ScalarType>(prev_dtype));
  return 0;
  MVT_GUARD_END(-1)
}
MVT_API int32_t mvt_autocast_state(int32_t device, int32_t* dtype) {
  MVT_GUARD_BEGIN
  if (device != 0 && device != 1) throw std::invalid_argument("autocast device must be 0 (CPU) or 1 (CUDA)");
  *dtype = static_cast<int32_t>(autocast_dtype(device == 1));
  return autocast_enabled(device == 1) ? 1 : 0;
  MVT_GUARD_END(-1)
}

MVT_API int32_t mvt_set_conv_routing(int32_t mode) { MVT_STATUS_OP(mvt::SetRouting(g_conv_routing, mode, "convolution")) }
MVT_API int32_t mvt_get_conv_routing(void) { return g_conv_routing.load(); }
MVT_API int32_t mvt_onednn_conv_backward_available(void) { return mvt::OneDnnConvolutionBackwardAvailable() ? 1 : 0; }

MVT_API int32_t mvt_set_onednn_enabled(int32_t enabled) {
  MVT_GUARD_BEGIN
  if (enabled != 0 && enabled != 1) throw std::invalid_argument("oneDNN use must be 0 (off) or 1 (on)");
  at::globalContext().setUserEnabledMkldnn(enabled == 1);
  return 0;
  MVT_GUARD_END(-1)
}
MVT_API int32_t mvt_get_onednn_enabled(void) {
  MVT_GUARD_BEGIN
  mvt::EnsureOneDnnChecked();
  return at::globalContext().userEnabledMkldnn() ? 1 : 0;
  MVT_GUARD_END(-1)
}
MVT_API int32_t mvt_onednn_self_check(void) {
  MVT_GUARD_BEGIN
  mvt::EnsureOneDnnChecked();
  return g_onednn_check.load();
  MVT_GUARD_END(-1)
}

// libtorch (1.13 and Python's PyTorch alike) truncates groups to a 32-bit int on some paths and divides by it: a groups
// of 2^32 ends the process with SIGFPE instead of an error (found by tests/FormatFuzzer's "ops" mode).
static void CheckGroups(int64_t groups, const char* op) {
  if (groups < 1 || groups > std::numeric_limits<int32_t>::max())
    throw std::invalid_argument(std::string(op) + ": groups must be a positive number of channel groups, got " + std::to_string(groups));
}

MVT_API mvt_tensor mvt_conv(mvt_tensor xh, mvt_tensor wh, mvt_tensor bh, const int64_t* stride, const int64_t* padding,
                            const int64_t* dilation, int32_t nspatial, int64_t groups) {
  MVT_GUARD_BEGIN
  mvt::SignalsDeferred signals_deferred;
  mvt::EnsureOneDnnChecked();
  CheckGroups(groups, "convolution");
  const at::Tensor& x = T(xh);
  const at::Tensor& w = T(wh);
  auto s = Ints(stride, nspatial), p = Ints(padding, nspatial), d = Ints(dilation, nspatial);
  if (w.dim() != nspatial + 2)
    throw std::invalid_argument("conv" + std::to_string(nspatial) + "d expects a " + std::to_string(nspatial + 2) +
                                "-D weight, got " + std::to_string(w.dim()) + "-D");
  if (x.dim() == nspatial + 2 && x.size(1) != w.size(1) * groups)
    throw std::invalid_argument("conv" + std::to_string(nspatial) + "d: input has " + std::to_string(x.size(1)) +
                                " channels but the weight expects " + std::to_string(w.size(1) * groups) + " (shape " +
                                c10::str(x.sizes()) + " against weight " + c10::str(w.sizes()) + ")");
  if (w.is_mkldnn()) {
    // A weight pre-packed by mvt_onednn_pack_conv_weight: inference only (it has no autograd history), dense input.
    if (!x.device().is_cpu() || x.scalar_type() != at::kFloat || x.layout() != at::kStrided || x.dim() != w.dim())
      throw std::invalid_argument("a pre-packed oneDNN weight needs a dense float32 CPU input of " + std::to_string(w.dim()) +
                                  " dimensions, got " + c10::str(x.scalar_type()) + " " + c10::str(x.sizes()) + " on " + x.device().str());
    if (at::GradMode::is_enabled() && (x.requires_grad() || (bh != nullptr && T(bh).requires_grad())))
      throw std::invalid_argument("a pre-packed oneDNN weight cannot record gradients; call it under no-grad");
  }
  if (w.is_mkldnn()) return wrap(at::mkldnn_convolution(x.contiguous(), w, Opt(bh), p, s, d, groups));
  if (use_onednn(x, w)) return wrap(mvt::OneDnnConvolution(x.contiguous(), w, Opt(bh), p, s, d, groups));
  switch (nspatial) {
    case 1: return wrap(at::conv1d(x, w, Opt(bh), s, p, d, groups));
    case 2: return wrap(at::conv2d(x, w, Opt(bh), s, p, d, groups));
    case 3: return wrap(at::conv3d(x, w, Opt(bh), s, p, d, groups));
    default: throw std::invalid_argument("convolution supports 1, 2 or 3 spatial dimensions");
  }
  MVT_GUARD_END(nullptr)
}
MVT_API mvt_tensor mvt_onednn_pack_conv_weight(mvt_tensor wh, const int64_t* stride, const int64_t* padding,
                                               const int64_t* dilation, int32_t nspatial, int64_t groups) {
  MVT_GUARD_BEGIN
  CheckGroups(groups, "convolution weight packing");
  mvt::SignalsDeferred signals_deferred;
  const at::Tensor& w = T(wh);
  if (!at::hasMKLDNN()) throw std::invalid_argument("this libtorch build has no oneDNN, so convolution weights cannot be pre-packed");
  if (nspatial != 2 && nspatial != 3) throw std::invalid_argument("only 2-D and 3-D convolution weights can be pre-packed");
  if (w.dim() != nspatial + 2 || !w.device().is_cpu() || w.scalar_type() != at::kFloat || w.layout() != at::kStrided)
    throw std::invalid_argument("pre-packing needs a dense float32 CPU weight of " + std::to_string(nspatial + 2) + " dimensions, got " +
                                c10::str(w.scalar_type()) + " " + c10::str(w.sizes()) + " on " + w.device().str());
  auto s = Ints(stride, nspatial), p = Ints(padding, nspatial), d = Ints(dilation, nspatial);
  at::NoGradGuard no_grad;
  auto dense = w.detach().contiguous().to_mkldnn();
  return wrap(nspatial == 2 ? at::mkldnn_reorder_conv2d_weight(dense, p, s, d, groups)
                            : at::mkldnn_reorder_conv3d_weight(dense, p, s, d, groups));
  MVT_GUARD_END(nullptr)
}
MVT_API mvt_tensor mvt_conv_transpose(mvt_tensor xh, mvt_tensor wh, mvt_tensor bh, const int64_t* stride, const int64_t* padding,
                                      const int64_t* output_padding, const int64_t* dilation, int32_t nspatial, int64_t groups) {
  MVT_GUARD_BEGIN
  mvt::SignalsDeferred signals_deferred;
  mvt::EnsureOneDnnChecked();
  const at::Tensor& x = T(xh);
  const at::Tensor& w = T(wh);
  CheckGroups(groups, "transposed convolution");
  auto s = Ints(stride, nspatial), p = Ints(padding, nspatial), op = Ints(output_padding, nspatial), d = Ints(dilation, nspatial);
  switch (nspatial) {
    case 1: return wrap(at::conv_transpose1d(x, w, Opt(bh), s, p, op, groups, d));
    case 2: return wrap(at::conv_transpose2d(x, w, Opt(bh), s, p, op, groups, d));
    case 3: return wrap(at::conv_transpose3d(x, w, Opt(bh), s, p, op, groups, d));
    default: throw std::invalid_argument("transposed convolution supports 1, 2 or 3 spatial dimensions");
  }
  MVT_GUARD_END(nullptr)
}
MVT_API mvt_tensor mvt_linear(mvt_tensor xh, mvt_tensor wh, mvt_tensor bh) {
  MVT_GUARD_BEGIN
  mvt::SignalsDeferred signals_deferred;
  const at::Tensor& x = T(xh);
  const at::Tensor& w = T(wh);
  const auto b = Opt(bh);
  mvt::EnsureOneDnnChecked();
  if (mvt::UseOneDnnLinear(x, w, b)) return wrap(mvt::OneDnnLinear(x, w, b));
  return wrap(at::linear(x, w, b));
  MVT_GUARD_END(nullptr)
}
MVT_API mvt_tensor mvt_batch_norm(mvt_tensor x, mvt_tensor w, mvt_tensor b, mvt_tensor rm, mvt_tensor rv, int32_t training,
                                  double momentum, double eps) {
  MVT_TENSOR_OP(at::batch_norm(T(x), Opt(w), Opt(b), Opt(rm), Opt(rv), training != 0, momentum, eps, true))
}
MVT_API mvt_tensor mvt_instance_norm(mvt_tensor x, mvt_tensor w, mvt_tensor b, mvt_tensor rm, mvt_tensor rv, int32_t use_input_stats,
                                     double momentum, double eps) {
  MVT_TENSOR_OP(at::instance_norm(T(x), Opt(w), Opt(b), Opt(rm), Opt(rv), use_input_stats != 0, momentum, eps, true))
}
MVT_API mvt_tensor mvt_group_norm(mvt_tensor x, int64_t groups, mvt_tensor w, mvt_tensor b, double eps) {
  MVT_TENSOR_OP(at::group_norm(T(x), groups, Opt(w), Opt(b), eps, true))
}
MVT_API mvt_tensor mvt_layer_norm(mvt_tensor x, const int64_t* shape, int32_t ndim, mvt_tensor w, mvt_tensor b, double eps) {
  MVT_TENSOR_OP(at::layer_norm(T(x), Ints(shape, ndim), Opt(w), Opt(b), eps, true))
}
MVT_API mvt_tensor mvt_max_pool(mvt_tensor x, const int64_t* kernel, const int64_t* stride, const int64_t* padding,
                                const int64_t* dilation, int32_t nspatial, int32_t ceil_mode) {
  MVT_GUARD_BEGIN
  auto k = Ints(kernel, nspatial), s = Ints(stride, nspatial), p = Ints(padding, nspatial), d = Ints(dilation, nspatial);
  if (nspatial >= 1 && nspatial <= 3 && mvt::DeepLiftRescaleApplies(T(x)))
    return wrap(mvt::MaxPoolRescaled(T(x), nspatial, k, s, p, d, ceil_mode != 0));
  switch (nspatial) {
    case 1: return wrap(at::max_pool1d(T(x), k, s, p, d, ceil_mode != 0));
    case 2: return wrap(at::max_pool2d(T(x), k, s, p, d, ceil_mode != 0));
    case 3: return wrap(at::max_pool3d(T(x), k, s, p, d, ceil_mode != 0));
    default: throw std::invalid_argument("max pooling supports 1, 2 or 3 spatial dimensions");
  }
  MVT_GUARD_END(nullptr)
}
MVT_API mvt_tensor mvt_avg_pool(mvt_tensor x, const int64_t* kernel, const int64_t* stride, const int64_t* padding, int32_t nspatial,
                                int32_t ceil_mode, int32_t count_include_pad) {
  MVT_GUARD_BEGIN
  auto k = Ints(kernel, nspatial), s = Ints(stride, nspatial), p = Ints(padding, nspatial);
  switch (nspatial) {
    case 1: return wrap(at::avg_pool1d(T(x), k, s, p, ceil_mode != 0, count_include_pad != 0));
    case 2: return wrap(at::avg_pool2d(T(x), k, s, p, ceil_mode != 0, count_include_pad != 0));
    case 3: return wrap(at::avg_pool3d(T(x), k, s, p, ceil_mode != 0, count_include_pad != 0));
    default: throw std::invalid_argument("average pooling supports 1, 2 or 3 spatial dimensions");
  }
  MVT_GUARD_END(nullptr)
}
MVT_API mvt_tensor mvt_adaptive_pool(mvt_tensor x, const int64_t* output, int32_t nspatial, int32_t max) {
  MVT_GUARD_BEGIN
  auto o = Ints(output, nspatial);
  if (max) {
    switch (nspatial) {
      case 1: return wrap(std::get<0>(at::adaptive_max_pool1d(T(x), o)));
      case 2: return wrap(std::get<0>(at::adaptive_max_pool2d(T(x), o)));
      case 3: return wrap(std::get<0>(at::adaptive_max_pool3d(T(x), o)));
      default: break;
    }
  } else {
    switch (nspatial) {
      case 1: return wrap(at::adaptive_avg_pool1d(T(x), o));
      case 2: return wrap(at::adaptive_avg_pool2d(T(x), o));
      case 3: return wrap(at::adaptive_avg_pool3d(T(x), o));
      default: break;
    }
  }
  throw std::invalid_argument("adaptive pooling supports 1, 2 or 3 spatial dimensions");
  MVT_GUARD_END(nullptr)
}
MVT_API mvt_tensor mvt_dropout(mvt_tensor x, double p, int32_t training, int32_t feature) {
  MVT_GUARD_BEGIN
  if (p < 0.0 || p > 1.0) throw std::invalid_argument("dropout probability must lie in [0, 1], got " + std::to_string(p));
  return wrap(feature ? at::feature_dropout(T(x), p, training != 0) : at::dropout(T(x), p, training != 0));
  MVT_GUARD_END(nullptr)
}
MVT_API mvt_tensor mvt_pairwise_distance(mvt_tensor a, mvt_tensor b, double p, double eps, int32_t keepdim) {
  MVT_TENSOR_OP(at::pairwise_distance(T(a), T(b), p, eps, keepdim != 0))
}
MVT_API mvt_tensor mvt_cosine_similarity(mvt_tensor a, mvt_tensor b, int64_t dim, double eps) {
  MVT_TENSOR_OP(at::cosine_similarity(T(a), T(b), dim, eps))
}
MVT_API mvt_tensor mvt_normalize(mvt_tensor x, double p, int64_t dim, double eps) {
  MVT_TENSOR_OP(F::normalize(T(x), F::NormalizeFuncOptions().p(p).dim(dim).eps(eps)))
}
// Interpolation modes: 0 nearest, 1 (bi/tri)linear by spatial rank, 2 bicubic, 3 area.
static void set_interpolation_mode(F::InterpolateFuncOptions& o, int32_t nspatial, int32_t mode, int32_t align_corners) {
  switch (mode) {
    case 0: o.mode(torch::kNearest); break;
    case 1:
      if (nspatial == 1) o.mode(torch::kLinear);
      else if (nspatial == 2) o.mode(torch::kBilinear);
      else o.mode(torch::kTrilinear);
      o.align_corners(align_corners != 0);
      break;
    case 2: o.mode(torch::kBicubic).align_corners(align_corners != 0); break;
    case 3: o.mode(torch::kArea); break;
    default: throw std::invalid_argument("unknown interpolation mode " + std::to_string(mode));
  }
}
MVT_API mvt_tensor mvt_interpolate(mvt_tensor x, const int64_t* size, int32_t nspatial, int32_t mode, int32_t align_corners) {
  MVT_GUARD_BEGIN
  auto o = F::InterpolateFuncOptions().size(std::vector<int64_t>(size, size + nspatial));
  set_interpolation_mode(o, nspatial, mode, align_corners);
  if (T(x).dim() != nspatial + 2)
    throw std::invalid_argument("interpolate to " + std::to_string(nspatial) + " spatial sizes expects a " +
                                std::to_string(nspatial + 2) + "-D input, got shape " + c10::str(T(x).sizes()));
  return wrap(F::interpolate(T(x), o));
  MVT_GUARD_END(nullptr)
}
// By scale factors (F.interpolate(scale_factor=…)): the output size is floor(input · scale), and unless recompute is
// set the kernels map coordinates with the scale factors themselves, as PyTorch does.
MVT_API mvt_tensor mvt_interpolate_scale(mvt_tensor x, const double* scales, int32_t nspatial, int32_t mode, int32_t align_corners, int32_t recompute) {
  MVT_GUARD_BEGIN
  auto o = F::InterpolateFuncOptions().scale_factor(std::vector<double>(scales, scales + nspatial)).recompute_scale_factor(recompute != 0);
  set_interpolation_mode(o, nspatial, mode, align_corners);
  if (T(x).dim() != nspatial + 2)
    throw std::invalid_argument("interpolate by " + std::to_string(nspatial) + " scale factors expects a " +
                                std::to_string(nspatial + 2) + "-D input, got shape " + c10::str(T(x).sizes()));
  return wrap(F::interpolate(T(x), o));
  MVT_GUARD_END(nullptr)
}
// Padding modes: 0 constant, 1 reflect, 2 replicate, 3 circular.
MVT_API mvt_tensor mvt_pad(mvt_tensor x, const int64_t* pads, int32_t npads, int32_t mode, double value) {
  MVT_GUARD_BEGIN
  auto o = F::PadFuncOptions(std::vector<int64_t>(pads, pads + npads));
  switch (mode) {
    case 0: o.mode(torch::kConstant).value(value); break;
    case 1: o.mode(torch::kReflect); break;
    case 2: o.mode(torch::kReplicate); break;
    case 3: o.mode(torch::kCircular); break;
    default: throw std::invalid_argument("unknown padding mode " + std::to_string(mode));
  }
  return wrap(F::pad(T(x), o));
  MVT_GUARD_END(nullptr)
}
MVT_API mvt_tensor mvt_affine_grid(mvt_tensor theta, const int64_t* size, int32_t ndim, int32_t align_corners) {
  MVT_TENSOR_OP(at::affine_grid_generator(T(theta), Ints(size, ndim), align_corners != 0))
}
MVT_API mvt_tensor mvt_grid_sample(mvt_tensor x, mvt_tensor grid, int32_t mode, int32_t padding_mode, int32_t align_corners) {
  MVT_TENSOR_OP(at::grid_sampler(T(x), T(grid), mode, padding_mode, align_corners != 0))
}
// Activation codes: 0 leaky_relu(a = slope), 1 elu(a = alpha), 2 gelu, 3 silu, 4 softplus(a = beta, b = threshold),
// 5 hardtanh(a = min, b = max), 6 log_sigmoid, 7 relu6.
MVT_API mvt_tensor mvt_activation(int32_t op, mvt_tensor xh, double a, double b) {
  MVT_GUARD_BEGIN
  const at::Tensor& x = T(xh);
  std::function<at::Tensor(const at::Tensor&)> f;
  switch (op) {
    case 0: f = [a](const at::Tensor& t) { return at::leaky_relu(t, a); }; break;
    case 1: f = [a](const at::Tensor& t) { return at::elu(t, a); }; break;
    case 2: f = [](const at::Tensor& t) { return at::gelu(t); }; break;
    case 3: f = [](const at::Tensor& t) { return at::silu(t); }; break;
    case 4: f = [a, b](const at::Tensor& t) { return at::softplus(t, a, b); }; break;
    case 5: f = [a, b](const at::Tensor& t) { return at::hardtanh(t, a, b); }; break;
    case 6: f = [](const at::Tensor& t) { return at::log_sigmoid(t); }; break;
    case 7: f = [](const at::Tensor& t) { return at::hardtanh(t, 0.0, 6.0); }; break;
    default: throw std::invalid_argument("unknown activation code " + std::to_string(op));
  }
  // Under DeepLIFT's rescale rule (mvt_set_relu_gradient mode 3) the activation's backward pass is the rule's.
  return wrap(mvt::DeepLiftRescaleApplies(x) ? mvt::ActivationRescaled(x, f) : f(x));
  MVT_GUARD_END(nullptr)
}

MVT_API mvt_tensor mvt_cross_entropy(mvt_tensor logits, mvt_tensor target, mvt_tensor weight, int32_t reduction, int64_t ignore_index,
                                     double label_smoothing) {
  MVT_TENSOR_OP(at::cross_entropy_loss(T(logits), T(target), Opt(weight), ReductionCode(reduction), ignore_index, label_smoothing))
}
MVT_API mvt_tensor mvt_nll_loss(mvt_tensor logp, mvt_tensor target, mvt_tensor weight, int32_t reduction, int64_t ignore_index) {
  MVT_TENSOR_OP(at::nll_loss_nd(T(logp), T(target), Opt(weight), ReductionCode(reduction), ignore_index))
}
MVT_API mvt_tensor mvt_bce_with_logits(mvt_tensor logits, mvt_tensor target, mvt_tensor weight, mvt_tensor pos_weight, int32_t reduction) {
  MVT_TENSOR_OP(at::binary_cross_entropy_with_logits(T(logits), T(target), Opt(weight), Opt(pos_weight), ReductionCode(reduction)))
}
MVT_API mvt_tensor mvt_bce(mvt_tensor probs, mvt_tensor target, mvt_tensor weight, int32_t reduction) {
  MVT_TENSOR_OP(at::binary_cross_entropy(T(probs), T(target), Opt(weight), ReductionCode(reduction)))
}
// Regression losses: 0 MSE, 1 L1, 2 smooth L1 (beta), 3 Huber (delta = beta).
MVT_API mvt_tensor mvt_regression_loss(int32_t kind, mvt_tensor x, mvt_tensor y, int32_t reduction, double beta) {
  MVT_GUARD_BEGIN
  const int64_t r = ReductionCode(reduction);
  switch (kind) {
    case 0: return wrap(at::mse_loss(T(x), T(y), r));
    case 1: return wrap(at::l1_loss(T(x), T(y), r));
    case 2: return wrap(at::smooth_l1_loss(T(x), T(y), r, beta));
    case 3: return wrap(at::huber_loss(T(x), T(y), r, beta));
    default: throw std::invalid_argument("unknown regression loss code " + std::to_string(kind));
  }
  MVT_GUARD_END(nullptr)
}
// Losses over pairs and triplets: 0 KL divergence (a input, b target; flag: log target), 1 margin ranking (a, b, c
// target ±1), 2 cosine embedding (a, b, c target ±1), 3 triplet margin (a anchor, b positive, c negative; p, eps,
// flag: swap), 4 hinge embedding (a input, b target ±1), 5 soft margin (a input, b target ±1).
MVT_API mvt_tensor mvt_pair_loss(int32_t kind, mvt_tensor a, mvt_tensor b, mvt_tensor c, int32_t reduction, double margin, double p, double eps, int32_t flag) {
  MVT_GUARD_BEGIN
  const int64_t r = ReductionCode(reduction);
  switch (kind) {
    case 0: return wrap(at::kl_div(T(a), T(b), r, flag != 0));
    case 1: return wrap(at::margin_ranking_loss(T(a), T(b), T(c), margin, r));
    case 2: return wrap(at::cosine_embedding_loss(T(a), T(b), T(c), margin, r));
    case 3: return wrap(at::triplet_margin_loss(T(a), T(b), T(c), margin, p, eps, flag != 0, r));
    case 4: return wrap(at::hinge_embedding_loss(T(a), T(b), margin, r));
    case 5: return wrap(at::soft_margin_loss(T(a), T(b), r));
    default: throw std::invalid_argument("unknown pair loss code " + std::to_string(kind));
  }
  MVT_GUARD_END(nullptr)
}
