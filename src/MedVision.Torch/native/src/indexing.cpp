// Scatter, unique, nonzero, triangular parts, rolls, patches, einsum, distances, quantiles and counting: the
// indexing and statistics ops a custom loss or metric needs (split from ops.cpp to keep each translation unit quick
// to rebuild).
#include "common.h"

using mvt::T;
using mvt::wrap;
using mvt::Ints;

// Scatter codes: 0 scatter (src), 1 scatter_add, 2–6 scatter_reduce with sum, prod, mean, amax, amin (include_self flag).
MVT_API mvt_tensor mvt_scatter(int32_t op, mvt_tensor t, int64_t dim, mvt_tensor index, mvt_tensor src, int32_t include_self) {
  MVT_GUARD_BEGIN
  static const char* const reductions[] = {"sum", "prod", "mean", "amax", "amin"};
  switch (op) {
    case 0: return wrap(at::scatter(T(t), dim, T(index), T(src)));
    case 1: return wrap(at::scatter_add(T(t), dim, T(index), T(src)));
    case 2: case 3: case 4: case 5: case 6:
      return wrap(at::scatter_reduce(T(t), dim, T(index), T(src), reductions[op - 2], include_self != 0));
    default: throw std::invalid_argument("unknown scatter code " + std::to_string(op));
  }
  MVT_GUARD_END(nullptr)
}
MVT_API mvt_tensor mvt_tri(mvt_tensor t, int64_t diagonal, int32_t upper) {
  MVT_TENSOR_OP(upper ? at::triu(T(t), diagonal) : at::tril(T(t), diagonal))
}
MVT_API mvt_tensor mvt_roll(mvt_tensor t, const int64_t* shifts, int32_t nshifts, const int64_t* dims, int32_t ndims) {
  MVT_TENSOR_OP(at::roll(T(t), Ints(shifts, nshifts), Ints(dims, ndims)))
}
MVT_API mvt_tensor mvt_nonzero(mvt_tensor t) { MVT_TENSOR_OP(at::nonzero(T(t))) }
MVT_API int32_t mvt_unique(mvt_tensor t, int32_t sorted, int32_t return_inverse, int32_t return_counts, mvt_tensor* values, mvt_tensor* inverse,
                           mvt_tensor* counts) {
  MVT_GUARD_BEGIN
  auto r = at::_unique2(T(t), sorted != 0, return_inverse != 0, return_counts != 0);
  *values = wrap(std::get<0>(r));
  *inverse = return_inverse ? wrap(std::get<1>(r)) : nullptr;
  *counts = return_counts ? wrap(std::get<2>(r)) : nullptr;
  return 0;
  MVT_GUARD_END(-1)
}
MVT_API mvt_tensor mvt_unfold(mvt_tensor t, int64_t dim, int64_t size, int64_t step) { MVT_TENSOR_OP(T(t).unfold(dim, size, step)) }
MVT_API mvt_tensor mvt_einsum(const char* equation, const mvt_tensor* ts, int32_t n) {
  MVT_GUARD_BEGIN
  mvt::SignalsDeferred signals_deferred;
  return wrap(at::einsum(equation, mvt::TensorList(ts, n)));
  MVT_GUARD_END(nullptr)
}
MVT_API mvt_tensor mvt_cdist(mvt_tensor a, mvt_tensor b, double p) { MVT_TENSOR_OP(at::cdist(T(a), T(b), p)) }
MVT_API mvt_tensor mvt_eye(int64_t n, int64_t m, int32_t dtype, int32_t device_type, int32_t device_index) {
  MVT_TENSOR_OP(at::eye(n, m, mvt::Options(dtype, device_type, device_index)))
}
MVT_API mvt_tensor mvt_cumprod(mvt_tensor t, int64_t dim) { MVT_TENSOR_OP(at::cumprod(T(t), dim)) }
MVT_API mvt_tensor mvt_logit(mvt_tensor t, int32_t has_eps, double eps) {
  MVT_TENSOR_OP(at::logit(T(t), has_eps ? c10::optional<double>(eps) : c10::nullopt))
}
MVT_API mvt_tensor mvt_bincount(mvt_tensor t, mvt_tensor weights, int64_t minlength) {
  MVT_TENSOR_OP(at::bincount(T(t), mvt::Opt(weights), minlength))
}
// Median over everything (values only, as torch.median(t)) or along a dimension (values and indices).
MVT_API int32_t mvt_median(mvt_tensor t, int32_t has_dim, int64_t dim, int32_t keepdim, mvt_tensor* values, mvt_tensor* indices) {
  MVT_GUARD_BEGIN
  if (!has_dim) {
    *values = wrap(at::median(T(t)));
    *indices = nullptr;
    return 0;
  }
  auto r = at::median(T(t), dim, keepdim != 0);
  *values = wrap(std::get<0>(r));
  *indices = wrap(std::get<1>(r));
  return 0;
  MVT_GUARD_END(-1)
}
// Interpolation codes: 0 linear, 1 lower, 2 higher, 3 midpoint, 4 nearest (torch.quantile's interpolation).
MVT_API mvt_tensor mvt_quantile(mvt_tensor t, mvt_tensor q, int32_t has_dim, int64_t dim, int32_t keepdim, int32_t interpolation) {
  MVT_GUARD_BEGIN
  static const char* const modes[] = {"linear", "lower", "higher", "midpoint", "nearest"};
  if (interpolation < 0 || interpolation > 4) throw std::invalid_argument("unknown quantile interpolation code " + std::to_string(interpolation));
  return wrap(at::quantile(T(t), T(q), has_dim ? c10::optional<int64_t>(dim) : c10::nullopt, keepdim != 0, modes[interpolation]));
  MVT_GUARD_END(nullptr)
}
