/*===- package_abi.h - What a generated CPU kernel library exports -*- C -*-===*
 *
 * Part of the muir project, under the Apache License v2.0 with LLVM
 * Exceptions.
 *
 *===----------------------------------------------------------------------===*
 *
 * `muirc package` writes libmuir_kernels.so. It exports exactly the symbols
 * below (C ABI), so the runtime (runtime.h) can dlopen any package without
 * knowing the model. The parameter table is data generated from the IR; the
 * kernels are compiled from the same loop-body IR as the CUDA kernels.
 *
 *===----------------------------------------------------------------------===*/

#ifndef MUIR_PACKAGE_ABI_H
#define MUIR_PACKAGE_ABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Bumped whenever a struct below or a kernel signature changes. */
#define MUIR_PACKAGE_ABI_VERSION 2

/** A package's identity: SHA-256 (as lowercase hex) of what determines its
 *  kernels and table (model, layout, constants, ABI version, target). The
 *  same value is in the table (`package_hash`), an ELF note of the library
 *  (below), manifest.json (`package_hash`) and the generated header
 *  (`MUIR_PACKAGE_HASH`). */
#define MUIR_PACKAGE_HASH_LENGTH 64

/** The package hash as an ELF note of libmuir_kernels.so (section
 *  .note.muir, owner "muir", type MUIR_NOTE_PACKAGE_HASH, descriptor: the
 *  hash and a NUL), which the runtime reads from the file to match it with
 *  manifest.json before loading it. */
#define MUIR_NOTE_PACKAGE_HASH 1
typedef struct {
  uint32_t namesz, descsz, type;
  char name[8];                            /**< "muir", padded */
  char desc[MUIR_PACKAGE_HASH_LENGTH + 4]; /**< hash, NUL, padding */
} muir_package_note_t;

/** Defines the note in a package's C source (GCC and Clang). */
#define MUIR_PACKAGE_NOTE(hash)                                                \
  __attribute__((section(".note.muir"), aligned(4),                            \
                 used)) static const muir_package_note_t muir_package_note = { \
      5, MUIR_PACKAGE_HASH_LENGTH + 1, MUIR_NOTE_PACKAGE_HASH, "muir", hash}

/** Initial distributions (same order as the tp dialect's InitKind). */
typedef enum {
  MUIR_INIT_NORMAL = 0,
  MUIR_INIT_TRUNC_NORMAL = 1,
  MUIR_INIT_UNIFORM = 2,
  MUIR_INIT_ZEROS = 3,
  MUIR_INIT_ONES = 4,
  MUIR_INIT_TIED = 5 /**< shares the storage of `tied_to` */
} muir_init_kind_t;

/** Every optimizer a package's step kernel can implement, in families:
 *  X(ENUMERATOR, code, "name as in muirc --optimizer", state buffers).
 *  The compiler (lib/Conversion/TPToKernels/StepRules.cpp), the package
 *  writer and the runtime all read this one list; StepRules.cpp ties it to
 *  the compiler's Optimizer enum (TPEnums.td) by static_assert, so add an
 *  optimizer to both. */
#define MUIR_OPTIMIZERS(X)                                                     \
  X(SGD, 0, "sgd", 0)                                                          \
  X(SGD_MOMENTUM, 1, "sgd-momentum", 1)                                        \
  X(SGD_NESTEROV, 7, "sgd-nesterov", 1)                                        \
  X(ADAM, 2, "adam", 2)                                                        \
  X(ADAMW, 3, "adamw", 2)                                                      \
  X(ADAMW_DECOUPLED, 6, "adamw-decoupled", 2) /* Loshchilov-Hutter decay */    \
  X(LION, 4, "lion", 1)                                                        \
  X(ADAM_ATAN2, 5, "adam-atan2", 2)                                            \
  X(LION_A, 8, "lion-a", 1)   /* Lion, update RMS controlled */                \
  X(LION_AR, 9, "lion-ar", 2) /* rotational: momentum; units' n0, nu */

/** Optimizers whose step kernels a package can carry. */
typedef enum {
#define MUIR_OPTIMIZER_ENUMERATOR(e, code, name, states) MUIR_OPT_##e = code,
  MUIR_OPTIMIZERS(MUIR_OPTIMIZER_ENUMERATOR)
#undef MUIR_OPTIMIZER_ENUMERATOR
} muir_optimizer_t;

#define MUIR_MAX_RANK 4

/** The precision of a package's flat buffers (muir_package_info_t
 *  .precision; `muirc package --precision`, docs/Optimizers.md). */
typedef enum {
  /** Every flat buffer float32. */
  MUIR_PRECISION_FP32 = 0,
  /** The params (master weights) and every optimizer state float32; the
   *  grads and a copy of the params bfloat16, stored as raw bits
   *  (uint16_t). The step reads bf16 gradients, updates the float32 master
   *  weights and states, and writes the bf16 copy with stochastic rounding
   *  keyed by (seed, step, element). */
  MUIR_PRECISION_BF16 = 1
} muir_precision_t;

/** One parameter (all its per-block copies) of the flat buffers. */
typedef struct {
  const char *name;    /**< module path, e.g. "blocks.attn.q.weight" */
  const char *role;    /**< "hidden", "embedding", ... */
  const char *tied_to; /**< owner's name for a tied parameter, else NULL */
  int32_t init;        /**< muir_init_kind_t */
  int32_t rank;        /**< dims of one copy */
  int64_t shape[MUIR_MAX_RANK];
  int64_t copies; /**< one per block for repeated parameters, else 1 */
  int64_t offset; /**< first element of copy 0 in every flat buffer */
  int64_t stride; /**< elements from one copy to the next (aligned) */
  int64_t numel;  /**< elements of one copy */
  /** The forward multiplier, `copies` values (one per block): every use of
   *  the parameter in the forward pass reads multiplier[l] * w, w being the
   *  stored copy l. The readout's is the output multiplier and the
   *  embedding's the embedding multiplier; apply each once. A tied
   *  parameter has its own, applied at its own use. */
  const double *multiplier;
} muir_param_info_t;

/** One residual branch (a tp.residual): in block l of its repeated blocks
 *  the forward pass computes stream + multiplier[l] * branch. */
typedef struct {
  /** "<depth>.residual<k>": the k-th tp.residual, in program order, of the
   *  blocks repeated over `depth` (the name the multipliers file uses). */
  const char *name;
  const char *depth;        /**< the depth dim of its tp.repeat */
  int64_t index_in_block;   /**< program order among its block's residuals */
  int64_t copies;           /**< blocks */
  const double *multiplier; /**< `copies` values, one per block */
} muir_residual_info_t;

/** One attention (a tp.attention): softmax(scale * q.k) over each head. */
typedef struct {
  /** "<depth>.attention<k>" in repeated blocks, "attention<k>" elsewhere. */
  const char *name;
  const char *head_dim;  /**< the head dim's name */
  int64_t head_dim_size; /**< its size in this model */
  double scale;          /**< 1/d_head or 1/sqrt(d_head); 1 when unscaled */
} muir_attention_info_t;

/** Elements per chunk of the CUDA kernels: the unit of work of one block of
 *  MUIR_CUDA_BLOCK_THREADS x 4 elements (runtime.h); chunks never straddle
 *  two tensor copies. */
#define MUIR_CHUNK_ELEMENTS 1024

/** The kernels' constant table: what differs from tensor to tensor is data,
 *  so the kernels are generated once per update rule (docs/Lowering.md).
 *  One entry per untied parameter, all int64. */
typedef struct {
  int64_t offset, stride, numel, copies; /**< as in muir_param_info_t */
  /** CUDA: chunks of the parameters before this one; chunks per copy. */
  int64_t first_chunk, chunks_per_copy;
  /** The reduction phase cuts every copy into slots of whole chunks, one
   *  partial sum each: the slots before this parameter, per copy, and the
   *  chunks of a slot (the last one may have fewer). */
  int64_t first_slot, slots_per_copy, chunks_per_slot;
  int64_t param; /**< index into muir_package_info_t.params */
  int64_t init;  /**< muir_init_kind_t */
  /** Copy c's constants are tensor_rows[first_row + c * row_stride]
   *  (row_stride 0: one row for all copies, 1: one per copy). */
  int64_t first_row, row_stride;
  /** LionAR's rotational units (docs/Optimizers.md): elements per unit (a
   *  row of a rank >= 2 tensor, or the whole copy; 0 when the parameter has
   *  none) and the units of the parameters before this one (over all
   *  copies). A unit keeps its state (n0, nu) in state buffer 1 at its own
   *  first two elements; a shard that starts inside a unit keeps a replica
   *  at the shard's first two (docs/Distributed.md). */
  int64_t unit_elements, first_unit;
} muir_kernel_param_t;

/** The constants of one tensor copy (or of all copies of a parameter). */
typedef struct {
  double lr, weight_decay, eps, beta1, beta2;
  double init_scale; /**< std, or sqrt(3) std for a uniform init */
} muir_tensor_row_t;

/** The table's symbols in the CPU library and in the CUDA module (whose
 *  copy of the rows a state may overwrite: per-tensor overrides). */
#define MUIR_KERNEL_PARAMS_SYMBOL "muir_kernel_params"
#define MUIR_TENSOR_ROWS_SYMBOL "muir_tensor_rows"

/** The whole package. */
typedef struct {
  uint32_t abi_version; /**< MUIR_PACKAGE_ABI_VERSION */
  const char *model;
  /** MUIR_PACKAGE_HASH_LENGTH lowercase hex digits (see above). */
  const char *package_hash;
  int32_t optimizer; /**< muir_optimizer_t */
  /** Optimizer state buffers besides params and grads (AdamW: 2, m and v). */
  int32_t num_states;
  int64_t num_params;
  const muir_param_info_t *params;
  /** Elements of each flat buffer (params, grads, each state), padded. */
  int64_t buffer_elements;
  /** Alignment of every tensor's offset, in bytes. */
  int64_t alignment;
  /** The forward multipliers besides each parameter's own: every residual
   *  branch and every attention's logit scale (NULL when there are none). */
  int64_t num_residuals;
  const muir_residual_info_t *residuals;
  int64_t num_attentions;
  const muir_attention_info_t *attentions;
  /** The kernels' constant table, as compiled in (read-only). */
  int64_t num_kernel_params;
  const muir_kernel_param_t *kernel_params;
  int64_t num_tensor_rows;
  const muir_tensor_row_t *tensor_rows;
  /** Chunks (CUDA) and reduction slots over all parameters. */
  int64_t num_chunks;
  int64_t num_slots;
  /** The optimizer with every option of its family, as `muirc package
   *  --optimizer` reads it: "adamw:bias-correction1=true",
   *  "lion-ar:nesterov=true,beta=0.98,..." (docs/Optimizers.md). */
  const char *optimizer_spec;
  /** LionAR's rotational units over all parameters (0 for the others). */
  int64_t num_units;
  /** muir_precision_t. A bf16 package also exports muir_kernel_step_bf16,
   *  muir_kernel_step_telemetry_bf16 and muir_kernel_reduce_bf16, which the
   *  runtime uses for it (the fp32 functions above stay, over float32
   *  grads). */
  int32_t precision;
} muir_package_info_t;

/** Returns the package description (static data; never NULL). */
const muir_package_info_t *muir_package_info(void);

/** Writes the initial values of elements [begin, end) of the params buffer
 *  (a shard: the values depend only on seed, parameter and element index). */
void muir_kernel_init(float *params, uint64_t seed, int64_t begin, int64_t end);

/** muir_kernel_init into a shard's buffer: `params` holds the elements
 *  from `first` on (element i at params[i - first]), first <= begin. */
void muir_kernel_init_shard(float *params, uint64_t seed, int64_t first,
                            int64_t begin, int64_t end);

/** One optimizer step over the whole model: `states` points to num_states
 *  buffers; `step` counts from 1; `lr_factor` is the schedule's factor
 *  (warmup, cosine, WSD) that multiplies every tensor's learning rate;
 *  every gradient is multiplied by `grad_scale` as it is read (the global
 *  norm clip factor; 1 steps with the gradients as they are, bit for bit). */
void muir_kernel_step(float *params, const float *grads, float *const *states,
                      int64_t step, float lr_factor, float grad_scale);

/** muir_kernel_step with the constants of `rows` (num_tensor_rows rows laid
 *  out as tensor_rows) instead of the compiled-in ones: per-tensor
 *  overrides of lr and weight decay without recompiling. */
void muir_kernel_step_rows(float *params, const float *grads,
                           float *const *states, int64_t step, float lr_factor,
                           float grad_scale, const muir_tensor_row_t *rows);

/** LionAR's unit partial sums: per reduction slot, MUIR_SLOT_UNIT_SUMS
 *  float64 values, the five sums (sum u, sum u w, sum u^2, sum w, sum w^2)
 *  of the slot's head segment (from the slot's first element, of a unit
 *  that straddles a slot start) then of its tail segment (from the first
 *  element of a unit that starts inside the slot and ends after it); 0
 *  where there is none. A straddling unit's sums are its segments' in slot
 *  order (docs/Distributed.md). */
#define MUIR_SLOT_UNIT_SUMS 10

/** muir_kernel_step_rows on a shard: the buffers hold elements [begin,
 *  end) of the flat buffers (element e at index e - begin), and only those
 *  are stepped, each with its whole tensor's constants. The runtime passes
 *  slot boundaries (runtime.h, muir_state_create_shard); the CPU kernel
 *  takes any 0 <= begin <= end <= buffer_elements for a package without
 *  units. With `unit_partials` (MUIR_SLOT_UNIT_SUMS x num_slots, the
 *  ranks' muir_kernel_reduce_units summed) a LionAR unit that straddles a
 *  slot start takes its sums from them, so a shard may cut it; NULL: every
 *  unit is summed from the buffers, which must then hold every unit they
 *  touch whole. */
void muir_kernel_step_shard(float *params, const float *grads,
                            float *const *states, int64_t step, float lr_factor,
                            float grad_scale, const muir_tensor_row_t *rows,
                            int64_t begin, int64_t end,
                            const double *unit_partials);

/** LionAR's reduction phase across shards: the unit partial sums (see
 *  MUIR_SLOT_UNIT_SUMS) of reduction slots [slot_begin, slot_end) of the
 *  rotating copies, with the gradients scaled by `grad_scale` (the step's;
 *  the other arguments as for the step), the buffers holding the elements
 *  from `first` on. Writes only the segments that exist: the caller zeroes
 *  `unit_partials` first. Nothing for a package without units. */
void muir_kernel_reduce_units(float *params, const float *grads,
                              float *const *states, int64_t step,
                              float lr_factor, float grad_scale,
                              const muir_tensor_row_t *rows,
                              double *unit_partials, int64_t first,
                              int64_t slot_begin, int64_t slot_end);

/** muir_kernel_step_shard that also writes the step's telemetry: for every
 *  reduction slot s, partials[4s..4s+3] = the float64 sums over the slot's
 *  elements in [begin, end) (0 outside) of w^2, w'^2, d^2 and w d (w before
 *  the step, w' after; LionAR: also, for every rotational unit u that
 *  rotates, the same sums over the unit at partials[4 (num_slots + u)..],
 *  the others untouched: partials holds 4 (num_slots + num_units) doubles,
 *  d = w' - w: the angle from <w, d> is well conditioned, from <w, w'> it
 *  is not for small angles). Their sums over a copy's slots, in order, give its
 * ||w||, ||w'||,
 *  ||dw|| and the angle between w and w'. A separate function, so the plain
 *  step is unchanged. (CUDA: muir_telemetry_kernel(before, after, partials)
 *  computes the same sums, one block per slot, in another order.) */
void muir_kernel_step_telemetry(float *params, const float *grads,
                                float *const *states, int64_t step,
                                float lr_factor, float grad_scale,
                                const muir_tensor_row_t *rows, double *partials,
                                int64_t begin, int64_t end,
                                const double *unit_partials);

/** The reduction phase: partials[s] = the sum of the squared gradients of
 *  slot s (float64), for slot_begin <= s < slot_end (0 <= slot_begin <=
 *  slot_end <= num_slots; the other partials are not touched). Their sum
 *  over all slots in slot order is the squared global gradient norm (every
 *  element of every untied parameter once; padding excluded). A slot's
 *  partial does not depend on the range, so threads that take disjoint
 *  ranges compute the same bits as one call over all slots. */
void muir_kernel_reduce(const float *grads, double *partials,
                        int64_t slot_begin, int64_t slot_end);

/** muir_kernel_reduce on a shard's buffer: `grads` holds the elements
 *  from `first` on (element e at grads[e - first]), and slots
 *  [slot_begin, slot_end) lie inside it (the runtime passes a shard's own
 *  slots; muir_state_create_shard). */
void muir_kernel_reduce_shard(const float *grads, double *partials,
                              int64_t first, int64_t slot_begin,
                              int64_t slot_end);

/** bf16 packages only (MUIR_PRECISION_BF16): muir_kernel_step_shard over
 *  bf16 gradients (`grads`, raw bits), the float32 params (master weights)
 *  and states, that also writes every stepped element's new value to
 *  `params_bf16` rounded stochastically: the float32 bits plus the low 16
 *  bits of word e mod 4 of Philox4x32-10(counter (e div 4 mod 2^32, e div 4
 *  div 2^32, step mod 2^32, step div 2^32 | 2^31), key (seed mod 2^32, seed
 *  div 2^32)), truncated to the top 16 (e the flat-buffer element; a NaN
 *  becomes a quiet NaN). The buffers hold elements [begin, end). */
void muir_kernel_step_bf16(float *params, const uint16_t *grads,
                           float *const *states, uint16_t *params_bf16,
                           int64_t step, float lr_factor, float grad_scale,
                           const muir_tensor_row_t *rows, uint64_t seed,
                           int64_t begin, int64_t end);

/** bf16 packages only: muir_kernel_step_bf16 that also writes the
 *  telemetry partials of muir_kernel_step_telemetry (from the float32
 *  master weights before and after the step). */
void muir_kernel_step_telemetry_bf16(float *params, const uint16_t *grads,
                                     float *const *states,
                                     uint16_t *params_bf16, int64_t step,
                                     float lr_factor, float grad_scale,
                                     const muir_tensor_row_t *rows,
                                     double *partials, uint64_t seed,
                                     int64_t begin, int64_t end);

/** bf16 packages only: muir_kernel_reduce_shard over bf16 gradients. */
void muir_kernel_reduce_bf16(const uint16_t *grads, double *partials,
                             int64_t first, int64_t slot_begin,
                             int64_t slot_end);

#ifdef __cplusplus
}
#endif

#endif /* MUIR_PACKAGE_ABI_H */
