/*===- state.c - Flat buffers and the kernels over them -----------*- C -*-===*
 *
 * Part of the muir project, under the Apache License v2.0 with LLVM
 * Exceptions.
 *
 *===----------------------------------------------------------------------===*
 *
 * Every argument is checked here, before a kernel runs: the package's kernels
 * trust their arguments (package_abi.h) and have no way to report an error.
 * The CUDA half of each operation lives in cuda.c.
 *
 *===----------------------------------------------------------------------===*/

#include "internal.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/** Alignment of CPU buffers the runtime allocates: the package's, and at
 *  least a cache line. */
#define MUIR_MIN_CPU_ALIGNMENT 64

/** "params", "grads" or "state K", for messages; valid until the end of the
 *  full expression that calls it. */
typedef struct {
  char text[32];
} label_t;

static label_t bufferLabel(int32_t which) {
  label_t label;
  if (which == MUIR_BUFFER_PARAMS)
    snprintf(label.text, sizeof(label.text), "params");
  else if (which == MUIR_BUFFER_PARAMS_BF16)
    snprintf(label.text, sizeof(label.text), "params_bf16");
  else if (which == MUIR_BUFFER_GRADS)
    snprintf(label.text, sizeof(label.text), "grads");
  else
    snprintf(label.text, sizeof(label.text), "state %d",
             which - MUIR_BUFFER_STATE0);
  return label;
}

static bool isCuda(muir_device_t device) { return device >= MUIR_DEVICE_CUDA; }

static bool isBf16(const muir_package_t *package) {
  return package->info->precision == MUIR_PRECISION_BF16;
}

/** Bytes per element of buffer `which` in a state of `package`: 2 for a
 *  bf16 package's grads and params copy, else 4. */
static int32_t elementSize(const muir_package_t *package, int32_t which) {
  return isBf16(package) && (which == MUIR_BUFFER_GRADS ||
                             which == MUIR_BUFFER_PARAMS_BF16)
             ? 2
             : 4;
}

static bool isShard(const muir_state_t *state) {
  return state->shard.begin != 0 ||
         state->shard.end != state->package->info->buffer_elements;
}

/** Allocates a state shell (no buffers) for `package` on `device`, holding
 *  `shard` of the flat buffers (checked by the caller). */
static muir_status_t newState(muir_package_t *package, muir_device_t device,
                              const muir_shard_t *shard, const char *caller,
                              muir_state_t **out) {
  if (device < MUIR_DEVICE_CPU)
    return muir_set_error(MUIR_ERROR_ARGUMENT,
                          "%s: device %d is neither MUIR_DEVICE_CPU nor a "
                          "CUDA device",
                          caller, device);
  const muir_package_info_t *info = package->info;
  bool partial = shard->begin != 0 || shard->end != info->buffer_elements;
  if (partial &&
      (!package->initShard || !package->stepShard || !package->reduceShard))
    return muir_set_error(MUIR_ERROR_FORMAT,
                          "%s: the library of '%s' does not export the shard "
                          "kernels (muir_kernel_init_shard, "
                          "muir_kernel_step_shard, muir_kernel_reduce_shard)",
                          caller, package->dir);
  if (partial && info->num_units > 0 && isBf16(package))
    return muir_set_error(MUIR_ERROR_ARGUMENT,
                          "%s: package '%s' (%s) is bf16 and has %" PRId64
                          " LionAR units: its shards do not take the units' "
                          "partial sums yet; it runs unsharded",
                          caller, package->dir, info->optimizer_spec,
                          info->num_units);
  if (partial && info->num_units > 0 && !package->reduceUnits)
    return muir_set_error(MUIR_ERROR_FORMAT,
                          "%s: package '%s' (%s) has %" PRId64
                          " rotational units, but its library does not export "
                          "muir_kernel_reduce_units, whose sums a unit that "
                          "spans shards needs",
                          caller, package->dir, info->optimizer_spec,
                          info->num_units);
  muir_state_t *state = calloc(1, sizeof(*state));
  if (!state)
    return muir_set_error(MUIR_ERROR_MEMORY, "%s: out of memory", caller);
  muir_package_retain(package);
  state->package = package;
  state->device = device;
  state->num_buffers = 2 + info->num_states;
  state->shard = *shard;
  state->elements = shard->end - shard->begin;
  // The table is checked at open: these counts are those of the model.
  size_t rows = info->num_tensor_rows > 0 ? (size_t)info->num_tensor_rows : 1;
  size_t slots = info->num_slots > 0 ? (size_t)info->num_slots : 1;
  state->rows = calloc(rows, sizeof(muir_tensor_row_t));
  state->multipliers = malloc(2 * sizeof(double) *
                              (info->num_params > 0 ? info->num_params : 1));
  state->partials =
      calloc(4 * (slots + (size_t)info->num_units), sizeof(double));
  if (!state->rows || !state->multipliers || !state->partials) {
    muir_state_release(state);
    return muir_set_error(MUIR_ERROR_MEMORY,
                          "%s: out of memory for the kernel table of '%s'",
                          caller, package->dir);
  }
  if (info->num_tensor_rows > 0)
    memcpy(state->rows, info->tensor_rows,
           (size_t)info->num_tensor_rows * sizeof(muir_tensor_row_t));
  for (int64_t i = 0; i < 2 * info->num_params; ++i)
    state->multipliers[i] = 1.0;
  *out = state;
  return MUIR_OK;
}

static void freeCpuBuffers(muir_state_t *state) {
  if (!state->owns_buffers)
    return;
  for (int32_t i = 0; i < state->num_buffers; ++i) {
    free(state->buffers[i]);
    state->buffers[i] = NULL;
  }
  free(state->bf16_grads);
  free(state->bf16_params);
  state->bf16_grads = state->bf16_params = NULL;
}

void muir_state_release(muir_state_t *state) {
  if (!state)
    return;
  if (state->cuda)
    muir_cuda_state_release(state);
  else
    freeCpuBuffers(state);
  free(state->rows);
  free(state->multipliers);
  free(state->partials);
  muir_package_release(state->package);
  free(state);
}

/** The shard [begin, end) of `package`, checked, for `caller`. */
static muir_status_t shardOf(const muir_package_t *package, int64_t begin,
                             int64_t end, const char *caller,
                             muir_shard_t *out) {
  const muir_package_info_t *info = package->info;
  if (begin == 0 && end == info->buffer_elements) {
    *out = (muir_shard_t){0, end, 0, info->num_chunks, 0, info->num_slots};
    return MUIR_OK;
  }
  return muir_shard_locate(package, begin, end, caller, out);
}

static muir_status_t createState(muir_package_t *package, muir_device_t device,
                                 int64_t begin, int64_t end, const char *caller,
                                 muir_state_t **out_state) {
  if (!package || !out_state)
    return muir_set_error(MUIR_ERROR_ARGUMENT, "%s: %s is NULL", caller,
                          !package ? "package" : "out_state");
  muir_shard_t shard;
  muir_status_t status = shardOf(package, begin, end, caller, &shard);
  if (status != MUIR_OK)
    return status;
  muir_state_t *state;
  status = newState(package, device, &shard, caller, &state);
  if (status != MUIR_OK)
    return status;
  state->owns_buffers = true;
  if (isCuda(device)) {
    status = muir_cuda_state_create(state, /*adopt=*/false);
  } else {
    size_t align = (size_t)package->info->alignment;
    if (align < MUIR_MIN_CPU_ALIGNMENT)
      align = MUIR_MIN_CPU_ALIGNMENT;
    // A bf16 package's grads and params copy are 2-byte buffers.
    bool bf16 = isBf16(package);
    for (int32_t i = 0; i < state->num_buffers + bf16 && status == MUIR_OK;
         ++i) {
      int32_t which = i < state->num_buffers ? i : MUIR_BUFFER_PARAMS_BF16;
      bool half = elementSize(package, which) == 2;
      size_t bytes =
          (size_t)state->elements * (size_t)elementSize(package, which);
      // aligned_alloc wants a multiple of the alignment, and never 0 bytes.
      bytes = (bytes + align - 1) / align * align;
      if (bytes == 0)
        bytes = align;
      void *memory = aligned_alloc(align, bytes);
      if (!memory) {
        status = muir_set_error(MUIR_ERROR_MEMORY,
                                "%s: cannot allocate the %s buffer (%zu "
                                "bytes) for package '%s'",
                                caller, bufferLabel(which).text, bytes,
                                package->dir);
        break;
      }
      memset(memory, 0, bytes);
      if (which == MUIR_BUFFER_PARAMS_BF16)
        state->bf16_params = memory;
      else if (half)
        state->bf16_grads = memory;
      else
        state->buffers[which] = memory;
    }
  }
  if (status != MUIR_OK) {
    muir_state_release(state);
    return status;
  }
  *out_state = state;
  return MUIR_OK;
}

muir_status_t muir_state_create(muir_package_t *package, muir_device_t device,
                                muir_state_t **out_state) {
  muir_clear_error();
  return createState(package, device, 0,
                     package ? package->info->buffer_elements : 0,
                     "muir_state_create", out_state);
}

muir_status_t muir_state_create_shard(muir_package_t *package,
                                      muir_device_t device, int64_t begin,
                                      int64_t end, muir_state_t **out_state) {
  muir_clear_error();
  return createState(package, device, begin, end, "muir_state_create_shard",
                     out_state);
}

/** Whether the bytes of two checked buffers (their elements and element
 *  sizes those of the package) meet; differences of addresses, which do not
 *  wrap around as their ends could. */
static bool overlaps(const muir_buffer_t *a, const muir_buffer_t *b) {
  uintptr_t x = (uintptr_t)a->data, y = (uintptr_t)b->data;
  uintptr_t xBytes = (uintptr_t)a->elements * (uintptr_t)a->element_size;
  uintptr_t yBytes = (uintptr_t)b->elements * (uintptr_t)b->element_size;
  return x <= y ? y - x < xBytes : x - y < yBytes;
}

/** Creates a state over the caller's `buffers` (params, grads, the states,
 *  a bf16 package's params copy), each checked: its element size, its
 *  length (the shard [begin, end)), its alignment, no buffer twice, no two
 *  that overlap. */
static muir_status_t adoptState(muir_package_t *package, muir_device_t device,
                                int64_t begin, int64_t end,
                                const muir_buffer_t *buffers, int32_t count,
                                const char *caller, muir_state_t **out_state) {
  if (!package || !out_state || !buffers)
    return muir_set_error(MUIR_ERROR_ARGUMENT, "%s: %s is NULL", caller,
                          !package     ? "package"
                          : !out_state ? "out_state"
                                       : "buffers");
  const muir_package_info_t *info = package->info;
  muir_shard_t shard;
  muir_status_t status = shardOf(package, begin, end, caller, &shard);
  if (status != MUIR_OK)
    return status;
  bool bf16 = isBf16(package);
  int32_t expected = 2 + info->num_states + bf16;
  if (count != expected)
    return muir_set_error(MUIR_ERROR_ARGUMENT,
                          "%s: %d buffers given, but package '%s' (%s, %s) "
                          "needs %d: params, grads, %d optimizer state%s%s",
                          caller, count, package->dir, info->optimizer_spec,
                          bf16 ? "bf16" : "fp32", expected, info->num_states,
                          info->num_states == 1 ? "" : "s",
                          bf16 ? " and the bf16 copy of the params" : "");
  // buffers[i] is buffer `which`: the copy comes after the states.
  int32_t copyAt = 2 + info->num_states;
  for (int32_t i = 0; i < count; ++i) {
    int32_t which = i < copyAt ? i : MUIR_BUFFER_PARAMS_BF16;
    label_t label = bufferLabel(which);
    const muir_buffer_t *b = &buffers[i];
    if (!b->data)
      return muir_set_error(MUIR_ERROR_ARGUMENT, "%s: the %s buffer is NULL",
                            caller, label.text);
    int32_t size = elementSize(package, which);
    if (b->element_size != size)
      return muir_set_error(MUIR_ERROR_ARGUMENT,
                            "%s: the %s buffer has %d-byte elements, but "
                            "package '%s' (%s) needs %d-byte ones (%s)",
                            caller, label.text, b->element_size, package->dir,
                            bf16 ? "bf16" : "fp32", size,
                            size == 2 ? "bfloat16 bits" : "float32");
    if (b->elements != end - begin)
      return muir_set_error(
          MUIR_ERROR_SIZE,
          "%s: the %s buffer holds %" PRId64
          " elements, but package '%s' (model '%s') needs %" PRId64
          " elements per buffer%s",
          caller, label.text, b->elements, package->dir, info->model,
          end - begin,
          end - begin == info->buffer_elements ? "" : " (the shard)");
    if ((uintptr_t)b->data % (uintptr_t)info->alignment != 0)
      return muir_set_error(MUIR_ERROR_ARGUMENT,
                            "%s: the %s buffer at %p is not aligned to the "
                            "package's %" PRId64 " bytes",
                            caller, label.text, b->data, info->alignment);
    for (int32_t j = 0; j < i; ++j) {
      label_t other = bufferLabel(j < copyAt ? j : MUIR_BUFFER_PARAMS_BF16);
      if (buffers[j].data == b->data)
        return muir_set_error(
            MUIR_ERROR_ARGUMENT,
            "%s: the %s and %s buffers are the same memory %p", caller,
            other.text, label.text, b->data);
      // One step would write into the other: their bytes must not meet.
      if (overlaps(&buffers[j], b))
        return muir_set_error(
            MUIR_ERROR_ARGUMENT,
            "%s: the %s buffer [%p, + %" PRId64 " bytes) overlaps the %s "
            "buffer [%p, + %" PRId64 " bytes)",
            caller, label.text, b->data, b->elements * b->element_size,
            other.text, buffers[j].data,
            buffers[j].elements * buffers[j].element_size);
    }
  }
  muir_state_t *state;
  status = newState(package, device, &shard, caller, &state);
  if (status != MUIR_OK)
    return status;
  for (int32_t i = 0; i < state->num_buffers; ++i)
    if (bf16 && i == MUIR_BUFFER_GRADS)
      state->bf16_grads = buffers[i].data;
    else
      state->buffers[i] = buffers[i].data;
  if (bf16)
    state->bf16_params = buffers[copyAt].data;
  if (isCuda(device)) {
    status = muir_cuda_state_create(state, /*adopt=*/true);
    if (status != MUIR_OK) {
      muir_state_release(state);
      return status;
    }
  }
  *out_state = state;
  return MUIR_OK;
}

/** muir_state_adopt(_shard)'s float32 buffers as adoptState's, after their
 *  own checks. */
static muir_status_t adoptFloats(muir_package_t *package, muir_device_t device,
                                 int64_t begin, int64_t end, float *params,
                                 float *grads, float *const *states,
                                 int64_t elements, const char *caller,
                                 muir_state_t **out_state) {
  if (!package || !out_state)
    return muir_set_error(MUIR_ERROR_ARGUMENT, "%s: %s is NULL", caller,
                          !package ? "package" : "out_state");
  const muir_package_info_t *info = package->info;
  if (isBf16(package))
    return muir_set_error(MUIR_ERROR_ARGUMENT,
                          "%s: package '%s' is bf16, whose grads and params "
                          "copy are 2-byte buffers: adopt them with "
                          "muir_state_adopt_buffers",
                          caller, package->dir);
  if (info->num_states > 0 && !states)
    return muir_set_error(MUIR_ERROR_ARGUMENT,
                          "%s: states is NULL, but package '%s' needs %d "
                          "optimizer state buffers",
                          caller, package->dir, info->num_states);
  muir_shard_t shard;
  muir_status_t status = shardOf(package, begin, end, caller, &shard);
  if (status != MUIR_OK)
    return status;
  if (elements != end - begin)
    return muir_set_error(
        MUIR_ERROR_SIZE,
        "%s: buffers of %" PRId64
        " elements given, but package '%s' (model '%s') "
        "needs %" PRId64 " elements per buffer%s",
        caller, elements, package->dir, info->model, end - begin,
        end - begin == info->buffer_elements ? "" : " (the shard)");
  muir_buffer_t buffers[2 + MUIR_MAX_STATES] = {{params, elements, 4},
                                                {grads, elements, 4}};
  for (int32_t k = 0; k < info->num_states; ++k)
    buffers[2 + k] = (muir_buffer_t){states[k], elements, 4};
  return adoptState(package, device, begin, end, buffers, 2 + info->num_states,
                    caller, out_state);
}

muir_status_t muir_state_adopt(muir_package_t *package, muir_device_t device,
                               float *params, float *grads,
                               float *const *states, int64_t elements,
                               muir_state_t **out_state) {
  muir_clear_error();
  return adoptFloats(package, device, 0,
                     package ? package->info->buffer_elements : 0, params,
                     grads, states, elements, "muir_state_adopt", out_state);
}

muir_status_t muir_state_adopt_shard(muir_package_t *package,
                                     muir_device_t device, int64_t begin,
                                     int64_t end, float *params, float *grads,
                                     float *const *states, int64_t elements,
                                     muir_state_t **out_state) {
  muir_clear_error();
  return adoptFloats(package, device, begin, end, params, grads, states,
                     elements, "muir_state_adopt_shard", out_state);
}

muir_status_t muir_state_adopt_buffers(
    muir_package_t *package, muir_device_t device, int64_t begin, int64_t end,
    const muir_buffer_t *buffers, int32_t count, muir_state_t **out_state) {
  muir_clear_error();
  return adoptState(package, device, begin, end, buffers, count,
                    "muir_state_adopt_buffers", out_state);
}

muir_status_t muir_state_shard(const muir_state_t *state, int64_t *out_begin,
                               int64_t *out_end) {
  muir_clear_error();
  if (!state || !out_begin || !out_end)
    return muir_set_error(MUIR_ERROR_ARGUMENT, "muir_state_shard: %s is NULL",
                          !state ? "state"
                                 : (!out_begin ? "out_begin" : "out_end"));
  *out_begin = state->shard.begin;
  *out_end = state->shard.end;
  return MUIR_OK;
}

muir_package_t *muir_state_package(const muir_state_t *state) {
  return state ? state->package : NULL;
}

muir_device_t muir_state_device(const muir_state_t *state) {
  return state ? state->device : MUIR_DEVICE_CPU;
}

/** Whether buffer `which` of the state holds 2-byte bf16 values. */
static bool isHalf(const muir_state_t *state, int32_t which) {
  return elementSize(state->package, which) == 2;
}

/** Refuses float access to a bf16 buffer. */
static muir_status_t checkFloat(const muir_state_t *state, int32_t which,
                                const char *caller) {
  if (!isHalf(state, which))
    return MUIR_OK;
  return muir_set_error(MUIR_ERROR_ARGUMENT,
                        "%s: the %s buffer of package '%s' holds bf16 values "
                        "(2 bytes each, the package's precision), not "
                        "floats: use muir_state_buffer_bytes",
                        caller, bufferLabel(which).text, state->package->dir);
}

/** Checks `which` against the state's buffers. */
static muir_status_t checkWhich(const muir_state_t *state, int32_t which,
                                const char *caller) {
  if (which == MUIR_BUFFER_PARAMS_BF16 && state->bf16_params)
    return MUIR_OK;
  if (which < 0 || which >= state->num_buffers)
    return muir_set_error(MUIR_ERROR_ARGUMENT,
                          "%s: no buffer %d (package '%s' has %d: params, "
                          "grads and %d optimizer states)",
                          caller, which, state->package->dir,
                          state->num_buffers, state->num_buffers - 2);
  return MUIR_OK;
}

muir_status_t muir_state_buffer(const muir_state_t *state, int32_t which,
                                float **out_data, int64_t *out_elements) {
  muir_clear_error();
  if (!state || !out_data || !out_elements)
    return muir_set_error(MUIR_ERROR_ARGUMENT, "muir_state_buffer: %s is NULL",
                          !state ? "state"
                                 : (!out_data ? "out_data" : "out_elements"));
  muir_status_t status = checkWhich(state, which, "muir_state_buffer");
  if (status == MUIR_OK)
    status = checkFloat(state, which, "muir_state_buffer");
  if (status != MUIR_OK)
    return status;
  *out_data = state->buffers[which];
  *out_elements = state->elements;
  return MUIR_OK;
}

muir_status_t muir_state_buffer_bytes(const muir_state_t *state, int32_t which,
                                      void **out_data, int64_t *out_elements,
                                      int32_t *out_element_size) {
  muir_clear_error();
  if (!state || !out_data || !out_elements || !out_element_size)
    return muir_set_error(MUIR_ERROR_ARGUMENT,
                          "muir_state_buffer_bytes: %s is NULL",
                          !state          ? "state"
                          : !out_data     ? "out_data"
                          : !out_elements ? "out_elements"
                                          : "out_element_size");
  muir_status_t status = checkWhich(state, which, "muir_state_buffer_bytes");
  if (status != MUIR_OK)
    return status;
  *out_data = muir_buffer_data(state, which, out_element_size);
  *out_elements = state->elements;
  return MUIR_OK;
}

void *muir_buffer_data(const muir_state_t *state, int32_t which,
                       int32_t *out_element_size) {
  *out_element_size = isHalf(state, which) ? 2 : 4;
  if (which == MUIR_BUFFER_PARAMS_BF16)
    return state->bf16_params;
  if (which == MUIR_BUFFER_GRADS && isBf16(state->package))
    return state->bf16_grads;
  return state->buffers[which];
}

muir_status_t muir_state_set_rounding_seed(muir_state_t *state, uint64_t seed) {
  muir_clear_error();
  if (!state || !state->bf16_params)
    return muir_set_error(MUIR_ERROR_ARGUMENT,
                          "muir_state_set_rounding_seed: %s",
                          !state ? "state is NULL"
                                 : "the state's package is fp32: it rounds "
                                   "nothing");
  state->rounding_seed = seed;
  return MUIR_OK;
}

muir_status_t muir_state_get_rounding_seed(const muir_state_t *state,
                                           uint64_t *out_seed) {
  muir_clear_error();
  if (!state || !out_seed || !state->bf16_params)
    return muir_set_error(MUIR_ERROR_ARGUMENT,
                          "muir_state_get_rounding_seed: %s",
                          !state      ? "state is NULL"
                          : !out_seed ? "out_seed is NULL"
                                      : "the state's package is fp32: it "
                                        "rounds nothing");
  *out_seed = state->rounding_seed;
  return MUIR_OK;
}

muir_status_t muir_package_bytes_per_param(const muir_package_t *package,
                                           int64_t *out_memory,
                                           int64_t *out_step) {
  muir_clear_error();
  if (!package)
    return muir_set_error(MUIR_ERROR_ARGUMENT,
                          "muir_package_bytes_per_param: package is NULL");
  const muir_package_info_t *info = package->info;
  int64_t states = info->num_states;
  // LionAR's second state holds two values per unit: memory, not traffic.
  int64_t elementStates =
      info->optimizer == MUIR_OPT_LION_AR ? states - 1 : states;
  int64_t grads = isBf16(package) ? 2 : 4, copy = isBf16(package) ? 2 : 0;
  if (out_memory)
    *out_memory = 4 + grads + copy + 4 * states;
  if (out_step)
    *out_step = 8 + grads + copy + 8 * elementStates;
  return MUIR_OK;
}

/** Checks the arguments of a copy between host memory and buffer `which`
 *  of `elementSize` bytes per element, which must be the buffer's: 4 for a
 *  float copy (`floats`, which names a 2-byte buffer as not floats), the
 *  caller's element_size for a bytes copy. */
static muir_status_t checkCopy(const muir_state_t *state, int32_t which,
                               int64_t begin, int64_t count, bool floats,
                               int32_t elementSize, const void *host,
                               const char *caller) {
  if (!state || !host)
    return muir_set_error(MUIR_ERROR_ARGUMENT, "%s: %s is NULL", caller,
                          !state ? "state" : "host");
  muir_status_t status = checkWhich(state, which, caller);
  if (status == MUIR_OK && floats)
    status = checkFloat(state, which, caller);
  if (status != MUIR_OK)
    return status;
  int32_t size = isHalf(state, which) ? 2 : 4;
  if (elementSize != size)
    return muir_set_error(MUIR_ERROR_ARGUMENT,
                          "%s: the %s buffer of package '%s' holds %d-byte "
                          "elements, but element_size %d was given",
                          caller, bufferLabel(which).text, state->package->dir,
                          size, elementSize);
  if (begin < 0 || count < 0 || begin > state->elements ||
      count > state->elements - begin)
    return muir_set_error(MUIR_ERROR_ARGUMENT,
                          "%s: elements [%" PRId64 ", %" PRId64 " + %" PRId64
                          ") are outside the %s buffer of %" PRId64 " elements",
                          caller, begin, begin, count, bufferLabel(which).text,
                          state->elements);
  return MUIR_OK;
}

/** A checked copy between host memory and buffer `which` (`floats` and
 *  `elementSize` as for checkCopy), on any device. */
static muir_status_t copyBuffer(const muir_state_t *state, int32_t which,
                                int64_t begin, int64_t count, bool floats,
                                int32_t elementSize, void *to_host,
                                const void *from_host, const char *caller) {
  muir_status_t status =
      checkCopy(state, which, begin, count, floats, elementSize,
                to_host ? (const void *)to_host : from_host, caller);
  if (status != MUIR_OK || count == 0)
    return status;
  if (state->cuda)
    return muir_cuda_copy(state, which, begin, count, to_host, from_host);
  int32_t size;
  char *data = (char *)muir_buffer_data(state, which, &size) + begin * size;
  size_t bytes = (size_t)count * (size_t)size;
  if (to_host)
    memmove(to_host, data, bytes);
  else
    memmove(data, from_host, bytes);
  return MUIR_OK;
}

muir_status_t muir_state_copy_to_host(const muir_state_t *state, int32_t which,
                                      int64_t begin, int64_t count,
                                      float *host) {
  muir_clear_error();
  return copyBuffer(state, which, begin, count, true, sizeof(float), host, NULL,
                    "muir_state_copy_to_host");
}

muir_status_t muir_state_copy_from_host(muir_state_t *state, int32_t which,
                                        int64_t begin, int64_t count,
                                        const float *host) {
  muir_clear_error();
  return copyBuffer(state, which, begin, count, true, sizeof(float), NULL, host,
                    "muir_state_copy_from_host");
}

muir_status_t muir_state_copy_bytes_to_host(const muir_state_t *state,
                                            int32_t which, int64_t begin,
                                            int64_t count, int32_t element_size,
                                            void *host) {
  muir_clear_error();
  return copyBuffer(state, which, begin, count, false, element_size, host, NULL,
                    "muir_state_copy_bytes_to_host");
}

muir_status_t muir_state_copy_bytes_from_host(muir_state_t *state,
                                              int32_t which, int64_t begin,
                                              int64_t count,
                                              int32_t element_size,
                                              const void *host) {
  muir_clear_error();
  return copyBuffer(state, which, begin, count, false, element_size, NULL, host,
                    "muir_state_copy_bytes_from_host");
}

/** Init's rounding of the bf16 copy (internal.h): deterministic, so the
 *  copy is the params' nearest bf16. */
void muir_round_bf16_nearest(const float *from, uint16_t *to, int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    uint32_t bits;
    memcpy(&bits, &from[i], sizeof(bits));
    if ((bits & 0x7fffffffu) > 0x7f800000u)
      to[i] = (uint16_t)((bits >> 16) | 0x40u);
    else
      to[i] = (uint16_t)((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
  }
}

muir_status_t muir_state_init_range(muir_state_t *state, uint64_t seed,
                                    int64_t begin, int64_t end) {
  muir_clear_error();
  if (!state)
    return muir_set_error(MUIR_ERROR_ARGUMENT,
                          "muir_state_init_range: state is NULL");
  if (begin < state->shard.begin || begin > end || end > state->shard.end)
    return muir_set_error(MUIR_ERROR_ARGUMENT,
                          "muir_state_init_range: range [%" PRId64 ", %" PRId64
                          ") is not inside the params buffer "
                          "[%" PRId64 ", %" PRId64 ")",
                          begin, end, state->shard.begin, state->shard.end);
  if (begin == end)
    return MUIR_OK;
  if (state->bf16_params)
    state->rounding_seed = seed;
  if (state->cuda)
    return muir_cuda_init(state, seed, begin, end);
  if (isShard(state))
    state->package->initShard(state->buffers[MUIR_BUFFER_PARAMS], seed,
                              state->shard.begin, begin, end);
  else
    state->package->init(state->buffers[MUIR_BUFFER_PARAMS], seed, begin, end);
  if (state->bf16_params) {
    int64_t at = begin - state->shard.begin;
    muir_round_bf16_nearest(state->buffers[MUIR_BUFFER_PARAMS] + at,
                            state->bf16_params + at, end - begin);
  }
  return MUIR_OK;
}

muir_status_t muir_state_init(muir_state_t *state, uint64_t seed) {
  muir_clear_error();
  if (!state)
    return muir_set_error(MUIR_ERROR_ARGUMENT,
                          "muir_state_init: state is NULL");
  return muir_state_init_range(state, seed, state->shard.begin,
                               state->shard.end);
}

/** The CPU reduction's work: slots handed out MUIR_REDUCE_TASK at a time
 *  from a shared counter to whichever thread asks next (slots differ in
 *  size from tensor to tensor). A slot's partial does not depend on who
 *  computes it, so the result has the same bits with any number of
 *  threads. */
#define MUIR_REDUCE_TASK 4
typedef struct {
  const muir_package_t *package;
  const float *grads;
  const uint16_t *bf16_grads; /* a bf16 package's, instead of grads */
  double *partials;
  int64_t first;     /* the element grads starts at (a shard's begin) */
  int64_t end;       /* the last slot + 1 */
  atomic_llong next; /* the next slot to hand out */
} reduce_work_t;

static void *reduceSlots(void *arg) {
  reduce_work_t *work = arg;
  for (;;) {
    int64_t begin = atomic_fetch_add(&work->next, MUIR_REDUCE_TASK);
    if (begin >= work->end)
      return NULL;
    int64_t end = begin + MUIR_REDUCE_TASK < work->end
                      ? begin + MUIR_REDUCE_TASK
                      : work->end;
    if (work->bf16_grads)
      work->package->reduceBf16(work->bf16_grads, work->partials, work->first,
                                begin, end);
    else if (work->first == 0)
      work->package->reduce(work->grads, work->partials, begin, end);
    else
      work->package->reduceShard(work->grads, work->partials, work->first,
                                 begin, end);
  }
}

/** Threads for the CPU reduction: $MUIR_NUM_THREADS (a positive integer),
 *  else the online CPUs, or one below a million elements, where starting
 *  threads costs more than it saves; at most one per task and
 *  MUIR_MAX_REDUCE_THREADS. */
#define MUIR_MAX_REDUCE_THREADS 64
static int reduceThreads(int64_t elements, int64_t slots) {
  const char *env = getenv("MUIR_NUM_THREADS");
  long n = 0;
  if (env && *env) {
    char *end;
    n = strtol(env, &end, 10);
    if (*end != '\0')
      n = 0;
  }
  if (n <= 0)
    n = elements < (1 << 20) ? 1 : sysconf(_SC_NPROCESSORS_ONLN);
  int64_t tasks = (slots + MUIR_REDUCE_TASK - 1) / MUIR_REDUCE_TASK;
  if (n > tasks)
    n = (long)tasks;
  if (n > MUIR_MAX_REDUCE_THREADS)
    n = MUIR_MAX_REDUCE_THREADS;
  return n > 1 ? (int)n : 1;
}

/** The CPU reduction phase over the state's slots, on reduceThreads()
 *  threads (this one included; a thread that cannot be started leaves its
 *  share to the others); the partials of the slots outside a shard are
 *  zeros. */
static void reduceOnCPU(muir_state_t *state) {
  const muir_package_info_t *info = state->package->info;
  const muir_shard_t *shard = &state->shard;
  for (int64_t s = 0; s < info->num_slots; ++s)
    if (s < shard->slot_begin || s >= shard->slot_end)
      state->partials[s] = 0.0;
  reduce_work_t work = {state->package,    state->buffers[MUIR_BUFFER_GRADS],
                        state->bf16_grads, state->partials,
                        shard->begin,      shard->slot_end,
                        shard->slot_begin};
  int threads =
      reduceThreads(state->elements, shard->slot_end - shard->slot_begin);
  pthread_t helpers[MUIR_MAX_REDUCE_THREADS];
  int started = 0;
  for (int t = 1; t < threads; ++t)
    if (pthread_create(&helpers[started], NULL, reduceSlots, &work) == 0)
      ++started;
  reduceSlots(&work);
  for (int t = 0; t < started; ++t)
    pthread_join(helpers[t], NULL);
}

/** The reduction phase over the state's grads: state->partials (zeros for
 *  the slots outside a shard). */
static muir_status_t reduce(muir_state_t *state) {
  if (state->cuda)
    return muir_cuda_reduce(state);
  if (state->package->info->num_slots > 0)
    reduceOnCPU(state);
  return MUIR_OK;
}

/** The global norm from the reduction's partials: their sum in slot order. */
static double normOf(const muir_package_info_t *info, const double *partials) {
  double sum = 0.0;
  for (int64_t s = 0; s < info->num_slots; ++s)
    sum += partials[s];
  return sqrt(sum);
}

/** The reduction phase over the grads, then the norm. */
static muir_status_t gradNorm(muir_state_t *state, double *out) {
  muir_status_t status = reduce(state);
  if (status == MUIR_OK)
    *out = normOf(state->package->info, state->partials);
  return status;
}

muir_status_t muir_state_grad_norm(muir_state_t *state, double *out_norm) {
  muir_clear_error();
  if (!state || !out_norm)
    return muir_set_error(MUIR_ERROR_ARGUMENT,
                          "muir_state_grad_norm: %s is NULL",
                          !state ? "state" : "out_norm");
  return gradNorm(state, out_norm);
}

/** Copies of untied parameters: the telemetry's entries. */
static int64_t telemetryEntries(const muir_package_info_t *info) {
  int64_t n = 0;
  for (int64_t k = 0; k < info->num_kernel_params; ++k)
    n += info->kernel_params[k].copies;
  return n;
}

/** Telemetry partial sums of a sharded step: four per slot, then four per
 *  LionAR unit. */
static int64_t telemetryPartials(const muir_package_info_t *info) {
  return 4 * (info->num_slots + info->num_units);
}

/** The telemetry from the four sums (w^2, w'^2, d^2, w d). */
static muir_step_telemetry_t telemetryOf(const double sums[4]) {
  muir_step_telemetry_t t;
  t.param_norm = sqrt(sums[0]);
  t.param_norm_after = sqrt(sums[1]);
  t.update_norm = sqrt(sums[2]);
  // w' = w + d: d's part along w is <w, d> / ||w||, the rest is
  // perpendicular; no cancellation for small angles (acos would lose half
  // the digits).
  double along = t.param_norm > 0.0 ? sums[3] / t.param_norm : 0.0;
  double across = sums[2] - along * along;
  t.angle = t.param_norm > 0.0 && t.param_norm_after > 0.0
                ? atan2(sqrt(across > 0.0 ? across : 0.0), t.param_norm + along)
                : 0.0;
  // NaN sums (a skipped step, a unit that did not rotate) stay NaN.
  if (isnan(sums[0] + sums[1] + sums[2] + sums[3]))
    t.angle = NAN;
  return t;
}

/** The telemetry of every copy from the slots' partials, in slot order. */
static void combineTelemetry(const muir_package_info_t *info,
                             const double *partials,
                             muir_step_telemetry_t *out) {
  for (int64_t k = 0; k < info->num_kernel_params; ++k) {
    const muir_kernel_param_t *e = &info->kernel_params[k];
    for (int64_t c = 0; c < e->copies; ++c) {
      double sums[4] = {0.0, 0.0, 0.0, 0.0};
      int64_t first = e->first_slot + c * e->slots_per_copy;
      for (int64_t s = first; s < first + e->slots_per_copy; ++s)
        for (int j = 0; j < 4; ++j)
          sums[j] += partials[4 * s + j];
      *out++ = telemetryOf(sums);
    }
  }
}

/** The per-unit telemetry sums before a telemetry step (after the slots'
 *  in state->partials): 0 for the units of copies that rotate (units and
 *  weight decay), which the step adds to where they meet the state's range
 *  (so the ranks' vectors sum to the units' sums), NaN for the others. */
static void resetUnitTelemetry(muir_state_t *state) {
  const muir_package_info_t *info = state->package->info;
  double *sums = state->partials + 4 * info->num_slots;
  for (int64_t k = 0; k < info->num_kernel_params; ++k) {
    const muir_kernel_param_t *e = &info->kernel_params[k];
    if (e->unit_elements == 0)
      continue;
    int64_t perCopy = e->numel / e->unit_elements;
    for (int64_t c = 0; c < e->copies; ++c) {
      bool rotates =
          state->rows[e->first_row + c * e->row_stride].weight_decay != 0.0;
      double *at = sums + 4 * (e->first_unit + c * perCopy);
      for (int64_t i = 0; i < 4 * perCopy; ++i)
        at[i] = rotates ? 0.0 : NAN;
    }
  }
}

/** Checks a step's scalar arguments. */
static muir_status_t checkStep(const muir_state_t *state, int64_t step,
                               float lr_factor,
                               const muir_step_guards_t *guards) {
  if (!state)
    return muir_set_error(MUIR_ERROR_ARGUMENT,
                          "muir_state_step: state is NULL");
  if (step < 1)
    return muir_set_error(MUIR_ERROR_ARGUMENT,
                          "muir_state_step: step %" PRId64
                          " given, but steps count from 1",
                          step);
  if (!isfinite(lr_factor) || lr_factor < 0.0f)
    return muir_set_error(MUIR_ERROR_ARGUMENT,
                          "muir_state_step: lr_factor %g is not a finite "
                          "non-negative number",
                          (double)lr_factor);
  double maxNorm = guards ? guards->max_grad_norm : 0.0;
  if (!(maxNorm >= 0.0) || isinf(maxNorm))
    return muir_set_error(MUIR_ERROR_ARGUMENT,
                          "muir_state_step: max_grad_norm %g is not a finite "
                          "non-negative number (0: no clipping)",
                          maxNorm);
  return MUIR_OK;
}

/** Checks that the state can run the telemetry step. */
static muir_status_t checkTelemetry(const muir_state_t *state,
                                    const char *caller) {
  bool bf16 = isBf16(state->package);
  bool exported = bf16 ? state->package->stepTelemetryBf16 != NULL
                       : state->package->stepTelemetry != NULL;
  if (!state->cuda && !exported)
    return muir_set_error(MUIR_ERROR_FORMAT,
                          "%s: the library of '%s' does not export %s", caller,
                          state->package->dir,
                          bf16 ? "muir_kernel_step_telemetry_bf16"
                               : "muir_kernel_step_telemetry");
  return MUIR_OK;
}

/** The guards' decisions from the report's norm: the skip (a non-finite
 *  norm with skip_nonfinite) and the clip factor. */
static void applyGuards(const muir_step_guards_t *guards,
                        muir_step_report_t *report) {
  double maxNorm = guards ? guards->max_grad_norm : 0.0;
  bool finite = isfinite(report->grad_norm);
  report->grad_scale = 1.0f;
  report->skipped = guards && guards->skip_nonfinite && !finite;
  // torch.nn.utils.clip_grad_norm_'s factor, in double, then rounded once.
  if (!report->skipped && maxNorm > 0.0 && finite) {
    double factor = maxNorm / (report->grad_norm + 1e-6);
    if (factor < 1.0)
      report->grad_scale = (float)factor;
  }
}

/** The step after the argument checks: the norm from `partials` (summed
 *  over the ranks) when given, else from the state's own reduction phase
 *  when the guards or `wantNorm` need it; then the step (LionAR's units
 *  with `units`, the ranks' summed unit partials, when given), with the
 *  telemetry partials in state->partials when `telemetry` (NaN when
 *  skipped). Writes `*out_report`. */
static muir_status_t runStep(muir_state_t *state, int64_t step, float lr_factor,
                             const muir_step_guards_t *guards,
                             const double *partials, const double *units,
                             bool wantNorm, muir_step_report_t *out_report,
                             bool telemetry) {
  const muir_package_info_t *info = state->package->info;
  muir_step_report_t report = {0.0, 1.0f, 0};
  // Set once the step has run: a failed one (CUDA) leaves no per-unit sums.
  state->unit_telemetry = false;
  if (partials) {
    report.grad_norm = normOf(info, partials);
  } else if (wantNorm || (guards && (guards->max_grad_norm > 0.0 ||
                                     guards->skip_nonfinite))) {
    muir_status_t status = gradNorm(state, &report.grad_norm);
    if (status != MUIR_OK)
      return status;
  }
  applyGuards(guards, &report);
  // LionAR's per-unit sums follow the slots' (a unit lies in a tensor, so
  // there is a slot): the step (CPU or CUDA) writes those of the rotating
  // units that meet the state's range, the sums over its part of each.
  if (telemetry)
    resetUnitTelemetry(state);
  if (report.skipped) {
    int64_t sums = 4 * (info->num_slots + info->num_units);
    for (int64_t i = 0; telemetry && i < sums; ++i)
      state->partials[i] = NAN;
  } else {
    float *const *buffers = state->buffers;
    if (state->cuda) {
      muir_status_t status =
          telemetry ? muir_cuda_step_telemetry(state, step, lr_factor,
                                               report.grad_scale, units)
                    : muir_cuda_step(state, step, lr_factor, report.grad_scale,
                                     units);
      if (status != MUIR_OK)
        return status;
    } else if (state->bf16_params && telemetry) {
      state->package->stepTelemetryBf16(
          buffers[MUIR_BUFFER_PARAMS], state->bf16_grads,
          buffers + MUIR_BUFFER_STATE0, state->bf16_params, step, lr_factor,
          report.grad_scale, state->rows, state->partials, state->rounding_seed,
          state->shard.begin, state->shard.end);
    } else if (state->bf16_params) {
      state->package->stepBf16(buffers[MUIR_BUFFER_PARAMS], state->bf16_grads,
                               buffers + MUIR_BUFFER_STATE0, state->bf16_params,
                               step, lr_factor, report.grad_scale, state->rows,
                               state->rounding_seed, state->shard.begin,
                               state->shard.end);
    } else if (telemetry) {
      state->package->stepTelemetry(
          buffers[MUIR_BUFFER_PARAMS], buffers[MUIR_BUFFER_GRADS],
          buffers + MUIR_BUFFER_STATE0, step, lr_factor, report.grad_scale,
          state->rows, state->partials, state->shard.begin, state->shard.end,
          units);
    } else if (isShard(state) || units) {
      state->package->stepShard(
          buffers[MUIR_BUFFER_PARAMS], buffers[MUIR_BUFFER_GRADS],
          buffers + MUIR_BUFFER_STATE0, step, lr_factor, report.grad_scale,
          state->rows, state->shard.begin, state->shard.end, units);
    } else {
      state->package->stepRows(buffers[MUIR_BUFFER_PARAMS],
                               buffers[MUIR_BUFFER_GRADS],
                               buffers + MUIR_BUFFER_STATE0, step, lr_factor,
                               report.grad_scale, state->rows);
    }
  }
  state->unit_telemetry = telemetry && !isShard(state);
  *out_report = report;
  return MUIR_OK;
}

muir_status_t muir_state_step_telemetry(muir_state_t *state, int64_t step,
                                        float lr_factor,
                                        const muir_step_guards_t *guards,
                                        muir_step_report_t *out_report,
                                        muir_step_telemetry_t *out_telemetry,
                                        int64_t entries) {
  muir_clear_error();
  muir_status_t status = checkStep(state, step, lr_factor, guards);
  if (status != MUIR_OK)
    return status;
  if (isShard(state) && state->package->info->num_units > 0)
    return muir_set_error(MUIR_ERROR_ARGUMENT,
                          "muir_state_step: the state holds the shard [%" PRId64
                          ", %" PRId64 ") of package '%s' (%s): its LionAR "
                          "units need the unit partial sums of every shard "
                          "(muir_state_reduce_units, muir_state_step_sharded)",
                          state->shard.begin, state->shard.end,
                          state->package->dir,
                          state->package->info->optimizer_spec);
  if (isShard(state) &&
      (out_telemetry ||
       (guards && (guards->max_grad_norm > 0.0 || guards->skip_nonfinite))))
    return muir_set_error(MUIR_ERROR_ARGUMENT,
                          "muir_state_step: the state holds the shard [%" PRId64
                          ", %" PRId64 ") of package '%s': its guards and "
                          "telemetry need the partial sums of every shard "
                          "(muir_state_step_sharded)",
                          state->shard.begin, state->shard.end,
                          state->package->dir);
  if (out_telemetry) {
    int64_t expected = telemetryEntries(state->package->info);
    if (entries != expected)
      return muir_set_error(MUIR_ERROR_ARGUMENT,
                            "muir_state_step_telemetry: room for %" PRId64
                            " entries given, but package '%s' has %" PRId64
                            " parameter copies",
                            entries, state->package->dir, expected);
    if ((status = checkTelemetry(state, "muir_state_step_telemetry")) !=
        MUIR_OK)
      return status;
  }
  muir_step_report_t report;
  status = runStep(state, step, lr_factor, guards, NULL, NULL,
                   out_report != NULL, &report, out_telemetry != NULL);
  if (status != MUIR_OK)
    return status;
  if (out_telemetry) {
    if (report.skipped)
      for (int64_t i = 0; i < entries; ++i)
        out_telemetry[i] = (muir_step_telemetry_t){NAN, NAN, NAN, NAN};
    else
      combineTelemetry(state->package->info, state->partials, out_telemetry);
  }
  if (out_report)
    *out_report = report;
  return MUIR_OK;
}

muir_status_t muir_package_partials(const muir_package_t *package,
                                    int64_t *out_step, int64_t *out_telemetry) {
  muir_clear_error();
  if (!package)
    return muir_set_error(MUIR_ERROR_ARGUMENT,
                          "muir_package_partials: package is NULL");
  if (out_step)
    *out_step = package->info->num_slots + muir_unit_partials(package->info);
  if (out_telemetry)
    *out_telemetry = telemetryPartials(package->info);
  return MUIR_OK;
}

muir_status_t muir_state_reduce(muir_state_t *state, double *out_partials,
                                int64_t count) {
  muir_clear_error();
  if (!state || !out_partials)
    return muir_set_error(MUIR_ERROR_ARGUMENT, "muir_state_reduce: %s is NULL",
                          !state ? "state" : "out_partials");
  const muir_package_info_t *info = state->package->info;
  int64_t slots = info->num_slots;
  int64_t expected = slots + muir_unit_partials(info);
  if (count != expected)
    return muir_set_error(MUIR_ERROR_ARGUMENT,
                          "muir_state_reduce: room for %" PRId64
                          " partial sums given, but package '%s' has %" PRId64,
                          count, state->package->dir, expected);
  muir_status_t status = reduce(state);
  if (status != MUIR_OK)
    return status;
  if (slots > 0)
    memcpy(out_partials, state->partials, (size_t)slots * sizeof(double));
  for (int64_t i = slots; i < count; ++i)
    out_partials[i] = 0.0;
  return MUIR_OK;
}

muir_status_t muir_state_reduce_units(muir_state_t *state, int64_t step,
                                      float lr_factor,
                                      const muir_step_guards_t *guards,
                                      double *partials, int64_t count) {
  muir_clear_error();
  const char *caller = "muir_state_reduce_units";
  muir_status_t status = checkStep(state, step, lr_factor, guards);
  if (status != MUIR_OK)
    return status;
  const muir_package_info_t *info = state->package->info;
  if (!partials)
    return muir_set_error(MUIR_ERROR_ARGUMENT, "%s: partials is NULL", caller);
  int64_t units = muir_unit_partials(info);
  if (units == 0)
    return muir_set_error(MUIR_ERROR_ARGUMENT,
                          "%s: package '%s' (%s) has no LionAR units", caller,
                          state->package->dir, info->optimizer_spec);
  if (isBf16(state->package))
    return muir_set_error(MUIR_ERROR_ARGUMENT,
                          "%s: package '%s' is bf16, whose LionAR units run "
                          "unsharded: they need no partial sums from other "
                          "ranks",
                          caller, state->package->dir);
  if (!state->cuda && !state->package->reduceUnits)
    return muir_set_error(MUIR_ERROR_FORMAT,
                          "%s: the library of '%s' does not export "
                          "muir_kernel_reduce_units",
                          caller, state->package->dir);
  int64_t slots = info->num_slots;
  if (count != slots + units)
    return muir_set_error(MUIR_ERROR_ARGUMENT,
                          "%s: %" PRId64 " partial sums given, but package "
                          "'%s' has %" PRId64,
                          caller, count, state->package->dir, slots + units);
  // The step's clip factor and skip, from the gradients' partials (summed
  // over the ranks), as muir_state_step_sharded will find them.
  muir_step_report_t report = {normOf(info, partials), 1.0f, 0};
  applyGuards(guards, &report);
  double *out = partials + slots;
  memset(out, 0, (size_t)units * sizeof(double));
  if (report.skipped)
    return MUIR_OK;
  const muir_shard_t *shard = &state->shard;
  if (state->cuda)
    return muir_cuda_reduce_units(state, step, lr_factor, report.grad_scale,
                                  out);
  float *const *buffers = state->buffers;
  state->package->reduceUnits(
      buffers[MUIR_BUFFER_PARAMS], buffers[MUIR_BUFFER_GRADS],
      buffers + MUIR_BUFFER_STATE0, step, lr_factor, report.grad_scale,
      state->rows, out, shard->begin, shard->slot_begin, shard->slot_end);
  return MUIR_OK;
}

muir_status_t muir_state_step_sharded(muir_state_t *state, int64_t step,
                                      float lr_factor,
                                      const muir_step_guards_t *guards,
                                      const double *partials, int64_t count,
                                      muir_step_report_t *out_report,
                                      double *out_telemetry_partials,
                                      int64_t telemetry_count) {
  muir_clear_error();
  const char *caller = "muir_state_step_sharded";
  muir_status_t status = checkStep(state, step, lr_factor, guards);
  if (status != MUIR_OK)
    return status;
  int64_t slots = state->package->info->num_slots;
  int64_t units = muir_unit_partials(state->package->info);
  if (!partials)
    return muir_set_error(MUIR_ERROR_ARGUMENT, "%s: partials is NULL", caller);
  if (count != slots + units)
    return muir_set_error(MUIR_ERROR_ARGUMENT,
                          "%s: %" PRId64 " partial sums given, but package "
                          "'%s' has %" PRId64,
                          caller, count, state->package->dir, slots + units);
  int64_t telemetrySums = telemetryPartials(state->package->info);
  if (out_telemetry_partials) {
    if (telemetry_count != telemetrySums)
      return muir_set_error(MUIR_ERROR_ARGUMENT,
                            "%s: room for %" PRId64 " telemetry partial sums "
                            "given, but package '%s' has %" PRId64,
                            caller, telemetry_count, state->package->dir,
                            telemetrySums);
    if ((status = checkTelemetry(state, caller)) != MUIR_OK)
      return status;
  }
  muir_step_report_t report;
  status = runStep(state, step, lr_factor, guards, partials,
                   units > 0 ? partials + slots : NULL, true, &report,
                   out_telemetry_partials != NULL);
  if (status != MUIR_OK)
    return status;
  if (out_telemetry_partials && telemetrySums > 0)
    memcpy(out_telemetry_partials, state->partials,
           (size_t)telemetrySums * sizeof(double));
  if (out_report)
    *out_report = report;
  return MUIR_OK;
}

/** Checks the arguments of a function of the summed telemetry partials:
 *  none NULL, `count` the package's telemetry partials. */
static muir_status_t checkTelemetryPartials(const muir_package_t *package,
                                            const double *partials,
                                            int64_t count, const void *out,
                                            const char *caller) {
  if (!package || !partials || !out)
    return muir_set_error(MUIR_ERROR_ARGUMENT, "%s: %s is NULL", caller,
                          !package    ? "package"
                          : !partials ? "partials"
                                      : "out_telemetry");
  if (count != telemetryPartials(package->info))
    return muir_set_error(MUIR_ERROR_ARGUMENT,
                          "%s: %" PRId64 " telemetry partial sums given, but "
                          "package '%s' has %" PRId64,
                          caller, count, package->dir,
                          telemetryPartials(package->info));
  return MUIR_OK;
}

muir_status_t muir_package_combine_telemetry(
    const muir_package_t *package, const double *partials, int64_t count,
    muir_step_telemetry_t *out_telemetry, int64_t entries) {
  muir_clear_error();
  const char *caller = "muir_package_combine_telemetry";
  muir_status_t status =
      checkTelemetryPartials(package, partials, count, out_telemetry, caller);
  if (status != MUIR_OK)
    return status;
  const muir_package_info_t *info = package->info;
  int64_t expected = telemetryEntries(info);
  if (entries != expected)
    return muir_set_error(MUIR_ERROR_ARGUMENT,
                          "%s: room for %" PRId64 " entries given, but "
                          "package '%s' has %" PRId64 " parameter copies",
                          caller, entries, package->dir, expected);
  combineTelemetry(info, partials, out_telemetry);
  return MUIR_OK;
}

muir_status_t muir_state_step_guarded(muir_state_t *state, int64_t step,
                                      float lr_factor,
                                      const muir_step_guards_t *guards,
                                      muir_step_report_t *out_report) {
  return muir_state_step_telemetry(state, step, lr_factor, guards, out_report,
                                   NULL, 0);
}

muir_status_t muir_state_step_with_norm(muir_state_t *state, int64_t step,
                                        float lr_factor,
                                        double *out_grad_norm) {
  muir_step_report_t report;
  muir_status_t status = muir_state_step_guarded(
      state, step, lr_factor, NULL, out_grad_norm ? &report : NULL);
  if (status == MUIR_OK && out_grad_norm)
    *out_grad_norm = report.grad_norm;
  return status;
}

muir_status_t muir_state_step(muir_state_t *state, int64_t step,
                              float lr_factor) {
  return muir_state_step_with_norm(state, step, lr_factor, NULL);
}

/** The kernel table entry of parameter `param` of `package`, after the
 *  argument checks of the multiplier calls; NULL (with the error set) if
 *  there is none. */
static const muir_kernel_param_t *
packageKernelEntry(const muir_package_t *package, int64_t param,
                   const char *caller) {
  const muir_package_info_t *info = package->info;
  if (param < 0 || param >= info->num_params) {
    muir_set_error(MUIR_ERROR_ARGUMENT,
                   "%s: no parameter %" PRId64 " (package '%s' has %" PRId64
                   ")",
                   caller, param, package->dir, info->num_params);
    return NULL;
  }
  for (int64_t k = 0; k < info->num_kernel_params; ++k)
    if (info->kernel_params[k].param == param)
      return &info->kernel_params[k];
  const muir_param_info_t *p = &info->params[param];
  muir_set_error(MUIR_ERROR_ARGUMENT,
                 "%s: parameter '%s' is tied to '%s' and has no constants of "
                 "its own; set those of '%s'",
                 caller, p->name, p->tied_to ? p->tied_to : "?",
                 p->tied_to ? p->tied_to : "?");
  return NULL;
}

/** packageKernelEntry of the state's package. */
static const muir_kernel_param_t *
kernelEntry(const muir_state_t *state, int64_t param, const char *caller) {
  return packageKernelEntry(state->package, param, caller);
}

muir_status_t
muir_state_set_optimizer_multipliers(muir_state_t *state, int64_t param,
                                     double lr_multiplier,
                                     double weight_decay_multiplier) {
  muir_clear_error();
  const char *caller = "muir_state_set_optimizer_multipliers";
  if (!state)
    return muir_set_error(MUIR_ERROR_ARGUMENT, "%s: state is NULL", caller);
  if (!isfinite(lr_multiplier) || lr_multiplier < 0.0 ||
      !isfinite(weight_decay_multiplier) || weight_decay_multiplier < 0.0)
    return muir_set_error(MUIR_ERROR_ARGUMENT,
                          "%s: multipliers must be finite and non-negative, "
                          "got lr %g and weight decay %g",
                          caller, lr_multiplier, weight_decay_multiplier);
  const muir_kernel_param_t *e = kernelEntry(state, param, caller);
  if (!e)
    return MUIR_ERROR_ARGUMENT;
  const muir_tensor_row_t *baked = state->package->info->tensor_rows;
  int64_t count = e->row_stride ? e->copies : 1;
  for (int64_t r = e->first_row; r < e->first_row + count; ++r) {
    state->rows[r].lr = baked[r].lr * lr_multiplier;
    state->rows[r].weight_decay =
        baked[r].weight_decay * weight_decay_multiplier;
  }
  if (state->cuda) {
    muir_status_t status = muir_cuda_write_rows(state, e->first_row, count);
    if (status != MUIR_OK) {
      // The device keeps the old rows: so does the host copy.
      for (int64_t r = e->first_row; r < e->first_row + count; ++r) {
        state->rows[r].lr = baked[r].lr * state->multipliers[2 * param];
        state->rows[r].weight_decay =
            baked[r].weight_decay * state->multipliers[2 * param + 1];
      }
      return status;
    }
  }
  state->multipliers[2 * param] = lr_multiplier;
  state->multipliers[2 * param + 1] = weight_decay_multiplier;
  return MUIR_OK;
}

muir_status_t muir_state_get_optimizer_multipliers(const muir_state_t *state,
                                                   int64_t param,
                                                   double *out_lr,
                                                   double *out_weight_decay) {
  muir_clear_error();
  const char *caller = "muir_state_get_optimizer_multipliers";
  if (!state || !out_lr || !out_weight_decay)
    return muir_set_error(MUIR_ERROR_ARGUMENT, "%s: %s is NULL", caller,
                          !state ? "state"
                                 : (!out_lr ? "out_lr" : "out_weight_decay"));
  if (!kernelEntry(state, param, caller))
    return MUIR_ERROR_ARGUMENT;
  *out_lr = state->multipliers[2 * param];
  *out_weight_decay = state->multipliers[2 * param + 1];
  return MUIR_OK;
}

/** Checks that parameter `param` of `package` has rotational units and
 *  `entries` is their count, then writes their telemetry from the four
 *  sums per unit after the slots' in `partials`. */
static muir_status_t unitTelemetry(const muir_package_t *package,
                                   const muir_kernel_param_t *e, int64_t param,
                                   const double *partials,
                                   muir_step_telemetry_t *out_telemetry,
                                   int64_t entries, const char *caller) {
  const muir_package_info_t *info = package->info;
  const char *name = info->params[param].name;
  if (e->unit_elements == 0)
    return muir_set_error(MUIR_ERROR_ARGUMENT,
                          "%s: parameter '%s' of package '%s' (%s) has no "
                          "rotational units",
                          caller, name, package->dir, info->optimizer_spec);
  int64_t units = e->copies * (e->numel / e->unit_elements);
  if (entries != units)
    return muir_set_error(MUIR_ERROR_ARGUMENT,
                          "%s: room for %" PRId64 " entries given, but "
                          "parameter '%s' has %" PRId64 " units",
                          caller, entries, name, units);
  const double *sums = partials + 4 * (info->num_slots + e->first_unit);
  for (int64_t u = 0; u < units; ++u)
    out_telemetry[u] = telemetryOf(sums + 4 * u);
  return MUIR_OK;
}

muir_status_t muir_state_unit_telemetry(const muir_state_t *state,
                                        int64_t param,
                                        muir_step_telemetry_t *out_telemetry,
                                        int64_t entries) {
  muir_clear_error();
  const char *caller = "muir_state_unit_telemetry";
  if (!state || !out_telemetry)
    return muir_set_error(MUIR_ERROR_ARGUMENT, "%s: %s is NULL", caller,
                          !state ? "state" : "out_telemetry");
  const muir_kernel_param_t *e = kernelEntry(state, param, caller);
  if (!e)
    return MUIR_ERROR_ARGUMENT;
  if (e->unit_elements != 0 && !state->unit_telemetry)
    return muir_set_error(MUIR_ERROR_ARGUMENT,
                          "%s: the state's last step was not a telemetry step "
                          "of a whole state, or it failed (per-unit telemetry: "
                          "muir_state_step_telemetry; a shard's units may lie "
                          "in other shards too: muir_package_unit_telemetry "
                          "of the ranks' summed telemetry partials)",
                          caller);
  return unitTelemetry(state->package, e, param, state->partials, out_telemetry,
                       entries, caller);
}

muir_status_t muir_package_unit_telemetry(const muir_package_t *package,
                                          const double *partials, int64_t count,
                                          int64_t param,
                                          muir_step_telemetry_t *out_telemetry,
                                          int64_t entries) {
  muir_clear_error();
  const char *caller = "muir_package_unit_telemetry";
  muir_status_t status =
      checkTelemetryPartials(package, partials, count, out_telemetry, caller);
  if (status != MUIR_OK)
    return status;
  const muir_kernel_param_t *e = packageKernelEntry(package, param, caller);
  if (!e)
    return MUIR_ERROR_ARGUMENT;
  return unitTelemetry(package, e, param, partials, out_telemetry, entries,
                       caller);
}

muir_status_t muir_launch_config(int64_t elements,
                                 muir_launch_config_t *out_config) {
  muir_clear_error();
  if (elements < 0 || !out_config)
    return muir_set_error(MUIR_ERROR_ARGUMENT, "muir_launch_config: %s",
                          !out_config ? "out_config is NULL"
                                      : "negative element count");
  const int64_t perBlock =
      (int64_t)MUIR_CUDA_BLOCK_THREADS * MUIR_CUDA_ELEMENTS_PER_THREAD;
  int64_t blocks = (elements + perBlock - 1) / perBlock;
  if (blocks < 1)
    blocks = 1;
  if (blocks > MUIR_CUDA_MAX_GRID)
    blocks = MUIR_CUDA_MAX_GRID;
  out_config->grid_x = (uint32_t)blocks;
  out_config->block_x = MUIR_CUDA_BLOCK_THREADS;
  return MUIR_OK;
}
