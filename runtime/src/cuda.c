/*===- cuda.c - States on a CUDA device, through the driver API ---*- C -*-===*
 *
 * Part of the muir project, under the Apache License v2.0 with LLVM
 * Exceptions.
 *
 *===----------------------------------------------------------------------===*
 *
 * The runtime never links libcuda: the driver is dlopen'ed at the first CUDA
 * request ("libcuda.so.1", or the path in MUIR_CUDA_DRIVER) and the entry
 * points below are resolved by their versioned names, so the library loads
 * and runs its CPU path on machines without a GPU, and a CUDA request there
 * fails with MUIR_ERROR_NO_DEVICE. cuda.h supplies only types and constants.
 *
 * Every state retains its device's primary context (the one the CUDA runtime
 * and PyTorch use, so their device pointers can be adopted), pushes it
 * around each operation and pops it afterwards, leaving the caller's current
 * context as it was. Each state loads its own module, so a package holds no
 * per-device mutable data.
 *
 * Kernels run on the legacy default stream and every launch is followed by
 * cuCtxSynchronize: a call returns when its kernel has finished, and a fault
 * comes back as MUIR_ERROR_CUDA from the call that caused it.
 *
 * A bf16 package (MUIR_PRECISION_BF16) steps with muir_step_bf16_kernel and
 * reduces with muir_reduce_bf16_kernel over its 2-byte grads and params
 * copy; its init runs the fp32 init kernel and rounds the copy on the host
 * (the PTX has no rounding kernel; init runs once).
 *
 * Tested here against test/Runtime/Inputs/mock_cuda.c, a host-memory stand-in
 * for libcuda.so.1; not yet run on a GPU.
 *
 *===----------------------------------------------------------------------===*/

#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if MUIR_RUNTIME_HAVE_CUDA_H

#include <cuda.h>
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stddef.h>

/** The driver entry points the runtime uses, with the ABI of the versioned
 *  symbols named in `driverSymbols`. */
typedef struct {
  CUresult (*init)(unsigned int);
  CUresult (*getErrorName)(CUresult, const char **);
  CUresult (*getErrorString)(CUresult, const char **);
  CUresult (*deviceGetCount)(int *);
  CUresult (*deviceGet)(CUdevice *, int);
  CUresult (*deviceGetAttribute)(int *, CUdevice_attribute, CUdevice);
  CUresult (*primaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*primaryCtxRelease)(CUdevice);
  CUresult (*ctxPushCurrent)(CUcontext);
  CUresult (*ctxPopCurrent)(CUcontext *);
  CUresult (*ctxSynchronize)(void);
  CUresult (*moduleLoadDataEx)(CUmodule *, const void *, unsigned int,
                               CUjit_option *, void **);
  CUresult (*moduleUnload)(CUmodule);
  CUresult (*moduleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*moduleGetGlobal)(CUdeviceptr *, size_t *, CUmodule, const char *);
  CUresult (*memAlloc)(CUdeviceptr *, size_t);
  CUresult (*memFree)(CUdeviceptr);
  CUresult (*memsetD8)(CUdeviceptr, unsigned char, size_t);
  CUresult (*memcpyHtoD)(CUdeviceptr, const void *, size_t);
  CUresult (*memcpyDtoH)(void *, CUdeviceptr, size_t);
  CUresult (*memcpyDtoD)(CUdeviceptr, CUdeviceptr, size_t);
  CUresult (*launchKernel)(CUfunction, unsigned int, unsigned int, unsigned int,
                           unsigned int, unsigned int, unsigned int,
                           unsigned int, CUstream, void **, void **);
} driver_t;

static const struct {
  const char *name;
  size_t offset;
} driverSymbols[] = {
    {"cuInit", offsetof(driver_t, init)},
    {"cuGetErrorName", offsetof(driver_t, getErrorName)},
    {"cuGetErrorString", offsetof(driver_t, getErrorString)},
    {"cuDeviceGetCount", offsetof(driver_t, deviceGetCount)},
    {"cuDeviceGet", offsetof(driver_t, deviceGet)},
    {"cuDeviceGetAttribute", offsetof(driver_t, deviceGetAttribute)},
    {"cuDevicePrimaryCtxRetain", offsetof(driver_t, primaryCtxRetain)},
    {"cuDevicePrimaryCtxRelease_v2", offsetof(driver_t, primaryCtxRelease)},
    {"cuCtxPushCurrent_v2", offsetof(driver_t, ctxPushCurrent)},
    {"cuCtxPopCurrent_v2", offsetof(driver_t, ctxPopCurrent)},
    {"cuCtxSynchronize", offsetof(driver_t, ctxSynchronize)},
    {"cuModuleLoadDataEx", offsetof(driver_t, moduleLoadDataEx)},
    {"cuModuleUnload", offsetof(driver_t, moduleUnload)},
    {"cuModuleGetFunction", offsetof(driver_t, moduleGetFunction)},
    {"cuModuleGetGlobal_v2", offsetof(driver_t, moduleGetGlobal)},
    {"cuMemAlloc_v2", offsetof(driver_t, memAlloc)},
    {"cuMemFree_v2", offsetof(driver_t, memFree)},
    {"cuMemsetD8_v2", offsetof(driver_t, memsetD8)},
    {"cuMemcpyHtoD_v2", offsetof(driver_t, memcpyHtoD)},
    {"cuMemcpyDtoH_v2", offsetof(driver_t, memcpyDtoH)},
    {"cuMemcpyDtoD_v2", offsetof(driver_t, memcpyDtoD)},
    {"cuLaunchKernel", offsetof(driver_t, launchKernel)},
};

static driver_t cu;
static pthread_once_t driverOnce = PTHREAD_ONCE_INIT;
/** Outcome of loading the driver, replayed to every later caller. */
static muir_status_t driverStatus;
static char driverMessage[768];

/** Error name and description of `result`, whatever the driver knows. */
static void describe(CUresult result, const char **name, const char **desc) {
  *name = "unknown CUDA error";
  *desc = "no description";
  if (cu.getErrorName)
    cu.getErrorName(result, name);
  if (cu.getErrorString)
    cu.getErrorString(result, desc);
}

static void loadDriver(void) {
  const char *path = getenv("MUIR_CUDA_DRIVER");
  if (!path || !path[0])
    path = "libcuda.so.1";
  dlerror();
  void *library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char *why = dlerror();
    driverStatus = MUIR_ERROR_NO_DEVICE;
    snprintf(driverMessage, sizeof(driverMessage),
             "no CUDA driver: cannot load %s: %s (MUIR_CUDA_DRIVER overrides "
             "the path)",
             path, why ? why : "unknown dlopen error");
    return;
  }
  for (size_t i = 0; i < sizeof(driverSymbols) / sizeof(driverSymbols[0]);
       ++i) {
    void *symbol = dlsym(library, driverSymbols[i].name);
    if (!symbol) {
      driverStatus = MUIR_ERROR_NO_DEVICE;
      snprintf(driverMessage, sizeof(driverMessage),
               "the CUDA driver %s lacks %s (driver too old?)", path,
               driverSymbols[i].name);
      memset(&cu, 0, sizeof(cu));
      dlclose(library);
      return;
    }
    memcpy((char *)&cu + driverSymbols[i].offset, &symbol, sizeof(symbol));
  }
  CUresult result = cu.init(0);
  if (result != CUDA_SUCCESS) {
    const char *name, *desc;
    describe(result, &name, &desc);
    driverStatus = MUIR_ERROR_NO_DEVICE;
    snprintf(driverMessage, sizeof(driverMessage),
             "the CUDA driver %s found no usable device: cuInit: %s (%s)", path,
             name, desc);
    return;
  }
  driverStatus = MUIR_OK;
}

/** Sets the thread's message from a failed driver call and returns
 *  MUIR_ERROR_CUDA (MUIR_ERROR_MEMORY when the device is out of memory). */
static muir_status_t cudaFailure(CUresult result, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
static muir_status_t cudaFailure(CUresult result, const char *format, ...) {
  char what[512];
  va_list args;
  va_start(args, format);
  vsnprintf(what, sizeof(what), format, args);
  va_end(args);
  const char *name, *desc;
  describe(result, &name, &desc);
  return muir_set_error(result == CUDA_ERROR_OUT_OF_MEMORY ? MUIR_ERROR_MEMORY
                                                           : MUIR_ERROR_CUDA,
                        "%s: %s (%s)", what, name, desc);
}

struct muir_cuda_state {
  CUdevice device;
  CUcontext context; /* the device's primary context, retained */
  CUmodule module;
  CUfunction initKernel, stepKernel, reduceKernel;
  /* Looked up at the first telemetry step (0 until then), with the copy of
   * the params before the step it reads; LionAR: the per-unit telemetry
   * kernel and its sums (4 doubles per unit). */
  CUfunction telemetryKernel, unitTelemetryKernel;
  CUdeviceptr before, unitSums;
  /* What cuMemAlloc returned for each owned buffer (0 if none): params,
   * grads, the states, then a bf16 package's params copy. */
  CUdeviceptr allocations[3 + MUIR_MAX_STATES];
  /* The module's copy of the kernel table's rows (MUIR_TENSOR_ROWS_SYMBOL)
   * and the reduction phase's partial sums (num_slots doubles; four per
   * slot for the telemetry). */
  CUdeviceptr rows, partials;
  /* LionAR: its units' partial sums (MUIR_SLOT_UNIT_SUMS per slot; 0 for a
   * package without units) and the kernel that computes them, looked up at
   * the first muir_state_reduce_units. */
  CUdeviceptr units;
  CUfunction reduceUnitsKernel;
  /* LionAR's fp32 units kernel (muir_step_units_kernel), looked up at the
   * first step of a package with units. */
  CUfunction stepUnitsKernel;
};

static CUdeviceptr devicePointer(const void *p) {
  return (CUdeviceptr)(uintptr_t)p;
}

static bool isBf16(const muir_state_t *state) {
  return state->package->info->precision == MUIR_PRECISION_BF16;
}

/** Makes the state's context current; pair with `leave`. */
static muir_status_t enter(const muir_state_t *state) {
  CUresult result = cu.ctxPushCurrent(state->cuda->context);
  if (result != CUDA_SUCCESS)
    return cudaFailure(result, "cuCtxPushCurrent for CUDA device %d",
                       state->device - MUIR_DEVICE_CUDA);
  return MUIR_OK;
}

static void leave(void) {
  CUcontext previous;
  cu.ctxPopCurrent(&previous);
}

/** Largest CUDA module file read. */
#define MUIR_MAX_MODULE_BYTES ((size_t)1 << 30)

/** Reads `name` of the package's directory as it was opened (so the module
 *  comes from the package that was checked, even if the path has been
 *  replaced since), NUL-terminated (PTX must be). Returns 0 or an errno. */
static int readFile(const muir_state_t *state, const char *name,
                    char **out_data) {
  size_t size;
  return muir_package_read_file(state->package, name, MUIR_MAX_MODULE_BYTES,
                                out_data, &size);
}

/** Loads the package's kernels for the state's device: the newest cubin the
 *  device can run (kernels.sm_<major><minor>.cubin, then lower minors of the
 *  same major), else kernels.ptx through the JIT. */
static muir_status_t loadModule(muir_state_t *state) {
  struct muir_cuda_state *cs = state->cuda;
  const char *dir = state->package->dir;
  int major = 0, minor = 0;
  CUresult result = cu.deviceGetAttribute(
      &major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, cs->device);
  if (result == CUDA_SUCCESS)
    result = cu.deviceGetAttribute(
        &minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, cs->device);
  if (result != CUDA_SUCCESS)
    return cudaFailure(result,
                       "reading the compute capability of CUDA "
                       "device %d",
                       state->device - MUIR_DEVICE_CUDA);

  size_t pathSize = strlen(dir) + 64;
  char *path = malloc(pathSize);
  if (!path)
    return muir_set_error(MUIR_ERROR_MEMORY, "out of memory loading '%s'", dir);
  char rejected[1024] = "";
  char *image = NULL;
  char name[64];
  for (int m = minor; m >= 0; --m) {
    snprintf(name, sizeof(name), "kernels.sm_%d%d.cubin", major, m);
    snprintf(path, pathSize, "%s/%s", dir, name);
    int error = readFile(state, name, &image);
    if (error == ENOENT)
      continue;
    if (error) {
      snprintf(rejected, sizeof(rejected), "cannot read %s: %s", path,
               strerror(error));
      continue;
    }
    result = cu.moduleLoadDataEx(&cs->module, image, 0, NULL, NULL);
    free(image);
    if (result == CUDA_SUCCESS) {
      free(path);
      return MUIR_OK;
    }
    const char *name, *desc;
    describe(result, &name, &desc);
    snprintf(rejected, sizeof(rejected), "the driver rejected %s: %s (%s)",
             path, name, desc);
  }

  snprintf(path, pathSize, "%s/kernels.ptx", dir);
  int error = readFile(state, "kernels.ptx", &image);
  if (error) {
    muir_status_t status =
        rejected[0]
            ? muir_set_error(MUIR_ERROR_CUDA,
                             "package '%s': %s, and %s cannot be read: %s", dir,
                             rejected, path, strerror(error))
            : muir_set_error(MUIR_ERROR_IO,
                             "package '%s' has no CUDA kernels for sm_%d%d: no "
                             "kernels.sm_%d%d.cubin and %s cannot be read: %s",
                             dir, major, minor, major, minor, path,
                             strerror(error));
    free(path);
    return status;
  }
  char log[4096] = "";
  CUjit_option options[] = {CU_JIT_ERROR_LOG_BUFFER,
                            CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void *values[] = {log, (void *)(uintptr_t)sizeof(log)};
  result = cu.moduleLoadDataEx(&cs->module, image, 2, options, values);
  free(image);
  muir_status_t status = MUIR_OK;
  if (result != CUDA_SUCCESS)
    status = cudaFailure(result,
                         "package '%s': the CUDA driver cannot JIT-compile %s "
                         "for sm_%d%d%s%s (log: %s)",
                         dir, path, major, minor, rejected[0] ? "; " : "",
                         rejected, log[0] ? log : "empty");
  free(path);
  return status;
}

/** Kernel `name` of the state's module into `*out` (0 if it fails), with
 *  the state's context current. */
static muir_status_t getKernel(const muir_state_t *state, const char *name,
                               CUfunction *out) {
  CUresult result = cu.moduleGetFunction(out, state->cuda->module, name);
  if (result == CUDA_SUCCESS)
    return MUIR_OK;
  *out = 0;
  return result == CUDA_ERROR_NOT_FOUND
             ? muir_set_error(MUIR_ERROR_FORMAT,
                              "package '%s': its CUDA module has no kernel %s",
                              state->package->dir, name)
             : cudaFailure(result, "package '%s': cuModuleGetFunction %s",
                           state->package->dir, name);
}

/** The step's and the reduction's kernel names (a bf16 package's own). */
static const char *stepKernelName(const muir_state_t *state) {
  return isBf16(state) ? "muir_step_bf16_kernel" : "muir_step_kernel";
}
static const char *reduceKernelName(const muir_state_t *state) {
  return isBf16(state) ? "muir_reduce_bf16_kernel" : "muir_reduce_kernel";
}

static muir_status_t getKernels(muir_state_t *state) {
  struct muir_cuda_state *cs = state->cuda;
  const char *const names[] = {"muir_init_kernel", stepKernelName(state),
                               reduceKernelName(state)};
  CUfunction *slots[] = {&cs->initKernel, &cs->stepKernel, &cs->reduceKernel};
  for (int i = 0; i < 3; ++i) {
    muir_status_t status = getKernel(state, names[i], slots[i]);
    if (status != MUIR_OK)
      return status;
  }
  return MUIR_OK;
}

/** Finds the module's table rows, loads the state's rows into them (so the
 *  GPU steps with exactly the CPU library's constants) and allocates the
 *  reduction's partial sums. */
static muir_status_t setUpTable(muir_state_t *state) {
  struct muir_cuda_state *cs = state->cuda;
  const muir_package_info_t *info = state->package->info;
  size_t bytes = 0;
  CUresult result = cu.moduleGetGlobal(&cs->rows, &bytes, cs->module,
                                       MUIR_TENSOR_ROWS_SYMBOL);
  if (result != CUDA_SUCCESS)
    return result == CUDA_ERROR_NOT_FOUND
               ? muir_set_error(MUIR_ERROR_FORMAT,
                                "package '%s': its CUDA module has no "
                                "table " MUIR_TENSOR_ROWS_SYMBOL,
                                state->package->dir)
               : cudaFailure(result, "package '%s': cuModuleGetGlobal %s",
                             state->package->dir, MUIR_TENSOR_ROWS_SYMBOL);
  size_t need = (size_t)info->num_tensor_rows * sizeof(muir_tensor_row_t);
  if (bytes < need)
    return muir_set_error(MUIR_ERROR_FORMAT,
                          "package '%s': the CUDA module's %s holds %zu "
                          "bytes, but the table has %" PRId64 " rows (%zu "
                          "bytes)",
                          state->package->dir, MUIR_TENSOR_ROWS_SYMBOL, bytes,
                          info->num_tensor_rows, need);
  if (need &&
      (result = cu.memcpyHtoD(cs->rows, state->rows, need)) != CUDA_SUCCESS)
    return cudaFailure(result, "copying the kernel table to CUDA device %d",
                       state->device - MUIR_DEVICE_CUDA);
  size_t slots = info->num_slots > 0 ? (size_t)info->num_slots : 1;
  result = cu.memAlloc(&cs->partials, 4 * slots * sizeof(double));
  if (result != CUDA_SUCCESS) {
    cs->partials = 0;
    return cudaFailure(result,
                       "cuMemAlloc of %zu partial sums on CUDA device "
                       "%d",
                       slots, state->device - MUIR_DEVICE_CUDA);
  }
  size_t units = (size_t)muir_unit_partials(info);
  if (units > 0 && (result = cu.memAlloc(&cs->units, units * sizeof(double))) !=
                       CUDA_SUCCESS) {
    cs->units = 0;
    return cudaFailure(result,
                       "cuMemAlloc of %zu unit partial sums on CUDA device "
                       "%d",
                       units, state->device - MUIR_DEVICE_CUDA);
  }
  return MUIR_OK;
}

/** Allocates and zeroes the state's buffers: params, grads and the states,
 *  and a bf16 package's params copy after them (its grads and copy 2 bytes
 *  per element, in bf16_grads and bf16_params). */
static muir_status_t allocateBuffers(muir_state_t *state) {
  struct muir_cuda_state *cs = state->cuda;
  size_t align = (size_t)state->package->info->alignment;
  bool bf16 = isBf16(state);
  // cuMemAlloc aligns to at least 256 bytes; ask for slack beyond that.
  size_t slack = align > 256 ? align : 0;
  for (int32_t i = 0; i < state->num_buffers + bf16; ++i) {
    bool half = bf16 && (i == MUIR_BUFFER_GRADS || i == state->num_buffers);
    size_t bytes = (size_t)state->elements * (half ? 2 : sizeof(float));
    if (bytes == 0)
      bytes = sizeof(float);
    CUresult result = cu.memAlloc(&cs->allocations[i], bytes + slack);
    if (result != CUDA_SUCCESS) {
      cs->allocations[i] = 0;
      return cudaFailure(result,
                         "cuMemAlloc of buffer %d (%zu bytes) on CUDA device "
                         "%d for package '%s'",
                         i < state->num_buffers ? i : MUIR_BUFFER_PARAMS_BF16,
                         bytes + slack, state->device - MUIR_DEVICE_CUDA,
                         state->package->dir);
    }
    result = cu.memsetD8(cs->allocations[i], 0, bytes + slack);
    if (result != CUDA_SUCCESS)
      return cudaFailure(result, "cuMemsetD8 of buffer %d", i);
    CUdeviceptr aligned =
        (cs->allocations[i] + align - 1) & ~(CUdeviceptr)(align - 1);
    void *p = (void *)(uintptr_t)aligned;
    if (i == state->num_buffers)
      state->bf16_params = p;
    else if (half)
      state->bf16_grads = p;
    else
      state->buffers[i] = p;
  }
  return MUIR_OK;
}

muir_status_t muir_cuda_state_create(muir_state_t *state, bool adopt) {
  pthread_once(&driverOnce, loadDriver);
  if (driverStatus != MUIR_OK)
    return muir_set_error(driverStatus, "%s", driverMessage);
  int ordinal = state->device - MUIR_DEVICE_CUDA;
  const muir_package_info_t *info = state->package->info;
  if (info->num_states > 2)
    return muir_set_error(MUIR_ERROR_FORMAT,
                          "package '%s' declares %d optimizer states, but "
                          "the CUDA step kernel takes at most 2",
                          state->package->dir, info->num_states);
  int count = 0;
  CUresult result = cu.deviceGetCount(&count);
  if (result != CUDA_SUCCESS)
    return cudaFailure(result, "cuDeviceGetCount");
  if (ordinal >= count)
    return muir_set_error(MUIR_ERROR_NO_DEVICE,
                          "CUDA device %d requested, but the driver sees %d "
                          "device%s",
                          ordinal, count, count == 1 ? "" : "s");

  struct muir_cuda_state *cs = calloc(1, sizeof(*cs));
  if (!cs)
    return muir_set_error(MUIR_ERROR_MEMORY, "out of memory");
  result = cu.deviceGet(&cs->device, ordinal);
  if (result != CUDA_SUCCESS) {
    free(cs);
    return cudaFailure(result, "cuDeviceGet %d", ordinal);
  }
  result = cu.primaryCtxRetain(&cs->context, cs->device);
  if (result != CUDA_SUCCESS) {
    free(cs);
    return cudaFailure(result, "cuDevicePrimaryCtxRetain for CUDA device %d",
                       ordinal);
  }
  // From here on muir_cuda_state_release undoes whatever was done.
  state->cuda = cs;
  muir_status_t status = enter(state);
  if (status != MUIR_OK)
    return status;
  status = loadModule(state);
  if (status == MUIR_OK)
    status = getKernels(state);
  if (status == MUIR_OK && !adopt)
    status = allocateBuffers(state);
  if (status == MUIR_OK)
    status = setUpTable(state);
  leave();
  return status;
}

void muir_cuda_state_release(muir_state_t *state) {
  struct muir_cuda_state *cs = state->cuda;
  if (cu.ctxPushCurrent(cs->context) == CUDA_SUCCESS) {
    for (int32_t i = 0; i < 3 + MUIR_MAX_STATES; ++i)
      if (cs->allocations[i])
        cu.memFree(cs->allocations[i]);
    if (cs->partials)
      cu.memFree(cs->partials);
    if (cs->units)
      cu.memFree(cs->units);
    if (cs->before)
      cu.memFree(cs->before);
    if (cs->unitSums)
      cu.memFree(cs->unitSums);
    if (cs->module)
      cu.moduleUnload(cs->module);
    leave();
  }
  cu.primaryCtxRelease(cs->device);
  free(cs);
  state->cuda = NULL;
}

/** Most arguments a kernel takes (muir_step_bf16_kernel: 15). */
#define MUIR_MAX_KERNEL_ARGS 16

/** An argument array and its length, for launchOn and launch (an array of
 *  more than MUIR_MAX_KERNEL_ARGS does not compile: a negative size). */
#define ARGUMENTS(args)                                                        \
  (args), sizeof(args) / sizeof((args)[0]) +                                   \
              0 * sizeof(char[sizeof(args) / sizeof((args)[0]) <=              \
                                      MUIR_MAX_KERNEL_ARGS                     \
                                  ? 1                                          \
                                  : -1])

/** Launches `kernel` on `config` with the `count` arguments `args` and
 *  waits for it. The driver gets them NULL-terminated: it reads only the
 *  kernel's declared parameters, and a stand-in can count them
 *  (test/Runtime/Inputs/mock_cuda.c checks them against a real PTX's
 *  signatures). */
static muir_status_t launchOn(const muir_state_t *state, CUfunction kernel,
                              const char *name, muir_launch_config_t config,
                              void *const *args, size_t count) {
  void *terminated[MUIR_MAX_KERNEL_ARGS + 1];
  memcpy(terminated, args, count * sizeof(void *));
  terminated[count] = NULL;
  muir_status_t status = enter(state);
  if (status != MUIR_OK)
    return status;
  CUresult result = cu.launchKernel(kernel, config.grid_x, 1, 1, config.block_x,
                                    1, 1, 0, NULL, terminated, NULL);
  if (result != CUDA_SUCCESS)
    status = cudaFailure(result, "launching %s (%u blocks of %u threads)", name,
                         config.grid_x, config.block_x);
  else if ((result = cu.ctxSynchronize()) != CUDA_SUCCESS)
    status = cudaFailure(result, "running %s", name);
  leave();
  return status;
}

/** Launches `kernel` over `elements` elements (muir_launch_config) and
 *  waits for it. */
static muir_status_t launch(const muir_state_t *state, CUfunction kernel,
                            const char *name, int64_t elements,
                            void *const *args, size_t count) {
  muir_launch_config_t config;
  muir_status_t status = muir_launch_config(elements, &config);
  if (status != MUIR_OK)
    return status;
  return launchOn(state, kernel, name, config, args, count);
}

/** Elements of the params a bf16 init rounds on the host at a time. */
#define MUIR_ROUNDING_BLOCK ((int64_t)1 << 20)

/** A bf16 state's copy of params [begin, end) (state elements), rounded to
 *  nearest on the host, MUIR_ROUNDING_BLOCK elements at a time. */
static muir_status_t roundCopy(muir_state_t *state, int64_t begin,
                               int64_t end) {
  int64_t block =
      end - begin < MUIR_ROUNDING_BLOCK ? end - begin : MUIR_ROUNDING_BLOCK;
  float *values = malloc((size_t)block * sizeof(float));
  uint16_t *bits = malloc((size_t)block * sizeof(uint16_t));
  muir_status_t status = MUIR_OK;
  if (!values || !bits)
    status = muir_set_error(MUIR_ERROR_MEMORY,
                            "out of memory for the bf16 copy's rounding at "
                            "init (%" PRId64 " elements)",
                            block);
  if (status == MUIR_OK)
    status = enter(state);
  if (status == MUIR_OK) {
    CUdeviceptr params = devicePointer(state->buffers[MUIR_BUFFER_PARAMS]);
    CUdeviceptr copy = devicePointer(state->bf16_params);
    for (int64_t at = begin; at < end && status == MUIR_OK; at += block) {
      int64_t n = end - at < block ? end - at : block;
      CUresult result =
          cu.memcpyDtoH(values, params + (CUdeviceptr)at * sizeof(float),
                        (size_t)n * sizeof(float));
      if (result == CUDA_SUCCESS) {
        muir_round_bf16_nearest(values, bits, n);
        result = cu.memcpyHtoD(copy + (CUdeviceptr)at * sizeof(uint16_t), bits,
                               (size_t)n * sizeof(uint16_t));
      }
      if (result != CUDA_SUCCESS)
        status = cudaFailure(result,
                             "rounding the bf16 copy of params [%" PRId64
                             ", %" PRId64 ") at init on CUDA device %d",
                             at, at + n, state->device - MUIR_DEVICE_CUDA);
    }
    leave();
  }
  free(values);
  free(bits);
  return status;
}

muir_status_t muir_cuda_init(muir_state_t *state, uint64_t seed, int64_t begin,
                             int64_t end) {
  CUdeviceptr params = devicePointer(state->buffers[MUIR_BUFFER_PARAMS]);
  int64_t first = state->shard.begin;
  void *args[] = {&params, &seed, &begin, &end, &first};
  muir_status_t status =
      launch(state, state->cuda->initKernel, "muir_init_kernel", end - begin,
             ARGUMENTS(args));
  if (status == MUIR_OK && isBf16(state))
    status = roundCopy(state, begin - first, end - first);
  return status;
}

/** The device pointers a step kernel takes: params, grads (a bf16
 *  package's 2-byte ones), state0, state1 (0 where the optimizer has fewer
 *  states). */
static void stepPointers(const muir_state_t *state, CUdeviceptr out[4]) {
  int32_t size;
  for (int32_t i = 0; i < 4; ++i)
    out[i] = i < state->num_buffers
                 ? devicePointer(muir_buffer_data(state, i, &size))
                 : 0;
}

/** Copies `count` doubles between the host and the device (one of them
 *  NULL), with the state's context current. */
static muir_status_t copyDoubles(const muir_state_t *state, CUdeviceptr device,
                                 double *to_host, const double *from_host,
                                 int64_t count) {
  muir_status_t status = enter(state);
  if (status != MUIR_OK)
    return status;
  size_t bytes = (size_t)count * sizeof(double);
  CUresult result = to_host ? cu.memcpyDtoH(to_host, device, bytes)
                            : cu.memcpyHtoD(device, from_host, bytes);
  if (result != CUDA_SUCCESS)
    status = cudaFailure(
        result, "copying %" PRId64 " partial sums %s CUDA device %d", count,
        to_host ? "from" : "to", state->device - MUIR_DEVICE_CUDA);
  leave();
  return status;
}

/** Blocks of MUIR_CUDA_BLOCK_THREADS for one thread per item (a kernel
 *  with a grid-stride loop over `items`). */
static muir_launch_config_t threadPerItem(int64_t items) {
  int64_t blocks =
      (items + MUIR_CUDA_BLOCK_THREADS - 1) / MUIR_CUDA_BLOCK_THREADS;
  return (muir_launch_config_t){(uint32_t)(blocks < 1 ? 1
                                           : blocks > MUIR_CUDA_MAX_GRID
                                               ? MUIR_CUDA_MAX_GRID
                                               : blocks),
                                MUIR_CUDA_BLOCK_THREADS};
}

/** Kernel `name` into `*kernel` unless looked up before. */
static muir_status_t kernelOnce(const muir_state_t *state, const char *name,
                                CUfunction *kernel) {
  if (*kernel)
    return MUIR_OK;
  muir_status_t status = enter(state);
  if (status != MUIR_OK)
    return status;
  status = getKernel(state, name, kernel);
  leave();
  return status;
}

/** muir_reduce_units_kernel over the state's slots into the device's unit
 *  partials (zeroed by the caller), one thread per slot. */
static muir_status_t launchReduceUnits(muir_state_t *state, int64_t step,
                                       float lr_factor, float grad_scale) {
  struct muir_cuda_state *cs = state->cuda;
  muir_status_t status =
      kernelOnce(state, "muir_reduce_units_kernel", &cs->reduceUnitsKernel);
  if (status != MUIR_OK)
    return status;
  CUdeviceptr p[4]; /* params, grads, state0, state1 */
  stepPointers(state, p);
  int64_t first = state->shard.begin, slotBegin = state->shard.slot_begin,
          slotEnd = state->shard.slot_end;
  void *args[] = {&p[0],  &p[1],      &p[2],       &p[3],
                  &step,  &lr_factor, &grad_scale, &cs->units,
                  &first, &slotBegin, &slotEnd};
  return launchOn(state, cs->reduceUnitsKernel, "muir_reduce_units_kernel",
                  threadPerItem(slotEnd - slotBegin), ARGUMENTS(args));
}

/** LionAR's fp32 units after the step kernel's chunks
 *  (muir_step_units_kernel: 4 threads per unit, 64 units per block of
 *  256), with the device's unit partials for those that straddle a slot
 *  start. */
static muir_status_t launchStepUnits(muir_state_t *state, int64_t step,
                                     float lr_factor, float grad_scale) {
  struct muir_cuda_state *cs = state->cuda;
  muir_status_t status =
      kernelOnce(state, "muir_step_units_kernel", &cs->stepUnitsKernel);
  if (status != MUIR_OK)
    return status;
  CUdeviceptr p[4]; /* params, grads, state0, state1 */
  stepPointers(state, p);
  int64_t first = state->shard.begin, end = state->shard.end;
  void *args[] = {&p[0],      &p[1],       &p[2],  &p[3], &step,
                  &lr_factor, &grad_scale, &first, &end,  &cs->units};
  int64_t units = state->package->info->num_units;
  int64_t perBlock = MUIR_CUDA_BLOCK_THREADS / 4;
  muir_launch_config_t config = {(uint32_t)((units + perBlock - 1) / perBlock),
                                 MUIR_CUDA_BLOCK_THREADS};
  return launchOn(state, cs->stepUnitsKernel, "muir_step_units_kernel", config,
                  ARGUMENTS(args));
}

muir_status_t muir_cuda_step(muir_state_t *state, int64_t step, float lr_factor,
                             float grad_scale, const double *units) {
  struct muir_cuda_state *cs = state->cuda;
  int64_t unitCount = muir_unit_partials(state->package->info);
  // fp32 LionAR: the units' own kernel after the chunks; a whole state's
  // unit partials (for the units that straddle a slot start) from its own
  // slots, on the device.
  bool stepUnits = unitCount > 0 && !isBf16(state);
  if (units) {
    muir_status_t status =
        copyDoubles(state, cs->units, NULL, units, unitCount);
    if (status != MUIR_OK)
      return status;
  } else if (stepUnits) {
    muir_status_t status = enter(state);
    if (status != MUIR_OK)
      return status;
    CUresult result =
        cu.memsetD8(cs->units, 0, (size_t)unitCount * sizeof(double));
    leave();
    if (result != CUDA_SUCCESS)
      return cudaFailure(result, "zeroing the unit partials on CUDA device %d",
                         state->device - MUIR_DEVICE_CUDA);
    if ((status = launchReduceUnits(state, step, lr_factor, grad_scale)) !=
        MUIR_OK)
      return status;
  }
  // The unit partials' buffer, or any device pointer where there is none
  // (never read: from_units is 0).
  CUdeviceptr unitPartials = cs->units ? cs->units : cs->partials;
  int64_t fromUnits = units != NULL, end = state->shard.end;
  CUdeviceptr p[4]; /* params, grads, state0, state1 */
  stepPointers(state, p);
  // A shard's buffers start at its first element; its chunks lie inside it.
  int64_t first = state->shard.begin;
  int64_t chunkBegin = state->shard.chunk_begin,
          chunkEnd = state->shard.chunk_end;
  if (isBf16(state)) {
    // GPUKernels.cpp's muir_step_bf16_kernel: the copy after the states,
    // the rounding seed after the scalars.
    CUdeviceptr copy = devicePointer(state->bf16_params);
    uint64_t seed = state->rounding_seed;
    void *args[] = {&p[0], &p[1],         &p[2],       &p[3],
                    &copy, &step,         &lr_factor,  &grad_scale,
                    &seed, &first,        &chunkBegin, &chunkEnd,
                    &end,  &unitPartials, &fromUnits};
    return launch(state, cs->stepKernel, "muir_step_bf16_kernel",
                  state->elements, ARGUMENTS(args));
  }
  void *args[] = {&p[0],      &p[1],         &p[2],     &p[3],       &step,
                  &lr_factor, &grad_scale,   &first,    &chunkBegin, &chunkEnd,
                  &end,       &unitPartials, &fromUnits};
  muir_status_t status =
      launch(state, state->cuda->stepKernel, "muir_step_kernel",
             state->elements, ARGUMENTS(args));
  if (status != MUIR_OK || !stepUnits)
    return status;
  return launchStepUnits(state, step, lr_factor, grad_scale);
}

muir_status_t muir_cuda_reduce_units(muir_state_t *state, int64_t step,
                                     float lr_factor, float grad_scale,
                                     double *units) {
  struct muir_cuda_state *cs = state->cuda;
  int64_t count = muir_unit_partials(state->package->info);
  // `units` is zeroed: so is the device's copy before the kernel.
  muir_status_t status = copyDoubles(state, cs->units, NULL, units, count);
  if (status == MUIR_OK)
    status = launchReduceUnits(state, step, lr_factor, grad_scale);
  if (status != MUIR_OK)
    return status;
  return copyDoubles(state, cs->units, units, NULL, count);
}

muir_status_t muir_cuda_reduce(muir_state_t *state) {
  struct muir_cuda_state *cs = state->cuda;
  // The shard's slots; those outside it are zeros.
  int64_t first = state->shard.begin, slotBegin = state->shard.slot_begin;
  int64_t slots = state->shard.slot_end - slotBegin;
  memset(state->partials, 0,
         (size_t)state->package->info->num_slots * sizeof(double));
  if (slots == 0)
    return MUIR_OK;
  int32_t size;
  CUdeviceptr grads =
      devicePointer(muir_buffer_data(state, MUIR_BUFFER_GRADS, &size));
  void *args[] = {&grads, &cs->partials, &first, &slotBegin};
  // One block per slot (at most INT32_MAX: checked at open).
  muir_launch_config_t config = {(uint32_t)slots, MUIR_CUDA_BLOCK_THREADS};
  muir_status_t status =
      launchOn(state, cs->reduceKernel, reduceKernelName(state), config,
               ARGUMENTS(args));
  if (status != MUIR_OK)
    return status;
  if ((status = enter(state)) != MUIR_OK)
    return status;
  CUresult result =
      cu.memcpyDtoH(state->partials + slotBegin,
                    cs->partials + (CUdeviceptr)slotBegin * sizeof(double),
                    (size_t)slots * sizeof(double));
  if (result != CUDA_SUCCESS)
    status = cudaFailure(result,
                         "copying %" PRId64 " partial sums from CUDA "
                         "device %d",
                         slots, state->device - MUIR_DEVICE_CUDA);
  leave();
  return status;
}

/** cuMemAlloc of `bytes` into `*out` for the telemetry (0 if it fails). */
static muir_status_t allocateTelemetry(const muir_state_t *state,
                                       CUdeviceptr *out, size_t bytes) {
  CUresult result = cu.memAlloc(out, bytes);
  if (result == CUDA_SUCCESS)
    return MUIR_OK;
  *out = 0;
  return cudaFailure(result,
                     "cuMemAlloc of %zu bytes for the telemetry on CUDA "
                     "device %d",
                     bytes, state->device - MUIR_DEVICE_CUDA);
}

/** The telemetry kernel and the buffer for the params before the step, and
 *  for LionAR the per-unit telemetry kernel and its sums, at the first
 *  telemetry step. */
static muir_status_t setUpTelemetry(muir_state_t *state) {
  struct muir_cuda_state *cs = state->cuda;
  int64_t units = state->package->info->num_units;
  if (cs->before && (units == 0 || cs->unitSums))
    return MUIR_OK;
  muir_status_t status =
      getKernel(state, "muir_telemetry_kernel", &cs->telemetryKernel);
  if (status == MUIR_OK && units > 0)
    status = getKernel(state, "muir_unit_telemetry_kernel",
                       &cs->unitTelemetryKernel);
  if (status == MUIR_OK && !cs->before)
    status = allocateTelemetry(state, &cs->before,
                               (size_t)state->elements * sizeof(float));
  if (status == MUIR_OK && units > 0)
    status = allocateTelemetry(state, &cs->unitSums,
                               4 * (size_t)units * sizeof(double));
  return status;
}

/** LionAR's per-unit telemetry after a telemetry step: the sums of the
 *  units that meet the state's range (muir_unit_telemetry_kernel, one
 *  thread per unit, from the params before and after the step) into
 *  state->partials after the slots'; the others keep what the caller put
 *  there. */
static muir_status_t unitTelemetry(muir_state_t *state, CUdeviceptr params) {
  struct muir_cuda_state *cs = state->cuda;
  int64_t units = state->package->info->num_units;
  double *sums = state->partials + 4 * state->package->info->num_slots;
  muir_status_t status =
      copyDoubles(state, cs->unitSums, NULL, sums, 4 * units);
  if (status != MUIR_OK)
    return status;
  int64_t first = state->shard.begin, end = state->shard.end;
  void *args[] = {&cs->before, &params, &cs->unitSums, &first, &end};
  status =
      launchOn(state, cs->unitTelemetryKernel, "muir_unit_telemetry_kernel",
               threadPerItem(units), ARGUMENTS(args));
  if (status != MUIR_OK)
    return status;
  return copyDoubles(state, cs->unitSums, sums, NULL, 4 * units);
}

muir_status_t muir_cuda_step_telemetry(muir_state_t *state, int64_t step,
                                       float lr_factor, float grad_scale,
                                       const double *units) {
  struct muir_cuda_state *cs = state->cuda;
  muir_status_t status = enter(state);
  if (status != MUIR_OK)
    return status;
  status = setUpTelemetry(state);
  CUdeviceptr params = devicePointer(state->buffers[MUIR_BUFFER_PARAMS]);
  size_t bytes = (size_t)state->elements * sizeof(float);
  CUresult result = CUDA_SUCCESS;
  if (status == MUIR_OK &&
      (result = cu.memcpyDtoD(cs->before, params, bytes)) != CUDA_SUCCESS)
    status = cudaFailure(result, "copying the params on CUDA device %d",
                         state->device - MUIR_DEVICE_CUDA);
  leave();
  if (status != MUIR_OK ||
      (status = muir_cuda_step(state, step, lr_factor, grad_scale, units)) !=
          MUIR_OK)
    return status;
  // The shard's slots, one block each as the reduction; those outside it
  // are zeros.
  int64_t first = state->shard.begin, slotBegin = state->shard.slot_begin;
  int64_t slots = state->shard.slot_end - slotBegin;
  memset(state->partials, 0,
         4 * (size_t)state->package->info->num_slots * sizeof(double));
  if (slots == 0)
    return MUIR_OK;
  void *args[] = {&cs->before, &params, &cs->partials, &first, &slotBegin};
  muir_launch_config_t config = {(uint32_t)slots, MUIR_CUDA_BLOCK_THREADS};
  status = launchOn(state, cs->telemetryKernel, "muir_telemetry_kernel", config,
                    ARGUMENTS(args));
  if (status != MUIR_OK)
    return status;
  if ((status = enter(state)) != MUIR_OK)
    return status;
  result = cu.memcpyDtoH(state->partials + 4 * slotBegin,
                         cs->partials +
                             (CUdeviceptr)(4 * slotBegin) * sizeof(double),
                         4 * (size_t)slots * sizeof(double));
  if (result != CUDA_SUCCESS)
    status = cudaFailure(result,
                         "copying %" PRId64 " telemetry sums from CUDA "
                         "device %d",
                         4 * slots, state->device - MUIR_DEVICE_CUDA);
  leave();
  if (status == MUIR_OK && state->package->info->num_units > 0)
    status = unitTelemetry(state, params);
  return status;
}

muir_status_t muir_cuda_write_rows(muir_state_t *state, int64_t first,
                                   int64_t count) {
  muir_status_t status = enter(state);
  if (status != MUIR_OK)
    return status;
  CUresult result = cu.memcpyHtoD(
      state->cuda->rows + (CUdeviceptr)first * sizeof(muir_tensor_row_t),
      state->rows + first, (size_t)count * sizeof(muir_tensor_row_t));
  if (result != CUDA_SUCCESS)
    status = cudaFailure(result, "copying kernel table rows to CUDA device %d",
                         state->device - MUIR_DEVICE_CUDA);
  leave();
  return status;
}

muir_status_t muir_cuda_copy(const muir_state_t *state, int32_t which,
                             int64_t begin, int64_t count, void *to_host,
                             const void *from_host) {
  muir_status_t status = enter(state);
  if (status != MUIR_OK)
    return status;
  int32_t size;
  CUdeviceptr at = devicePointer(muir_buffer_data(state, which, &size)) +
                   (CUdeviceptr)begin * (CUdeviceptr)size;
  size_t bytes = (size_t)count * (size_t)size;
  CUresult result = to_host ? cu.memcpyDtoH(to_host, at, bytes)
                            : cu.memcpyHtoD(at, from_host, bytes);
  if (result != CUDA_SUCCESS)
    status = cudaFailure(result, "copying %zu bytes %s buffer %d", bytes,
                         to_host ? "from" : "to", which);
  leave();
  return status;
}

#else /* !MUIR_RUNTIME_HAVE_CUDA_H */

/* Built without cuda.h: every CUDA request reports the missing support. */

muir_status_t muir_cuda_state_create(muir_state_t *state, bool adopt) {
  (void)adopt;
  return muir_set_error(MUIR_ERROR_NO_DEVICE,
                        "CUDA device %d requested, but this runtime was built "
                        "without CUDA support (cuda.h not found)",
                        state->device - MUIR_DEVICE_CUDA);
}

void muir_cuda_state_release(muir_state_t *state) { (void)state; }

muir_status_t muir_cuda_init(muir_state_t *state, uint64_t seed, int64_t begin,
                             int64_t end) {
  (void)state, (void)seed, (void)begin, (void)end;
  return muir_set_error(MUIR_ERROR_NO_DEVICE, "no CUDA support");
}

muir_status_t muir_cuda_step(muir_state_t *state, int64_t step, float lr_factor,
                             float grad_scale, const double *units) {
  (void)state, (void)step, (void)lr_factor, (void)grad_scale, (void)units;
  return muir_set_error(MUIR_ERROR_NO_DEVICE, "no CUDA support");
}

muir_status_t muir_cuda_reduce_units(muir_state_t *state, int64_t step,
                                     float lr_factor, float grad_scale,
                                     double *units) {
  (void)state, (void)step, (void)lr_factor, (void)grad_scale, (void)units;
  return muir_set_error(MUIR_ERROR_NO_DEVICE, "no CUDA support");
}

muir_status_t muir_cuda_reduce(muir_state_t *state) {
  (void)state;
  return muir_set_error(MUIR_ERROR_NO_DEVICE, "no CUDA support");
}

muir_status_t muir_cuda_step_telemetry(muir_state_t *state, int64_t step,
                                       float lr_factor, float grad_scale,
                                       const double *units) {
  (void)state, (void)step, (void)lr_factor, (void)grad_scale, (void)units;
  return muir_set_error(MUIR_ERROR_NO_DEVICE, "no CUDA support");
}

muir_status_t muir_cuda_write_rows(muir_state_t *state, int64_t first,
                                   int64_t count) {
  (void)state, (void)first, (void)count;
  return muir_set_error(MUIR_ERROR_NO_DEVICE, "no CUDA support");
}

muir_status_t muir_cuda_copy(const muir_state_t *state, int32_t which,
                             int64_t begin, int64_t count, void *to_host,
                             const void *from_host) {
  (void)state, (void)which, (void)begin, (void)count, (void)to_host,
      (void)from_host;
  return muir_set_error(MUIR_ERROR_NO_DEVICE, "no CUDA support");
}

#endif /* MUIR_RUNTIME_HAVE_CUDA_H */
