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
  else if (which == MUIR_BUFFER_GRADS)
    snprintf(label.text, sizeof(label.text), "grads");
  else
    snprintf(label.text, sizeof(label.text), "state %d",
             which - MUIR_BUFFER_STATE0);
  return label;
}

static bool isCuda(muir_device_t device) { return device >= MUIR_DEVICE_CUDA; }

/** Allocates a state shell (no buffers) for `package` on `device`. */
static muir_status_t newState(muir_package_t *package, muir_device_t device,
                              const char *caller, muir_state_t **out) {
  if (device < MUIR_DEVICE_CPU)
    return muir_set_error(MUIR_ERROR_ARGUMENT,
                          "%s: device %d is neither MUIR_DEVICE_CPU nor a "
                          "CUDA device",
                          caller, device);
  muir_state_t *state = calloc(1, sizeof(*state));
  if (!state)
    return muir_set_error(MUIR_ERROR_MEMORY, "%s: out of memory", caller);
  muir_package_retain(package);
  state->package = package;
  state->device = device;
  const muir_package_info_t *info = package->info;
  state->num_buffers = 2 + info->num_states;
  state->elements = info->buffer_elements;
  // The table is checked at open: these counts are those of the model.
  size_t rows = info->num_tensor_rows > 0 ? (size_t)info->num_tensor_rows : 1;
  size_t slots = info->num_slots > 0 ? (size_t)info->num_slots : 1;
  state->rows = calloc(rows, sizeof(muir_tensor_row_t));
  state->multipliers = malloc(2 * sizeof(double) *
                              (info->num_params > 0 ? info->num_params : 1));
  state->partials = calloc(4 * slots, sizeof(double));
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

muir_status_t muir_state_create(muir_package_t *package, muir_device_t device,
                                muir_state_t **out_state) {
  muir_clear_error();
  if (!package || !out_state)
    return muir_set_error(MUIR_ERROR_ARGUMENT, "muir_state_create: %s is NULL",
                          !package ? "package" : "out_state");
  muir_state_t *state;
  muir_status_t status = newState(package, device, "muir_state_create", &state);
  if (status != MUIR_OK)
    return status;
  state->owns_buffers = true;
  if (isCuda(device)) {
    status = muir_cuda_state_create(state, /*adopt=*/false);
  } else {
    size_t align = (size_t)package->info->alignment;
    if (align < MUIR_MIN_CPU_ALIGNMENT)
      align = MUIR_MIN_CPU_ALIGNMENT;
    size_t bytes = (size_t)state->elements * sizeof(float);
    // aligned_alloc wants a multiple of the alignment, and never 0 bytes.
    bytes = (bytes + align - 1) / align * align;
    if (bytes == 0)
      bytes = align;
    for (int32_t i = 0; i < state->num_buffers && status == MUIR_OK; ++i) {
      state->buffers[i] = aligned_alloc(align, bytes);
      if (!state->buffers[i])
        status = muir_set_error(MUIR_ERROR_MEMORY,
                                "muir_state_create: cannot allocate the %s "
                                "buffer (%zu bytes) for package '%s'",
                                bufferLabel(i).text, bytes, package->dir);
      else
        memset(state->buffers[i], 0, bytes);
    }
  }
  if (status != MUIR_OK) {
    muir_state_release(state);
    return status;
  }
  *out_state = state;
  return MUIR_OK;
}

muir_status_t muir_state_adopt(muir_package_t *package, muir_device_t device,
                               float *params, float *grads,
                               float *const *states, int64_t elements,
                               muir_state_t **out_state) {
  muir_clear_error();
  if (!package || !out_state)
    return muir_set_error(MUIR_ERROR_ARGUMENT, "muir_state_adopt: %s is NULL",
                          !package ? "package" : "out_state");
  const muir_package_info_t *info = package->info;
  if (info->num_states > 0 && !states)
    return muir_set_error(MUIR_ERROR_ARGUMENT,
                          "muir_state_adopt: states is NULL, but package '%s' "
                          "needs %d optimizer state buffers",
                          package->dir, info->num_states);
  if (elements != info->buffer_elements)
    return muir_set_error(MUIR_ERROR_SIZE,
                          "muir_state_adopt: buffers of %" PRId64
                          " elements given, but package '%s' (model '%s') "
                          "needs %" PRId64 " elements per buffer",
                          elements, package->dir, info->model,
                          info->buffer_elements);
  float *buffers[2 + MUIR_MAX_STATES] = {params, grads};
  for (int32_t k = 0; k < info->num_states; ++k)
    buffers[2 + k] = states[k];
  int32_t count = 2 + info->num_states;
  for (int32_t i = 0; i < count; ++i) {
    if (!buffers[i])
      return muir_set_error(MUIR_ERROR_ARGUMENT,
                            "muir_state_adopt: the %s buffer is NULL",
                            bufferLabel(i).text);
    if ((uintptr_t)buffers[i] % (uintptr_t)info->alignment != 0)
      return muir_set_error(MUIR_ERROR_ARGUMENT,
                            "muir_state_adopt: the %s buffer at %p is not "
                            "aligned to the package's %" PRId64 " bytes",
                            bufferLabel(i).text, (void *)buffers[i],
                            info->alignment);
    for (int32_t j = 0; j < i; ++j)
      if (buffers[j] == buffers[i])
        return muir_set_error(MUIR_ERROR_ARGUMENT,
                              "muir_state_adopt: the %s and %s buffers are "
                              "the same memory %p",
                              bufferLabel(j).text, bufferLabel(i).text,
                              (void *)buffers[i]);
  }
  muir_state_t *state;
  muir_status_t status = newState(package, device, "muir_state_adopt", &state);
  if (status != MUIR_OK)
    return status;
  memcpy(state->buffers, buffers, sizeof(buffers));
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

muir_package_t *muir_state_package(const muir_state_t *state) {
  return state ? state->package : NULL;
}

muir_device_t muir_state_device(const muir_state_t *state) {
  return state ? state->device : MUIR_DEVICE_CPU;
}

/** Checks `which` against the state's buffers. */
static muir_status_t checkWhich(const muir_state_t *state, int32_t which,
                                const char *caller) {
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
  if (status != MUIR_OK)
    return status;
  *out_data = state->buffers[which];
  *out_elements = state->elements;
  return MUIR_OK;
}

/** Checks the arguments of a copy between host memory and buffer `which`. */
static muir_status_t checkCopy(const muir_state_t *state, int32_t which,
                               int64_t begin, int64_t count, const void *host,
                               const char *caller) {
  if (!state || !host)
    return muir_set_error(MUIR_ERROR_ARGUMENT, "%s: %s is NULL", caller,
                          !state ? "state" : "host");
  muir_status_t status = checkWhich(state, which, caller);
  if (status != MUIR_OK)
    return status;
  if (begin < 0 || count < 0 || begin > state->elements ||
      count > state->elements - begin)
    return muir_set_error(MUIR_ERROR_ARGUMENT,
                          "%s: elements [%" PRId64 ", %" PRId64 " + %" PRId64
                          ") are outside the %s buffer of %" PRId64 " elements",
                          caller, begin, begin, count, bufferLabel(which).text,
                          state->elements);
  return MUIR_OK;
}

muir_status_t muir_state_copy_to_host(const muir_state_t *state, int32_t which,
                                      int64_t begin, int64_t count,
                                      float *host) {
  muir_clear_error();
  muir_status_t status =
      checkCopy(state, which, begin, count, host, "muir_state_copy_to_host");
  if (status != MUIR_OK || count == 0)
    return status;
  if (state->cuda)
    return muir_cuda_copy(state, which, begin, count, host, NULL);
  memmove(host, state->buffers[which] + begin, (size_t)count * sizeof(float));
  return MUIR_OK;
}

muir_status_t muir_state_copy_from_host(muir_state_t *state, int32_t which,
                                        int64_t begin, int64_t count,
                                        const float *host) {
  muir_clear_error();
  muir_status_t status =
      checkCopy(state, which, begin, count, host, "muir_state_copy_from_host");
  if (status != MUIR_OK || count == 0)
    return status;
  if (state->cuda)
    return muir_cuda_copy(state, which, begin, count, NULL, host);
  memmove(state->buffers[which] + begin, host, (size_t)count * sizeof(float));
  return MUIR_OK;
}

muir_status_t muir_state_init_range(muir_state_t *state, uint64_t seed,
                                    int64_t begin, int64_t end) {
  muir_clear_error();
  if (!state)
    return muir_set_error(MUIR_ERROR_ARGUMENT,
                          "muir_state_init_range: state is NULL");
  if (begin < 0 || begin > end || end > state->elements)
    return muir_set_error(MUIR_ERROR_ARGUMENT,
                          "muir_state_init_range: range [%" PRId64 ", %" PRId64
                          ") is not inside the params buffer "
                          "[0, %" PRId64 ")",
                          begin, end, state->elements);
  if (begin == end)
    return MUIR_OK;
  if (state->cuda)
    return muir_cuda_init(state, seed, begin, end);
  state->package->init(state->buffers[MUIR_BUFFER_PARAMS], seed, begin, end);
  return MUIR_OK;
}

muir_status_t muir_state_init(muir_state_t *state, uint64_t seed) {
  muir_clear_error();
  if (!state)
    return muir_set_error(MUIR_ERROR_ARGUMENT,
                          "muir_state_init: state is NULL");
  return muir_state_init_range(state, seed, 0, state->elements);
}

/** The CPU reduction's work: slots handed out MUIR_REDUCE_TASK at a time
 *  from a shared counter to whichever thread asks next (slots differ in
 *  size from tensor to tensor). A slot's partial does not depend on who
 *  computes it, so the result has the same bits with any number of
 *  threads. */
#define MUIR_REDUCE_TASK 4
typedef struct {
  muir_reduce_fn_t reduce;
  const float *grads;
  double *partials;
  int64_t slots;
  atomic_llong next;
} reduce_work_t;

static void *reduceSlots(void *arg) {
  reduce_work_t *work = arg;
  for (;;) {
    int64_t begin = atomic_fetch_add(&work->next, MUIR_REDUCE_TASK);
    if (begin >= work->slots)
      return NULL;
    int64_t end = begin + MUIR_REDUCE_TASK < work->slots
                      ? begin + MUIR_REDUCE_TASK
                      : work->slots;
    work->reduce(work->grads, work->partials, begin, end);
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

/** The CPU reduction phase over all slots, on reduceThreads() threads (this
 *  one included; a thread that cannot be started leaves its share to the
 *  others). */
static void reduceOnCPU(muir_state_t *state) {
  const muir_package_info_t *info = state->package->info;
  reduce_work_t work = {state->package->reduce,
                        state->buffers[MUIR_BUFFER_GRADS], state->partials,
                        info->num_slots, 0};
  int threads = reduceThreads(info->buffer_elements, info->num_slots);
  pthread_t helpers[MUIR_MAX_REDUCE_THREADS];
  int started = 0;
  for (int t = 1; t < threads; ++t)
    if (pthread_create(&helpers[started], NULL, reduceSlots, &work) == 0)
      ++started;
  reduceSlots(&work);
  for (int t = 0; t < started; ++t)
    pthread_join(helpers[t], NULL);
}

/** The reduction phase over the grads: state->partials, then their sum in
 *  slot order. */
static muir_status_t gradNorm(muir_state_t *state, double *out) {
  const muir_package_info_t *info = state->package->info;
  if (state->cuda) {
    muir_status_t status = muir_cuda_reduce(state);
    if (status != MUIR_OK)
      return status;
  } else if (info->num_slots > 0) {
    reduceOnCPU(state);
  }
  double sum = 0.0;
  for (int64_t s = 0; s < info->num_slots; ++s)
    sum += state->partials[s];
  *out = sqrt(sum);
  return MUIR_OK;
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

/** The telemetry of every copy from the slots' partials, in slot order. */
static void combineTelemetry(const muir_state_t *state,
                             muir_step_telemetry_t *out) {
  const muir_package_info_t *info = state->package->info;
  for (int64_t k = 0; k < info->num_kernel_params; ++k) {
    const muir_kernel_param_t *e = &info->kernel_params[k];
    for (int64_t c = 0; c < e->copies; ++c) {
      double sums[4] = {0.0, 0.0, 0.0, 0.0};
      int64_t first = e->first_slot + c * e->slots_per_copy;
      for (int64_t s = first; s < first + e->slots_per_copy; ++s)
        for (int j = 0; j < 4; ++j)
          sums[j] += state->partials[4 * s + j];
      muir_step_telemetry_t *t = out++;
      t->param_norm = sqrt(sums[0]);
      t->param_norm_after = sqrt(sums[1]);
      t->update_norm = sqrt(sums[2]);
      // w' = w + d: d's part along w is <w, d> / ||w||, the rest is
      // perpendicular; no cancellation for small angles (acos would lose
      // half the digits).
      double along = t->param_norm > 0.0 ? sums[3] / t->param_norm : 0.0;
      double across = sums[2] - along * along;
      t->angle =
          t->param_norm > 0.0 && t->param_norm_after > 0.0
              ? atan2(sqrt(across > 0.0 ? across : 0.0), t->param_norm + along)
              : 0.0;
    }
  }
}

muir_status_t muir_state_step_telemetry(muir_state_t *state, int64_t step,
                                        float lr_factor,
                                        const muir_step_guards_t *guards,
                                        muir_step_report_t *out_report,
                                        muir_step_telemetry_t *out_telemetry,
                                        int64_t entries) {
  muir_clear_error();
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
  bool skipNonfinite = guards && guards->skip_nonfinite;
  if (!(maxNorm >= 0.0) || isinf(maxNorm))
    return muir_set_error(MUIR_ERROR_ARGUMENT,
                          "muir_state_step: max_grad_norm %g is not a finite "
                          "non-negative number (0: no clipping)",
                          maxNorm);
  if (out_telemetry) {
    int64_t expected = telemetryEntries(state->package->info);
    if (entries != expected)
      return muir_set_error(MUIR_ERROR_ARGUMENT,
                            "muir_state_step_telemetry: room for %" PRId64
                            " entries given, but package '%s' has %" PRId64
                            " parameter copies",
                            entries, state->package->dir, expected);
    if (state->cuda)
      return muir_set_error(MUIR_ERROR_ARGUMENT,
                            "muir_state_step_telemetry: step telemetry runs "
                            "on the CPU only so far");
    if (!state->package->stepTelemetry)
      return muir_set_error(MUIR_ERROR_FORMAT,
                            "muir_state_step_telemetry: the library of '%s' "
                            "does not export muir_kernel_step_telemetry",
                            state->package->dir);
  }
  muir_step_report_t report = {0.0, 1.0f, 0};
  if (out_report || maxNorm > 0.0 || skipNonfinite) {
    muir_status_t status = gradNorm(state, &report.grad_norm);
    if (status != MUIR_OK)
      return status;
  }
  bool finite = isfinite(report.grad_norm);
  if (skipNonfinite && !finite) {
    report.skipped = 1;
    for (int64_t i = 0; out_telemetry && i < entries; ++i)
      out_telemetry[i] = (muir_step_telemetry_t){NAN, NAN, NAN, NAN};
  } else {
    // torch.nn.utils.clip_grad_norm_'s factor, in double, then rounded once.
    if (maxNorm > 0.0 && finite) {
      double factor = maxNorm / (report.grad_norm + 1e-6);
      if (factor < 1.0)
        report.grad_scale = (float)factor;
    }
    if (state->cuda) {
      muir_status_t status =
          muir_cuda_step(state, step, lr_factor, report.grad_scale);
      if (status != MUIR_OK)
        return status;
    } else if (out_telemetry) {
      state->package->stepTelemetry(
          state->buffers[MUIR_BUFFER_PARAMS], state->buffers[MUIR_BUFFER_GRADS],
          state->buffers + MUIR_BUFFER_STATE0, step, lr_factor,
          report.grad_scale, state->rows, state->partials);
      combineTelemetry(state, out_telemetry);
    } else {
      state->package->stepRows(state->buffers[MUIR_BUFFER_PARAMS],
                               state->buffers[MUIR_BUFFER_GRADS],
                               state->buffers + MUIR_BUFFER_STATE0, step,
                               lr_factor, report.grad_scale, state->rows);
    }
  }
  if (out_report)
    *out_report = report;
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

/** The kernel table entry of parameter `param`, after the argument checks
 *  of the multiplier calls; NULL (with the error set) if there is none. */
static const muir_kernel_param_t *
kernelEntry(const muir_state_t *state, int64_t param, const char *caller) {
  const muir_package_info_t *info = state->package->info;
  if (param < 0 || param >= info->num_params) {
    muir_set_error(MUIR_ERROR_ARGUMENT,
                   "%s: no parameter %" PRId64 " (package '%s' has %" PRId64
                   ")",
                   caller, param, state->package->dir, info->num_params);
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
