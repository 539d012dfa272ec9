// Embedding lookups: at::embedding, whose backward leaves the padding row's gradient at zero (which a plain
// index_select would not) and can scale gradients by the indices' frequency in the batch.
#include "common.h"

MVT_API mvt_tensor mvt_embedding(mvt_tensor weight, mvt_tensor indices, int64_t padding_idx, int32_t scale_grad_by_freq) {
  MVT_TENSOR_OP(at::embedding(mvt::T(weight), mvt::T(indices), padding_idx, scale_grad_by_freq != 0, /*sparse=*/false))
}
