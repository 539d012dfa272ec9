using System.Runtime.InteropServices;

namespace MedVision.Torch.Native;

/// <summary>P/Invoke declarations of the native shim's C ABI (see native/include/mvt.h).</summary>
internal static unsafe class NativeMethods
{
    internal const string Lib = "medvision_torch";

    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_last_error();
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_last_error_kind();
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_torch_version();
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_abi_version();
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_has_mkldnn();
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_cuda_is_available();
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_cuda_compiled_version();
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_cuda_device_count();
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_cuda_synchronize(int deviceIndex);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_get_num_threads();
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_set_num_threads(int n);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_manual_seed(ulong seed);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_rng_get_state();
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_rng_set_state(IntPtr state);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_set_conv_routing(int mode);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_set_onednn_enabled(int enabled);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_get_onednn_enabled();
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_onednn_self_check();
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_get_conv_routing();
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_set_linear_routing(int mode);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_get_linear_routing();
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_onednn_conv_backward_available();

    [DllImport(Lib, ExactSpelling = true)] internal static extern void mvt_free(IntPtr t);
    [DllImport(Lib, ExactSpelling = true)] internal static extern long mvt_live_tensors();
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_cpu_cache_installed();
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_cpu_cache_stats(CpuMemoryStatsNative* stats);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_cpu_cache_set_limit(long bytes);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_cpu_cache_empty();
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_cpu_cache_reset_peak();

    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_from_data(void* data, long* shape, int ndim, int dtype, int deviceType, int deviceIndex, int requiresGrad);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_empty(long* shape, int ndim, int dtype, int deviceType, int deviceIndex, int requiresGrad);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_full(long* shape, int ndim, double value, int dtype, int deviceType, int deviceIndex, int requiresGrad);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_arange(double start, double end, double step, int dtype, int deviceType, int deviceIndex, int requiresGrad);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_linspace(double start, double end, long steps, int dtype, int deviceType, int deviceIndex, int requiresGrad);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_rand(long* shape, int ndim, int normal, int dtype, int deviceType, int deviceIndex, int requiresGrad);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_randint(long low, long high, long* shape, int ndim, int dtype, int deviceType, int deviceIndex);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_randperm(long n, int deviceType, int deviceIndex);

    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_ndim(IntPtr t);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_shape(IntPtr t, long* output, int capacity);
    [DllImport(Lib, ExactSpelling = true)] internal static extern long mvt_numel(IntPtr t);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_dtype(IntPtr t);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_device(IntPtr t, int* type, int* index);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_is_contiguous(IntPtr t);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_copy_to(IntPtr t, void* dst, long nbytes);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_copy_from(IntPtr t, void* src, long nbytes);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_item(IntPtr t, double* output);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_item_long(IntPtr t, long* output);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_to(IntPtr t, int dtype, int deviceType, int deviceIndex, int nonBlocking, int copy);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_pin_memory(IntPtr t);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_contiguous(IntPtr t);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_clone(IntPtr t);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_detach(IntPtr t);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_alias(IntPtr t);
    [DllImport(Lib, ExactSpelling = true)] internal static extern long mvt_version(IntPtr t);

    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_requires_grad(IntPtr t);
    [DllImport(Lib, ExactSpelling = true)] internal static extern long mvt_tensor_identity(IntPtr tensor);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_set_data(IntPtr self, IntPtr data);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_set_requires_grad(IntPtr t, int value);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_is_leaf(IntPtr t);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_backward(IntPtr t, IntPtr grad, int retainGraph, int createGraph);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_grad(IntPtr t, IntPtr* output);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_set_grad(IntPtr t, IntPtr grad);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_retain_grad(IntPtr t);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_retains_grad(IntPtr t);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_autograd_grad(IntPtr* outputs, IntPtr* gradOutputs, int outputCount, IntPtr* inputs, int inputCount, int retainGraph, int createGraph, int allowUnused, IntPtr* results);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_grad_fn_name(IntPtr t, byte* buffer, int capacity);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_grad_enabled();
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_set_grad_enabled(int enabled);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_set_relu_gradient(int mode, out int previous);
    [DllImport(Lib, ExactSpelling = true)] internal static extern long mvt_relu_gradient_overrides();

    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_unary(int op, IntPtr t);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_unary_scalar(int op, IntPtr t, double s);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_binary(int op, IntPtr a, IntPtr b);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_add_scaled(IntPtr a, IntPtr b, double alpha);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_clamp(IntPtr t, int hasMin, double min, int hasMax, double max);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_where(IntPtr cond, IntPtr a, IntPtr b);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_softmax(IntPtr t, long dim, int log);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_one_hot(IntPtr t, long numClasses);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_allclose(IntPtr a, IntPtr b, double rtol, double atol);

    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_reduce(int op, IntPtr t, long* dims, int ndims, int keepdim);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_std_var(int isVar, IntPtr t, long* dims, int ndims, int unbiased, int keepdim);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_max_min_dim(int isMin, IntPtr t, long dim, int keepdim, IntPtr* values, IntPtr* indices);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_arg_max_min(int isMin, IntPtr t, int hasDim, long dim, int keepdim);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_sort(IntPtr t, long dim, int descending, int stable, IntPtr* values, IntPtr* indices);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_topk(IntPtr t, long k, long dim, int largest, IntPtr* values, IntPtr* indices);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_cumsum(IntPtr t, long dim);

    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_view(IntPtr t, long* shape, int ndim, int reshape);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_flatten(IntPtr t, long start, long end);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_squeeze(IntPtr t, int hasDim, long dim);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_unsqueeze(IntPtr t, long dim);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_permute(IntPtr t, long* dims, int ndim);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_transpose(IntPtr t, long d0, long d1);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_expand(IntPtr t, long* shape, int ndim);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_repeat(IntPtr t, long* repeats, int ndim);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_flip(IntPtr t, long* dims, int ndim);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_cat(IntPtr* ts, int n, long dim, int stack);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_split(IntPtr t, long* sizes, int nsizes, long dim, IntPtr* output, int capacity);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_chunk(IntPtr t, long chunks, long dim, IntPtr* output, int capacity);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_narrow(IntPtr t, long dim, long start, long length);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_slice(IntPtr t, long dim, long start, long end, long step);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_select(IntPtr t, long dim, long index);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_index_select(IntPtr t, long dim, IntPtr index);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_gather(IntPtr t, long dim, IntPtr index);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_masked_fill(IntPtr t, IntPtr mask, double value);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_masked_select(IntPtr t, IntPtr mask);

    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_inplace_binary(int op, IntPtr t, IntPtr other, double alpha);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_inplace_scalar(int op, IntPtr t, double s);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_addcmul_(IntPtr t, IntPtr a, IntPtr b, double value, int div);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_lerp_(IntPtr t, IntPtr end, double weight);

    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_conv(IntPtr x, IntPtr w, IntPtr b, long* stride, long* padding, long* dilation, int nspatial, long groups);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_onednn_pack_conv_weight(IntPtr w, long* stride, long* padding, long* dilation, int nspatial, long groups);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_conv_transpose(IntPtr x, IntPtr w, IntPtr b, long* stride, long* padding, long* outputPadding, long* dilation, int nspatial, long groups);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_linear(IntPtr x, IntPtr w, IntPtr b);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_batch_norm(IntPtr x, IntPtr w, IntPtr b, IntPtr runningMean, IntPtr runningVar, int training, double momentum, double eps);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_instance_norm(IntPtr x, IntPtr w, IntPtr b, IntPtr runningMean, IntPtr runningVar, int useInputStats, double momentum, double eps);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_group_norm(IntPtr x, long groups, IntPtr w, IntPtr b, double eps);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_layer_norm(IntPtr x, long* shape, int ndim, IntPtr w, IntPtr b, double eps);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_max_pool(IntPtr x, long* kernel, long* stride, long* padding, long* dilation, int nspatial, int ceilMode);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_avg_pool(IntPtr x, long* kernel, long* stride, long* padding, int nspatial, int ceilMode, int countIncludePad);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_adaptive_pool(IntPtr x, long* output, int nspatial, int max);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_dropout(IntPtr x, double p, int training, int feature);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_pairwise_distance(IntPtr a, IntPtr b, double p, double eps, int keepdim);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_cosine_similarity(IntPtr a, IntPtr b, long dim, double eps);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_normalize(IntPtr x, double p, long dim, double eps);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_interpolate(IntPtr x, long* size, int nspatial, int mode, int alignCorners);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_interpolate_scale(IntPtr x, double* scales, int nspatial, int mode, int alignCorners, int recompute);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_autocast_enter(int device, int enabled, int dtype, int* prevEnabled, int* prevDtype);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_autocast_exit(int device, int prevEnabled, int prevDtype);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_autocast_state(int device, int* dtype);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_pad(IntPtr x, long* pads, int npads, int mode, double value);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_affine_grid(IntPtr theta, long* size, int ndim, int alignCorners);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_grid_sample(IntPtr x, IntPtr grid, int mode, int paddingMode, int alignCorners);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_activation(int op, IntPtr x, double a, double b);

    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_cross_entropy(IntPtr logits, IntPtr target, IntPtr weight, int reduction, long ignoreIndex, double labelSmoothing);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_nll_loss(IntPtr logp, IntPtr target, IntPtr weight, int reduction, long ignoreIndex);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_bce_with_logits(IntPtr logits, IntPtr target, IntPtr weight, IntPtr posWeight, int reduction);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_bce(IntPtr probs, IntPtr target, IntPtr weight, int reduction);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_regression_loss(int kind, IntPtr x, IntPtr y, int reduction, double beta);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_pair_loss(int kind, IntPtr a, IntPtr b, IntPtr c, int reduction, double margin, double p, double eps, int flag);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_scatter(int op, IntPtr t, long dim, IntPtr index, IntPtr src, int includeSelf);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_tri(IntPtr t, long diagonal, int upper);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_roll(IntPtr t, long* shifts, int nshifts, long* dims, int ndims);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_nonzero(IntPtr t);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_unique(IntPtr t, int sorted, int returnInverse, int returnCounts, IntPtr* values, IntPtr* inverse, IntPtr* counts);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_unfold(IntPtr t, long dim, long size, long step);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_einsum([MarshalAs(UnmanagedType.LPUTF8Str)] string equation, IntPtr* ts, int n);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_cdist(IntPtr a, IntPtr b, double p);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_eye(long n, long m, int dtype, int deviceType, int deviceIndex);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_cumprod(IntPtr t, long dim);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_logit(IntPtr t, int hasEps, double eps);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_bincount(IntPtr t, IntPtr weights, long minlength);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_median(IntPtr t, int hasDim, long dim, int keepdim, IntPtr* values, IntPtr* indices);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_quantile(IntPtr t, IntPtr q, int hasDim, long dim, int keepdim, int interpolation);

    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_dist_backend_available(int backend);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_dist_init(int backend, [MarshalAs(UnmanagedType.LPUTF8Str)] string masterAddr, int masterPort, int worldSize, int rank, long timeoutMs);
    [DllImport(Lib, ExactSpelling = true)] internal static extern void mvt_dist_free(IntPtr pg);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_dist_all_reduce(IntPtr pg, IntPtr t, int op);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_dist_broadcast(IntPtr pg, IntPtr t, int root);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_dist_all_gather(IntPtr pg, IntPtr t);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_dist_barrier(IntPtr pg);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_dist_all_reduce_sum_autograd(IntPtr pg, IntPtr t);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_ddp_create(IntPtr pg, IntPtr* parameters, int n, long bucketBytes);
    [DllImport(Lib, ExactSpelling = true)] internal static extern void mvt_ddp_free(IntPtr ddp);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_ddp_prepare_backward(IntPtr ddp);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_ddp_bucket_count(IntPtr ddp);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_ddp_stats(IntPtr ddp, long* output);

    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_embedding(IntPtr weight, IntPtr indices, long paddingIdx, int scaleGradByFreq);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_profiler_start(int recordShapes, int profileMemory);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_profiler_enabled();
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_profiler_stop();
    [DllImport(Lib, ExactSpelling = true)] internal static extern long mvt_profile_count(IntPtr profile);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_profile_event(IntPtr profile, long index, int* kind, IntPtr* name, long* thread, double* startUs, double* durationUs, long* bytes, IntPtr* shapes);
    [DllImport(Lib, ExactSpelling = true)] internal static extern void mvt_profile_free(IntPtr profile);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_profiler_push_range([MarshalAs(UnmanagedType.LPUTF8Str)] string name);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_profiler_pop_range();

    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_jit_load([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int hasDevice, int deviceType, int deviceIndex);
    [DllImport(Lib, ExactSpelling = true)] internal static extern void mvt_jit_free(IntPtr module);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_jit_save(IntPtr module, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, IntPtr* names, IntPtr* contents, long* lengths, int n);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_jit_type_name(IntPtr module, byte* buffer, int capacity);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_jit_child_count(IntPtr module);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_jit_child(IntPtr module, int index);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_jit_child_name(IntPtr module, int index, byte* buffer, int capacity);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_jit_tensor_count(IntPtr module, int kind);
    [DllImport(Lib, ExactSpelling = true)] internal static extern IntPtr mvt_jit_tensor(IntPtr module, int kind, int index);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_jit_tensor_name(IntPtr module, int kind, int index, byte* buffer, int capacity);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_jit_set_training(IntPtr module, int on);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_jit_is_training(IntPtr module);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_jit_method_names(IntPtr module, byte* buffer, int capacity);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_jit_invoke(IntPtr module, [MarshalAs(UnmanagedType.LPUTF8Str)] string method, IntPtr* inputs, int n, int optimize);
    [DllImport(Lib, ExactSpelling = true)] internal static extern int mvt_jit_take_outputs(IntPtr* outputs, int n);
}

/// <summary>Layout of mvt_cpu_memory_stats.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct CpuMemoryStatsNative
{
    public long CachedBytes, CachedBlocks, LargeBytesInUse, PeakLargeBytesInUse, CacheHits, CacheMisses, EvictedBlocks, Limit, MinCachedBlock;
}
