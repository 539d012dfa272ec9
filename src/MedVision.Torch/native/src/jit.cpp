// TorchScript modules (torch.jit.script / torch.jit.trace files): load, inspect, run, change and save them.
#include "common.h"
#include <torch/script.h>
#include <torch/csrc/jit/runtime/graph_executor.h>
#include <cstring>

using mvt::T;
using mvt::wrap;
using mvt::DeviceOf;

namespace {

torch::jit::Module& M(mvt_script_module h) {
  if (h == nullptr) throw std::invalid_argument("null script module handle");
  return *static_cast<torch::jit::Module*>(h);
}

std::string Str(const char* s, const char* what) {
  if (s == nullptr) throw std::invalid_argument(std::string("null ") + what);
  return std::string(s);
}

// Writes a NUL-terminated copy of s (truncated to capacity - 1 bytes) and returns s's full length.
int32_t CopyOut(const std::string& s, char* buffer, int32_t capacity) {
  if (buffer != nullptr && capacity > 0) {
    const auto n = std::min<size_t>(s.size(), static_cast<size_t>(capacity - 1));
    std::memcpy(buffer, s.data(), n);
    buffer[n] = '\0';
  }
  return static_cast<int32_t>(s.size());
}

// The outputs of the last mvt_jit_invoke on this thread, until mvt_jit_take_outputs wraps them.
thread_local std::vector<at::Tensor> t_outputs;

void Flatten(const c10::IValue& v, std::vector<at::Tensor>& out, const std::string& method) {
  if (v.isTensor()) {
    out.push_back(v.toTensor());
  } else if (v.isTuple()) {
    for (const auto& e : v.toTuple()->elements()) Flatten(e, out, method);
  } else if (v.isList()) {
    auto list = v.toList();
    for (size_t i = 0; i < list.size(); ++i) Flatten(list.get(i), out, method);
  } else {
    throw std::invalid_argument("method '" + method + "' returned a value of kind " + v.tagKind() +
                                "; only tensors and (nested) tuples or lists of tensors can be returned");
  }
}

template <typename Named>
int32_t CountOf(const Named& items) {
  int32_t n = 0;
  for (const auto& item : items) {
    (void)item;
    ++n;
  }
  return n;
}

}  // namespace

MVT_API mvt_script_module mvt_jit_load(const char* path, int32_t has_device, int32_t device_type, int32_t device_index) {
  MVT_GUARD_BEGIN
  c10::optional<c10::Device> device;
  if (has_device != 0)
    device = DeviceOf(device_type, device_index);
  torch::jit::Module module = torch::jit::load(Str(path, "path"), device);
  return new torch::jit::Module(std::move(module));
  MVT_GUARD_END(nullptr)
}

MVT_API void mvt_jit_free(mvt_script_module m) { delete static_cast<torch::jit::Module*>(m); }

// Saves the module with n extra files (torch.jit.save's _extra_files): names[i] holds contents[i] (lengths[i] bytes).
MVT_API int32_t mvt_jit_save(mvt_script_module m, const char* path, const char* const* names, const char* const* contents,
                             const int64_t* lengths, int32_t n) {
  MVT_GUARD_BEGIN
  if (n < 0 || (n > 0 && (names == nullptr || contents == nullptr || lengths == nullptr)))
    throw std::invalid_argument("invalid extra-file arrays");
  torch::jit::ExtraFilesMap extra;
  for (int32_t i = 0; i < n; ++i) {
    if (lengths[i] < 0 || (lengths[i] > 0 && contents[i] == nullptr)) throw std::invalid_argument("invalid extra-file content");
    extra[Str(names[i], "extra-file name")] = std::string(contents[i], static_cast<size_t>(lengths[i]));
  }
  M(m).save(Str(path, "path"), extra);
  return 0;
  MVT_GUARD_END(-1)
}

MVT_API int32_t mvt_jit_type_name(mvt_script_module m, char* buffer, int32_t capacity) {
  MVT_GUARD_BEGIN
  const auto& name = M(m).type()->name();
  return CopyOut(name ? name->name() : std::string("ScriptModule"), buffer, capacity);
  MVT_GUARD_END(-1)
}

MVT_API int32_t mvt_jit_child_count(mvt_script_module m) {
  MVT_GUARD_BEGIN return CountOf(M(m).named_children()); MVT_GUARD_END(-1)
}

// The index-th direct child (handle) and its name (returns the name's full length).
template <typename F>
auto WithChild(torch::jit::Module& m, int32_t index, F f) {
  int32_t i = 0;
  for (const auto& child : m.named_children())
    if (i++ == index) return f(child);
  throw std::out_of_range("child module index " + std::to_string(index) + " is out of range");
}

MVT_API mvt_script_module mvt_jit_child(mvt_script_module m, int32_t index) {
  MVT_GUARD_BEGIN
  return WithChild(M(m), index, [](const auto& child) -> mvt_script_module { return new torch::jit::Module(child.value); });
  MVT_GUARD_END(nullptr)
}

MVT_API int32_t mvt_jit_child_name(mvt_script_module m, int32_t index, char* buffer, int32_t capacity) {
  MVT_GUARD_BEGIN
  return WithChild(M(m), index, [&](const auto& child) { return CopyOut(child.name, buffer, capacity); });
  MVT_GUARD_END(-1)
}

// kind 0: parameters, 1: buffers (the module's own, not its children's)
MVT_API int32_t mvt_jit_tensor_count(mvt_script_module m, int32_t kind) {
  MVT_GUARD_BEGIN
  return kind == 0 ? CountOf(M(m).named_parameters(/*recurse=*/false)) : CountOf(M(m).named_buffers(/*recurse=*/false));
  MVT_GUARD_END(-1)
}

// The module's own index-th parameter (kind 0) or buffer (kind 1).
template <typename F>
auto WithTensor(torch::jit::Module& m, int32_t kind, int32_t index, F f) {
  int32_t i = 0;
  if (kind == 0) {
    for (const auto& item : m.named_parameters(/*recurse=*/false))
      if (i++ == index) return f(item.name, item.value);
  } else {
    for (const auto& item : m.named_buffers(/*recurse=*/false))
      if (i++ == index) return f(item.name, item.value);
  }
  throw std::out_of_range("tensor index " + std::to_string(index) + " is out of range");
}

// The tensor itself, not a copy: in-place changes and gradients are shared with the module.
MVT_API mvt_tensor mvt_jit_tensor(mvt_script_module m, int32_t kind, int32_t index) {
  MVT_GUARD_BEGIN
  return WithTensor(M(m), kind, index, [](const std::string&, const at::Tensor& t) { return wrap(t); });
  MVT_GUARD_END(nullptr)
}

MVT_API int32_t mvt_jit_tensor_name(mvt_script_module m, int32_t kind, int32_t index, char* buffer, int32_t capacity) {
  MVT_GUARD_BEGIN
  return WithTensor(M(m), kind, index, [&](const std::string& name, const at::Tensor&) { return CopyOut(name, buffer, capacity); });
  MVT_GUARD_END(-1)
}

// Sets this module's own training flag (not its children's: the managed side walks the tree).
MVT_API int32_t mvt_jit_set_training(mvt_script_module m, int32_t on) {
  MVT_GUARD_BEGIN
  auto& module = M(m);
  auto slot = module.type()->findAttributeSlot("training");
  if (!slot) throw std::invalid_argument("this script module has no 'training' attribute");
  module._ivalue()->setSlot(*slot, c10::IValue(on != 0));
  return 0;
  MVT_GUARD_END(-1)
}

MVT_API int32_t mvt_jit_is_training(mvt_script_module m) {
  MVT_GUARD_BEGIN return M(m).is_training() ? 1 : 0; MVT_GUARD_END(-1)
}

// The module's method names, separated by '\n'; returns the full length.
MVT_API int32_t mvt_jit_method_names(mvt_script_module m, char* buffer, int32_t capacity) {
  MVT_GUARD_BEGIN
  std::string names;
  for (const auto& method : M(m).get_methods()) {
    if (!names.empty()) names += '\n';
    names += method.name();
  }
  return CopyOut(names, buffer, capacity);
  MVT_GUARD_END(-1)
}

// Runs a method on tensor arguments; returns the number of tensors in its result (flattened in order), which
// mvt_jit_take_outputs then hands over on the same thread. optimize = 0 runs the graph without the graph executor's
// optimisations (for this call, on this thread), so results do not depend on how often the method ran before.
MVT_API int32_t mvt_jit_invoke(mvt_script_module m, const char* method, const mvt_tensor* inputs, int32_t n, int32_t optimize) {
  MVT_GUARD_BEGIN
  mvt::SignalsDeferred signals_deferred;
  mvt::EnsureOneDnnChecked();
  t_outputs.clear();
  torch::jit::GraphOptimizerEnabledGuard optimizer(optimize != 0);
  auto& module = M(m);
  const std::string name = Str(method, "method name");
  auto found = module.find_method(name);
  if (!found) throw std::invalid_argument("the script module has no method '" + name + "'");
  std::vector<c10::IValue> args;
  for (const auto& t : mvt::TensorList(inputs, n)) args.emplace_back(t);
  c10::IValue result = (*found)(std::move(args));
  std::vector<at::Tensor> outputs;
  Flatten(result, outputs, name);
  t_outputs = std::move(outputs);
  return static_cast<int32_t>(t_outputs.size());
  MVT_GUARD_END(-1)
}

MVT_API int32_t mvt_jit_take_outputs(mvt_tensor* out, int32_t n) {
  MVT_GUARD_BEGIN
  if (n != static_cast<int32_t>(t_outputs.size()))
    throw std::invalid_argument("expected " + std::to_string(t_outputs.size()) + " outputs to be taken, not " + std::to_string(n));
  if (n > 0 && out == nullptr) throw std::invalid_argument("null output array");
  for (int32_t i = 0; i < n; ++i) out[i] = wrap(std::move(t_outputs[static_cast<size_t>(i)]));
  t_outputs.clear();
  return 0;
  MVT_GUARD_END(-1)
}
