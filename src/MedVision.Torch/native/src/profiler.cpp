// The autograd profiler: libtorch's legacy profiler (torch.autograd.profiler.profile(use_kineto=False)), which is in
// 1.13 and 2.x alike. Its raw push/pop events are paired here into ranges; nesting and self times are the managed
// side's (MedVision.Torch.Profiling).
#include "common.h"
#include <torch/csrc/autograd/profiler_legacy.h>
#include <ATen/record_function.h>
#include <memory>
#include <sstream>
#include <unordered_map>

namespace {

namespace prof = torch::autograd::profiler;

struct ProfileEvent {
  int32_t kind;  // 0 range, 1 memory
  std::string name;
  int64_t thread;
  double start_us;
  double duration_us;
  int64_t bytes;
  std::string shapes;
};

struct Profile {
  std::vector<ProfileEvent> events;
};

std::string ShapesText(const std::vector<std::vector<int64_t>>& shapes) {
  if (shapes.empty()) return std::string();
  std::ostringstream out;
  out << '[';
  for (size_t i = 0; i < shapes.size(); ++i) {
    if (i > 0) out << ", ";
    out << '[';
    for (size_t j = 0; j < shapes[i].size(); ++j) {
      if (j > 0) out << ", ";
      out << shapes[i][j];
    }
    out << ']';
  }
  out << ']';
  return out.str();
}

// User ranges (mvt_profiler_push_range): RecordFunction guards, innermost last, per thread.
thread_local std::vector<std::unique_ptr<at::RecordFunction>> t_ranges;

}  // namespace

MVT_API int32_t mvt_profiler_start(int32_t record_shapes, int32_t profile_memory) {
  MVT_GUARD_BEGIN
  if (torch::profiler::impl::profilerEnabled())
    throw std::invalid_argument("a profiler is already running on this thread");
  prof::enableProfilerLegacy(torch::profiler::impl::ProfilerConfig(
      torch::profiler::impl::ProfilerState::CPU, record_shapes != 0, profile_memory != 0));
  return 0;
  MVT_GUARD_END(-1)
}

MVT_API int32_t mvt_profiler_enabled(void) {
  MVT_GUARD_BEGIN
  return torch::profiler::impl::profilerEnabled() ? 1 : 0;
  MVT_GUARD_END(-1)
}

MVT_API mvt_profile mvt_profiler_stop(void) {
  MVT_GUARD_BEGIN
  if (!torch::profiler::impl::profilerEnabled())
    throw std::invalid_argument("no profiler is running on this thread");
  t_ranges.clear();  // user ranges left open end here
  prof::thread_event_lists lists = prof::disableProfilerLegacy();
  auto profile = std::make_unique<Profile>();
  // The profile's start: the "__start_profile" mark (the earliest event when it is missing).
  const prof::LegacyEvent* origin = nullptr;
  for (const auto& list : lists)
    for (const auto& e : list)
      if (e.kind() == prof::EventKind::Mark && std::string(e.name()) == "__start_profile") origin = &e;
  for (const auto& list : lists) {
    // A pop closes the push of the same RecordFunction (its handle); ranges nest per thread.
    std::unordered_map<uint64_t, const prof::LegacyEvent*> open;
    std::vector<const prof::LegacyEvent*> stack;
    for (const auto& e : list) {
      if (origin == nullptr) origin = &e;
      switch (e.kind()) {
        case prof::EventKind::PushRange:
          open[e.handle()] = &e;
          stack.push_back(&e);
          break;
        case prof::EventKind::PopRange: {
          const prof::LegacyEvent* push = nullptr;
          auto it = open.find(e.handle());
          if (it != open.end()) {
            push = it->second;
            open.erase(it);
          } else if (!stack.empty()) {
            push = stack.back();
            open.erase(push->handle());
          }
          if (push == nullptr) break;
          for (auto s = stack.rbegin(); s != stack.rend(); ++s)
            if (*s == push) { stack.erase(std::next(s).base()); break; }
          profile->events.push_back(ProfileEvent{0, push->name(), static_cast<int64_t>(push->threadId()),
                                                 origin->cpuElapsedUs(*push), push->cpuElapsedUs(e), 0,
                                                 ShapesText(push->shapes())});
          break;
        }
        case prof::EventKind::MemoryAlloc:
          if (e.cpuMemoryUsage() != 0)
            profile->events.push_back(ProfileEvent{1, "[memory]", static_cast<int64_t>(e.threadId()),
                                                   origin->cpuElapsedUs(e), 0, e.cpuMemoryUsage(), std::string()});
          break;
        default:
          break;
      }
    }
  }
  return profile.release();
  MVT_GUARD_END(nullptr)
}

MVT_API int64_t mvt_profile_count(mvt_profile p) {
  MVT_GUARD_BEGIN
  if (p == nullptr) throw std::invalid_argument("null profile");
  return static_cast<int64_t>(static_cast<Profile*>(p)->events.size());
  MVT_GUARD_END(-1)
}

MVT_API int32_t mvt_profile_event(mvt_profile p, int64_t index, int32_t* kind, const char** name, int64_t* thread,
                                  double* start_us, double* duration_us, int64_t* bytes, const char** shapes) {
  MVT_GUARD_BEGIN
  if (p == nullptr) throw std::invalid_argument("null profile");
  auto& events = static_cast<Profile*>(p)->events;
  if (index < 0 || index >= static_cast<int64_t>(events.size())) throw std::out_of_range("profile event index out of range");
  const auto& e = events[static_cast<size_t>(index)];
  *kind = e.kind;
  *name = e.name.c_str();
  *thread = e.thread;
  *start_us = e.start_us;
  *duration_us = e.duration_us;
  *bytes = e.bytes;
  *shapes = e.shapes.c_str();
  return 0;
  MVT_GUARD_END(-1)
}

MVT_API void mvt_profile_free(mvt_profile p) { delete static_cast<Profile*>(p); }

MVT_API int32_t mvt_profiler_push_range(const char* name) {
  MVT_GUARD_BEGIN
  if (name == nullptr) throw std::invalid_argument("null range name");
  auto guard = std::make_unique<at::RecordFunction>(at::RecordScope::USER_SCOPE);
  if (guard->isActive()) guard->before(std::string(name));
  t_ranges.push_back(std::move(guard));
  return 0;
  MVT_GUARD_END(-1)
}

MVT_API int32_t mvt_profiler_pop_range(void) {
  MVT_GUARD_BEGIN
  if (t_ranges.empty()) throw std::invalid_argument("no profiler range is open on this thread");
  t_ranges.pop_back();  // the guard's destructor ends the range
  return 0;
  MVT_GUARD_END(-1)
}
