// CPU memory: a caching allocator for large CPU tensors, installed as libtorch's CPU allocator when the shim loads.
//
// Why: glibc's malloc serves every request above its mmap threshold (at most 32 MiB) with a fresh mmap and returns it
// with munmap on free. A ResNet-50 training step at batch 128 allocates and frees dozens of activation tensors of
// ~100 MiB, so every step faults all of their pages in again (measured: ~85,000 page faults per second, a third of the
// CPU time in the kernel, and a 28×28 RetinaMNIST epoch 3.5–4× slower than with the pages kept). This allocator keeps
// freed blocks of 1 MiB and more in per-size-class free lists (classes 1/8 of a power of two apart, so at most 12.5%
// rounding) up to a byte limit, evicting the least recently used classes first. Smaller blocks go straight to malloc,
// exactly as with libtorch's default allocator (64-byte aligned posix_memalign / free).
//
// The deleter needs nothing but the pointer: malloc_usable_size tells a cached-size block from a small one, so a
// block is freed correctly whichever of libtorch's code paths releases it (DataPtr deleters and raw_deallocate alike,
// which oneDNN's scratch memory uses). MEDVISION_CPU_ALLOCATOR=default at process start leaves libtorch's default
// allocator in place; MEDVISION_CPU_CACHE_LIMIT=<bytes> (K/M/G suffixes) sets the initial limit (0 disables caching).
#include "common.h"
#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <type_traits>
#include <unordered_map>
#include <vector>
#if defined(__GLIBC__)
#include <malloc.h>
#include <unistd.h>
#define MVT_CPU_CACHING_SUPPORTED 1
#endif

namespace mvt {
namespace {

constexpr size_t kAlignment = 64;          // c10's CPU alignment
constexpr size_t kMinCached = size_t{1} << 20;  // blocks from 1 MiB up are cached

#if defined(MVT_CPU_CACHING_SUPPORTED)

// Size classes are multiples of 1/8 of the power of two at or below a size (n ≥ 1 MiB, so the step is ≥ 128 KiB).
size_t ClassStep(size_t n) { return size_t{1} << (60 - static_cast<size_t>(__builtin_clzll(n))); }
// Size class of a request: rounded up to its class.
size_t ClassUp(size_t n) { return (n + ClassStep(n) - 1) / ClassStep(n) * ClassStep(n); }
// The largest class not above n (the class a freed block of usable size n can serve).
size_t ClassDown(size_t n) { return n / ClassStep(n) * ClassStep(n); }

struct SizeClass {
  std::vector<void*> blocks;
  uint64_t last_used = 0;
};

class CpuCache {
 public:
  CpuCache() : limit_(DefaultLimit()) {}

  void* Allocate(size_t n) {
    if (n == 0) return nullptr;
    if (n < kMinCached) {
      void* p = AlignedAlloc(n);
      // malloc may serve a request just under 1 MiB with a block of 1 MiB or more (a page-rounded mapping); Free
      // will treat that block as a large one, so it is counted as one here too.
      if (n >= kMinCached / 2) {
        const size_t usable = malloc_usable_size(p);
        if (usable >= kMinCached) {
          std::lock_guard<std::mutex> lock(mutex_);
          AddInUse(ClassDown(usable));
        }
      }
      return p;
    }
    // No machine has 4 PiB; refusing here also keeps the size-class rounding below from overflowing.
    TORCH_CHECK(n <= (size_t{1} << 52), "CPU allocator: out of memory: tried to allocate ", n, " bytes");
    const size_t c = ClassUp(n);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto& cls = classes_[c];
      cls.last_used = ++tick_;
      if (!cls.blocks.empty()) {
        void* p = cls.blocks.back();
        cls.blocks.pop_back();
        cached_bytes_ -= c;
        ++hits_;
        AddInUse(c);
        return p;
      }
      ++misses_;
    }
    void* p = AlignedAlloc(c, /*throw_on_failure=*/false);
    if (p == nullptr) {  // give the cached blocks back to the system and try once more
      Empty();
      p = AlignedAlloc(c);
    }
    std::lock_guard<std::mutex> lock(mutex_);
    AddInUse(c);
    return p;
  }

  void Free(void* p) {
    if (p == nullptr) return;
    const size_t usable = malloc_usable_size(p);
    if (usable < kMinCached) {
      std::free(p);
      return;
    }
    const size_t c = ClassDown(usable);
    std::vector<void*> release;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      in_use_ = in_use_ >= c ? in_use_ - c : 0;
      // Make room by releasing other classes; when only this class fills the cache, this block goes back instead.
      if (c <= limit_ && cached_bytes_ + c > limit_) EvictFor(cached_bytes_ + c - limit_, c, release);
      if (cached_bytes_ + c <= limit_) {
        auto& cls = classes_[c];
        cls.blocks.push_back(p);
        cached_bytes_ += c;
      } else {
        release.push_back(p);
      }
    }
    for (void* q : release) std::free(q);
  }

  void Empty() {
    std::vector<void*> release;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (auto& kv : classes_) {
        release.insert(release.end(), kv.second.blocks.begin(), kv.second.blocks.end());
        kv.second.blocks.clear();
      }
      classes_.clear();
      cached_bytes_ = 0;
    }
    for (void* q : release) std::free(q);
  }

  void SetLimit(size_t limit) {
    std::vector<void*> release;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      limit_ = limit;
      if (cached_bytes_ > limit_) EvictFor(cached_bytes_ - limit_, 0, release);
    }
    for (void* q : release) std::free(q);
  }

  void Stats(mvt_cpu_memory_stats* out) {
    std::lock_guard<std::mutex> lock(mutex_);
    int64_t blocks = 0;
    for (auto& kv : classes_) blocks += static_cast<int64_t>(kv.second.blocks.size());
    out->cached_bytes = static_cast<int64_t>(cached_bytes_);
    out->cached_blocks = blocks;
    out->large_bytes_in_use = static_cast<int64_t>(in_use_);
    out->peak_large_bytes_in_use = static_cast<int64_t>(peak_in_use_);
    out->cache_hits = static_cast<int64_t>(hits_);
    out->cache_misses = static_cast<int64_t>(misses_);
    out->evicted_blocks = static_cast<int64_t>(evicted_);
    out->limit = static_cast<int64_t>(limit_);
    out->min_cached_block = static_cast<int64_t>(kMinCached);
  }

  void ResetPeak() {
    std::lock_guard<std::mutex> lock(mutex_);
    peak_in_use_ = in_use_;
  }

 private:
  static void* AlignedAlloc(size_t n, bool throw_on_failure = true) {
    void* p = nullptr;
    if (posix_memalign(&p, kAlignment, n) != 0) p = nullptr;
    if (p == nullptr && throw_on_failure)
      TORCH_CHECK(false, "CPU allocator: out of memory: tried to allocate ", n, " bytes");
    return p;
  }

  void AddInUse(size_t c) {
    in_use_ += c;
    if (in_use_ > peak_in_use_) peak_in_use_ = in_use_;
  }

  // Releases cached blocks, least recently used size class first, until `needed` bytes are freed. Blocks of class
  // `keep` (the class of the block being freed; 0 from SetLimit, which no class has) are not released.
  void EvictFor(size_t needed, size_t keep, std::vector<void*>& release) {
    std::vector<std::pair<uint64_t, size_t>> order;
    for (auto& kv : classes_)
      if (kv.first != keep && !kv.second.blocks.empty()) order.emplace_back(kv.second.last_used, kv.first);
    std::sort(order.begin(), order.end());
    size_t freed = 0;
    for (auto& o : order) {
      auto& cls = classes_[o.second];
      while (!cls.blocks.empty() && freed < needed) {
        release.push_back(cls.blocks.back());
        cls.blocks.pop_back();
        cached_bytes_ -= o.second;
        freed += o.second;
        ++evicted_;
      }
      if (freed >= needed) return;
    }
  }

  static size_t DefaultLimit() {
    if (const char* env = std::getenv("MEDVISION_CPU_CACHE_LIMIT")) {
      char* end = nullptr;
      const double v = std::strtod(env, &end);
      double scale = 1;
      if (end != nullptr && (*end == 'k' || *end == 'K')) scale = 1024.0;
      if (end != nullptr && (*end == 'm' || *end == 'M')) scale = 1024.0 * 1024.0;
      if (end != nullptr && (*end == 'g' || *end == 'G')) scale = 1024.0 * 1024.0 * 1024.0;
      if (end != env && v >= 0) return static_cast<size_t>(v * scale);
    }
    // A quarter of the physical memory: the transient working set of a training step (its activations) fits for
    // the models this library trains, and a process whose tensor sizes keep changing cannot hoard more than that.
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0) return static_cast<size_t>(pages) * static_cast<size_t>(page) / 4;
    return size_t{2} << 30;
  }

  std::mutex mutex_;
  std::unordered_map<size_t, SizeClass> classes_;
  size_t limit_;
  size_t cached_bytes_ = 0, in_use_ = 0, peak_in_use_ = 0;
  uint64_t tick_ = 0, hits_ = 0, misses_ = 0, evicted_ = 0;
};

CpuCache& Cache() {
  static CpuCache* cache = new CpuCache();  // never destroyed: tensors may be freed during process exit
  return *cache;
}

// The autograd profiler's memory records (profile_memory): libtorch's default allocator reports each allocation and
// release to the profiler of the thread that makes it; this one does the same. Sizes are kept for blocks allocated
// while a profiler records memory, so that their release reports the same size (a block allocated before profiling
// began is not reported when freed, as with libtorch's allocator).
std::mutex g_profiled_mutex;
std::unordered_map<void*, size_t> g_profiled;
std::atomic<size_t> g_profiled_count{0};
int64_t g_profiled_bytes = 0;

void ReportAllocation(void* p, size_t n) {
  int64_t total;
  {
    std::lock_guard<std::mutex> lock(g_profiled_mutex);
    if (!g_profiled.emplace(p, n).second) return;
    g_profiled_count.fetch_add(1, std::memory_order_relaxed);
    total = g_profiled_bytes += static_cast<int64_t>(n);
  }
  c10::reportMemoryUsageToProfiler(p, static_cast<int64_t>(n), total, total, c10::Device(c10::DeviceType::CPU));
}

void ReportRelease(void* p) {
  size_t n;
  int64_t total;
  {
    std::lock_guard<std::mutex> lock(g_profiled_mutex);
    auto it = g_profiled.find(p);
    if (it == g_profiled.end()) return;
    n = it->second;
    g_profiled.erase(it);
    g_profiled_count.fetch_sub(1, std::memory_order_relaxed);
    total = g_profiled_bytes -= static_cast<int64_t>(n);
  }
  if (c10::memoryProfilingEnabled())
    c10::reportMemoryUsageToProfiler(p, -static_cast<int64_t>(n), total, total, c10::Device(c10::DeviceType::CPU));
}

void CacheDelete(void* p) {
  if (p != nullptr && g_profiled_count.load(std::memory_order_relaxed) > 0) ReportRelease(p);
  Cache().Free(p);
}

// libtorch 1.13 declares Allocator::allocate const, 2.x (from 2.3) non-const; the adapter overrides whichever this
// libtorch has. copy_data (pure virtual from 2.3, absent before) is declared without `override` for the same reason.
c10::DataPtr MakeDataPtr(size_t n) {
  void* p = Cache().Allocate(n);
  if (n > 0 && p != nullptr && c10::memoryProfilingEnabled()) ReportAllocation(p, n);
  return {p, p, &CacheDelete, c10::Device(c10::DeviceType::CPU)};
}
template <bool ConstAllocate, typename Base = c10::Allocator>
struct AllocatorAdapter;
template <typename Base>
struct AllocatorAdapter<true, Base> : Base {
  c10::DataPtr allocate(size_t n) const override { return MakeDataPtr(n); }
};
template <typename Base>
struct AllocatorAdapter<false, Base> : Base {
  c10::DataPtr allocate(size_t n) override { return MakeDataPtr(n); }
};
constexpr bool kConstAllocate =
    std::is_same<decltype(&c10::Allocator::allocate), c10::DataPtr (c10::Allocator::*)(size_t) const>::value;

struct CachingCpuAllocator final : AllocatorAdapter<kConstAllocate> {
  c10::DeleterFnPtr raw_deleter() const override { return &CacheDelete; }
  void copy_data(void* dest, const void* src, std::size_t count) const {
    if (count > 0) std::memcpy(dest, src, count);
  }
};

bool Install() {
  const char* env = std::getenv("MEDVISION_CPU_ALLOCATOR");
  if (env != nullptr && std::strcmp(env, "default") == 0) return false;
  static CachingCpuAllocator* allocator = new CachingCpuAllocator();  // lives as long as the process
  c10::SetAllocator(c10::DeviceType::CPU, allocator, /*priority=*/0);
  return true;
}
const bool g_installed = Install();

#else
const bool g_installed = false;
#endif

// Runs `action` on the cache when this process uses it; does nothing with MEDVISION_CPU_ALLOCATOR=default or on a C
// library without malloc_usable_size (`action` is a generic lambda, so it is not compiled there).
template <typename Action>
void WithCache(Action&& action) {
#if defined(MVT_CPU_CACHING_SUPPORTED)
  if (g_installed) action(Cache());
#endif
}

}  // namespace
}  // namespace mvt

MVT_API int32_t mvt_cpu_cache_installed(void) { return mvt::g_installed ? 1 : 0; }

MVT_API int32_t mvt_cpu_cache_stats(mvt_cpu_memory_stats* out) {
  MVT_GUARD_BEGIN
  if (out == nullptr) throw std::invalid_argument("null statistics pointer");
  std::memset(out, 0, sizeof(*out));
  mvt::WithCache([&](auto& cache) { cache.Stats(out); });
  return 0;
  MVT_GUARD_END(-1)
}

MVT_API int32_t mvt_cpu_cache_set_limit(int64_t bytes) {
  MVT_GUARD_BEGIN
  if (bytes < 0) throw std::invalid_argument("the CPU cache limit must be zero or positive");
  mvt::WithCache([&](auto& cache) { cache.SetLimit(static_cast<size_t>(bytes)); });
  return 0;
  MVT_GUARD_END(-1)
}

MVT_API int32_t mvt_cpu_cache_empty(void) { MVT_STATUS_OP(mvt::WithCache([](auto& cache) { cache.Empty(); })) }

MVT_API int32_t mvt_cpu_cache_reset_peak(void) { MVT_STATUS_OP(mvt::WithCache([](auto& cache) { cache.ResetPeak(); })) }
