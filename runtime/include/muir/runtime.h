/*===- runtime.h - The muir runtime C API -------------------------*- C -*-===*
 *
 * Part of the muir project, under the Apache License v2.0 with LLVM
 * Exceptions.
 *
 *===----------------------------------------------------------------------===*
 *
 * The runtime opens a kernel package written by `muirc package` (a directory
 * holding libmuir_kernels.so, manifest.json, a C header and, for CUDA,
 * kernels.ptx / kernels.sm_XY.cubin), exposes its parameter table and runs its
 * init and step kernels over three or more flat float buffers: params, grads
 * and the optimizer's states. It is plain C, links no MLIR, and reaches the
 * CUDA driver only through dlopen, so it loads on machines without a GPU.
 *
 * Conventions
 *  - Every function that can fail returns a muir_status_t; MUIR_OK is 0.
 *    Results come back through `out_*` parameters, which are written only on
 *    success. Nothing aborts or asserts on bad input.
 *  - After a call fails, muir_last_error() returns a message that names what
 *    was wrong (the file, the parameter, the sizes involved). The message is
 *    per thread and is cleared by the next call that returns a status.
 *  - Handles are opaque; `*_release` frees one and accepts NULL.
 *
 * Ownership and threading
 *  - A muir_package_t is immutable once opened: any number of threads may
 *    query it and create states from it at once. It is reference counted:
 *    every state retains its package, so a package may be released before the
 *    states made from it.
 *  - A muir_state_t belongs to one thread at a time: calls on the same state
 *    must not overlap. Different states may be used from different threads.
 *  - Buffers a state allocates are freed by muir_state_release; buffers a
 *    state adopts stay the caller's and must outlive the state.
 *
 * See docs/Runtime.md for the package layout, the CUDA notes and the Python
 * binding.
 *
 *===----------------------------------------------------------------------===*/

#ifndef MUIR_RUNTIME_H
#define MUIR_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "muir/package_abi.h"

#if defined(_WIN32)
#if defined(MUIR_RUNTIME_BUILDING)
#define MUIR_API __declspec(dllexport)
#else
#define MUIR_API __declspec(dllimport)
#endif
#else
#define MUIR_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** Version of this API: bumped when a declaration below changes. */
#define MUIR_RUNTIME_API_VERSION 2

/*===----------------------------------------------------------------------===*
 * Status and errors
 *===----------------------------------------------------------------------===*/

/** What went wrong; details come from muir_last_error(). */
typedef enum {
  MUIR_OK = 0,
  /** A file or directory is missing or unreadable. */
  MUIR_ERROR_IO = 1,
  /** A package is malformed: not a shared library, a missing symbol or
   *  kernel, an inconsistent parameter table. */
  MUIR_ERROR_FORMAT = 2,
  /** The package was built for another ABI version. */
  MUIR_ERROR_VERSION = 3,
  /** A buffer holds the wrong number of elements. */
  MUIR_ERROR_SIZE = 4,
  /** No parameter of that name. */
  MUIR_ERROR_NOT_FOUND = 5,
  /** A bad argument: NULL, out of range, misaligned, step < 1, ... */
  MUIR_ERROR_ARGUMENT = 6,
  /** The device asked for is absent (no CUDA driver, no such GPU). */
  MUIR_ERROR_NO_DEVICE = 7,
  /** The CUDA driver reported an error. */
  MUIR_ERROR_CUDA = 8,
  /** An allocation failed. */
  MUIR_ERROR_MEMORY = 9
} muir_status_t;

/** Returns the enumerator's name without the prefix ("ok", "io", "format",
 *  ...); "unknown" for a value outside the enum. Never NULL. */
MUIR_API const char *muir_status_string(muir_status_t status);

/** Returns the message of the last call on this thread that failed, or "" if
 *  the last call succeeded. Valid until the next runtime call on this thread.
 *  Never NULL. */
MUIR_API const char *muir_last_error(void);

/** Returns MUIR_RUNTIME_API_VERSION as compiled into the library. */
MUIR_API uint32_t muir_runtime_api_version(void);

/** Returns the package ABI version (MUIR_PACKAGE_ABI_VERSION) this runtime
 *  reads. */
MUIR_API uint32_t muir_runtime_package_abi_version(void);

/*===----------------------------------------------------------------------===*
 * Packages
 *===----------------------------------------------------------------------===*/

/** An opened package (see package_abi.h for what it describes). */
typedef struct muir_package muir_package_t;

/** Opens the package in directory `dir`: reads manifest.json (its ABI
 *  version and package hash), checks `dir`/libmuir_kernels.so as an ELF file
 *  and by its package hash note before loading a private copy of it (so a
 *  package
 *  rebuilt at the same path loads anew), resolves the ABI symbols, checks
 *  the parameter table (offsets and strides aligned, every copy inside the
 *  buffer, no two parameters overlapping except a tied parameter and its
 *  owner) and that the manifest says the same (docs/Runtime.md lists every
 *  check).
 *
 *  Errors: MUIR_ERROR_IO (no such directory, manifest or library),
 *  MUIR_ERROR_FORMAT (not loadable, truncated, a missing symbol, a bad
 *  table, files from different builds, a manifest that disagrees with the
 *  table), MUIR_ERROR_VERSION, MUIR_ERROR_MEMORY, MUIR_ERROR_ARGUMENT (NULL
 *  arguments). */
MUIR_API muir_status_t muir_package_open(const char *dir,
                                         muir_package_t **out_package);

/** Adds a reference to `package`. */
MUIR_API void muir_package_retain(muir_package_t *package);

/** Drops a reference; the package is closed when the last one goes (states
 *  hold references of their own). NULL is ignored. */
MUIR_API void muir_package_release(muir_package_t *package);

/** Writes the package's table (static data of the loaded library, valid while
 *  the package is open) to `*out_info`. */
MUIR_API muir_status_t muir_package_get_info(
    const muir_package_t *package, const muir_package_info_t **out_info);

/** Checks that the package is the build `expected_hash` names, typically
 *  MUIR_PACKAGE_HASH of the muir_package.h a trainer was compiled with (whose
 *  offsets it uses). Errors: MUIR_ERROR_VERSION (another build; the message
 *  has both hashes), MUIR_ERROR_ARGUMENT (NULL arguments). */
MUIR_API muir_status_t muir_package_check_hash(const muir_package_t *package,
                                               const char *expected_hash);

/** Writes the text of the package's manifest.json as read and checked
 *  against the table at open (NUL-terminated, valid for the package's
 *  lifetime): the manifest beside the table even if the directory has been
 *  replaced since. Errors: MUIR_ERROR_ARGUMENT (NULL arguments). */
MUIR_API muir_status_t muir_package_get_manifest(const muir_package_t *package,
                                                 const char **out_text,
                                                 size_t *out_size);

/** Returns the directory the package was opened from (as given). */
MUIR_API const char *muir_package_dir(const muir_package_t *package);

/** Writes the index into info->params of the parameter called `name`.
 *  Errors: MUIR_ERROR_NOT_FOUND, MUIR_ERROR_ARGUMENT. */
MUIR_API muir_status_t muir_package_find_param(const muir_package_t *package,
                                               const char *name,
                                               int64_t *out_index);

/*===----------------------------------------------------------------------===*
 * Shards: contiguous ranges of the flat buffers (docs/Distributed.md)
 *===----------------------------------------------------------------------===*/

/** Splits the flat buffers into `ranks` contiguous shards, rank r owning
 *  elements [bounds[r], bounds[r + 1]): writes ranks + 1 bounds, 0 first
 *  and buffer_elements last. Every bound is a shard boundary (see
 *  muir_state_create_shard), the one nearest to r * buffer_elements / ranks
 *  (the lower on a tie), so the shards are as even as the reduction slots
 *  allow (a shard may be empty when there are more ranks than slots). The
 *  same package and `ranks` give the same bounds on every rank. A bound
 *  that would leave one element of a LionAR unit on one side is never
 *  picked (every shard keeps a unit's state in the first two elements it
 *  holds of it).
 *  Errors: MUIR_ERROR_ARGUMENT (NULL, ranks < 1), MUIR_ERROR_MEMORY. */
MUIR_API muir_status_t muir_package_plan_shards(const muir_package_t *package,
                                                int64_t ranks,
                                                int64_t *out_bounds);

/** The LionAR unit (a row, or a whole tensor copy with units=tensor) that
 *  holds flat element `element`: its elements [*out_begin, *out_end), or
 *  [0, 0) when the element's tensor has no units. A shard whose begin lies
 *  strictly inside a unit keeps the unit's state (n0, nu) at its own first
 *  two elements of state buffer 1, the unit itself at its first two: a
 *  checkpoint loaded at another number of ranks copies it there.
 *  Errors: MUIR_ERROR_ARGUMENT (NULL, an element outside the buffers). */
MUIR_API muir_status_t muir_package_unit_at(const muir_package_t *package,
                                            int64_t element, int64_t *out_begin,
                                            int64_t *out_end);

/*===----------------------------------------------------------------------===*
 * Devices
 *===----------------------------------------------------------------------===*/

/** Where a state's buffers live: MUIR_DEVICE_CPU, or CUDA device `n` as
 *  MUIR_DEVICE_CUDA + n (so MUIR_DEVICE_CUDA is device 0). */
typedef int32_t muir_device_t;
#define MUIR_DEVICE_CPU 0
#define MUIR_DEVICE_CUDA 1
#define MUIR_DEVICE_CUDA_ORDINAL(n) (MUIR_DEVICE_CUDA + (n))

/** How the runtime launches a package's CUDA kernels over `elements`
 *  elements: a 1-D grid of `grid_x` blocks of `block_x` threads, sized so
 *  that each thread has about MUIR_CUDA_ELEMENTS_PER_THREAD elements. The
 *  grid is capped at MUIR_CUDA_MAX_GRID blocks, so a kernel must cover its
 *  whole range whatever the grid (a grid-stride loop). */
typedef struct {
  uint32_t grid_x;
  uint32_t block_x;
} muir_launch_config_t;

#define MUIR_CUDA_BLOCK_THREADS 256
#define MUIR_CUDA_ELEMENTS_PER_THREAD 4
#define MUIR_CUDA_MAX_GRID 65535

/** Writes the launch configuration for `elements` elements (at least one
 *  block, even for 0). Errors: MUIR_ERROR_ARGUMENT (elements < 0, NULL). */
MUIR_API muir_status_t muir_launch_config(int64_t elements,
                                          muir_launch_config_t *out_config);

/*===----------------------------------------------------------------------===*
 * States: the flat buffers of one model replica and the kernels over them
 *===----------------------------------------------------------------------===*/

/** The buffers of one model replica on one device. */
typedef struct muir_state muir_state_t;

/** Which buffer muir_state_buffer and the copies address: params, grads, or
 *  optimizer state k as MUIR_BUFFER_STATE0 + k. */
#define MUIR_BUFFER_PARAMS 0
#define MUIR_BUFFER_GRADS 1
#define MUIR_BUFFER_STATE0 2
/** A bf16 package's bf16 copy of the params (MUIR_PRECISION_BF16,
 *  package_abi.h): 2 bytes per element, written by init (rounded to
 *  nearest) and by every step (rounded stochastically). Its grads buffer
 *  holds 2-byte bf16 values too; both are read and written through
 *  muir_state_buffer_bytes, and muir_state_buffer and the copies refuse
 *  them. */
#define MUIR_BUFFER_PARAMS_BF16 64

/** Creates a state on `device` that owns its buffers: params, grads and the
 *  package's num_states optimizer states, each buffer_elements floats,
 *  aligned to the package's alignment (at least 64 bytes on the CPU) and
 *  zero-filled. Params need muir_state_init before the first step.
 *
 *  On CUDA the buffers are device memory (cuMemAlloc in the device's primary
 *  context) and the kernels come from `dir`/kernels.sm_XY.cubin for the
 *  device's compute capability, else `dir`/kernels.ptx through the driver's
 *  JIT.
 *
 *  Errors: MUIR_ERROR_NO_DEVICE (no CUDA driver or no such device),
 *  MUIR_ERROR_IO / MUIR_ERROR_FORMAT (no usable CUDA kernels in the package),
 *  MUIR_ERROR_CUDA, MUIR_ERROR_MEMORY, MUIR_ERROR_ARGUMENT. */
MUIR_API muir_status_t muir_state_create(muir_package_t *package,
                                         muir_device_t device,
                                         muir_state_t **out_state);

/** Creates a state over buffers the caller owns (on CUDA, device pointers in
 *  the device's primary context, e.g. a framework's tensors). Each buffer
 *  must hold exactly `elements` == buffer_elements floats and start at a
 *  multiple of the package's alignment; `states` points to num_states
 *  buffers (NULL when num_states is 0). Nothing is zeroed: optimizer states
 *  must be zero before the first step. The buffers must outlive the state.
 *  A bf16 package's 2-byte buffers need muir_state_adopt_buffers.
 *
 *  Errors: MUIR_ERROR_SIZE (wrong `elements`), MUIR_ERROR_ARGUMENT (NULL or
 *  misaligned buffer, the same buffer twice or two that overlap, a bf16
 *  package), and those of muir_state_create. */
MUIR_API muir_status_t muir_state_adopt(muir_package_t *package,
                                        muir_device_t device, float *params,
                                        float *grads, float *const *states,
                                        int64_t elements,
                                        muir_state_t **out_state);

/** muir_state_create for a shard: a state that holds elements [begin, end)
 *  of each flat buffer (params, grads and every optimizer state: end - begin
 *  floats each, element e at index e - begin), whose steps update those
 *  elements with the constants of the whole tensors they belong to (a shard
 *  may cut through a tensor). `begin` and `end` must be shard boundaries:
 *  0, buffer_elements, or the first element of a reduction slot
 *  (package_abi.h; muir_package_plan_shards picks them). Slot boundaries
 *  make every slot's partial sums come from one shard, so the sum of all
 *  shards' partials is exactly the unsharded reduction, whatever the
 *  number of shards; they are chunk boundaries too, so the CUDA kernels'
 *  chunks lie inside one shard with their 128-bit accesses aligned. [0,
 *  buffer_elements) is an ordinary state.
 *  Errors: MUIR_ERROR_ARGUMENT (bounds out of order or not boundaries: the
 *  message names the nearest boundaries), and those of muir_state_create. */
MUIR_API muir_status_t muir_state_create_shard(muir_package_t *package,
                                               muir_device_t device,
                                               int64_t begin, int64_t end,
                                               muir_state_t **out_state);

/** muir_state_adopt for a shard [begin, end) (muir_state_create_shard):
 *  each buffer holds exactly `elements` == end - begin floats, e.g. a
 *  slice of a trainer's full params buffer and shard-sized grads and
 *  states. Errors: those of muir_state_adopt and muir_state_create_shard. */
MUIR_API muir_status_t muir_state_adopt_shard(
    muir_package_t *package, muir_device_t device, int64_t begin, int64_t end,
    float *params, float *grads, float *const *states, int64_t elements,
    muir_state_t **out_state);

/** One buffer a caller hands to muir_state_adopt_buffers: its address (a
 *  device pointer on CUDA), its length in elements and its bytes per
 *  element (4: float32; 2: bfloat16 bits, the top half of a float32). */
typedef struct {
  void *data;
  int64_t elements;
  int32_t element_size;
} muir_buffer_t;

/** muir_state_adopt_shard for buffers of either element size, so a bf16
 *  package's state can take a trainer's bf16 gradients and bf16 params
 *  copy: `buffers` holds `count` buffers in the order params, grads, state
 *  0 .. num_states - 1, then, for a bf16 package, its params copy
 *  (MUIR_BUFFER_PARAMS_BF16). Each holds end - begin elements ([0,
 *  buffer_elements): a whole state) of its element size: 2 for a bf16
 *  package's grads and copy, 4 for every other buffer; each starts at a
 *  multiple of the package's alignment. As for muir_state_adopt, nothing is
 *  zeroed and the buffers must outlive the state.
 *  Errors: MUIR_ERROR_SIZE (a buffer's elements), MUIR_ERROR_ARGUMENT (the
 *  count, an element size, NULL, misaligned, the same buffer twice or two
 *  that overlap), and those of muir_state_adopt_shard. */
MUIR_API muir_status_t muir_state_adopt_buffers(
    muir_package_t *package, muir_device_t device, int64_t begin, int64_t end,
    const muir_buffer_t *buffers, int32_t count, muir_state_t **out_state);

/** Writes the elements of the flat buffers the state holds: [0,
 *  buffer_elements) unless it is a shard. Errors: MUIR_ERROR_ARGUMENT. */
MUIR_API muir_status_t muir_state_shard(const muir_state_t *state,
                                        int64_t *out_begin, int64_t *out_end);

/** Frees the state (and the buffers it allocated). NULL is ignored. */
MUIR_API void muir_state_release(muir_state_t *state);

/** Returns the state's package (not retained for the caller). */
MUIR_API muir_package_t *muir_state_package(const muir_state_t *state);

/** Returns the device the state was created on. */
MUIR_API muir_device_t muir_state_device(const muir_state_t *state);

/** Writes the address of buffer `which` (MUIR_BUFFER_*) and its length in
 *  floats (end - begin for a shard). On CUDA the address is a device
 *  pointer (a CUdeviceptr).
 *  Errors: MUIR_ERROR_ARGUMENT (`which` out of range, NULL, or a bf16
 *  package's 2-byte buffer: muir_state_buffer_bytes). */
MUIR_API muir_status_t muir_state_buffer(const muir_state_t *state,
                                         int32_t which, float **out_data,
                                         int64_t *out_elements);

/** muir_state_buffer for any buffer, of any element size: writes its
 *  address, its length in elements and the bytes per element (4 for the
 *  float32 buffers, 2 for a bf16 package's grads and MUIR_BUFFER_PARAMS_BF16:
 *  bfloat16 bits, the top half of a float32).
 *  Errors: MUIR_ERROR_ARGUMENT (`which` out of range, NULL). */
MUIR_API muir_status_t muir_state_buffer_bytes(const muir_state_t *state,
                                               int32_t which, void **out_data,
                                               int64_t *out_elements,
                                               int32_t *out_element_size);

/** The seed of a bf16 state's stochastic rounding: step t writes element e
 *  of MUIR_BUFFER_PARAMS_BF16 with rounding bits from Philox4x32-10 keyed
 *  by (seed, t, e) (package_abi.h, muir_kernel_step_bf16), so a run is
 *  reproducible. muir_state_init and muir_state_init_range set it to their
 *  seed; a trainer that resumes from a checkpoint sets it here. Errors:
 *  MUIR_ERROR_ARGUMENT (NULL, or not a bf16 state). */
MUIR_API muir_status_t muir_state_set_rounding_seed(muir_state_t *state,
                                                    uint64_t seed);
MUIR_API muir_status_t muir_state_get_rounding_seed(const muir_state_t *state,
                                                    uint64_t *out_seed);

/** The bytes per parameter of the package's precision and optimizer
 *  (docs/Optimizers.md): `memory`, the flat buffers a state holds (params,
 *  grads, every state and a bf16 package's copy of the params), and `step`,
 *  what one step reads and writes (params and per-element states read and
 *  written, grads read, the bf16 copy written). AdamW: 16 and 28 in either
 *  precision (bf16 halves the grads and adds the copy). Either output may
 *  be NULL. Errors: MUIR_ERROR_ARGUMENT. */
MUIR_API muir_status_t muir_package_bytes_per_param(
    const muir_package_t *package, int64_t *out_memory, int64_t *out_step);

/** Copies elements [begin, begin + count) of buffer `which` to `host`
 *  (host memory), on any device. `begin` counts within the state's buffer
 *  (for a shard, 0 is the shard's first element). */
MUIR_API muir_status_t muir_state_copy_to_host(const muir_state_t *state,
                                               int32_t which, int64_t begin,
                                               int64_t count, float *host);

/** Copies `count` floats from `host` into elements [begin, begin + count) of
 *  buffer `which`, on any device. */
MUIR_API muir_status_t muir_state_copy_from_host(muir_state_t *state,
                                                 int32_t which, int64_t begin,
                                                 int64_t count,
                                                 const float *host);

/** The copies for a buffer of any element size (muir_state_buffer_bytes):
 *  `count` elements of `element_size` bytes, which must be the buffer's (2
 *  for a bf16 package's grads and MUIR_BUFFER_PARAMS_BF16, 4 for the
 *  others), between elements [begin, begin + count) of buffer `which` and
 *  `host`, on any device.
 *  Errors: MUIR_ERROR_ARGUMENT (`which` out of range, NULL, another element
 *  size, elements outside the buffer), MUIR_ERROR_CUDA. */
MUIR_API muir_status_t muir_state_copy_bytes_to_host(
    const muir_state_t *state, int32_t which, int64_t begin, int64_t count,
    int32_t element_size, void *host);
MUIR_API muir_status_t muir_state_copy_bytes_from_host(
    muir_state_t *state, int32_t which, int64_t begin, int64_t count,
    int32_t element_size, const void *host);

/** Writes the initial values of every parameter, from `seed`. The values
 *  depend only on (seed, parameter, element), so they are the same on every
 *  device and under any sharding. Padding between tensors is zeroed. */
MUIR_API muir_status_t muir_state_init(muir_state_t *state, uint64_t seed);

/** Initialises elements [begin, end) of the params buffer only: a shard of
 *  muir_state_init, bit for bit. `begin` and `end` are elements of the
 *  flat buffer (not of a shard's buffer), inside the state's elements;
 *  muir_state_init on a shard initialises all of its elements.
 *  Errors: MUIR_ERROR_ARGUMENT (not shard begin <= begin <= end <= shard
 *  end). */
MUIR_API muir_status_t muir_state_init_range(muir_state_t *state, uint64_t seed,
                                             int64_t begin, int64_t end);

/** One optimizer step of the whole model from the grads buffer: `step`
 *  counts from 1 (bias corrections use it); `lr_factor` multiplies every
 *  tensor's learning rate (the schedule: warmup, cosine, WSD). On CUDA the
 *  call returns after the kernel has finished.
 *  Errors: MUIR_ERROR_ARGUMENT (step < 1, lr_factor negative or not finite),
 *  MUIR_ERROR_CUDA. */
MUIR_API muir_status_t muir_state_step(muir_state_t *state, int64_t step,
                                       float lr_factor);

/** The global L2 norm of the grads buffer (every element of every untied
 *  parameter once; padding excluded), from the reduction phase: partial
 *  sums of squares in float64 over fixed slices of each tensor
 *  (package_abi.h), then their sum in order. The same bits for the same
 *  grads on the same device; CPU and CUDA may differ in the last bits.
 *  Errors: MUIR_ERROR_ARGUMENT (NULL), MUIR_ERROR_CUDA. */
MUIR_API muir_status_t muir_state_grad_norm(muir_state_t *state,
                                            double *out_norm);

/** muir_state_step that first writes the global gradient norm of the grads
 *  it steps with to `*out_grad_norm` (muir_state_grad_norm), unless
 *  `out_grad_norm` is NULL. Nothing runs if an argument is bad. */
MUIR_API muir_status_t muir_state_step_with_norm(muir_state_t *state,
                                                 int64_t step, float lr_factor,
                                                 double *out_grad_norm);

/** The guards of one step (muir_state_step_guarded); all zero: none. */
typedef struct {
  /** Global-norm gradient clipping: > 0 scales every gradient by
   *  min(1, max_grad_norm / (norm + 1e-6)) as the step kernel reads it
   *  (torch.nn.utils.clip_grad_norm_); 0: off. */
  double max_grad_norm;
  /** Nonzero: when any gradient is NaN or infinite, nothing is stepped
   *  (params and every state keep every byte) and the report says so. */
  int32_t skip_nonfinite;
} muir_step_guards_t;

/** What one guarded step did. */
typedef struct {
  /** The global gradient norm before clipping (muir_state_grad_norm): NaN
   *  or infinite exactly when a gradient is (float64 sums of float32
   *  squares cannot overflow). */
  double grad_norm;
  /** The factor the step multiplied every gradient by (1: not clipped). */
  float grad_scale;
  /** 1 when the step was skipped for non-finite gradients, else 0. */
  int32_t skipped;
} muir_step_report_t;

/** muir_state_step with guards: the reduction phase (one more read of the
 *  grads) gives the global norm, then the step either runs with the clip
 *  factor or, with skip_nonfinite and a non-finite norm, does not run at
 *  all. A non-finite norm without skip_nonfinite steps unclipped. Writes
 *  `*out_report` unless it is NULL; `guards` NULL means none. A skipped step
 *  returns MUIR_OK (the report says it was skipped).
 *  Errors: as muir_state_step, and MUIR_ERROR_ARGUMENT for a negative or
 *  non-finite max_grad_norm. Nothing runs if an argument is bad. */
MUIR_API muir_status_t muir_state_step_guarded(muir_state_t *state,
                                               int64_t step, float lr_factor,
                                               const muir_step_guards_t *guards,
                                               muir_step_report_t *out_report);

/** The step telemetry of one tensor copy (Kosson et al. 2024's measures),
 *  from float64 sums over its elements: w before the step, w' after. */
typedef struct {
  double param_norm;       /**< ||w|| */
  double param_norm_after; /**< ||w'|| */
  double update_norm;      /**< ||w' - w|| */
  /** The angle between w and w' in radians, in [0, pi]: atan2 of d's part
   *  perpendicular to w and ||w|| plus d's part along w (d = w' - w);
   *  0 when w or w' is 0 (no direction). */
  double angle;
} muir_step_telemetry_t;

/** muir_state_step_guarded with telemetry: the step kernel's telemetry
 *  variant (muir_kernel_step_telemetry: the same update, bit for bit, that
 *  also sums w^2, w'^2, d^2 and w d, d = w' - w, per reduction slot in
 *  float64; on CUDA the plain step kernel between a copy of the params and
 *  muir_telemetry_kernel, one block per slot, over the copy and the params)
 *  writes one entry per copy of every untied parameter to `out_telemetry`,
 *  in the order of info->kernel_params and, within a repeated parameter,
 *  by copy; `entries` must be that count (the sum of kernel_params[k].copies).
 *  A skipped step writes NaN entries. `out_telemetry` NULL: exactly
 *  muir_state_step_guarded. A CUDA state keeps a device buffer of the
 *  params from its first telemetry step on.
 *  Errors: as muir_state_step_guarded; MUIR_ERROR_ARGUMENT for a wrong
 *  `entries`; MUIR_ERROR_FORMAT for a package library or CUDA module
 *  without the telemetry kernel. Nothing runs if an argument is bad. */
MUIR_API muir_status_t muir_state_step_telemetry(
    muir_state_t *state, int64_t step, float lr_factor,
    const muir_step_guards_t *guards, muir_step_report_t *out_report,
    muir_step_telemetry_t *out_telemetry, int64_t entries);

/** LionAR's per-row telemetry (docs/Optimizers.md): after a
 *  muir_state_step_telemetry on a whole state (CPU or CUDA: there the
 *  muir_unit_telemetry_kernel, the same sums), the telemetry of every
 *  rotational unit of parameter `param` (a row, or a whole copy with
 *  units=tensor): `entries` = copies x units per copy, copy-major. A unit
 *  that did not rotate (its copy has no weight decay) and every unit of a
 *  skipped step have NaN entries.
 *  Errors: MUIR_ERROR_ARGUMENT (NULL, no such parameter, a tied one, one
 *  without units, a wrong `entries`, no telemetry step of a whole state
 *  before). */
MUIR_API muir_status_t muir_state_unit_telemetry(
    const muir_state_t *state, int64_t param,
    muir_step_telemetry_t *out_telemetry, int64_t entries);

/*===----------------------------------------------------------------------===*
 * Sharded steps: reductions across ranks (docs/Distributed.md)
 *
 * A step whose guards or telemetry need sums over the whole model runs in
 * three parts on every rank: muir_state_reduce (the rank's partial sums),
 * an all-reduce (sum) of them over the ranks by the trainer, then
 * muir_state_step_sharded with the summed partials. Partials are float64
 * in a layout the package defines (muir_package_partials): summing the
 * ranks' vectors elementwise is the only operation a trainer applies.
 * With shards from muir_package_plan_shards (or any slot boundaries) each
 * slot's sum comes from one rank and the others add zeros, so the summed
 * partials, the norm, the clip factor and the skip decision have exactly
 * the single-process bits for every number of ranks.
 *
 * LionAR's units may span shards: their sums come from a second round,
 * muir_state_reduce_units after the gradients' partials are summed (the
 * clip factor scales the gradients its sums read), whose unit partials the
 * trainer sums over the ranks too. Each segment of a unit in one slot has
 * one owner, so the units' sums also have the single-process bits.
 *===----------------------------------------------------------------------===*/

/** Writes the lengths of the partial-sum vectors: `*out_step` doubles for
 *  muir_state_reduce / muir_state_reduce_units / muir_state_step_sharded
 *  (the squared gradients of every reduction slot, num_slots, then for a
 *  package with LionAR units MUIR_SLOT_UNIT_SUMS per slot, package_abi.h),
 *  `*out_telemetry` for the telemetry partials (4 num_slots, then 4 per
 *  LionAR unit: muir_package_unit_telemetry). Either
 *  pointer may be NULL.
 *  Errors: MUIR_ERROR_ARGUMENT (NULL package). */
MUIR_API muir_status_t muir_package_partials(const muir_package_t *package,
                                             int64_t *out_step,
                                             int64_t *out_telemetry);

/** The reduction phase over the state's gradients: writes the `count`
 *  (muir_package_partials' out_step) partial sums of this state's
 *  elements, zeros for the slots outside a shard and for the units' part.
 *  Errors: MUIR_ERROR_ARGUMENT (NULL, a wrong count), MUIR_ERROR_CUDA. */
MUIR_API muir_status_t muir_state_reduce(muir_state_t *state,
                                         double *out_partials, int64_t count);

/** LionAR's reduction phase across ranks: `partials` (`count` doubles,
 *  muir_package_partials' out_step) holds the gradients' partials summed
 *  over the ranks (zeros without guards); from them come the step's clip
 *  factor and skip decision, as muir_state_step_sharded will find them
 *  with the same `guards`. Writes the units' part of `partials` (after the
 *  num_slots gradient partials): this state's segment sums with the
 *  gradients scaled by that factor, zeros outside its slots (all zeros
 *  when the step will be skipped). The trainer then sums that part over
 *  the ranks and passes the whole vector to muir_state_step_sharded.
 *  Errors: those of muir_state_step_guarded's arguments;
 *  MUIR_ERROR_ARGUMENT (NULL partials, a wrong count, a package without
 *  units), MUIR_ERROR_FORMAT (a library without muir_kernel_reduce_units),
 *  MUIR_ERROR_CUDA. */
MUIR_API muir_status_t muir_state_reduce_units(muir_state_t *state,
                                               int64_t step, float lr_factor,
                                               const muir_step_guards_t *guards,
                                               double *partials, int64_t count);

/** muir_state_step_guarded on the state's elements with the reduction
 *  phase's results given: `partials` (`count` doubles) is the sum over all
 *  ranks of their muir_state_reduce outputs, from which the global norm,
 *  the clip factor and the skip decision come (the same on every rank),
 *  and for LionAR the units' part summed from muir_state_reduce_units (a
 *  shard of a package with units steps only this way).
 *  With `out_telemetry_partials` (room for `telemetry_count` doubles,
 *  muir_package_partials' out_telemetry) it runs the telemetry step and
 *  writes this state's telemetry partials (zeros outside its elements, NaN
 *  on a skipped step and for the units of copies that do not rotate): sum
 *  them over the ranks and pass the sum to muir_package_combine_telemetry
 *  (and for LionAR's units to muir_package_unit_telemetry). CPU only with
 * telemetry, as muir_state_step_telemetry. Nothing runs if an argument is bad.
 *  Errors: those of muir_state_step_guarded; MUIR_ERROR_ARGUMENT for NULL
 *  partials or a wrong count; MUIR_ERROR_FORMAT for a package library
 *  without the shard kernels. */
MUIR_API muir_status_t muir_state_step_sharded(
    muir_state_t *state, int64_t step, float lr_factor,
    const muir_step_guards_t *guards, const double *partials, int64_t count,
    muir_step_report_t *out_report, double *out_telemetry_partials,
    int64_t telemetry_count);

/** The step telemetry of every parameter copy (as muir_state_step_telemetry
 *  writes it) from summed telemetry partials (`count` doubles,
 *  muir_package_partials' out_telemetry).
 *  Errors: MUIR_ERROR_ARGUMENT (NULL, wrong `count` or `entries`). */
MUIR_API muir_status_t muir_package_combine_telemetry(
    const muir_package_t *package, const double *partials, int64_t count,
    muir_step_telemetry_t *out_telemetry, int64_t entries);

/** LionAR's per-row telemetry of a sharded step: from the telemetry partial
 *  sums of muir_state_step_sharded summed over the ranks (`count` =
 *  muir_package_partials' telemetry count), the telemetry of every
 *  rotational unit of parameter `param`, as muir_state_unit_telemetry
 *  (copy-major; NaN for a unit that did not rotate or a skipped step). Each
 *  rank adds its part of a unit: a unit that a shard bound cuts gets the sum
 *  of its parts' sums, the whole state's to rounding (another order); the
 *  others the whole state's bits.
 *  Errors: MUIR_ERROR_ARGUMENT (NULL, a wrong `count`, no such parameter, a
 *  tied one, one without units, a wrong `entries`). */
MUIR_API muir_status_t muir_package_unit_telemetry(
    const muir_package_t *package, const double *partials, int64_t count,
    int64_t param, muir_step_telemetry_t *out_telemetry, int64_t entries);

/** Per-tensor overrides without recompiling (per-module sweeps): from the
 *  next step on, parameter `param` (an index into info->params; every copy
 *  of a repeated one) steps with its compiled-in learning rate times
 *  `lr_multiplier` and weight decay times `weight_decay_multiplier`. The
 *  multipliers replace the previous ones (1 and 1 restore the compiled-in
 *  constants, bit for bit); the schedule's lr_factor still applies. The
 *  compiled-in values are the package's table (info->tensor_rows, listed in
 *  manifest.json's kernel_table). Only this state changes.
 *  Errors: MUIR_ERROR_ARGUMENT (NULL, no such parameter, a tied parameter:
 *  set its owner's, a negative or non-finite multiplier), MUIR_ERROR_CUDA. */
MUIR_API muir_status_t muir_state_set_optimizer_multipliers(
    muir_state_t *state, int64_t param, double lr_multiplier,
    double weight_decay_multiplier);

/** Writes parameter `param`'s current multipliers (1 and 1 unless set).
 *  Errors: as muir_state_set_optimizer_multipliers. */
MUIR_API muir_status_t
muir_state_get_optimizer_multipliers(const muir_state_t *state, int64_t param,
                                     double *out_lr, double *out_weight_decay);

#ifdef __cplusplus
}
#endif

#endif /* MUIR_RUNTIME_H */
