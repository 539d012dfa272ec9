// Elementwise, linear-algebra, reduction, shape, indexing and in-place entry points.
// The integer op codes below are mirrored by the managed enums in MedVision.Torch/Native/NativeOps.cs.
#include "common.h"
#include <sstream>

using mvt::T;
using mvt::wrap;
using mvt::Ints;

namespace {

// How ReLU's backward pass is changed on this thread (mvt_set_relu_gradient): 0 as autograd defines it, 1 guided
// backpropagation (Springenberg et al., 2015: the incoming gradient's negative part is dropped before ReLU's mask),
// 2 "deconvolution" (Zeiler and Fergus, 2014: the negative part is dropped and the mask is not applied), 3 DeepLIFT's
// rescale rule (Shrikumar et al., 2017; see ActivationRescale). The forward value is always relu(x). Only ReLUs
// recorded by autograd while the mode is set are changed; each is counted.
thread_local int32_t relu_gradient_mode = 0;
thread_local int64_t relu_gradient_overrides = 0;

bool relu_overridden(const at::Tensor& x) {
  return relu_gradient_mode != 0 && c10::GradMode::is_enabled() && x.requires_grad();
}

void clamp_incoming_gradient(at::Tensor& y) {
  y.register_hook([](const at::Tensor& g) { return g.clamp_min(0); });
  ++relu_gradient_overrides;
}

// relu(x) whose backward pass is the identity: x plus a constant that takes it to relu(x). Exact in floating point:
// the constant is 0 where x > 0 and −x elsewhere, and x + (−x) is +0.
at::Tensor relu_with_identity_backward(const at::Tensor& x) { return x + (at::relu(x) - x).detach(); }

// DeepLIFT's rescale rule: the batch holds the inputs in its first half and their references in its second, in the
// same order (Captum's DeepLift runs them so); ActivationRescale below applies it, to ReLU as to the other activations.
void check_rescale_pairs(const at::Tensor& x, const char* what) {
  if (x.dim() == 0 || x.size(0) % 2 != 0) {
    std::ostringstream shape;
    shape << x.sizes();
    throw std::invalid_argument(std::string("DeepLIFT's rescale rule pairs each input with its reference in one batch (inputs first, references second), so ") + what + " needs an even batch size; this one has shape " + shape.str());
  }
}

at::Tensor relu_function(const at::Tensor& x) { return at::relu(x); }

at::Tensor relu_recorded(const at::Tensor& x) {
  if (!relu_overridden(x)) return at::relu(x);
  if (relu_gradient_mode == 3) return mvt::ActivationRescaled(x, relu_function);
  at::Tensor y = relu_gradient_mode == 1 ? at::relu(x) : relu_with_identity_backward(x);
  clamp_incoming_gradient(y);
  return y;
}

void relu_recorded_(at::Tensor& t) {
  if (!relu_overridden(t)) { t.relu_(); return; }
  if (relu_gradient_mode == 3) {
    // the rule's function saves only its multipliers, not its input, so the input may then be overwritten
    t.copy_(mvt::ActivationRescaled(t, relu_function));
    return;
  }
  if (relu_gradient_mode == 1) t.relu_(); else t.add_((at::relu(t) - t).detach());
  clamp_incoming_gradient(t);
}

// DeepLIFT's rule for max pooling (Captum's): in each window the output's change from the reference, y − y′, is split
// at max(y, y′) into max − y′, credited to the input's maximum, and y − max, credited to the reference's maximum; an
// input element's multiplier is what it is credited, summed over the windows it is a maximum of (overlapping windows
// add up), over its own change x − x′ — or the gradient where |x − x′| < 1e-10. The credits of a window add up to its
// output's change, so the attributions keep summing to the change of the network's output.
struct MaxPoolRescale : public torch::autograd::Function<MaxPoolRescale> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, int64_t nspatial, std::vector<int64_t> kernel,
                            std::vector<int64_t> stride, std::vector<int64_t> padding, std::vector<int64_t> dilation, bool ceil_mode) {
    at::Tensor y, indices;
    if (nspatial == 1) std::tie(y, indices) = at::max_pool1d_with_indices(x, kernel, stride, padding, dilation, ceil_mode);
    else if (nspatial == 2) std::tie(y, indices) = at::max_pool2d_with_indices(x, kernel, stride, padding, dilation, ceil_mode);
    else std::tie(y, indices) = at::max_pool3d_with_indices(x, kernel, stride, padding, dilation, ceil_mode);
    auto xs = x.chunk(2, 0);
    auto ys = y.chunk(2, 0);
    at::Tensor top = at::maximum(ys[0], ys[1]);
    ctx->save_for_backward({indices, top - ys[1], ys[0] - top, xs[0] - xs[1]});
    return y;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const at::Tensor& indices = saved[0];
    const at::Tensor& dx = saved[3];
    // Adds each output value to the input element its index names, per (sample, channel) plane.
    auto credit = [](const at::Tensor& values, const at::Tensor& where, at::IntArrayRef input_shape) {
      int64_t n = values.size(0), c = values.size(1);
      at::Tensor planes = at::zeros({n, c, input_shape.size() > 2 ? c10::multiply_integers(input_shape.begin() + 2, input_shape.end()) : 1}, values.options());
      planes.scatter_add_(2, where.reshape({n, c, -1}), values.reshape({n, c, -1}));
      return planes.reshape(input_shape);
    };
    at::Tensor g = grads[0];
    auto gs = g.chunk(2, 0);
    auto where = indices.chunk(2, 0);
    std::vector<int64_t> full(dx.sizes().begin(), dx.sizes().end());
    full[0] *= 2;
    at::Tensor standard = credit(g, indices, full);
    at::Tensor credited = credit(gs[0] * saved[1], where[0], dx.sizes()) + credit(gs[0] * saved[2], where[1], dx.sizes());
    at::Tensor near = dx.abs() < 1e-10;
    at::Tensor grad_x = at::where(at::cat({near, near}), standard, at::cat({credited, credited}) / at::cat({dx, dx}));
    return {grad_x, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

// DeepLIFT's rescale rule for any elementwise activation f (Captum's "nonlinear" rule): the multiplier
// (f(x) − f(x′)) / (x − x′) of each input and its reference, the same for both halves, or f′(x) (found by autograd
// on f itself) where |x − x′| < 1e-10. The forward value is f(x), computed once.
struct ActivationRescale : public torch::autograd::Function<ActivationRescale> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, std::function<at::Tensor(const at::Tensor&)> f) {
    at::Tensor y = f(x);
    auto xs = x.chunk(2, 0);
    auto ys = y.chunk(2, 0);
    at::Tensor dx = xs[0] - xs[1];
    at::Tensor ratio = (ys[0] - ys[1]) / dx;
    at::Tensor derivative;
    {
      at::AutoGradMode enable(true);
      at::Tensor v = x.detach().requires_grad_(true);
      derivative = torch::autograd::grad({f(v).sum()}, {v})[0].detach();
    }
    at::Tensor near = dx.abs() < 1e-10;
    ctx->save_for_backward({at::where(at::cat({near, near}), derivative, at::cat({ratio, ratio}))});
    return y;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads) {
    return {grads[0] * ctx->get_saved_variables()[0], at::Tensor()};
  }
};

// sigmoid or tanh, with DeepLIFT's rule when it applies.
at::Tensor activation_recorded(const at::Tensor& t, at::Tensor (*f)(const at::Tensor&)) {
  if (mvt::DeepLiftRescaleApplies(t)) return mvt::ActivationRescaled(t, f);
  return f(t);
}

at::Tensor unary(int32_t op, const at::Tensor& t) {
  switch (op) {
    case 0: return at::neg(t);
    case 1: return at::abs(t);
    case 2: return at::exp(t);
    case 3: return at::log(t);
    case 4: return at::sqrt(t);
    case 5: return activation_recorded(t, [](const at::Tensor& x) { return at::sigmoid(x); });
    case 6: return activation_recorded(t, [](const at::Tensor& x) { return at::tanh(x); });
    case 7: return relu_recorded(t);
    case 8: return at::sign(t);
    case 9: return at::floor(t);
    case 10: return at::ceil(t);
    case 11: return at::round(t);
    case 12: return at::sin(t);
    case 13: return at::cos(t);
    case 14: return at::rsqrt(t);
    case 15: return at::reciprocal(t);
    case 16: return at::logical_not(t);
    case 17: return at::isnan(t);
    case 18: return at::isinf(t);
    case 19: return at::square(t);
    case 20: return at::log1p(t);
    case 21: return at::expm1(t);
    case 22: return at::erf(t);
    case 23: return at::isfinite(t);
    case 24: return at::trunc(t);
    case 25: return t.t();
    default: throw std::invalid_argument("unknown unary op code " + std::to_string(op));
  }
}

at::Tensor unary_scalar(int32_t op, const at::Tensor& t, double d) {
  const at::Scalar s = mvt::ScalarFor(t, d);
  switch (op) {
    case 0: return at::add(t, s);
    case 1: return at::sub(t, s);
    case 2: return at::rsub(t, s);
    case 3: return at::mul(t, s);
    case 4: return at::div(t, s);
    case 5: return at::mul(at::reciprocal(t), d);
    case 6: return at::pow(t, s);
    case 7: return at::pow(s, t);
    case 8: return at::eq(t, s);
    case 9: return at::ne(t, s);
    case 10: return at::lt(t, s);
    case 11: return at::le(t, s);
    case 12: return at::gt(t, s);
    case 13: return at::ge(t, s);
    case 14: return at::fmod(t, s);
    case 15: return at::remainder(t, s);
    case 16: return at::clamp_min(t, s);
    case 17: return at::clamp_max(t, s);
    default: throw std::invalid_argument("unknown scalar op code " + std::to_string(op));
  }
}

at::Tensor binary(int32_t op, const at::Tensor& a, const at::Tensor& b) {
  switch (op) {
    case 0: return at::add(a, b);
    case 1: return at::sub(a, b);
    case 2: return at::mul(a, b);
    case 3: return at::div(a, b);
    case 4: return at::pow(a, b);
    case 5: return at::maximum(a, b);
    case 6: return at::minimum(a, b);
    case 7: return at::eq(a, b);
    case 8: return at::ne(a, b);
    case 9: return at::lt(a, b);
    case 10: return at::le(a, b);
    case 11: return at::gt(a, b);
    case 12: return at::ge(a, b);
    case 13: return at::matmul(a, b);
    case 14: return at::bmm(a, b);
    case 15: return at::mm(a, b);
    case 16: return at::logical_and(a, b);
    case 17: return at::logical_or(a, b);
    case 18: return at::logical_xor(a, b);
    case 19: return at::atan2(a, b);
    case 20: return at::fmod(a, b);
    case 21: return at::remainder(a, b);
    case 22: return at::div(a, b, "floor");
    case 23: return at::dot(a, b);
    default: throw std::invalid_argument("unknown binary op code " + std::to_string(op));
  }
}

std::vector<int64_t> all_dims(const at::Tensor& t) {
  std::vector<int64_t> d(static_cast<size_t>(t.dim()));
  for (int64_t i = 0; i < t.dim(); ++i) d[static_cast<size_t>(i)] = i;
  return d;
}

}  // namespace

namespace mvt {
bool DeepLiftRescaleApplies(const at::Tensor& x) {
  return relu_gradient_mode == 3 && c10::GradMode::is_enabled() && x.requires_grad();
}

at::Tensor ActivationRescaled(const at::Tensor& x, const std::function<at::Tensor(const at::Tensor&)>& f) {
  check_rescale_pairs(x, "an activation's input");
  ++relu_gradient_overrides;
  return ActivationRescale::apply(x, f);
}

at::Tensor MaxPoolRescaled(const at::Tensor& x, int32_t nspatial, at::IntArrayRef kernel, at::IntArrayRef stride,
                           at::IntArrayRef padding, at::IntArrayRef dilation, bool ceil_mode) {
  if (x.dim() != nspatial + 2) {
    std::ostringstream shape;
    shape << x.sizes();
    throw std::invalid_argument("DeepLIFT's rescale rule needs max pooling of a batch (N, C, …); the input has shape " + shape.str());
  }
  check_rescale_pairs(x, "max pooling's input");
  return MaxPoolRescale::apply(x, static_cast<int64_t>(nspatial), kernel.vec(), stride.vec(), padding.vec(), dilation.vec(), ceil_mode);
}
}  // namespace mvt

MVT_API int32_t mvt_set_relu_gradient(int32_t mode, int32_t* previous) {
  MVT_GUARD_BEGIN
  if (mode < 0 || mode > 3) throw std::invalid_argument("unknown ReLU gradient mode " + std::to_string(mode));
  if (previous) *previous = relu_gradient_mode;
  relu_gradient_mode = mode;
  return 0;
  MVT_GUARD_END(-1)
}
MVT_API int64_t mvt_relu_gradient_overrides(void) { return relu_gradient_overrides; }
MVT_API mvt_tensor mvt_unary(int32_t op, mvt_tensor t) { MVT_TENSOR_OP(unary(op, T(t))) }
MVT_API mvt_tensor mvt_unary_scalar(int32_t op, mvt_tensor t, double s) { MVT_TENSOR_OP(unary_scalar(op, T(t), s)) }
MVT_API mvt_tensor mvt_binary(int32_t op, mvt_tensor a, mvt_tensor b) {
  MVT_GUARD_BEGIN
  c10::optional<mvt::SignalsDeferred> signals_deferred;
  if (op >= 13 && op <= 15) signals_deferred.emplace();  // the matrix products may run on oneDNN (bfloat16)
  return wrap(binary(op, T(a), T(b)));
  MVT_GUARD_END(nullptr)
}
MVT_API mvt_tensor mvt_add_scaled(mvt_tensor a, mvt_tensor b, double alpha) { MVT_TENSOR_OP(at::add(T(a), T(b), alpha)) }
MVT_API mvt_tensor mvt_clamp(mvt_tensor t, int32_t has_min, double min, int32_t has_max, double max) {
  MVT_TENSOR_OP(at::clamp(T(t), has_min ? c10::optional<at::Scalar>(min) : c10::nullopt,
                          has_max ? c10::optional<at::Scalar>(max) : c10::nullopt))
}
MVT_API mvt_tensor mvt_where(mvt_tensor cond, mvt_tensor a, mvt_tensor b) { MVT_TENSOR_OP(at::where(T(cond), T(a), T(b))) }
MVT_API mvt_tensor mvt_softmax(mvt_tensor t, int64_t dim, int32_t log) {
  MVT_TENSOR_OP(log ? at::log_softmax(T(t), dim) : at::softmax(T(t), dim))
}
MVT_API mvt_tensor mvt_one_hot(mvt_tensor t, int64_t num_classes) { MVT_TENSOR_OP(at::one_hot(T(t), num_classes)) }
MVT_API mvt_tensor mvt_allclose(mvt_tensor a, mvt_tensor b, double rtol, double atol) {
  MVT_TENSOR_OP(at::scalar_tensor(at::allclose(T(a), T(b), rtol, atol), at::kBool))
}

// Reduction codes: 0 sum, 1 mean, 2 amax, 3 amin, 4 prod, 5 logsumexp, 6 L2 norm, 7 any, 8 all.
// Reductions that libtorch offers over one dimension at a time, applied over several: the dimensions made
// non-negative (checked against the rank) and taken from the last, so that reducing one does not shift the others.
static std::vector<int64_t> descending_dims(const at::Tensor& t, std::vector<int64_t> d) {
  for (auto& dim : d) dim = c10::maybe_wrap_dim(dim, t.dim());
  std::sort(d.begin(), d.end(), [](int64_t x, int64_t y) { return x > y; });
  if (std::adjacent_find(d.begin(), d.end()) != d.end())
    throw std::invalid_argument("dimension " + std::to_string(*std::adjacent_find(d.begin(), d.end())) + " appears more than once in the reduction dimensions");
  return d;
}

MVT_API mvt_tensor mvt_reduce(int32_t op, mvt_tensor th, const int64_t* dims, int32_t ndims, int32_t keepdim) {
  MVT_GUARD_BEGIN
  const at::Tensor& t = T(th);
  const bool kd = keepdim != 0;
  std::vector<int64_t> d = ndims > 0 ? std::vector<int64_t>(dims, dims + ndims) : all_dims(t);
  const bool whole = ndims == 0;
  switch (op) {
    case 0: return wrap(whole && !kd ? at::sum(t) : at::sum(t, d, kd));
    case 1: return wrap(whole && !kd ? at::mean(t) : at::mean(t, d, kd));
    case 2: return wrap(whole && !kd ? at::max(t) : at::amax(t, d, kd));
    case 3: return wrap(whole && !kd ? at::min(t) : at::amin(t, d, kd));
    case 4: {
      if (whole && !kd) return wrap(at::prod(t));
      at::Tensor r = t;
      for (auto dim : descending_dims(t, d)) r = at::prod(r, dim, kd);
      return wrap(std::move(r));
    }
    case 5: return wrap(at::logsumexp(t, d, kd));
    case 6: return wrap(whole && !kd ? at::norm(t) : at::norm(t, 2, d, kd));
    case 7: {
      if (whole && !kd) return wrap(at::any(t));
      at::Tensor r = t;
      for (auto dim : descending_dims(t, d)) r = at::any(r, dim, kd);
      return wrap(std::move(r));
    }
    case 8: {
      if (whole && !kd) return wrap(at::all(t));
      at::Tensor r = t;
      for (auto dim : descending_dims(t, d)) r = at::all(r, dim, kd);
      return wrap(std::move(r));
    }
    default: throw std::invalid_argument("unknown reduction code " + std::to_string(op));
  }
  MVT_GUARD_END(nullptr)
}
MVT_API mvt_tensor mvt_std_var(int32_t is_var, mvt_tensor th, const int64_t* dims, int32_t ndims, int32_t unbiased, int32_t keepdim) {
  MVT_GUARD_BEGIN
  const at::Tensor& t = T(th);
  std::vector<int64_t> d = ndims > 0 ? std::vector<int64_t>(dims, dims + ndims) : all_dims(t);
  if (is_var) return wrap(at::var(t, d, unbiased != 0, keepdim != 0));
  return wrap(at::std(t, d, unbiased != 0, keepdim != 0));
  MVT_GUARD_END(nullptr)
}
MVT_API int32_t mvt_max_min_dim(int32_t is_min, mvt_tensor t, int64_t dim, int32_t keepdim, mvt_tensor* values, mvt_tensor* indices) {
  MVT_GUARD_BEGIN
  auto r = is_min ? at::min(T(t), dim, keepdim != 0) : at::max(T(t), dim, keepdim != 0);
  *values = wrap(std::get<0>(r));
  *indices = wrap(std::get<1>(r));
  return 0;
  MVT_GUARD_END(-1)
}
MVT_API mvt_tensor mvt_arg_max_min(int32_t is_min, mvt_tensor t, int32_t has_dim, int64_t dim, int32_t keepdim) {
  MVT_GUARD_BEGIN
  c10::optional<int64_t> d = has_dim ? c10::optional<int64_t>(dim) : c10::nullopt;
  return wrap(is_min ? at::argmin(T(t), d, keepdim != 0) : at::argmax(T(t), d, keepdim != 0));
  MVT_GUARD_END(nullptr)
}
MVT_API int32_t mvt_sort(mvt_tensor t, int64_t dim, int32_t descending, int32_t stable, mvt_tensor* values, mvt_tensor* indices) {
  MVT_GUARD_BEGIN
  auto r = at::sort(T(t), c10::optional<bool>(stable != 0), dim, descending != 0);
  *values = wrap(std::get<0>(r));
  *indices = wrap(std::get<1>(r));
  return 0;
  MVT_GUARD_END(-1)
}
MVT_API int32_t mvt_topk(mvt_tensor t, int64_t k, int64_t dim, int32_t largest, mvt_tensor* values, mvt_tensor* indices) {
  MVT_GUARD_BEGIN
  auto r = at::topk(T(t), k, dim, largest != 0, true);
  *values = wrap(std::get<0>(r));
  *indices = wrap(std::get<1>(r));
  return 0;
  MVT_GUARD_END(-1)
}
MVT_API mvt_tensor mvt_cumsum(mvt_tensor t, int64_t dim) { MVT_TENSOR_OP(at::cumsum(T(t), dim)) }

MVT_API mvt_tensor mvt_view(mvt_tensor t, const int64_t* shape, int32_t ndim, int32_t reshape) {
  MVT_TENSOR_OP(reshape ? T(t).reshape(Ints(shape, ndim)) : T(t).view(Ints(shape, ndim)))
}
MVT_API mvt_tensor mvt_flatten(mvt_tensor t, int64_t start, int64_t end) { MVT_TENSOR_OP(at::flatten(T(t), start, end)) }
MVT_API mvt_tensor mvt_squeeze(mvt_tensor t, int32_t has_dim, int64_t dim) {
  MVT_TENSOR_OP(has_dim ? at::squeeze(T(t), dim) : at::squeeze(T(t)))
}
MVT_API mvt_tensor mvt_unsqueeze(mvt_tensor t, int64_t dim) { MVT_TENSOR_OP(at::unsqueeze(T(t), dim)) }
MVT_API mvt_tensor mvt_permute(mvt_tensor t, const int64_t* dims, int32_t ndim) { MVT_TENSOR_OP(T(t).permute(Ints(dims, ndim))) }
MVT_API mvt_tensor mvt_transpose(mvt_tensor t, int64_t d0, int64_t d1) { MVT_TENSOR_OP(at::transpose(T(t), d0, d1)) }
MVT_API mvt_tensor mvt_expand(mvt_tensor t, const int64_t* shape, int32_t ndim) { MVT_TENSOR_OP(T(t).expand(Ints(shape, ndim))) }
MVT_API mvt_tensor mvt_repeat(mvt_tensor t, const int64_t* repeats, int32_t ndim) { MVT_TENSOR_OP(T(t).repeat(Ints(repeats, ndim))) }
MVT_API mvt_tensor mvt_flip(mvt_tensor t, const int64_t* dims, int32_t ndim) { MVT_TENSOR_OP(at::flip(T(t), Ints(dims, ndim))) }
MVT_API mvt_tensor mvt_cat(const mvt_tensor* ts, int32_t n, int64_t dim, int32_t stack) {
  MVT_GUARD_BEGIN
  auto list = mvt::TensorList(ts, n);
  return wrap(stack ? at::stack(list, dim) : at::cat(list, dim));
  MVT_GUARD_END(nullptr)
}
namespace {
int32_t emit(std::vector<at::Tensor>&& parts, mvt_tensor* out, int32_t capacity) {
  const auto n = static_cast<int32_t>(parts.size());
  if (out == nullptr || capacity < n) return n;  // caller retries with a larger buffer
  for (int32_t i = 0; i < n; ++i) out[i] = wrap(std::move(parts[static_cast<size_t>(i)]));
  return n;
}
}  // namespace
MVT_API int32_t mvt_split(mvt_tensor t, const int64_t* sizes, int32_t nsizes, int64_t dim, mvt_tensor* out, int32_t capacity) {
  MVT_GUARD_BEGIN
  if (nsizes == 1) return emit(at::split(T(t), sizes[0], dim), out, capacity);
  return emit(at::split_with_sizes(T(t), Ints(sizes, nsizes), dim), out, capacity);
  MVT_GUARD_END(-1)
}
MVT_API int32_t mvt_chunk(mvt_tensor t, int64_t chunks, int64_t dim, mvt_tensor* out, int32_t capacity) {
  MVT_GUARD_BEGIN return emit(at::chunk(T(t), chunks, dim), out, capacity); MVT_GUARD_END(-1)
}
MVT_API mvt_tensor mvt_narrow(mvt_tensor t, int64_t dim, int64_t start, int64_t length) { MVT_TENSOR_OP(T(t).narrow(dim, start, length)) }
MVT_API mvt_tensor mvt_slice(mvt_tensor t, int64_t dim, int64_t start, int64_t end, int64_t step) {
  MVT_TENSOR_OP(T(t).slice(dim, start, end, step))
}
MVT_API mvt_tensor mvt_select(mvt_tensor t, int64_t dim, int64_t index) { MVT_TENSOR_OP(T(t).select(dim, index)) }
MVT_API mvt_tensor mvt_index_select(mvt_tensor t, int64_t dim, mvt_tensor index) { MVT_TENSOR_OP(at::index_select(T(t), dim, T(index))) }
MVT_API mvt_tensor mvt_gather(mvt_tensor t, int64_t dim, mvt_tensor index) { MVT_TENSOR_OP(at::gather(T(t), dim, T(index))) }
MVT_API mvt_tensor mvt_masked_fill(mvt_tensor t, mvt_tensor mask, double value) { MVT_TENSOR_OP(at::masked_fill(T(t), T(mask), value)) }
MVT_API mvt_tensor mvt_masked_select(mvt_tensor t, mvt_tensor mask) { MVT_TENSOR_OP(at::masked_select(T(t), T(mask))) }

// In-place binary codes: 0 add_ (alpha), 1 sub_ (alpha), 2 mul_, 3 div_, 4 copy_, 5 maximum (into t).
MVT_API int32_t mvt_inplace_binary(int32_t op, mvt_tensor th, mvt_tensor oh, double alpha) {
  MVT_GUARD_BEGIN
  at::Tensor& t = T(th);
  const at::Tensor& o = T(oh);
  switch (op) {
    case 0: t.add_(o, alpha); break;
    case 1: t.sub_(o, alpha); break;
    case 2: t.mul_(o); break;
    case 3: t.div_(o); break;
    case 4: t.copy_(o); break;
    case 5: {
      // maximum_out resizes its output to the broadcast shape (with only a warning); an in-place op must keep self's
      // shape, as add_/mul_ do, so a larger broadcast is an error here.
      const auto shape = at::infer_size(t.sizes(), o.sizes());
      if (at::IntArrayRef(shape) != t.sizes())
        throw std::invalid_argument("output with shape " + c10::str(t.sizes()) + " doesn't match the broadcast shape " +
                                    c10::str(at::IntArrayRef(shape)));
      at::maximum_out(t, t, o);
      break;
    }
    default: throw std::invalid_argument("unknown in-place op code " + std::to_string(op));
  }
  return 0;
  MVT_GUARD_END(-1)
}
// In-place scalar codes: 0 add_, 1 sub_, 2 mul_, 3 div_, 4 fill_, 5 zero_, 6 clamp_min_, 7 clamp_max_, 8 sqrt_, 9 pow_.
MVT_API int32_t mvt_inplace_scalar(int32_t op, mvt_tensor th, double d) {
  MVT_GUARD_BEGIN
  at::Tensor& t = T(th);
  const at::Scalar s = mvt::ScalarFor(t, d);
  switch (op) {
    case 0: t.add_(s); break;
    case 1: t.sub_(s); break;
    case 2: t.mul_(s); break;
    case 3: t.div_(s); break;
    case 4: t.fill_(s); break;
    case 5: t.zero_(); break;
    case 6: t.clamp_min_(s); break;
    case 7: t.clamp_max_(s); break;
    case 8: t.sqrt_(); break;
    case 9: t.pow_(s); break;
    case 10: relu_recorded_(t); break;
    default: throw std::invalid_argument("unknown in-place scalar op code " + std::to_string(op));
  }
  return 0;
  MVT_GUARD_END(-1)
}
MVT_API int32_t mvt_addcmul_(mvt_tensor t, mvt_tensor a, mvt_tensor b, double value, int32_t div) {
  MVT_GUARD_BEGIN
  if (div) T(t).addcdiv_(T(a), T(b), value); else T(t).addcmul_(T(a), T(b), value);
  return 0;
  MVT_GUARD_END(-1)
}
MVT_API int32_t mvt_lerp_(mvt_tensor t, mvt_tensor end, double weight) { MVT_STATUS_OP(T(t).lerp_(T(end), weight)) }
