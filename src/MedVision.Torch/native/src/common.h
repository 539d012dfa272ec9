// Internal helpers shared by the shim's translation units. Not part of the C ABI.
#pragma once
#include <torch/torch.h>
#include <atomic>
#include <functional>
#include <cmath>
#include <string>
#if defined(__unix__) || defined(__APPLE__)
#include <csignal>
#endif
#include "mvt.h"

namespace mvt {

// Error kinds reported to the managed side (mirrors MedVision.Torch.TorchErrorKind).
enum ErrorKind : int32_t { kNone = 0, kGeneric = 1, kIndex = 2, kValue = 3, kType = 4, kNotImplemented = 5, kOutOfMemory = 6, kDistributed = 7 };

// Thrown by the distributed code (a failed collective or rendezvous); reported with kind kDistributed.
struct DistributedError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void set_error(int32_t kind, const char* message);
void clear_error();

// Runs the oneDNN self-check once per process (nn.cpp; see mvt_onednn_self_check); entry points that may reach a
// convolution call it first.
void EnsureOneDnnChecked();

// Blocks the asynchronous signals on the calling thread (and libtorch's intra-op workers) while it lives: for entry
// points that may run oneDNN's compute kernels, some of which run with the stack pointer in a heap workspace, where a
// signal's frame would corrupt the heap (signals.cpp).
class SignalsDeferred {
 public:
  SignalsDeferred();
  ~SignalsDeferred();
  SignalsDeferred(const SignalsDeferred&) = delete;
  SignalsDeferred& operator=(const SignalsDeferred&) = delete;

 private:
#if defined(__unix__) || defined(__APPLE__)
  sigset_t previous_;
#endif
  bool restore_ = false;
};

// A float32 CPU convolution on oneDNN whose backward pass is oneDNN's too (onednn_conv.cpp); without the
// oneDNN backward entry point in this libtorch, at::mkldnn_convolution (backward by libtorch's heuristic).
at::Tensor OneDnnConvolution(const at::Tensor& x, const at::Tensor& w, const c10::optional<at::Tensor>& b,
                             at::IntArrayRef padding, at::IntArrayRef stride, at::IntArrayRef dilation, int64_t groups);
bool OneDnnConvolutionBackwardAvailable();

// Whether a float32 CPU linear layer is routed to oneDNN's inner product (onednn_linear.cpp: routing on, oneDNN in
// use, no CPU autocast, a product large enough to gain), and that computation, forward and backward.
bool UseOneDnnLinear(const at::Tensor& x, const at::Tensor& w, const c10::optional<at::Tensor>& b);
at::Tensor OneDnnLinear(const at::Tensor& x, const at::Tensor& w, const c10::optional<at::Tensor>& b);
// Sets one of the oneDNN routing switches (convolutions in nn.cpp, linear layers in onednn_linear.cpp): 0 leaves the
// layer to libtorch's own choice, 1 routes it to oneDNN; any other mode is refused with the switch's name.
inline void SetRouting(std::atomic<int32_t>& flag, int32_t mode, const char* what) {
  if (mode != 0 && mode != 1) throw std::invalid_argument(std::string(what) + " routing must be 0 (libtorch) or 1 (oneDNN)");
  flag.store(mode);
}
// Whether CPU autocast is on for this thread (nn.cpp; the function names changed in libtorch 2.4).
bool CpuAutocastEnabled();

// DeepLIFT's rescale rule is on for this thread (mvt_set_relu_gradient, mode 3) and autograd records x (ops.cpp).
bool DeepLiftRescaleApplies(const at::Tensor& x);
// An elementwise activation f of a batch of inputs followed by their references, with DeepLIFT's rescale rule in its
// backward pass: (f(x) − f(x′)) / (x − x′), or f′(x) where |x − x′| < 1e-10 (ops.cpp; forward values are f's).
at::Tensor ActivationRescaled(const at::Tensor& x, const std::function<at::Tensor(const at::Tensor&)>& f);
// Max pooling of a batch of inputs followed by their references, with DeepLIFT's rule for max pooling in its backward
// pass (ops.cpp; the forward values are max pooling's).
at::Tensor MaxPoolRescaled(const at::Tensor& x, int32_t nspatial, at::IntArrayRef kernel, at::IntArrayRef stride,
                           at::IntArrayRef padding, at::IntArrayRef dilation, bool ceil_mode);
extern std::atomic<int64_t> g_live;

// Torch.NumThreads is process-wide for callers, but with libtorch's OpenMP backend at::set_num_threads only changes
// the calling thread (and threads that have not run a parallel op yet). Every entry point therefore re-applies the
// last requested count once on each thread that has not seen it (one relaxed atomic load when nothing changed).
extern std::atomic<int32_t> g_num_threads;       // 0 until Torch.NumThreads is set
extern std::atomic<int32_t> g_threads_generation;
void apply_num_threads(int32_t generation);
inline void sync_num_threads() {
  thread_local int32_t seen = 0;
  const int32_t generation = g_threads_generation.load(std::memory_order_acquire);
  if (generation != seen) {
    seen = generation;
    apply_num_threads(generation);
  }
}

inline at::Tensor& T(mvt_tensor h) {
  if (h == nullptr) throw std::invalid_argument("null tensor handle");
  return *static_cast<at::Tensor*>(h);
}
inline c10::optional<at::Tensor> Opt(mvt_tensor h) {
  if (h == nullptr) return c10::nullopt;
  return *static_cast<at::Tensor*>(h);
}
inline mvt_tensor wrap(at::Tensor&& t) {
  auto* p = new at::Tensor(std::move(t));
  g_live.fetch_add(1, std::memory_order_relaxed);
  return p;
}
inline mvt_tensor wrap(const at::Tensor& t) {
  auto* p = new at::Tensor(t);
  g_live.fetch_add(1, std::memory_order_relaxed);
  return p;
}
inline at::IntArrayRef Ints(const int64_t* p, int32_t n) { return at::IntArrayRef(p, static_cast<size_t>(n)); }
// Enum codes from the managed side are checked before libtorch sees them: libtorch trusts a ScalarType, and an
// undefined one crashed the process (at::empty with dtype 99). The managed layer checks too; this is the backstop.
inline at::ScalarType Dtype(int32_t code) {
  if (code < 0 || code >= static_cast<int32_t>(at::ScalarType::Undefined))
    throw std::invalid_argument("unknown dtype code " + std::to_string(code));
  return static_cast<at::ScalarType>(code);
}
inline at::Device DeviceOf(int32_t device_type, int32_t device_index) {
  if (device_type != static_cast<int32_t>(c10::DeviceType::CPU) && device_type != static_cast<int32_t>(c10::DeviceType::CUDA))
    throw std::invalid_argument("unknown device type code " + std::to_string(device_type));
  if (device_index < -1 || device_index > 127) throw std::invalid_argument("device index out of range: " + std::to_string(device_index));
  return at::Device(static_cast<c10::DeviceType>(device_type), static_cast<c10::DeviceIndex>(device_index));
}
inline int64_t ReductionCode(int32_t code) {
  if (code < 0 || code > 2) throw std::invalid_argument("unknown reduction code " + std::to_string(code));
  return code;
}
inline at::TensorOptions Options(int32_t dtype, int32_t device_type, int32_t device_index, bool requires_grad = false) {
  return at::TensorOptions()
      .dtype(Dtype(dtype))
      .device(DeviceOf(device_type, device_index))
      .requires_grad(requires_grad);
}
std::vector<at::Tensor> TensorList(const mvt_tensor* hs, int32_t n);

// The C ABI passes every scalar as a double. For an integral (or bool) tensor an integral-valued double becomes an
// int64 Scalar, as a Python int would: t + 1 stays int64 and t.add_(1) works (a double Scalar would promote the
// result to float, which an in-place op on an int64 tensor rejects).
inline at::Scalar ScalarFor(const at::Tensor& t, double s) {
  if (at::isIntegralType(t.scalar_type(), /*includeBool=*/true) && std::floor(s) == s && std::abs(s) < 9.2e18)
    return at::Scalar(static_cast<int64_t>(s));
  return at::Scalar(s);
}

}  // namespace mvt

// Every entry point runs its body inside MVT_GUARD: a C++ exception never crosses the C ABI. On failure the
// thread-local error is set and the entry point returns its failure value (nullptr or -1).
#define MVT_GUARD_BEGIN try { mvt::clear_error(); mvt::sync_num_threads();
#define MVT_GUARD_END(fail)                                                                          \
  }                                                                                                  \
  catch (const mvt::DistributedError& e) { mvt::set_error(mvt::kDistributed, e.what()); return fail; }                 \
  catch (const c10::IndexError& e) { mvt::set_error(mvt::kIndex, e.what_without_backtrace()); return fail; }           \
  catch (const c10::ValueError& e) { mvt::set_error(mvt::kValue, e.what_without_backtrace()); return fail; }           \
  catch (const c10::TypeError& e) { mvt::set_error(mvt::kType, e.what_without_backtrace()); return fail; }             \
  catch (const c10::NotImplementedError& e) { mvt::set_error(mvt::kNotImplemented, e.what_without_backtrace()); return fail; } \
  catch (const c10::Error& e) {                                                                      \
    std::string m = e.what_without_backtrace();                                                      \
    mvt::set_error(m.find("out of memory") != std::string::npos ? mvt::kOutOfMemory : mvt::kGeneric, m.c_str()); \
    return fail;                                                                                     \
  }                                                                                                  \
  catch (const std::bad_alloc&) { mvt::set_error(mvt::kOutOfMemory, "out of memory (std::bad_alloc)"); return fail; } \
  catch (const std::out_of_range& e) { mvt::set_error(mvt::kIndex, e.what()); return fail; }         \
  catch (const std::invalid_argument& e) { mvt::set_error(mvt::kValue, e.what()); return fail; }     \
  catch (const std::exception& e) { mvt::set_error(mvt::kGeneric, e.what()); return fail; }          \
  catch (...) { mvt::set_error(mvt::kGeneric, "unknown native exception"); return fail; }

#define MVT_TENSOR_OP(body) MVT_GUARD_BEGIN return mvt::wrap(body); MVT_GUARD_END(nullptr)
// An op that may run oneDNN's kernels: asynchronous signals are deferred while it runs (see SignalsDeferred).
#define MVT_COMPUTE_OP(body) MVT_GUARD_BEGIN mvt::SignalsDeferred signals_deferred; return mvt::wrap(body); MVT_GUARD_END(nullptr)
#define MVT_STATUS_OP(body) MVT_GUARD_BEGIN body; return 0; MVT_GUARD_END(-1)
