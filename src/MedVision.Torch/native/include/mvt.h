/*
 * MedVision.Torch native shim: a small C ABI over libtorch (1.13 and 2.x).
 *
 * Conventions
 *  - A tensor is an opaque handle (mvt_tensor) owning one at::Tensor reference; release it with mvt_free.
 *  - Functions returning a handle return NULL on failure; functions returning int32_t return 0 on success
 *    and -1 on failure (count-returning functions return the count, or -1). On failure, mvt_last_error() and
 *    mvt_last_error_kind() describe the C++ exception that was caught; no exception ever crosses this ABI.
 *  - dtype codes are c10::ScalarType values (Byte 0, Char 1, Short 2, Int 3, Long 4, Half 5, Float 6,
 *    Double 7, Bool 11, BFloat16 15); device types are c10::DeviceType values (CPU 0, CUDA 1).
 *  - Operation codes (unary, binary, reduction, ...) are listed in the managed NativeOps enums and in ops.cpp.
 */
#pragma once
#include <stdint.h>

#if defined(MVT_BUILDING)
#define MVT_API extern "C" __attribute__((visibility("default")))
#else
#define MVT_API extern "C"
#endif

typedef void* mvt_tensor;

/* errors, library information */
MVT_API const char* mvt_last_error(void);
MVT_API int32_t mvt_last_error_kind(void);
MVT_API const char* mvt_torch_version(void);
MVT_API int32_t mvt_abi_version(void);
MVT_API int32_t mvt_has_mkldnn(void);
MVT_API int32_t mvt_cuda_is_available(void);
MVT_API int32_t mvt_cuda_device_count(void);
// The CUDA runtime version libtorch was compiled against (e.g. 12040 for 12.4); 0 for a CPU-only libtorch.
MVT_API int32_t mvt_cuda_compiled_version(void);
MVT_API int32_t mvt_cuda_synchronize(int32_t device_index);
MVT_API int32_t mvt_get_num_threads(void);
MVT_API int32_t mvt_set_num_threads(int32_t n);
MVT_API int32_t mvt_manual_seed(uint64_t seed);
MVT_API mvt_tensor mvt_rng_get_state(void);
MVT_API int32_t mvt_rng_set_state(mvt_tensor state);
MVT_API int32_t mvt_set_conv_routing(int32_t mode);
MVT_API int32_t mvt_get_conv_routing(void);
MVT_API int32_t mvt_set_linear_routing(int32_t mode);
MVT_API int32_t mvt_get_linear_routing(void);
MVT_API int32_t mvt_onednn_conv_backward_available(void);
/* libtorch's use of oneDNN (torch.backends.mkldnn.enabled): 1 on, 0 off (then no convolution is routed to oneDNN). */
MVT_API int32_t mvt_set_onednn_enabled(int32_t enabled);
MVT_API int32_t mvt_get_onednn_enabled(void);
/* Runs (once per process, also before the first convolution) a check of oneDNN's convolution gradients against a
   float64 reference; on a mismatch oneDNN is turned off. 1 passed, 0 failed (oneDNN now off), 2 skipped
   (MEDVISION_ONEDNN set, oneDNN absent or already off), -1 error. */
MVT_API int32_t mvt_onednn_self_check(void);

/* CPU memory: the caching allocator for large CPU tensors (memory.cpp) */
typedef struct {
  int64_t cached_bytes, cached_blocks, large_bytes_in_use, peak_large_bytes_in_use;
  int64_t cache_hits, cache_misses, evicted_blocks, limit, min_cached_block;
} mvt_cpu_memory_stats;
MVT_API int32_t mvt_cpu_cache_installed(void);
MVT_API int32_t mvt_cpu_cache_stats(mvt_cpu_memory_stats* out);
MVT_API int32_t mvt_cpu_cache_set_limit(int64_t bytes);
MVT_API int32_t mvt_cpu_cache_empty(void);
MVT_API int32_t mvt_cpu_cache_reset_peak(void);

/* lifetime */
MVT_API void mvt_free(mvt_tensor t);
MVT_API int64_t mvt_live_tensors(void);

/* creation */
MVT_API mvt_tensor mvt_from_data(const void* data, const int64_t* shape, int32_t ndim, int32_t dtype,
                                 int32_t device_type, int32_t device_index, int32_t requires_grad);
MVT_API mvt_tensor mvt_empty(const int64_t* shape, int32_t ndim, int32_t dtype, int32_t device_type, int32_t device_index, int32_t requires_grad);
MVT_API mvt_tensor mvt_full(const int64_t* shape, int32_t ndim, double value, int32_t dtype, int32_t device_type, int32_t device_index, int32_t requires_grad);
MVT_API mvt_tensor mvt_arange(double start, double end, double step, int32_t dtype, int32_t device_type, int32_t device_index, int32_t requires_grad);
MVT_API mvt_tensor mvt_linspace(double start, double end, int64_t steps, int32_t dtype, int32_t device_type, int32_t device_index, int32_t requires_grad);
MVT_API mvt_tensor mvt_rand(const int64_t* shape, int32_t ndim, int32_t normal, int32_t dtype, int32_t device_type, int32_t device_index, int32_t requires_grad);
MVT_API mvt_tensor mvt_randint(int64_t low, int64_t high, const int64_t* shape, int32_t ndim, int32_t dtype, int32_t device_type, int32_t device_index);
MVT_API mvt_tensor mvt_randperm(int64_t n, int32_t device_type, int32_t device_index);

/* properties and data */
MVT_API int32_t mvt_ndim(mvt_tensor t);
MVT_API int32_t mvt_shape(mvt_tensor t, int64_t* out, int32_t capacity);
MVT_API int64_t mvt_numel(mvt_tensor t);
MVT_API int32_t mvt_dtype(mvt_tensor t);
MVT_API int32_t mvt_device(mvt_tensor t, int32_t* type, int32_t* index);
MVT_API int32_t mvt_is_contiguous(mvt_tensor t);
MVT_API int32_t mvt_copy_to(mvt_tensor t, void* dst, int64_t nbytes);
MVT_API int32_t mvt_copy_from(mvt_tensor t, const void* src, int64_t nbytes);
MVT_API int32_t mvt_item(mvt_tensor t, double* out);
MVT_API int32_t mvt_item_long(mvt_tensor t, int64_t* out);
MVT_API mvt_tensor mvt_to(mvt_tensor t, int32_t dtype, int32_t device_type, int32_t device_index, int32_t non_blocking, int32_t copy);
MVT_API mvt_tensor mvt_pin_memory(mvt_tensor t);
MVT_API mvt_tensor mvt_contiguous(mvt_tensor t);
MVT_API mvt_tensor mvt_clone(mvt_tensor t);
MVT_API mvt_tensor mvt_detach(mvt_tensor t);
MVT_API mvt_tensor mvt_alias(mvt_tensor t);
/* the tensor's version counter (bumped by every in-place change) */
MVT_API int64_t mvt_version(mvt_tensor t);

/* autograd */
MVT_API int32_t mvt_requires_grad(mvt_tensor t);
/* the address of the tensor's TensorImpl: equal for two handles of one tensor (tied weights); 0 on error */
MVT_API int64_t mvt_tensor_identity(mvt_tensor t);
/* self takes data's storage, dtype and device, keeping its identity and autograd metadata (PyTorch's `self.data = data`) */
MVT_API int32_t mvt_set_data(mvt_tensor self, mvt_tensor data);
MVT_API int32_t mvt_set_requires_grad(mvt_tensor t, int32_t value);
MVT_API int32_t mvt_is_leaf(mvt_tensor t);
MVT_API int32_t mvt_backward(mvt_tensor t, mvt_tensor grad, int32_t retain_graph, int32_t create_graph);
MVT_API int32_t mvt_grad(mvt_tensor t, mvt_tensor* out);
MVT_API int32_t mvt_set_grad(mvt_tensor t, mvt_tensor grad);
MVT_API int32_t mvt_retain_grad(mvt_tensor t);
MVT_API int32_t mvt_retains_grad(mvt_tensor t);
/* torch::autograd::grad; grad_outputs may be null or hold nulls; results[n_inputs] receives new handles (null for an
   unused input when allow_unused is set) */
MVT_API int32_t mvt_autograd_grad(const mvt_tensor* outputs, const mvt_tensor* grad_outputs, int32_t n_outputs,
                                  const mvt_tensor* inputs, int32_t n_inputs, int32_t retain_graph,
                                  int32_t create_graph, int32_t allow_unused, mvt_tensor* results);
MVT_API int32_t mvt_grad_fn_name(mvt_tensor t, char* buffer, int32_t capacity);
MVT_API int32_t mvt_grad_enabled(void);
MVT_API int32_t mvt_set_grad_enabled(int32_t enabled);
/* this thread's ReLU backward pass from now on: 0 autograd's, 1 guided backpropagation, 2 deconvolution; previous may
   be null; the count is of the ReLUs recorded with a changed backward pass on this thread since it started */
MVT_API int32_t mvt_set_relu_gradient(int32_t mode, int32_t* previous);
MVT_API int64_t mvt_relu_gradient_overrides(void);

/* elementwise and linear algebra (codes: see ops.cpp) */
MVT_API mvt_tensor mvt_unary(int32_t op, mvt_tensor t);
MVT_API mvt_tensor mvt_unary_scalar(int32_t op, mvt_tensor t, double s);
MVT_API mvt_tensor mvt_binary(int32_t op, mvt_tensor a, mvt_tensor b);
MVT_API mvt_tensor mvt_add_scaled(mvt_tensor a, mvt_tensor b, double alpha);
MVT_API mvt_tensor mvt_clamp(mvt_tensor t, int32_t has_min, double min, int32_t has_max, double max);
MVT_API mvt_tensor mvt_where(mvt_tensor cond, mvt_tensor a, mvt_tensor b);
MVT_API mvt_tensor mvt_softmax(mvt_tensor t, int64_t dim, int32_t log);
MVT_API mvt_tensor mvt_one_hot(mvt_tensor t, int64_t num_classes);
MVT_API mvt_tensor mvt_allclose(mvt_tensor a, mvt_tensor b, double rtol, double atol);

/* reductions */
MVT_API mvt_tensor mvt_reduce(int32_t op, mvt_tensor t, const int64_t* dims, int32_t ndims, int32_t keepdim);
MVT_API mvt_tensor mvt_std_var(int32_t is_var, mvt_tensor t, const int64_t* dims, int32_t ndims, int32_t unbiased, int32_t keepdim);
MVT_API int32_t mvt_max_min_dim(int32_t is_min, mvt_tensor t, int64_t dim, int32_t keepdim, mvt_tensor* values, mvt_tensor* indices);
MVT_API mvt_tensor mvt_arg_max_min(int32_t is_min, mvt_tensor t, int32_t has_dim, int64_t dim, int32_t keepdim);
MVT_API int32_t mvt_sort(mvt_tensor t, int64_t dim, int32_t descending, int32_t stable, mvt_tensor* values, mvt_tensor* indices);
MVT_API int32_t mvt_topk(mvt_tensor t, int64_t k, int64_t dim, int32_t largest, mvt_tensor* values, mvt_tensor* indices);
MVT_API mvt_tensor mvt_cumsum(mvt_tensor t, int64_t dim);

/* shape and indexing */
MVT_API mvt_tensor mvt_view(mvt_tensor t, const int64_t* shape, int32_t ndim, int32_t reshape);
MVT_API mvt_tensor mvt_flatten(mvt_tensor t, int64_t start, int64_t end);
MVT_API mvt_tensor mvt_squeeze(mvt_tensor t, int32_t has_dim, int64_t dim);
MVT_API mvt_tensor mvt_unsqueeze(mvt_tensor t, int64_t dim);
MVT_API mvt_tensor mvt_permute(mvt_tensor t, const int64_t* dims, int32_t ndim);
MVT_API mvt_tensor mvt_transpose(mvt_tensor t, int64_t d0, int64_t d1);
MVT_API mvt_tensor mvt_expand(mvt_tensor t, const int64_t* shape, int32_t ndim);
MVT_API mvt_tensor mvt_repeat(mvt_tensor t, const int64_t* repeats, int32_t ndim);
MVT_API mvt_tensor mvt_flip(mvt_tensor t, const int64_t* dims, int32_t ndim);
MVT_API mvt_tensor mvt_cat(const mvt_tensor* ts, int32_t n, int64_t dim, int32_t stack);
MVT_API int32_t mvt_split(mvt_tensor t, const int64_t* sizes, int32_t nsizes, int64_t dim, mvt_tensor* out, int32_t capacity);
MVT_API int32_t mvt_chunk(mvt_tensor t, int64_t chunks, int64_t dim, mvt_tensor* out, int32_t capacity);
MVT_API mvt_tensor mvt_narrow(mvt_tensor t, int64_t dim, int64_t start, int64_t length);
MVT_API mvt_tensor mvt_slice(mvt_tensor t, int64_t dim, int64_t start, int64_t end, int64_t step);
MVT_API mvt_tensor mvt_select(mvt_tensor t, int64_t dim, int64_t index);
MVT_API mvt_tensor mvt_index_select(mvt_tensor t, int64_t dim, mvt_tensor index);
MVT_API mvt_tensor mvt_gather(mvt_tensor t, int64_t dim, mvt_tensor index);
MVT_API mvt_tensor mvt_masked_fill(mvt_tensor t, mvt_tensor mask, double value);
MVT_API mvt_tensor mvt_masked_select(mvt_tensor t, mvt_tensor mask);

/* in-place (the ops an optimizer needs) */
MVT_API int32_t mvt_inplace_binary(int32_t op, mvt_tensor t, mvt_tensor other, double alpha);
MVT_API int32_t mvt_inplace_scalar(int32_t op, mvt_tensor t, double s);
MVT_API int32_t mvt_addcmul_(mvt_tensor t, mvt_tensor a, mvt_tensor b, double value, int32_t div);
MVT_API int32_t mvt_lerp_(mvt_tensor t, mvt_tensor end, double weight);

/* neural-network functional ops */
MVT_API mvt_tensor mvt_conv(mvt_tensor x, mvt_tensor w, mvt_tensor b, const int64_t* stride, const int64_t* padding,
                            const int64_t* dilation, int32_t nspatial, int64_t groups);
/* a oneDNN-layout copy of a convolution weight that mvt_conv accepts in place of the weight (inference, CPU float32) */
MVT_API mvt_tensor mvt_onednn_pack_conv_weight(mvt_tensor w, const int64_t* stride, const int64_t* padding,
                                               const int64_t* dilation, int32_t nspatial, int64_t groups);
MVT_API mvt_tensor mvt_conv_transpose(mvt_tensor x, mvt_tensor w, mvt_tensor b, const int64_t* stride, const int64_t* padding,
                                      const int64_t* output_padding, const int64_t* dilation, int32_t nspatial, int64_t groups);
MVT_API mvt_tensor mvt_linear(mvt_tensor x, mvt_tensor w, mvt_tensor b);
MVT_API mvt_tensor mvt_batch_norm(mvt_tensor x, mvt_tensor w, mvt_tensor b, mvt_tensor running_mean, mvt_tensor running_var,
                                  int32_t training, double momentum, double eps);
MVT_API mvt_tensor mvt_instance_norm(mvt_tensor x, mvt_tensor w, mvt_tensor b, mvt_tensor running_mean, mvt_tensor running_var,
                                     int32_t use_input_stats, double momentum, double eps);
MVT_API mvt_tensor mvt_group_norm(mvt_tensor x, int64_t groups, mvt_tensor w, mvt_tensor b, double eps);
MVT_API mvt_tensor mvt_layer_norm(mvt_tensor x, const int64_t* shape, int32_t ndim, mvt_tensor w, mvt_tensor b, double eps);
MVT_API mvt_tensor mvt_max_pool(mvt_tensor x, const int64_t* kernel, const int64_t* stride, const int64_t* padding,
                                const int64_t* dilation, int32_t nspatial, int32_t ceil_mode);
MVT_API mvt_tensor mvt_avg_pool(mvt_tensor x, const int64_t* kernel, const int64_t* stride, const int64_t* padding,
                                int32_t nspatial, int32_t ceil_mode, int32_t count_include_pad);
MVT_API mvt_tensor mvt_adaptive_pool(mvt_tensor x, const int64_t* output, int32_t nspatial, int32_t max);
MVT_API mvt_tensor mvt_dropout(mvt_tensor x, double p, int32_t training, int32_t feature);
MVT_API mvt_tensor mvt_pairwise_distance(mvt_tensor a, mvt_tensor b, double p, double eps, int32_t keepdim);
MVT_API mvt_tensor mvt_cosine_similarity(mvt_tensor a, mvt_tensor b, int64_t dim, double eps);
MVT_API mvt_tensor mvt_normalize(mvt_tensor x, double p, int64_t dim, double eps);
MVT_API mvt_tensor mvt_interpolate(mvt_tensor x, const int64_t* size, int32_t nspatial, int32_t mode, int32_t align_corners);
MVT_API mvt_tensor mvt_interpolate_scale(mvt_tensor x, const double* scales, int32_t nspatial, int32_t mode, int32_t align_corners, int32_t recompute);
/* Autocast (torch.autocast) on this thread; device 0 CPU, 1 CUDA; dtype a c10::ScalarType code. Enter saves the previous
 * state into prev_enabled and prev_dtype for the matching exit; state returns 1 when enabled (its dtype in dtype). */
MVT_API int32_t mvt_autocast_enter(int32_t device, int32_t enabled, int32_t dtype, int32_t* prev_enabled, int32_t* prev_dtype);
MVT_API int32_t mvt_autocast_exit(int32_t device, int32_t prev_enabled, int32_t prev_dtype);
MVT_API int32_t mvt_autocast_state(int32_t device, int32_t* dtype);
MVT_API mvt_tensor mvt_pad(mvt_tensor x, const int64_t* pads, int32_t npads, int32_t mode, double value);
MVT_API mvt_tensor mvt_affine_grid(mvt_tensor theta, const int64_t* size, int32_t ndim, int32_t align_corners);
MVT_API mvt_tensor mvt_grid_sample(mvt_tensor x, mvt_tensor grid, int32_t mode, int32_t padding_mode, int32_t align_corners);
MVT_API mvt_tensor mvt_activation(int32_t op, mvt_tensor x, double a, double b);

/* losses (reduction: 0 none, 1 mean, 2 sum) */
MVT_API mvt_tensor mvt_cross_entropy(mvt_tensor logits, mvt_tensor target, mvt_tensor weight, int32_t reduction,
                                     int64_t ignore_index, double label_smoothing);
MVT_API mvt_tensor mvt_nll_loss(mvt_tensor logp, mvt_tensor target, mvt_tensor weight, int32_t reduction, int64_t ignore_index);
MVT_API mvt_tensor mvt_bce_with_logits(mvt_tensor logits, mvt_tensor target, mvt_tensor weight, mvt_tensor pos_weight, int32_t reduction);
MVT_API mvt_tensor mvt_bce(mvt_tensor probs, mvt_tensor target, mvt_tensor weight, int32_t reduction);
MVT_API mvt_tensor mvt_regression_loss(int32_t kind, mvt_tensor x, mvt_tensor y, int32_t reduction, double beta);
MVT_API mvt_tensor mvt_pair_loss(int32_t kind, mvt_tensor a, mvt_tensor b, mvt_tensor c, int32_t reduction, double margin, double p, double eps, int32_t flag);

/* indexing.cpp: scatter, triangular parts, roll, nonzero, unique, unfold, einsum, cdist, eye, cumprod, logit, bincount, median, quantile */
MVT_API mvt_tensor mvt_scatter(int32_t op, mvt_tensor t, int64_t dim, mvt_tensor index, mvt_tensor src, int32_t include_self);
MVT_API mvt_tensor mvt_tri(mvt_tensor t, int64_t diagonal, int32_t upper);
MVT_API mvt_tensor mvt_roll(mvt_tensor t, const int64_t* shifts, int32_t nshifts, const int64_t* dims, int32_t ndims);
MVT_API mvt_tensor mvt_nonzero(mvt_tensor t);
MVT_API int32_t mvt_unique(mvt_tensor t, int32_t sorted, int32_t return_inverse, int32_t return_counts, mvt_tensor* values, mvt_tensor* inverse, mvt_tensor* counts);
MVT_API mvt_tensor mvt_unfold(mvt_tensor t, int64_t dim, int64_t size, int64_t step);
MVT_API mvt_tensor mvt_einsum(const char* equation, const mvt_tensor* ts, int32_t n);
MVT_API mvt_tensor mvt_cdist(mvt_tensor a, mvt_tensor b, double p);
MVT_API mvt_tensor mvt_eye(int64_t n, int64_t m, int32_t dtype, int32_t device_type, int32_t device_index);
MVT_API mvt_tensor mvt_cumprod(mvt_tensor t, int64_t dim);
MVT_API mvt_tensor mvt_logit(mvt_tensor t, int32_t has_eps, double eps);
MVT_API mvt_tensor mvt_bincount(mvt_tensor t, mvt_tensor weights, int64_t minlength);
MVT_API int32_t mvt_median(mvt_tensor t, int32_t has_dim, int64_t dim, int32_t keepdim, mvt_tensor* values, mvt_tensor* indices);
MVT_API mvt_tensor mvt_quantile(mvt_tensor t, mvt_tensor q, int32_t has_dim, int64_t dim, int32_t keepdim, int32_t interpolation);

/* distributed (c10d). Built with Gloo when its headers were found at configure time, with NCCL when libtorch is a
 * CUDA build and nccl.h was found; mvt_dist_backend_available says which. A process group handle owns its store. */
typedef void* mvt_process_group;
typedef void* mvt_ddp;
MVT_API int32_t mvt_dist_backend_available(int32_t backend); /* 0 gloo, 1 nccl */
MVT_API mvt_process_group mvt_dist_init(int32_t backend, const char* master_addr, int32_t master_port, int32_t world_size,
                                        int32_t rank, int64_t timeout_ms);
MVT_API void mvt_dist_free(mvt_process_group pg);
MVT_API int32_t mvt_dist_all_reduce(mvt_process_group pg, mvt_tensor t, int32_t op); /* in place; 0 sum, 1 mean, 2 max, 3 min, 4 product */
MVT_API int32_t mvt_dist_broadcast(mvt_process_group pg, mvt_tensor t, int32_t root);
MVT_API mvt_tensor mvt_dist_all_gather(mvt_process_group pg, mvt_tensor t); /* stacked: [world_size, ...] */
MVT_API int32_t mvt_dist_barrier(mvt_process_group pg);
MVT_API mvt_tensor mvt_dist_all_reduce_sum_autograd(mvt_process_group pg, mvt_tensor t); /* differentiable sum over ranks */
/* data-parallel gradient reducer: buckets of parameters all-reduced (averaged) as their gradients become ready */
MVT_API mvt_ddp mvt_ddp_create(mvt_process_group pg, const mvt_tensor* params, int32_t n, int64_t bucket_bytes);
MVT_API void mvt_ddp_free(mvt_ddp ddp);
MVT_API int32_t mvt_ddp_prepare_backward(mvt_ddp ddp);
MVT_API int32_t mvt_ddp_bucket_count(mvt_ddp ddp);
MVT_API int32_t mvt_ddp_stats(mvt_ddp ddp, int64_t* out4); /* steps, bytes reduced, microseconds waiting, buckets launched during backward */

/* TorchScript modules (files written by torch.jit.save). A module handle shares the loaded module; children and
 * tensors taken from it alias its state (in-place changes and gradients are shared). Release handles with mvt_jit_free. */
typedef void* mvt_script_module;
MVT_API mvt_script_module mvt_jit_load(const char* path, int32_t has_device, int32_t device_type, int32_t device_index);
MVT_API void mvt_jit_free(mvt_script_module m);
/* saves with n extra files (torch.jit.save's _extra_files): names[i] holds contents[i], lengths[i] bytes */
MVT_API int32_t mvt_jit_save(mvt_script_module m, const char* path, const char* const* names, const char* const* contents,
                             const int64_t* lengths, int32_t n);
MVT_API int32_t mvt_jit_type_name(mvt_script_module m, char* buffer, int32_t capacity); /* returns the full length */
MVT_API int32_t mvt_jit_child_count(mvt_script_module m);
MVT_API mvt_script_module mvt_jit_child(mvt_script_module m, int32_t index);
MVT_API int32_t mvt_jit_child_name(mvt_script_module m, int32_t index, char* buffer, int32_t capacity);
MVT_API int32_t mvt_jit_tensor_count(mvt_script_module m, int32_t kind); /* own tensors; kind 0 parameters, 1 buffers */
MVT_API mvt_tensor mvt_jit_tensor(mvt_script_module m, int32_t kind, int32_t index);
MVT_API int32_t mvt_jit_tensor_name(mvt_script_module m, int32_t kind, int32_t index, char* buffer, int32_t capacity);
MVT_API int32_t mvt_jit_set_training(mvt_script_module m, int32_t on); /* this module only */
MVT_API int32_t mvt_jit_is_training(mvt_script_module m);
MVT_API int32_t mvt_jit_method_names(mvt_script_module m, char* buffer, int32_t capacity); /* '\n'-separated; full length */
/* runs a method on tensor arguments; returns how many tensors its result holds (tuples and lists flattened in order);
 * mvt_jit_take_outputs(out, that count) then hands them over on the same thread; optimize 0 disables the graph
 * executor's optimisations for the call (results independent of earlier calls) */
MVT_API int32_t mvt_jit_invoke(mvt_script_module m, const char* method, const mvt_tensor* inputs, int32_t n, int32_t optimize);
MVT_API int32_t mvt_jit_take_outputs(mvt_tensor* out, int32_t n);

/* autograd profiler (libtorch's legacy profiler: the operators run on the calling thread and the threads it launches)
 * mvt_profiler_start enables it on this thread; mvt_profiler_stop disables it and returns the recorded operator ranges
 * and memory events (NULL on failure), read with mvt_profile_* until mvt_profile_free. kind: 0 a range (operator,
 * autograd node, user range), 1 a CPU memory allocation (bytes > 0) or release (bytes < 0). Times in microseconds from
 * the profile's start. name and shapes stay valid until mvt_profile_free. */
typedef void* mvt_profile;
MVT_API int32_t mvt_profiler_start(int32_t record_shapes, int32_t profile_memory);
MVT_API int32_t mvt_profiler_enabled(void);
MVT_API mvt_profile mvt_profiler_stop(void);
MVT_API int64_t mvt_profile_count(mvt_profile p);
MVT_API int32_t mvt_profile_event(mvt_profile p, int64_t index, int32_t* kind, const char** name, int64_t* thread,
                                  double* start_us, double* duration_us, int64_t* bytes, const char** shapes);
MVT_API void mvt_profile_free(mvt_profile p);
MVT_API int32_t mvt_profiler_push_range(const char* name);
MVT_API int32_t mvt_profiler_pop_range(void);

/* embedding lookup (at::embedding): rows of weight (num, dim) picked by integer indices; padding_idx < 0 for none */
MVT_API mvt_tensor mvt_embedding(mvt_tensor weight, mvt_tensor indices, int64_t padding_idx, int32_t scale_grad_by_freq);
