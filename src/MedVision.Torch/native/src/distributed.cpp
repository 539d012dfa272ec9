// c10d process groups (Gloo, NCCL) and a bucketed data-parallel gradient reducer.
//
// The reducer follows the design of PyTorch's DistributedDataParallel: parameters are grouped into buckets of about
// bucket_bytes in reverse registration order (roughly the order backward produces their gradients); a hook on each
// parameter copies its gradient into the bucket's flat buffer, and the bucket's all-reduce is launched as soon as the
// bucket is complete, so communication overlaps the rest of backward. Buckets are launched strictly in index order on
// every rank (a collective's position in the sequence is what matches it across ranks). At the end of backward an
// engine callback launches buckets that were never completed (parameters unused in this step contribute zeros), waits
// for every all-reduce and writes the averaged gradients into .grad.
#include "common.h"
#include <torch/version.h>
#include <torch/csrc/autograd/engine.h>
#include <algorithm>
#include <cctype>
#include <chrono>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

#if defined(MVT_HAVE_GLOO)
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#if defined(MVT_HAVE_NCCL)
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#if defined(MVT_HAVE_GLOO) || defined(MVT_HAVE_NCCL)
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#define MVT_HAVE_C10D 1
#endif

using mvt::T;
namespace {

#if defined(MVT_HAVE_C10D)
#if TORCH_VERSION_MAJOR >= 2
using PgBase = c10d::Backend;  // 2.x: the backends are c10d::Backend; ProcessGroup dispatches to them
#else
using PgBase = c10d::ProcessGroup;
#endif

struct Group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<PgBase> pg;
  int rank = 0;
  int world = 1;
  std::string backend;
  std::chrono::milliseconds timeout{0};
};

Group& G(mvt_process_group h) {
  if (h == nullptr) throw std::invalid_argument("null process group handle");
  return *static_cast<Group*>(h);
}

std::string where(const Group& g, const char* op) {
  std::ostringstream s;
  s << op << " failed on rank " << g.rank << " of " << g.world << " (" << g.backend << ")";
  return s.str();
}

// The error of a failed collective: the operation and rank, then libtorch's message. Gloo reports a timeout in more
// than one way ("Timed out waiting 3000ms for recv operation", or "Application timeout caused pair closure" when the
// connection was closed first), so every timeout is also said plainly, with the group's limit.
mvt::DistributedError failure(const Group& g, const char* op, const std::string& cause) {
  std::string lower = cause;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const bool timed_out = lower.find("timeout") != std::string::npos || lower.find("timed out") != std::string::npos;
  std::string lead;
  if (timed_out && lower.rfind("timed out", 0) != 0) {
    lead = "Timed out (no answer within " + std::to_string(g.timeout.count()) + " ms; another rank may have stalled or died): ";
  }
  return mvt::DistributedError(where(g, op) + ": " + lead + cause);
}

// Runs a collective and waits for it, re-throwing with the operation and rank in front of libtorch's message.
template <typename F>
void run(const Group& g, const char* op, F&& launch) {
  try {
    auto work = launch();
    work->wait();
  } catch (const c10::Error& e) {
    throw failure(g, op, e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw failure(g, op, e.what());
  }
}

bool is_loopback(const std::string& addr) {
  return addr == "localhost" || addr.rfind("127.", 0) == 0 || addr == "::1";
}

// Differentiable sum over ranks: forward all-reduces the input, backward all-reduces the incoming gradient (every
// rank's output depends on every rank's input). SyncBatchNorm builds its global statistics on it.
struct AllReduceSum : public torch::autograd::Function<AllReduceSum> {
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx, at::Tensor x, int64_t group) {
    ctx->saved_data["group"] = group;
    auto& g = *reinterpret_cast<Group*>(group);
    std::vector<at::Tensor> ts{x.detach().clone(at::MemoryFormat::Contiguous)};
    run(g, "all-reduce (autograd)", [&] { return g.pg->allreduce(ts); });
    return {ts[0]};
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads) {
    auto& g = *reinterpret_cast<Group*>(ctx->saved_data["group"].toInt());
    std::vector<at::Tensor> ts{grads[0].contiguous().clone()};
    run(g, "all-reduce (autograd backward)", [&] { return g.pg->allreduce(ts); });
    return {ts[0], at::Tensor()};
  }
};

// ------------------------------------------------------------------ reducer

struct Bucket {
  std::vector<size_t> params;      // indices into Reducer::params
  std::vector<int64_t> offsets;    // element offset of each parameter in flat
  at::Tensor flat;
  size_t pending = 0;              // parameters whose gradient has not arrived in this step
  bool launched = false;
  c10::intrusive_ptr<c10d::Work> work;
};

struct ReducerState {
  Group* group;
  std::vector<at::Tensor> params;
  std::vector<size_t> bucket_of;   // parameter index -> bucket
  std::vector<size_t> slot_of;     // parameter index -> position within its bucket
  std::vector<bool> ready;
  std::vector<Bucket> buckets;
  std::vector<unsigned> hooks;
  std::mutex mutex;
  bool armed = false;              // prepare_backward was called and no backward has finished since
  bool callback_queued = false;
  size_t next_launch = 0;
  int64_t steps = 0, bytes = 0, wait_us = 0, early_launches = 0;

  void reset_step() {
    for (auto& b : buckets) { b.pending = b.params.size(); b.launched = false; b.work.reset(); }
    std::fill(ready.begin(), ready.end(), false);
    next_launch = 0;
    callback_queued = false;
  }

  void launch_ready_buckets(bool during_backward) {
    while (next_launch < buckets.size() && buckets[next_launch].pending == 0) {
      launch(buckets[next_launch], during_backward);
      ++next_launch;
    }
  }

  void launch(Bucket& b, bool during_backward) {
    std::vector<at::Tensor> ts{b.flat};
    try {
      b.work = group->pg->allreduce(ts);
    } catch (const c10::Error& e) {
      throw failure(*group, "gradient all-reduce", e.what_without_backtrace());
    }
    b.launched = true;
    bytes += b.flat.numel() * static_cast<int64_t>(b.flat.element_size());
    if (during_backward) ++early_launches;
  }

  void on_grad(size_t i, const at::Tensor& grad) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!armed) return;  // a backward that did not follow a data-parallel forward (e.g. gradient accumulation)
    if (!callback_queued) {
      callback_queued = true;
      torch::autograd::Engine::get_default_engine().queue_callback([this] { finalize(); });
    }
    if (ready[i]) return;  // the parameter was used twice: the hook fires once with the summed gradient
    ready[i] = true;
    auto& b = buckets[bucket_of[i]];
    b.flat.narrow(0, b.offsets[slot_of[i]], params[i].numel()).copy_(grad.reshape({-1}));
    --b.pending;
    launch_ready_buckets(true);
  }

  void finalize() {
    std::lock_guard<std::mutex> lock(mutex);
    armed = false;
    // Parameters that received no gradient in this step contribute zeros, so every rank launches every bucket.
    for (size_t i = 0; i < params.size(); ++i) {
      if (ready[i]) continue;
      auto& b = buckets[bucket_of[i]];
      b.flat.narrow(0, b.offsets[slot_of[i]], params[i].numel()).zero_();
      ready[i] = true;
      --b.pending;
    }
    launch_ready_buckets(false);
    const auto start = std::chrono::steady_clock::now();
    for (auto& b : buckets) {
      try {
        b.work->wait();
      } catch (const c10::Error& e) {
        throw failure(*group, "gradient all-reduce", e.what_without_backtrace());
      } catch (const std::exception& e) {
        throw failure(*group, "gradient all-reduce", e.what());
      }
    }
    wait_us += std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count();
    at::NoGradGuard no_grad;
    const double scale = 1.0 / group->world;
    for (auto& b : buckets) {
      b.flat.mul_(scale);
      for (size_t k = 0; k < b.params.size(); ++k) {
        auto& p = params[b.params[k]];
        auto avg = b.flat.narrow(0, b.offsets[k], p.numel()).view(p.sizes());
        // .grad already holds this rank's local gradient (accumulated after the hook ran); replace it by the average.
        auto& grad = p.mutable_grad();
        if (grad.defined()) grad.copy_(avg);
        else grad = avg.clone();
      }
    }
    ++steps;
    reset_step();
  }
};
#endif

}  // namespace

MVT_API int32_t mvt_dist_backend_available(int32_t backend) {
#if defined(MVT_HAVE_GLOO)
  if (backend == 0) return 1;
#endif
#if defined(MVT_HAVE_NCCL)
  if (backend == 1) return 1;
#endif
  return 0;
}

#if defined(MVT_HAVE_C10D)

MVT_API mvt_process_group mvt_dist_init(int32_t backend, const char* master_addr, int32_t master_port, int32_t world_size,
                                        int32_t rank, int64_t timeout_ms) {
  MVT_GUARD_BEGIN
  if (world_size < 1) throw std::invalid_argument("world size must be at least 1, got " + std::to_string(world_size));
  if (rank < 0 || rank >= world_size)
    throw std::invalid_argument("rank " + std::to_string(rank) + " is outside 0.." + std::to_string(world_size - 1));
  if (master_port < 1 || master_port > 65535) throw std::invalid_argument("master port " + std::to_string(master_port) + " is outside 1..65535");
  if (timeout_ms <= 0) throw std::invalid_argument("timeout must be positive");
  auto g = std::make_unique<Group>();
  g->rank = rank;
  g->world = world_size;
  g->timeout = std::chrono::milliseconds(timeout_ms);
  const std::string addr = master_addr != nullptr ? master_addr : "127.0.0.1";
  c10d::TCPStoreOptions opts;
  opts.port = static_cast<std::uint16_t>(master_port);
  opts.isServer = rank == 0;
  opts.numWorkers = static_cast<std::size_t>(world_size);
  // No wait inside the store: the world-size exchange below and the backend's own connection set-up do the waiting,
  // each bounded by the timeout and each with a message that says what is missing.
  opts.waitWorkers = false;
  opts.timeout = g->timeout;
  try {
    try {
      g->store = c10::make_intrusive<c10d::TCPStore>(addr, opts);
    } catch (const c10::Error& e) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
      // libtorch 2.4+ asks for the libuv store backend by default, and builds without libuv (Debian's, for one)
      // refuse it: use the classic TCP backend there, as torch.distributed does with USE_LIBUV=0.
      if (!opts.useLibUV || std::string(e.what_without_backtrace()).find("libuv") == std::string::npos) throw;
      opts.useLibUV = false;
      g->store = c10::make_intrusive<c10d::TCPStore>(addr, opts);
#else
      throw;
#endif
    }
  } catch (const std::exception& e) {
    std::string m = dynamic_cast<const c10::Error*>(&e) ? static_cast<const c10::Error&>(e).what_without_backtrace() : e.what();
    throw mvt::DistributedError("rendezvous at " + addr + ":" + std::to_string(master_port) + " failed on rank " + std::to_string(rank) +
                             " of " + std::to_string(world_size) + " (timeout " + std::to_string(timeout_ms) + " ms): " + m);
  }
  // Every rank publishes the world size it was started with and compares it with rank 0's (rank 0 with rank 1's): a
  // mismatch is reported on both sides instead of a rendezvous that waits for ranks that will never come. A rank
  // acknowledges once it has read rank 0's value, and rank 0, which serves the store, waits for that acknowledgement
  // before failing, so the other side can still read its answer.
  {
    const std::string mine = std::to_string(world_size);
    auto key = [](const char* what, int r) { return std::string("mvt/") + what + "/" + std::to_string(r); };
    auto get = [&](const std::string& k, int from) {
      try {
        return g->store->get(k);
      } catch (const std::exception& e) {
        std::string m = dynamic_cast<const c10::Error*>(&e) ? static_cast<const c10::Error&>(e).what_without_backtrace() : e.what();
        throw mvt::DistributedError("rendezvous at " + addr + ":" + std::to_string(master_port) + ": rank " + std::to_string(rank) + " of " +
                                    std::to_string(world_size) + " got no answer from rank " + std::to_string(from) + " (timeout " +
                                    std::to_string(timeout_ms) + " ms; it may have failed or never started): " + m);
      }
    };
    g->store->set(key("world_size", rank), std::vector<uint8_t>(mine.begin(), mine.end()));
    const int other = rank == 0 ? (world_size > 1 ? 1 : 0) : 0;
    auto v = get(key("world_size", other), other);
    const std::string theirs(v.begin(), v.end());
    if (rank != 0) g->store->set(key("ack", rank), std::vector<uint8_t>{1});
    if (theirs != mine) {
      if (rank == 0 && other != 0) {
        try { g->store->get(key("ack", other)); } catch (...) {}
        std::this_thread::sleep_for(std::chrono::milliseconds(500));  // let any other rank read rank 0's value too
      }
      throw mvt::DistributedError("world size mismatch: rank " + std::to_string(rank) + " was started with world size " + mine +
                                  ", rank " + std::to_string(other) + " with " + theirs);
    }
  }
  if (backend == 0) {
#if defined(MVT_HAVE_GLOO)
    auto o = c10d::ProcessGroupGloo::Options::create(g->timeout);
    const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
    if (ifname != nullptr && *ifname != '\0') o->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    else if (is_loopback(addr)) o->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    else o->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    o->threads = 2;
    try {
      g->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(g->store, rank, world_size, o);
    } catch (const c10::Error& e) {
      throw mvt::DistributedError("rendezvous at " + addr + ":" + std::to_string(master_port) + ": rank " + std::to_string(rank) + " of " +
                                  std::to_string(world_size) + " could not connect to every other rank (timeout " + std::to_string(timeout_ms) +
                                  " ms): " + e.what_without_backtrace());
    }
    g->backend = "gloo";
#else
    throw std::runtime_error("this build of the native shim has no Gloo backend (gloo headers were not found when it was configured)");
#endif
  } else if (backend == 1) {
#if defined(MVT_HAVE_NCCL)
    auto o = c10d::ProcessGroupNCCL::Options::create();
    o->timeout = g->timeout;
    g->pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(g->store, rank, world_size, o);
    g->backend = "nccl";
#else
    throw std::runtime_error("this build of the native shim has no NCCL backend (it needs a CUDA libtorch and nccl.h when it is configured)");
#endif
  } else {
    throw std::invalid_argument("unknown backend code " + std::to_string(backend));
  }
  return g.release();
  MVT_GUARD_END(nullptr)
}

MVT_API void mvt_dist_free(mvt_process_group pg) {
  try { delete static_cast<Group*>(pg); } catch (...) {}
}

MVT_API int32_t mvt_dist_all_reduce(mvt_process_group h, mvt_tensor t, int32_t op) {
  MVT_GUARD_BEGIN
  auto& g = G(h);
  auto& x = T(t);
  if (!x.is_contiguous()) throw std::invalid_argument("all-reduce needs a contiguous tensor");
  c10d::AllreduceOptions o;
  switch (op) {
    case 0: case 1: o.reduceOp = c10d::ReduceOp::SUM; break;
    case 2: o.reduceOp = c10d::ReduceOp::MAX; break;
    case 3: o.reduceOp = c10d::ReduceOp::MIN; break;
    case 4: o.reduceOp = c10d::ReduceOp::PRODUCT; break;
    default: throw std::invalid_argument("unknown reduce op " + std::to_string(op));
  }
  if (op == 1 && !at::isFloatingType(x.scalar_type())) throw std::invalid_argument("a mean all-reduce needs a floating-point tensor");
  std::vector<at::Tensor> ts{x};
  run(g, "all-reduce", [&] { return g.pg->allreduce(ts, o); });
  if (op == 1) { at::NoGradGuard ng; x.div_(g.world); }
  return 0;
  MVT_GUARD_END(-1)
}

MVT_API int32_t mvt_dist_broadcast(mvt_process_group h, mvt_tensor t, int32_t root) {
  MVT_GUARD_BEGIN
  auto& g = G(h);
  auto& x = T(t);
  if (root < 0 || root >= g.world) throw std::invalid_argument("broadcast root " + std::to_string(root) + " is outside 0.." + std::to_string(g.world - 1));
  if (!x.is_contiguous()) throw std::invalid_argument("broadcast needs a contiguous tensor");
  c10d::BroadcastOptions o;
  o.rootRank = root;
  std::vector<at::Tensor> ts{x};
  run(g, "broadcast", [&] { return g.pg->broadcast(ts, o); });
  return 0;
  MVT_GUARD_END(-1)
}

MVT_API mvt_tensor mvt_dist_all_gather(mvt_process_group h, mvt_tensor t) {
  MVT_GUARD_BEGIN
  auto& g = G(h);
  auto x = T(t).contiguous();
  std::vector<std::vector<at::Tensor>> out(1);
  for (int r = 0; r < g.world; ++r) out[0].push_back(at::empty_like(x));
  std::vector<at::Tensor> in{x};
  run(g, "all-gather", [&] { return g.pg->allgather(out, in); });
  return mvt::wrap(at::stack(out[0], 0));
  MVT_GUARD_END(nullptr)
}

MVT_API int32_t mvt_dist_barrier(mvt_process_group h) {
  MVT_GUARD_BEGIN
  auto& g = G(h);
  run(g, "barrier", [&] { return g.pg->barrier(); });
  return 0;
  MVT_GUARD_END(-1)
}

MVT_API mvt_tensor mvt_dist_all_reduce_sum_autograd(mvt_process_group h, mvt_tensor t) {
  MVT_GUARD_BEGIN
  auto& g = G(h);
  auto out = AllReduceSum::apply(T(t), reinterpret_cast<int64_t>(&g));
  return mvt::wrap(out[0]);
  MVT_GUARD_END(nullptr)
}

MVT_API mvt_ddp mvt_ddp_create(mvt_process_group h, const mvt_tensor* params, int32_t n, int64_t bucket_bytes) {
  MVT_GUARD_BEGIN
  auto& g = G(h);
  if (n <= 0) throw std::invalid_argument("data-parallel training needs at least one parameter");
  if (bucket_bytes <= 0) throw std::invalid_argument("bucket size must be positive");
  auto s = std::make_unique<ReducerState>();
  s->group = &g;
  s->params = mvt::TensorList(params, n);
  for (auto& p : s->params)
    if (!p.requires_grad()) throw std::invalid_argument("every parameter given to the reducer must require grad");
  s->bucket_of.resize(n);
  s->slot_of.resize(n);
  s->ready.assign(n, false);
  // Reverse registration order, split at bucket_bytes and wherever dtype or device changes.
  int64_t fill = 0;
  for (int32_t i = n - 1; i >= 0; --i) {
    const auto& p = s->params[i];
    const int64_t nb = p.numel() * static_cast<int64_t>(p.element_size());
    bool fresh = s->buckets.empty() || (fill + nb > bucket_bytes && fill > 0);
    if (!fresh) {
      const auto& first = s->params[s->buckets.back().params.front()];
      fresh = first.scalar_type() != p.scalar_type() || first.device() != p.device();
    }
    if (fresh) { s->buckets.emplace_back(); fill = 0; }
    auto& b = s->buckets.back();
    s->bucket_of[i] = s->buckets.size() - 1;
    s->slot_of[i] = b.params.size();
    b.offsets.push_back(b.params.empty() ? 0 : b.offsets.back() + s->params[b.params.back()].numel());
    b.params.push_back(static_cast<size_t>(i));
    fill += nb;
  }
  for (auto& b : s->buckets) {
    const auto& last = s->params[b.params.back()];
    b.flat = at::zeros({b.offsets.back() + last.numel()}, last.options().requires_grad(false));
  }
  s->reset_step();
  auto* raw = s.get();
  for (int32_t i = 0; i < n; ++i) {
    const size_t idx = static_cast<size_t>(i);
    s->hooks.push_back(s->params[i].register_hook([raw, idx](const at::Tensor& grad) { raw->on_grad(idx, grad); }));
  }
  return s.release();
  MVT_GUARD_END(nullptr)
}

MVT_API void mvt_ddp_free(mvt_ddp h) {
  if (h == nullptr) return;
  auto* s = static_cast<ReducerState*>(h);
  try {
    for (size_t i = 0; i < s->params.size(); ++i) s->params[i].remove_hook(s->hooks[i]);
  } catch (...) {}
  delete s;
}

MVT_API int32_t mvt_ddp_prepare_backward(mvt_ddp h) {
  MVT_GUARD_BEGIN
  if (h == nullptr) throw std::invalid_argument("null reducer handle");
  auto* s = static_cast<ReducerState*>(h);
  std::lock_guard<std::mutex> lock(s->mutex);
  s->reset_step();
  s->armed = true;
  return 0;
  MVT_GUARD_END(-1)
}

MVT_API int32_t mvt_ddp_bucket_count(mvt_ddp h) {
  MVT_GUARD_BEGIN
  if (h == nullptr) throw std::invalid_argument("null reducer handle");
  return static_cast<int32_t>(static_cast<ReducerState*>(h)->buckets.size());
  MVT_GUARD_END(-1)
}

MVT_API int32_t mvt_ddp_stats(mvt_ddp h, int64_t* out) {
  MVT_GUARD_BEGIN
  if (h == nullptr) throw std::invalid_argument("null reducer handle");
  auto* s = static_cast<ReducerState*>(h);
  std::lock_guard<std::mutex> lock(s->mutex);
  out[0] = s->steps; out[1] = s->bytes; out[2] = s->wait_us; out[3] = s->early_launches;
  return 0;
  MVT_GUARD_END(-1)
}

#else  // no c10d backend in this build

static const char* kNoDist = "this build of the native shim has no distributed backend (install libgloo-dev and rebuild the shim)";
MVT_API mvt_process_group mvt_dist_init(int32_t, const char*, int32_t, int32_t, int32_t, int64_t) { mvt::set_error(mvt::kNotImplemented, kNoDist); return nullptr; }
MVT_API void mvt_dist_free(mvt_process_group) {}
MVT_API int32_t mvt_dist_all_reduce(mvt_process_group, mvt_tensor, int32_t) { mvt::set_error(mvt::kNotImplemented, kNoDist); return -1; }
MVT_API int32_t mvt_dist_broadcast(mvt_process_group, mvt_tensor, int32_t) { mvt::set_error(mvt::kNotImplemented, kNoDist); return -1; }
MVT_API mvt_tensor mvt_dist_all_gather(mvt_process_group, mvt_tensor) { mvt::set_error(mvt::kNotImplemented, kNoDist); return nullptr; }
MVT_API int32_t mvt_dist_barrier(mvt_process_group) { mvt::set_error(mvt::kNotImplemented, kNoDist); return -1; }
MVT_API mvt_tensor mvt_dist_all_reduce_sum_autograd(mvt_process_group, mvt_tensor) { mvt::set_error(mvt::kNotImplemented, kNoDist); return nullptr; }
MVT_API mvt_ddp mvt_ddp_create(mvt_process_group, const mvt_tensor*, int32_t, int64_t) { mvt::set_error(mvt::kNotImplemented, kNoDist); return nullptr; }
MVT_API void mvt_ddp_free(mvt_ddp) {}
MVT_API int32_t mvt_ddp_prepare_backward(mvt_ddp) { mvt::set_error(mvt::kNotImplemented, kNoDist); return -1; }
MVT_API int32_t mvt_ddp_bucket_count(mvt_ddp) { mvt::set_error(mvt::kNotImplemented, kNoDist); return -1; }
MVT_API int32_t mvt_ddp_stats(mvt_ddp, int64_t*) { mvt::set_error(mvt::kNotImplemented, kNoDist); return -1; }

#endif
