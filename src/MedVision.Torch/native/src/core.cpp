// Errors, library information, lifetime, creation, properties, conversion and autograd entry points.
#include "common.h"
#include <torch/cuda.h>
#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <cstring>

namespace mvt {

namespace {
thread_local std::string t_error;
thread_local int32_t t_error_kind = kNone;
}  // namespace

std::atomic<int64_t> g_live{0};
std::atomic<int32_t> g_num_threads{0};
std::atomic<int32_t> g_threads_generation{0};

void apply_num_threads(int32_t /*generation*/) {
  const int32_t n = g_num_threads.load(std::memory_order_acquire);
  if (n > 0 && at::get_num_threads() != n) at::set_num_threads(n);
}

void set_error(int32_t kind, const char* message) {
  t_error_kind = kind;
  t_error = message != nullptr ? message : "";
}
void clear_error() {
  if (t_error_kind != kNone) {
    t_error_kind = kNone;
    t_error.clear();
  }
}

std::vector<at::Tensor> TensorList(const mvt_tensor* hs, int32_t n) {
  if (n < 0 || (n > 0 && hs == nullptr)) throw std::invalid_argument("invalid tensor list");
  std::vector<at::Tensor> out;
  out.reserve(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i) out.push_back(T(hs[i]));
  return out;
}

}  // namespace mvt

using mvt::T;
using mvt::wrap;
using mvt::Ints;
using mvt::Options;
using mvt::Dtype;
using mvt::DeviceOf;

MVT_API const char* mvt_last_error(void) { return mvt::t_error.c_str(); }
MVT_API int32_t mvt_last_error_kind(void) { return mvt::t_error_kind; }
MVT_API const char* mvt_torch_version(void) {
  static const std::string v = std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
                               std::to_string(TORCH_VERSION_PATCH);
  return v.c_str();
}
MVT_API int32_t mvt_abi_version(void) { return 1; }
MVT_API int32_t mvt_has_mkldnn(void) { return at::hasMKLDNN() ? 1 : 0; }
MVT_API int32_t mvt_cuda_is_available(void) {
  MVT_GUARD_BEGIN return torch::cuda::is_available() ? 1 : 0; MVT_GUARD_END(-1)
}
MVT_API int32_t mvt_cuda_device_count(void) {
  MVT_GUARD_BEGIN return static_cast<int32_t>(torch::cuda::device_count()); MVT_GUARD_END(-1)
}
MVT_API int32_t mvt_cuda_compiled_version(void) {
  // A CPU-only libtorch has no CUDA hooks registered: the default hooks refuse the question.
  try {
    return static_cast<int32_t>(at::detail::getCUDAHooks().versionCUDART());
  } catch (...) {
    return 0;
  }
}
MVT_API int32_t mvt_cuda_synchronize(int32_t device_index) {
  MVT_STATUS_OP(torch::cuda::synchronize(device_index))
}
MVT_API int32_t mvt_get_num_threads(void) {
  MVT_GUARD_BEGIN return at::get_num_threads(); MVT_GUARD_END(-1)
}
MVT_API int32_t mvt_set_num_threads(int32_t n) {
  MVT_GUARD_BEGIN
  at::set_num_threads(n);
  mvt::g_num_threads.store(n, std::memory_order_release);
  mvt::g_threads_generation.fetch_add(1, std::memory_order_acq_rel);  // other threads re-apply on their next call
  return 0;
  MVT_GUARD_END(-1)
}
MVT_API int32_t mvt_manual_seed(uint64_t seed) { MVT_STATUS_OP(torch::manual_seed(seed)) }
MVT_API mvt_tensor mvt_rng_get_state(void) {
  MVT_GUARD_BEGIN
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return wrap(gen.get_state());
  MVT_GUARD_END(nullptr)
}
MVT_API int32_t mvt_rng_set_state(mvt_tensor state) {
  MVT_GUARD_BEGIN
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(T(state));
  return 0;
  MVT_GUARD_END(-1)
}

namespace {
// at:: factory functions reject TensorOptions with requires_grad set ("not implemented yet"); create the tensor
// without it and mark the leaf afterwards, as torch:: factories do.
at::Tensor with_grad(at::Tensor t, int32_t requires_grad) {
  if (requires_grad) t.set_requires_grad(true);
  return t;
}
}  // namespace

MVT_API void mvt_free(mvt_tensor t) {
  if (t == nullptr) return;
  delete static_cast<at::Tensor*>(t);
  mvt::g_live.fetch_sub(1, std::memory_order_relaxed);
}
MVT_API int64_t mvt_live_tensors(void) { return mvt::g_live.load(std::memory_order_relaxed); }

MVT_API mvt_tensor mvt_from_data(const void* data, const int64_t* shape, int32_t ndim, int32_t dtype, int32_t device_type,
                                 int32_t device_index, int32_t requires_grad) {
  MVT_GUARD_BEGIN
  auto cpu = at::empty(Ints(shape, ndim), at::TensorOptions().dtype(Dtype(dtype)));
  const auto nbytes = cpu.numel() * static_cast<int64_t>(cpu.element_size());
  if (nbytes > 0) {
    if (data == nullptr) throw std::invalid_argument("null data pointer");
    std::memcpy(cpu.data_ptr(), data, static_cast<size_t>(nbytes));
  }
  at::Device dev = DeviceOf(device_type, device_index);
  at::Tensor result = dev.is_cpu() ? cpu : cpu.to(dev);
  if (requires_grad) result.set_requires_grad(true);
  return wrap(std::move(result));
  MVT_GUARD_END(nullptr)
}
MVT_API mvt_tensor mvt_empty(const int64_t* shape, int32_t ndim, int32_t dtype, int32_t device_type, int32_t device_index, int32_t requires_grad) {
  MVT_TENSOR_OP(with_grad(at::empty(Ints(shape, ndim), Options(dtype, device_type, device_index)), requires_grad))
}
MVT_API mvt_tensor mvt_full(const int64_t* shape, int32_t ndim, double value, int32_t dtype, int32_t device_type, int32_t device_index,
                            int32_t requires_grad) {
  MVT_TENSOR_OP(with_grad(at::full(Ints(shape, ndim), value, Options(dtype, device_type, device_index)), requires_grad))
}
MVT_API mvt_tensor mvt_arange(double start, double end, double step, int32_t dtype, int32_t device_type, int32_t device_index,
                              int32_t requires_grad) {
  MVT_TENSOR_OP(with_grad(at::arange(start, end, step, Options(dtype, device_type, device_index)), requires_grad))
}
MVT_API mvt_tensor mvt_linspace(double start, double end, int64_t steps, int32_t dtype, int32_t device_type, int32_t device_index,
                                int32_t requires_grad) {
  MVT_TENSOR_OP(with_grad(at::linspace(start, end, steps, Options(dtype, device_type, device_index)), requires_grad))
}
MVT_API mvt_tensor mvt_rand(const int64_t* shape, int32_t ndim, int32_t normal, int32_t dtype, int32_t device_type, int32_t device_index,
                            int32_t requires_grad) {
  MVT_GUARD_BEGIN
  auto o = Options(dtype, device_type, device_index, false);
  auto t = normal ? at::randn(Ints(shape, ndim), o) : at::rand(Ints(shape, ndim), o);
  if (requires_grad) t.set_requires_grad(true);
  return wrap(std::move(t));
  MVT_GUARD_END(nullptr)
}
MVT_API mvt_tensor mvt_randint(int64_t low, int64_t high, const int64_t* shape, int32_t ndim, int32_t dtype, int32_t device_type,
                               int32_t device_index) {
  MVT_TENSOR_OP(at::randint(low, high, Ints(shape, ndim), Options(dtype, device_type, device_index)))
}
MVT_API mvt_tensor mvt_randperm(int64_t n, int32_t device_type, int32_t device_index) {
  MVT_TENSOR_OP(at::randperm(n, Options(static_cast<int32_t>(at::kLong), device_type, device_index)))
}

MVT_API int32_t mvt_ndim(mvt_tensor t) { MVT_GUARD_BEGIN return static_cast<int32_t>(T(t).dim()); MVT_GUARD_END(-1) }
MVT_API int32_t mvt_shape(mvt_tensor t, int64_t* out, int32_t capacity) {
  MVT_GUARD_BEGIN
  const auto sizes = T(t).sizes();
  const auto n = static_cast<int32_t>(sizes.size());
  for (int32_t i = 0; i < n && i < capacity; ++i) out[i] = sizes[static_cast<size_t>(i)];
  return n;
  MVT_GUARD_END(-1)
}
MVT_API int64_t mvt_numel(mvt_tensor t) { MVT_GUARD_BEGIN return T(t).numel(); MVT_GUARD_END(-1) }
MVT_API int32_t mvt_dtype(mvt_tensor t) { MVT_GUARD_BEGIN return static_cast<int32_t>(T(t).scalar_type()); MVT_GUARD_END(-1) }
MVT_API int32_t mvt_device(mvt_tensor t, int32_t* type, int32_t* index) {
  MVT_GUARD_BEGIN
  const auto d = T(t).device();
  *type = static_cast<int32_t>(d.type());
  *index = static_cast<int32_t>(d.index());
  return 0;
  MVT_GUARD_END(-1)
}
MVT_API int64_t mvt_version(mvt_tensor t) { MVT_GUARD_BEGIN return static_cast<int64_t>(T(t)._version()); MVT_GUARD_END(-1) }
MVT_API int32_t mvt_is_contiguous(mvt_tensor t) { MVT_GUARD_BEGIN return T(t).is_contiguous() ? 1 : 0; MVT_GUARD_END(-1) }
MVT_API int32_t mvt_copy_to(mvt_tensor t, void* dst, int64_t nbytes) {
  MVT_GUARD_BEGIN
  at::Tensor src = T(t).detach();
  if (!src.device().is_cpu()) src = src.to(at::kCPU);
  src = src.contiguous();
  const int64_t have = src.numel() * static_cast<int64_t>(src.element_size());
  if (have != nbytes) throw std::invalid_argument("destination holds " + std::to_string(nbytes) + " bytes but the tensor has " + std::to_string(have));
  if (have > 0) std::memcpy(dst, src.data_ptr(), static_cast<size_t>(have));
  return 0;
  MVT_GUARD_END(-1)
}
MVT_API int32_t mvt_copy_from(mvt_tensor t, const void* src, int64_t nbytes) {
  MVT_GUARD_BEGIN
  at::Tensor& dst = T(t);
  const int64_t need = dst.numel() * static_cast<int64_t>(dst.element_size());
  if (need != nbytes) throw std::invalid_argument("source holds " + std::to_string(nbytes) + " bytes but the tensor needs " + std::to_string(need));
  auto cpu = at::empty(dst.sizes(), at::TensorOptions().dtype(dst.scalar_type()));
  if (need > 0) std::memcpy(cpu.data_ptr(), src, static_cast<size_t>(need));
  at::NoGradGuard no_grad;
  dst.copy_(cpu);
  return 0;
  MVT_GUARD_END(-1)
}
MVT_API int32_t mvt_item(mvt_tensor t, double* out) { MVT_GUARD_BEGIN *out = T(t).item<double>(); return 0; MVT_GUARD_END(-1) }
MVT_API int32_t mvt_item_long(mvt_tensor t, int64_t* out) { MVT_GUARD_BEGIN *out = T(t).item<int64_t>(); return 0; MVT_GUARD_END(-1) }
MVT_API mvt_tensor mvt_to(mvt_tensor t, int32_t dtype, int32_t device_type, int32_t device_index, int32_t non_blocking, int32_t copy) {
  MVT_GUARD_BEGIN
  at::Device dev = DeviceOf(device_type, device_index);
  if (dev.is_cuda() && !torch::cuda::is_available())
    throw std::invalid_argument(mvt_cuda_compiled_version() == 0
      ? "CUDA was requested but this libtorch is a CPU-only build"
      : "CUDA was requested but this CUDA build of libtorch finds no usable GPU (no device, or the NVIDIA driver is missing or too old)");
  return wrap(T(t).to(dev, Dtype(dtype), non_blocking != 0, copy != 0));
  MVT_GUARD_END(nullptr)
}
MVT_API mvt_tensor mvt_pin_memory(mvt_tensor t) { MVT_TENSOR_OP(T(t).pin_memory()) }
MVT_API mvt_tensor mvt_contiguous(mvt_tensor t) { MVT_TENSOR_OP(T(t).contiguous()) }
MVT_API mvt_tensor mvt_clone(mvt_tensor t) { MVT_TENSOR_OP(T(t).clone()) }
MVT_API mvt_tensor mvt_detach(mvt_tensor t) { MVT_TENSOR_OP(T(t).detach()) }
MVT_API mvt_tensor mvt_alias(mvt_tensor t) { MVT_TENSOR_OP(at::Tensor(T(t))) }

MVT_API int32_t mvt_requires_grad(mvt_tensor t) { MVT_GUARD_BEGIN return T(t).requires_grad() ? 1 : 0; MVT_GUARD_END(-1) }
MVT_API int64_t mvt_tensor_identity(mvt_tensor t) {
  MVT_GUARD_BEGIN return static_cast<int64_t>(reinterpret_cast<intptr_t>(T(t).unsafeGetTensorImpl())); MVT_GUARD_END(0)
}
MVT_API int32_t mvt_set_data(mvt_tensor self, mvt_tensor data) { MVT_STATUS_OP(T(self).set_data(T(data))) }
// requires_grad_ (not set_requires_grad) so that, as in PyTorch, turning it off on a non-leaf is an error rather than
// a silent no-op.
MVT_API int32_t mvt_set_requires_grad(mvt_tensor t, int32_t value) { MVT_STATUS_OP(T(t).requires_grad_(value != 0)) }
MVT_API int32_t mvt_is_leaf(mvt_tensor t) { MVT_GUARD_BEGIN return T(t).is_leaf() ? 1 : 0; MVT_GUARD_END(-1) }
MVT_API int32_t mvt_backward(mvt_tensor t, mvt_tensor grad, int32_t retain_graph, int32_t create_graph) {
  MVT_GUARD_BEGIN
  mvt::SignalsDeferred signals_deferred;  // the backward pass runs on this thread, convolutions' included
  at::Tensor g = grad != nullptr ? T(grad) : at::Tensor();
  c10::optional<bool> retain = retain_graph ? c10::optional<bool>(true) : c10::nullopt;
  T(t).backward(g, retain, create_graph != 0);
  return 0;
  MVT_GUARD_END(-1)
}
MVT_API int32_t mvt_grad(mvt_tensor t, mvt_tensor* out) {
  MVT_GUARD_BEGIN
  const at::Tensor& g = T(t).grad();
  *out = g.defined() ? wrap(g) : nullptr;
  return 0;
  MVT_GUARD_END(-1)
}
MVT_API int32_t mvt_set_grad(mvt_tensor t, mvt_tensor grad) {
  MVT_GUARD_BEGIN
  T(t).mutable_grad() = grad != nullptr ? T(grad) : at::Tensor();
  return 0;
  MVT_GUARD_END(-1)
}
MVT_API int32_t mvt_retain_grad(mvt_tensor t) { MVT_STATUS_OP(T(t).retain_grad()) }
MVT_API int32_t mvt_retains_grad(mvt_tensor t) { MVT_GUARD_BEGIN return T(t).retains_grad() ? 1 : 0; MVT_GUARD_END(-1) }
// torch::autograd::grad: gradients of outputs with respect to inputs, returned (not accumulated into .grad).
// grad_outputs may be null (all implicit) or hold null entries (implicit for scalar outputs); an unused input gives a
// null result when allow_unused is set.
MVT_API int32_t mvt_autograd_grad(const mvt_tensor* outputs, const mvt_tensor* grad_outputs, int32_t n_outputs,
                                  const mvt_tensor* inputs, int32_t n_inputs, int32_t retain_graph,
                                  int32_t create_graph, int32_t allow_unused, mvt_tensor* results) {
  MVT_GUARD_BEGIN
  mvt::SignalsDeferred signals_deferred;
  if (n_outputs <= 0 || n_inputs <= 0) throw std::invalid_argument("autograd grad needs at least one output and one input");
  torch::autograd::variable_list outs, ins, grads;
  outs.reserve(static_cast<size_t>(n_outputs));
  ins.reserve(static_cast<size_t>(n_inputs));
  for (int32_t i = 0; i < n_outputs; ++i) outs.push_back(T(outputs[i]));
  for (int32_t i = 0; i < n_inputs; ++i) ins.push_back(T(inputs[i]));
  if (grad_outputs != nullptr) {
    grads.reserve(static_cast<size_t>(n_outputs));
    for (int32_t i = 0; i < n_outputs; ++i) grads.push_back(grad_outputs[i] != nullptr ? T(grad_outputs[i]) : at::Tensor());
  }
  c10::optional<bool> retain = retain_graph ? c10::optional<bool>(true) : c10::nullopt;
  auto computed = torch::autograd::grad(outs, ins, grads, retain, create_graph != 0, allow_unused != 0);
  for (int32_t i = 0; i < n_inputs; ++i)
    results[i] = computed[static_cast<size_t>(i)].defined() ? wrap(std::move(computed[static_cast<size_t>(i)])) : nullptr;
  return 0;
  MVT_GUARD_END(-1)
}
MVT_API int32_t mvt_grad_fn_name(mvt_tensor t, char* buffer, int32_t capacity) {
  MVT_GUARD_BEGIN
  const auto& fn = T(t).grad_fn();
  std::string name = fn ? fn->name() : std::string();
  if (capacity > 0) {
    const auto n = std::min<size_t>(name.size(), static_cast<size_t>(capacity - 1));
    std::memcpy(buffer, name.data(), n);
    buffer[n] = '\0';
  }
  return static_cast<int32_t>(name.size());
  MVT_GUARD_END(-1)
}
MVT_API int32_t mvt_grad_enabled(void) { return c10::GradMode::is_enabled() ? 1 : 0; }
MVT_API int32_t mvt_set_grad_enabled(int32_t enabled) { MVT_STATUS_OP(c10::GradMode::set_enabled(enabled != 0)) }
