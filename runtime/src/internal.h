/*===- internal.h - Shared declarations of the runtime's sources -*- C -*-===*
 *
 * Part of the muir project, under the Apache License v2.0 with LLVM
 * Exceptions.
 *
 *===----------------------------------------------------------------------===*/

#ifndef MUIR_RUNTIME_INTERNAL_H
#define MUIR_RUNTIME_INTERNAL_H

#include "library.h"
#include "muir/runtime.h"

#include <stdatomic.h>
#include <stdbool.h>

/** Signatures of the package's exported symbols (package_abi.h). */
typedef const muir_package_info_t *(*muir_info_fn_t)(void);
typedef void (*muir_init_fn_t)(float *, uint64_t, int64_t, int64_t);
typedef void (*muir_step_fn_t)(float *, const float *, float *const *, int64_t,
                               float, float);
typedef void (*muir_step_rows_fn_t)(float *, const float *, float *const *,
                                    int64_t, float, float,
                                    const muir_tensor_row_t *);
typedef void (*muir_reduce_fn_t)(const float *, double *, int64_t, int64_t);
typedef void (*muir_step_telemetry_fn_t)(float *, const float *, float *const *,
                                         int64_t, float, float,
                                         const muir_tensor_row_t *, double *,
                                         int64_t, int64_t, const double *);
typedef void (*muir_init_shard_fn_t)(float *, uint64_t, int64_t, int64_t,
                                     int64_t);
typedef void (*muir_step_shard_fn_t)(float *, const float *, float *const *,
                                     int64_t, float, float,
                                     const muir_tensor_row_t *, int64_t,
                                     int64_t, const double *);
typedef void (*muir_reduce_shard_fn_t)(const float *, double *, int64_t,
                                       int64_t, int64_t);
typedef void (*muir_step_bf16_fn_t)(float *, const uint16_t *, float *const *,
                                    uint16_t *, int64_t, float, float,
                                    const muir_tensor_row_t *, uint64_t,
                                    int64_t, int64_t);
typedef void (*muir_reduce_bf16_fn_t)(const uint16_t *, double *, int64_t,
                                      int64_t, int64_t);
typedef void (*muir_step_telemetry_bf16_fn_t)(
    float *, const uint16_t *, float *const *, uint16_t *, int64_t, float,
    float, const muir_tensor_row_t *, double *, uint64_t, int64_t, int64_t);
typedef void (*muir_reduce_units_fn_t)(float *, const float *, float *const *,
                                       int64_t, float, float,
                                       const muir_tensor_row_t *, double *,
                                       int64_t, int64_t, int64_t);

/** Most optimizer state buffers a package may declare. */
#define MUIR_MAX_STATES 8

struct muir_package {
  atomic_long refs;
  muir_library_t library; /* the package's own copy of its library */
  /* The directory as opened: later reads (CUDA modules) go through it, so
   * they come from the package that was checked even if the path has been
   * replaced by a newer package since. */
  int dir_fd;
  char *dir;
  /* manifest.json as read and checked at open (NUL-terminated). */
  char *manifest;
  size_t manifest_size;
  const muir_package_info_t *info;
  muir_init_fn_t init;
  muir_step_fn_t step;
  muir_step_rows_fn_t stepRows;
  muir_reduce_fn_t reduce;
  /* NULL in a library without it (the test fixture): telemetry is then an
   * error. */
  muir_step_telemetry_fn_t stepTelemetry;
  /* The shard kernels; NULL in a library without them (the test fixture):
   * a shard state is then an error. */
  muir_init_shard_fn_t initShard;
  muir_step_shard_fn_t stepShard;
  muir_reduce_shard_fn_t reduceShard;
  /* A bf16 package's kernels (checked at open); NULL in an fp32 one. */
  muir_step_bf16_fn_t stepBf16;
  muir_reduce_bf16_fn_t reduceBf16;
  /* NULL in a library without it: a bf16 telemetry step is then an error. */
  muir_step_telemetry_bf16_fn_t stepTelemetryBf16;
  /* LionAR's unit sums across shards; NULL in a library without them: a
   * shard of a package with units is then an error. */
  muir_reduce_units_fn_t reduceUnits;
};

/** The elements [begin, end) of the flat buffers a state holds, with the
 *  CUDA chunks [chunk_begin, chunk_end) and the reduction slots
 *  [slot_begin, slot_end) inside them. */
typedef struct {
  int64_t begin, end, chunk_begin, chunk_end, slot_begin, slot_end;
} muir_shard_t;

/** A state's CUDA resources (cuda.c); opaque to the rest. */
typedef struct muir_cuda_state muir_cuda_state_t;

struct muir_state {
  muir_package_t *package;
  muir_device_t device;
  bool owns_buffers;
  int32_t num_buffers; /* 2 + num_states */
  int64_t elements;    /* shard.end - shard.begin */
  muir_shard_t shard;  /* [0, buffer_elements) unless a shard */
  float *buffers[2 + MUIR_MAX_STATES];
  /* A bf16 package's 2-byte buffers (NULL in an fp32 one, whose grads are
   * buffers[MUIR_BUFFER_GRADS]; that slot is NULL in a bf16 one): the
   * grads and the params' bf16 copy, and the rounding seed of its steps. */
  uint16_t *bf16_grads, *bf16_params;
  uint64_t rounding_seed;
  /* Whether the last step was a telemetry step of a whole state (CPU or
   * CUDA): partials then hold LionAR's per-unit sums after the slots' (4
   * per unit). */
  bool unit_telemetry;
  /* The state's copy of the kernels' rows (num_tensor_rows, at least one):
   * the compiled-in constants with this state's multipliers applied. */
  muir_tensor_row_t *rows;
  /* Per parameter: the lr and weight-decay multipliers (2 doubles). */
  double *multipliers;
  /* The reduction phase's partial sums (num_slots, at least one), and the
   * telemetry's four per slot and per rotational unit (4 (num_slots +
   * num_units)). */
  double *partials;
  muir_cuda_state_t *cuda; /* NULL on the CPU */
};

/*===- error.c ------------------------------------------------------------===*/

/** Clears this thread's message; every public entry point that returns a
 *  status calls it first. */
void muir_clear_error(void);

/** Sets this thread's message (printf format) and returns `status`. */
muir_status_t muir_set_error(muir_status_t status, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/*===- package.c ----------------------------------------------------------===*/

/** Checks a package's table (the rules in docs/Runtime.md): MUIR_OK, or
 *  MUIR_ERROR_FORMAT (MUIR_ERROR_MEMORY) with a message naming `dir`, the
 *  parameter and the numbers. */
muir_status_t muir_check_table(const char *dir,
                               const muir_package_info_t *info);

/** Reads the file `name` of the package's directory (as opened), at most
 *  `limit` bytes, into a malloc()ed buffer with a NUL appended. Returns 0
 *  or an errno value (EFBIG past the limit). */
int muir_package_read_file(const muir_package_t *package, const char *name,
                           size_t limit, char **out_data, size_t *out_size);

/*===- shard.c ------------------------------------------------------------===*/

/** Checks that [begin, end) is a shard of the package (bounds in order,
 *  slot boundaries) and writes it with its chunks and slots; `caller`
 *  starts the message. */
muir_status_t muir_shard_locate(const muir_package_t *package, int64_t begin,
                                int64_t end, const char *caller,
                                muir_shard_t *out);

/** The doubles of LionAR's unit partial sums that follow the slots' in a
 *  sharded step's partials (0 for a package without units). */
int64_t muir_unit_partials(const muir_package_info_t *info);

/*===- state.c ------------------------------------------------------------===*/

/** The address of buffer `which` of the state (MUIR_BUFFER_*, checked by
 *  the caller; a device pointer on CUDA) and its bytes per element (2 for
 *  a bf16 package's grads and params copy, else 4). */
void *muir_buffer_data(const muir_state_t *state, int32_t which,
                       int32_t *out_element_size);

/** The bf16 copy of `count` float32 values, rounded to nearest even (init's
 *  rounding); a NaN becomes a quiet NaN of its sign, infinities stay. */
void muir_round_bf16_nearest(const float *from, uint16_t *to, int64_t count);

/*===- cuda.c -------------------------------------------------------------===*/

/** Sets up `state` (package, device, num_buffers, elements filled in) on its
 *  CUDA device: context and module (a bf16 package's step and reduction are
 *  its bf16 kernels), then either allocates and zeroes the buffers (`adopt`
 *  false; a bf16 package's grads and params copy in bf16_grads and
 *  bf16_params, 2 bytes per element) or takes the adopted ones already in
 *  the state. */
muir_status_t muir_cuda_state_create(muir_state_t *state, bool adopt);

/** Frees what muir_cuda_state_create set up (and owned buffers). */
void muir_cuda_state_release(muir_state_t *state);

/** The init kernel over [begin, end); a bf16 state's copy of those params
 *  rounded to nearest on the host (muir_round_bf16_nearest), as the CPU
 *  does. */
muir_status_t muir_cuda_init(muir_state_t *state, uint64_t seed, int64_t begin,
                             int64_t end);
/** The step; `units` (MUIR_SLOT_UNIT_SUMS num_slots on the host, or NULL)
 *  are LionAR's unit partial sums summed over the ranks. */
muir_status_t muir_cuda_step(muir_state_t *state, int64_t step, float lr_factor,
                             float grad_scale, const double *units);
/** LionAR's unit partial sums of the state's slots into `units` (host,
 *  zeroed by the caller). */
muir_status_t muir_cuda_reduce_units(muir_state_t *state, int64_t step,
                                     float lr_factor, float grad_scale,
                                     double *units);
/** Runs the reduction phase over the grads and copies the partial sums to
 *  state->partials. */
muir_status_t muir_cuda_reduce(muir_state_t *state);
/** The step, with the telemetry kernel's four sums per slot (from a copy of
 *  the params before the step) copied to state->partials, and LionAR's
 *  four per unit after them (muir_unit_telemetry_kernel; units that do not
 *  rotate or lie outside the state keep what state->partials held). */
muir_status_t muir_cuda_step_telemetry(muir_state_t *state, int64_t step,
                                       float lr_factor, float grad_scale,
                                       const double *units);
/** Copies rows [first, first + count) of state->rows to the module's
 *  table. */
muir_status_t muir_cuda_write_rows(muir_state_t *state, int64_t first,
                                   int64_t count);
/** Copies elements [begin, begin + count) of buffer `which` (of its
 *  element size) to `to_host`, or from `from_host` (the other NULL). */
muir_status_t muir_cuda_copy(const muir_state_t *state, int32_t which,
                             int64_t begin, int64_t count, void *to_host,
                             const void *from_host);

#endif /* MUIR_RUNTIME_INTERNAL_H */
