// Asynchronous signals are held back while a native call may run oneDNN's compute kernels.
//
// oneDNN's JIT float32 GEMM kernels (used by libtorch's oneDNN convolutions for some shapes, e.g. dilated 3-D
// convolutions with many input channels, whose reduction dimension K exceeds 84) move the stack pointer into their
// heap-allocated workspace while they run. A signal delivered to that thread then has its frame (the saved registers
// with the AVX-512 state, ~3 KB) written by the kernel below the stack pointer: over the heap in front of the workspace
// block. glibc later aborts ("corrupted size vs. prev_size while consolidating", "double free or corruption") or
// crashes in malloc. Any process that receives signals while it computes is exposed — a child process's exit
// (SIGCHLD), Ctrl+C (SIGINT), a terminal resize (SIGWINCH). (libtorch 1.13's own heuristic sends those shapes to its
// native kernels; the shim routes every float32 CPU convolution to oneDNN, see nn.cpp.) SignalsDeferred blocks the
// asynchronous signals on the calling thread for the duration of such a call, and once (for each thread count) on
// libtorch's intra-op worker threads, which run the kernels too and then keep them blocked: a process-directed signal
// is delivered to another thread, a thread-directed one when the call returns. Synchronous signals (faults, abort)
// are never blocked.
#include "common.h"
#include <ATen/Parallel.h>

#if defined(__unix__) || defined(__APPLE__)
#include <pthread.h>
#include <csignal>

namespace mvt {
namespace {
const sigset_t& AsynchronousSignals() {
  static const sigset_t set = [] {
    sigset_t s;
    sigfillset(&s);
    for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGABRT}) sigdelset(&s, sig);
    return s;
  }();
  return set;
}

// The intra-op thread count (and Torch.NumThreads generation) for which this thread's workers block the signals.
thread_local int t_deferred_threads = 1;
thread_local int32_t t_deferred_generation = -1;
}  // namespace

SignalsDeferred::SignalsDeferred() {
  restore_ = pthread_sigmask(SIG_BLOCK, &AsynchronousSignals(), &previous_) == 0;
  if (!restore_ || at::in_parallel_region()) return;
  const int threads = at::get_num_threads();
  const int32_t generation = g_threads_generation.load(std::memory_order_relaxed);
  if (threads <= 1 || (threads == t_deferred_threads && generation == t_deferred_generation)) return;
  // One chunk per thread of the team: each worker blocks the signals on itself (a team that grew since was created
  // by a call that did not block them, so this runs again when the thread count or Torch.NumThreads changes).
  at::parallel_for(0, threads, 1, [](int64_t, int64_t) { pthread_sigmask(SIG_BLOCK, &AsynchronousSignals(), nullptr); });
  t_deferred_threads = threads;
  t_deferred_generation = generation;
}

SignalsDeferred::~SignalsDeferred() {
  if (restore_) pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
}
}  // namespace mvt

#else

namespace mvt {
SignalsDeferred::SignalsDeferred() {}
SignalsDeferred::~SignalsDeferred() {}
}  // namespace mvt

#endif
