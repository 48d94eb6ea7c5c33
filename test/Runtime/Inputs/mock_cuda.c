/*===- mock_cuda.c - TEST FIXTURE: a host-memory libcuda.so.1 -----*- C -*-===*
 *
 * Part of the muir project, under the Apache License v2.0 with LLVM
 * Exceptions.
 *
 *===----------------------------------------------------------------------===*
 *
 * TEST FIXTURE. A stand-in for the CUDA driver, loaded by the runtime through
 * MUIR_CUDA_DRIVER, so that the runtime's CUDA path (driver loading, contexts,
 * module selection and JIT fallback, allocation, copies, launch arguments and
 * grid) runs without a GPU. "Device" memory is host memory; a launch runs
 * every (block, thread) of the grid in turn, each a grid-stride loop over the
 * fixture package's per-element math (fixture_package.c), so results must
 * equal the CPU kernels bit for bit.
 *
 * Module images are recognised by their text: "MOCK-CUBIN ..." is a good
 * cubin, "MOCK-BAD ..." an image the driver rejects, anything containing
 * ".version" is PTX (with "MOCK-JIT-ERROR" it fails to JIT and writes a log;
 * with "MOCK-NO-STEP" it lacks muir_step_kernel, with "MOCK-NO-BF16" the bf16
 * kernels). Every module holds its own copy of the fixture's table rows
 * (muir_tensor_rows, cuModuleGetGlobal), which its step kernels read.
 *
 * The bf16 kernels (muir_step_bf16_kernel, muir_reduce_bf16_kernel) run the
 * fixture's bf16 math (FIXTURE_BF16) with GPUKernels.cpp's argument lists.
 * muir_unit_telemetry_kernel sums the rows of blocks.w, FIXTURE_UNITS'
 * LionAR units (fixtureUnitTelemetry), with GPUKernels.cpp's arguments.
 * muir_reduce_units_kernel and muir_step_units_kernel (LionAR's fp32 units
 * around the step kernel) check their buffers and run nothing: the
 * fixture's step is AdamW's on every element.
 *
 * A real package's PTX (text with `.entry` signatures, from muirc package)
 * loads as a module of those kernels, whose table rows have the size its
 * muir_tensor_rows declares: a launch of one runs nothing but checks the
 * arguments against the signature (the runtime NULL-terminates its
 * argument arrays: their count must be the declared one, and every `.ptr`
 * parameter must be NULL or device memory), so the runtime's argument
 * lists can be checked against the compiler's kernels without a GPU.
 *
 * Environment: MOCK_CUDA_DEVICES (default 1; 0 makes cuInit fail),
 * MOCK_CUDA_CC (compute capability, default 90), MOCK_CUDA_FAIL (the name of
 * one entry point that fails: cuMemAlloc_v2, cuLaunchKernel, cuCtxSynchronize,
 * cuMemcpyDtoH_v2, cuMemsetD8_v2), MOCK_CUDA_FAIL_AT (with it, only that entry's N-th call,
 * counting from 1, fails).
 * Events go to stderr as "mock-cuda: ..."; at exit it reports what is still
 * allocated, retained or pushed.
 *
 *===----------------------------------------------------------------------===*/

#define FIXTURE_NO_EXPORTS
#include "fixture_package.c"

#include <cuda.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MOCK_MAX_ALLOCATIONS 64

static struct {
  void *pointers[MOCK_MAX_ALLOCATIONS];
  size_t sizes[MOCK_MAX_ALLOCATIONS];
  int live;
  int contexts; /* retains minus releases */
  int depth;    /* pushes minus pops */
  int initialised;
} mock;

/* Non-NULL handles the runtime only compares and passes back. */
static char primaryContext;
typedef enum {
  KERNEL_INIT,
  KERNEL_STEP,
  KERNEL_REDUCE,
  KERNEL_TELEMETRY,
  KERNEL_STEP_BF16,
  KERNEL_REDUCE_BF16,
  KERNEL_UNIT_TELEMETRY,
  KERNEL_REDUCE_UNITS,
  KERNEL_STEP_UNITS,
  MOCK_KERNELS,
  KERNEL_PTX /* a real PTX's kernel: its arguments checked, nothing run */
} mock_kernel_t;
struct mock_module;
#define MOCK_MAX_PARAMS 32
typedef struct {
  const char *name;
  mock_kernel_t kind;
  struct mock_module *module;
  /* KERNEL_PTX: its declared parameters, 'p' (.ptr), 'f' (.f32) or 'u'. */
  int params;
  char kinds[MOCK_MAX_PARAMS];
} mock_function_t;
typedef struct mock_module {
  int hasStep, hasBf16;
  mock_function_t functions[MOCK_KERNELS];
  /* A real PTX's kernels (NULL for the fixture's stand-in text). */
  mock_function_t *entries;
  int numEntries;
  /* The module's global muir_tensor_rows (the fixture's rows, or as many
   * bytes as a real PTX declares). */
  muir_tensor_row_t *rows;
  size_t rowBytes;
} mock_module_t;

#define MOCK_MAX_MODULES 16
static mock_module_t *modules[MOCK_MAX_MODULES];

static int env(const char *name, int fallback) {
  const char *value = getenv(name);
  return value && value[0] ? atoi(value) : fallback;
}

static int failing(const char *entry) {
  const char *name = getenv("MOCK_CUDA_FAIL");
  if (!name || strcmp(name, entry) != 0)
    return 0;
  static int calls; /* of the failing entry point */
  int at = env("MOCK_CUDA_FAIL_AT", 0);
  return at == 0 || ++calls == at;
}

static int devices(void) { return env("MOCK_CUDA_DEVICES", 1); }

__attribute__((destructor)) static void report(void) {
  if (mock.initialised)
    fprintf(stderr,
            "mock-cuda: at exit: %d allocations, %d contexts retained, "
            "depth %d\n",
            mock.live, mock.contexts, mock.depth);
}

/** The allocation holding [p, p + bytes), or -1; a module's rows count as
 *  allocation MOCK_MAX_ALLOCATIONS. */
static int findAllocation(CUdeviceptr p, size_t bytes) {
  for (int i = 0; i < MOCK_MAX_ALLOCATIONS; ++i) {
    CUdeviceptr base = (CUdeviceptr)(uintptr_t)mock.pointers[i];
    if (mock.pointers[i] && p >= base && p + bytes <= base + mock.sizes[i])
      return i;
  }
  for (int i = 0; i < MOCK_MAX_MODULES; ++i) {
    CUdeviceptr base = modules[i] ? (CUdeviceptr)(uintptr_t)modules[i]->rows
                                  : 0;
    if (base && p >= base && p + bytes <= base + modules[i]->rowBytes)
      return MOCK_MAX_ALLOCATIONS;
  }
  return -1;
}

CUresult CUDAAPI cuGetErrorName(CUresult error, const char **pStr) {
  switch (error) {
  case CUDA_SUCCESS:
    *pStr = "CUDA_SUCCESS";
    return CUDA_SUCCESS;
  case CUDA_ERROR_OUT_OF_MEMORY:
    *pStr = "CUDA_ERROR_OUT_OF_MEMORY";
    return CUDA_SUCCESS;
  case CUDA_ERROR_NO_DEVICE:
    *pStr = "CUDA_ERROR_NO_DEVICE";
    return CUDA_SUCCESS;
  case CUDA_ERROR_INVALID_IMAGE:
    *pStr = "CUDA_ERROR_INVALID_IMAGE";
    return CUDA_SUCCESS;
  case CUDA_ERROR_INVALID_PTX:
    *pStr = "CUDA_ERROR_INVALID_PTX";
    return CUDA_SUCCESS;
  case CUDA_ERROR_NOT_FOUND:
    *pStr = "CUDA_ERROR_NOT_FOUND";
    return CUDA_SUCCESS;
  case CUDA_ERROR_LAUNCH_FAILED:
    *pStr = "CUDA_ERROR_LAUNCH_FAILED";
    return CUDA_SUCCESS;
  case CUDA_ERROR_ILLEGAL_ADDRESS:
    *pStr = "CUDA_ERROR_ILLEGAL_ADDRESS";
    return CUDA_SUCCESS;
  case CUDA_ERROR_INVALID_VALUE:
    *pStr = "CUDA_ERROR_INVALID_VALUE";
    return CUDA_SUCCESS;
  default:
    *pStr = "CUDA_ERROR_MOCK";
    return CUDA_SUCCESS;
  }
}

CUresult CUDAAPI cuGetErrorString(CUresult error, const char **pStr) {
  *pStr = error == CUDA_SUCCESS ? "no error" : "mock driver error";
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuInit(unsigned int flags) {
  (void)flags;
  mock.initialised = 1;
  return devices() > 0 ? CUDA_SUCCESS : CUDA_ERROR_NO_DEVICE;
}

CUresult CUDAAPI cuDeviceGetCount(int *count) {
  *count = devices();
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuDeviceGet(CUdevice *device, int ordinal) {
  if (ordinal < 0 || ordinal >= devices())
    return CUDA_ERROR_INVALID_DEVICE;
  *device = ordinal;
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuDeviceGetAttribute(int *value, CUdevice_attribute attribute,
                                      CUdevice device) {
  (void)device;
  int cc = env("MOCK_CUDA_CC", 90);
  if (attribute == CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR)
    *value = cc / 10;
  else if (attribute == CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR)
    *value = cc % 10;
  else
    return CUDA_ERROR_INVALID_VALUE;
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuDevicePrimaryCtxRetain(CUcontext *context, CUdevice device) {
  (void)device;
  *context = (CUcontext)&primaryContext;
  ++mock.contexts;
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuDevicePrimaryCtxRelease_v2(CUdevice device) {
  (void)device;
  --mock.contexts;
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuCtxPushCurrent_v2(CUcontext context) {
  if (context != (CUcontext)&primaryContext)
    return CUDA_ERROR_INVALID_CONTEXT;
  ++mock.depth;
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuCtxPopCurrent_v2(CUcontext *context) {
  if (mock.depth == 0)
    return CUDA_ERROR_INVALID_CONTEXT;
  --mock.depth;
  if (context)
    *context = (CUcontext)&primaryContext;
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuCtxSynchronize(void) {
  if (mock.depth == 0)
    return CUDA_ERROR_INVALID_CONTEXT;
  return failing("cuCtxSynchronize") ? CUDA_ERROR_ILLEGAL_ADDRESS
                                     : CUDA_SUCCESS;
}

static void freeModule(mock_module_t *m) {
  for (int k = 0; k < m->numEntries; ++k)
    free((char *)m->entries[k].name);
  free(m->entries);
  free(m->rows);
  free(m);
}

/** A real PTX's kernels: every `.entry NAME(` with its `.param` lines up to
 *  the closing parenthesis; and its muir_tensor_rows[BYTES]. */
static CUresult parseEntries(mock_module_t *m, const char *text) {
  int count = 0;
  for (const char *p = strstr(text, ".entry "); p; p = strstr(p + 1, ".entry "))
    ++count;
  m->entries = calloc((size_t)count, sizeof(mock_function_t));
  for (const char *p = strstr(text, ".entry "); p; p = strstr(p + 1, ".entry ")) {
    mock_function_t *f = &m->entries[m->numEntries++];
    const char *name = p + strlen(".entry ");
    size_t length = strcspn(name, "( \n");
    char *copy = malloc(length + 1);
    memcpy(copy, name, length);
    copy[length] = '\0';
    *f = (mock_function_t){copy, KERNEL_PTX, m, 0, ""};
    const char *close = strchr(name, ')');
    for (const char *q = strstr(name, ".param"); q && close && q < close;
         q = strstr(q + 1, ".param")) {
      size_t line = strcspn(q, "\n");
      if (f->params == MOCK_MAX_PARAMS)
        return CUDA_ERROR_INVALID_PTX;
      const char *ptr = strstr(q, ".ptr"), *f32 = strstr(q, ".f32");
      f->kinds[f->params++] = ptr && ptr < q + line   ? 'p'
                              : f32 && f32 < q + line ? 'f'
                                                      : 'u';
    }
  }
  const char *rows = strstr(text, MUIR_TENSOR_ROWS_SYMBOL "[");
  if (!rows)
    return CUDA_ERROR_INVALID_PTX;
  m->rowBytes = strtoul(rows + strlen(MUIR_TENSOR_ROWS_SYMBOL "["), NULL, 10);
  m->rows = calloc(1, m->rowBytes ? m->rowBytes : 1);
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuModuleLoadDataEx(CUmodule *module, const void *image,
                                    unsigned int numOptions,
                                    CUjit_option *options,
                                    void **optionValues) {
  if (mock.depth == 0)
    return CUDA_ERROR_INVALID_CONTEXT;
  const char *text = image;
  size_t firstLine = strcspn(text, "\n");
  if (strncmp(text, "MOCK-BAD", 8) == 0) {
    fprintf(stderr, "mock-cuda: rejected image '%.*s'\n", (int)firstLine, text);
    return CUDA_ERROR_INVALID_IMAGE;
  }
  int isCubin = strncmp(text, "MOCK-CUBIN", 10) == 0;
  if (!isCubin && !strstr(text, ".version"))
    return CUDA_ERROR_INVALID_IMAGE;
  if (!isCubin && strstr(text, "MOCK-JIT-ERROR")) {
    char *log = NULL;
    size_t size = 0;
    for (unsigned int i = 0; i < numOptions; ++i) {
      if (options[i] == CU_JIT_ERROR_LOG_BUFFER)
        log = optionValues[i];
      if (options[i] == CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES)
        size = (size_t)(uintptr_t)optionValues[i];
    }
    if (log && size)
      snprintf(log, size, "ptxas fatal   : mock syntax error at line 3");
    return CUDA_ERROR_INVALID_PTX;
  }
  fprintf(stderr, "mock-cuda: loaded %s '%.*s'\n", isCubin ? "cubin" : "ptx",
          (int)firstLine, text);
  int slot = 0;
  while (slot < MOCK_MAX_MODULES && modules[slot])
    ++slot;
  if (slot == MOCK_MAX_MODULES)
    return CUDA_ERROR_OUT_OF_MEMORY;
  mock_module_t *m = calloc(1, sizeof(*m));
  m->hasStep = strstr(text, "MOCK-NO-STEP") == NULL;
  m->hasBf16 = strstr(text, "MOCK-NO-BF16") == NULL;
  static const char *const names[] = {
      "muir_init_kernel",      "muir_step_kernel",      "muir_reduce_kernel",
      "muir_telemetry_kernel", "muir_step_bf16_kernel", "muir_reduce_bf16_kernel",
      "muir_unit_telemetry_kernel", "muir_reduce_units_kernel",
      "muir_step_units_kernel"};
  for (int k = 0; k < MOCK_KERNELS; ++k)
    m->functions[k] = (mock_function_t){names[k], (mock_kernel_t)k, m, 0, ""};
  if (strstr(text, ".entry ") && parseEntries(m, text) != CUDA_SUCCESS) {
    freeModule(m);
    return CUDA_ERROR_INVALID_PTX;
  }
  if (!m->entries) {
    m->rowBytes = sizeof(fixtureRows);
    m->rows = malloc(m->rowBytes);
    memcpy(m->rows, fixtureRows, m->rowBytes);
  }
  modules[slot] = m;
  *module = (CUmodule)m;
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuModuleUnload(CUmodule module) {
  for (int i = 0; i < MOCK_MAX_MODULES; ++i)
    if (modules[i] == (mock_module_t *)module)
      modules[i] = NULL;
  freeModule((mock_module_t *)module);
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuModuleGetFunction(CUfunction *function, CUmodule module,
                                     const char *name) {
  mock_module_t *m = (mock_module_t *)module;
  for (int k = 0; k < m->numEntries; ++k)
    if (strcmp(name, m->entries[k].name) == 0) {
      *function = (CUfunction)&m->entries[k];
      return CUDA_SUCCESS;
    }
  for (int k = 0; k < MOCK_KERNELS && !m->entries; ++k) {
    if (strcmp(name, m->functions[k].name) != 0 ||
        (k == KERNEL_STEP && !m->hasStep) ||
        ((k == KERNEL_STEP_BF16 || k == KERNEL_REDUCE_BF16) && !m->hasBf16))
      continue;
    *function = (CUfunction)&m->functions[k];
    return CUDA_SUCCESS;
  }
  return CUDA_ERROR_NOT_FOUND;
}

CUresult CUDAAPI cuModuleGetGlobal_v2(CUdeviceptr *pointer, size_t *bytes,
                                      CUmodule module, const char *name) {
  mock_module_t *m = (mock_module_t *)module;
  if (strcmp(name, MUIR_TENSOR_ROWS_SYMBOL) != 0)
    return CUDA_ERROR_NOT_FOUND;
  *pointer = (CUdeviceptr)(uintptr_t)m->rows;
  *bytes = m->rowBytes;
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemAlloc_v2(CUdeviceptr *pointer, size_t bytes) {
  if (failing("cuMemAlloc_v2"))
    return CUDA_ERROR_OUT_OF_MEMORY;
  for (int i = 0; i < MOCK_MAX_ALLOCATIONS; ++i) {
    if (mock.pointers[i])
      continue;
    size_t rounded = (bytes + 255) / 256 * 256;
    mock.pointers[i] = aligned_alloc(256, rounded ? rounded : 256);
    memset(mock.pointers[i], 0xab, rounded ? rounded : 256);
    mock.sizes[i] = bytes;
    ++mock.live;
    *pointer = (CUdeviceptr)(uintptr_t)mock.pointers[i];
    return CUDA_SUCCESS;
  }
  return CUDA_ERROR_OUT_OF_MEMORY;
}

CUresult CUDAAPI cuMemFree_v2(CUdeviceptr pointer) {
  for (int i = 0; i < MOCK_MAX_ALLOCATIONS; ++i) {
    if ((CUdeviceptr)(uintptr_t)mock.pointers[i] == pointer && pointer) {
      free(mock.pointers[i]);
      mock.pointers[i] = NULL;
      --mock.live;
      return CUDA_SUCCESS;
    }
  }
  return CUDA_ERROR_INVALID_VALUE;
}

CUresult CUDAAPI cuMemsetD8_v2(CUdeviceptr pointer, unsigned char value,
                               size_t bytes) {
  if (mock.depth == 0)
    return CUDA_ERROR_INVALID_CONTEXT;
  if (findAllocation(pointer, bytes) < 0)
    return CUDA_ERROR_INVALID_VALUE;
  if (failing("cuMemsetD8_v2"))
    return CUDA_ERROR_ILLEGAL_ADDRESS;
  memset((void *)(uintptr_t)pointer, value, bytes);
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemcpyHtoD_v2(CUdeviceptr to, const void *from,
                                 size_t bytes) {
  if (mock.depth == 0)
    return CUDA_ERROR_INVALID_CONTEXT;
  if (findAllocation(to, bytes) < 0)
    return CUDA_ERROR_INVALID_VALUE;
  memcpy((void *)(uintptr_t)to, from, bytes);
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemcpyDtoH_v2(void *to, CUdeviceptr from, size_t bytes) {
  if (mock.depth == 0)
    return CUDA_ERROR_INVALID_CONTEXT;
  if (failing("cuMemcpyDtoH_v2"))
    return CUDA_ERROR_ILLEGAL_ADDRESS;
  if (findAllocation(from, bytes) < 0)
    return CUDA_ERROR_INVALID_VALUE;
  memcpy(to, (const void *)(uintptr_t)from, bytes);
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemcpyDtoD_v2(CUdeviceptr to, CUdeviceptr from,
                                 size_t bytes) {
  if (mock.depth == 0)
    return CUDA_ERROR_INVALID_CONTEXT;
  if (findAllocation(to, bytes) < 0 || findAllocation(from, bytes) < 0)
    return CUDA_ERROR_INVALID_VALUE;
  memmove((void *)(uintptr_t)to, (const void *)(uintptr_t)from, bytes);
  return CUDA_SUCCESS;
}

static float *devicePointer(CUdeviceptr p) {
  return findAllocation(p, FIXTURE_ELEMENTS * sizeof(float)) >= 0
             ? (float *)(uintptr_t)p
             : NULL;
}

/** A bf16 buffer's device pointer (2 bytes per element), or NULL. */
static uint16_t *halfPointer(CUdeviceptr p) {
  return findAllocation(p, FIXTURE_ELEMENTS * sizeof(uint16_t)) >= 0
             ? (uint16_t *)(uintptr_t)p
             : NULL;
}

CUresult CUDAAPI cuLaunchKernel(CUfunction f, unsigned int gridX,
                                unsigned int gridY, unsigned int gridZ,
                                unsigned int blockX, unsigned int blockY,
                                unsigned int blockZ, unsigned int sharedBytes,
                                CUstream stream, void **args, void **extra) {
  if (mock.depth == 0)
    return CUDA_ERROR_INVALID_CONTEXT;
  if (failing("cuLaunchKernel"))
    return CUDA_ERROR_LAUNCH_FAILED;
  if (gridY != 1 || gridZ != 1 || blockY != 1 || blockZ != 1 ||
      sharedBytes != 0 || stream != NULL || extra != NULL || !args)
    return CUDA_ERROR_INVALID_VALUE;
  const mock_function_t *function = (const mock_function_t *)f;
  int64_t threads = (int64_t)gridX * blockX;
  if (function->kind == KERNEL_PTX) {
    int given = 0;
    while (given <= MOCK_MAX_PARAMS && args[given])
      ++given;
    if (given != function->params) {
      fprintf(stderr,
              "mock-cuda: ptx launch %s: %d arguments given, but the PTX "
              "declares %d\n",
              function->name, given, function->params);
      return CUDA_ERROR_INVALID_VALUE;
    }
    for (int k = 0; k < given; ++k) {
      CUdeviceptr p = *(CUdeviceptr *)args[k];
      if (function->kinds[k] == 'p' && p && findAllocation(p, 1) < 0) {
        fprintf(stderr,
                "mock-cuda: ptx launch %s: argument %d, a pointer, is %#llx: "
                "not device memory\n",
                function->name, k, (unsigned long long)p);
        return CUDA_ERROR_INVALID_VALUE;
      }
    }
    fprintf(stderr,
            "mock-cuda: ptx launch %s: %d arguments as declared, grid %u "
            "block %u\n",
            function->name, given, gridX, blockX);
    return CUDA_SUCCESS;
  }
  if (function->kind == KERNEL_INIT) {
    float *params = devicePointer(*(CUdeviceptr *)args[0]);
    uint64_t seed = *(uint64_t *)args[1];
    int64_t begin = *(int64_t *)args[2], end = *(int64_t *)args[3];
    fprintf(stderr,
            "mock-cuda: launch %s grid %u block %u seed %llu range [%lld, "
            "%lld)\n",
            function->name, gridX, blockX, (unsigned long long)seed,
            (long long)begin, (long long)end);
    if (!params || begin < 0 || end > FIXTURE_ELEMENTS)
      return CUDA_ERROR_ILLEGAL_ADDRESS;
    for (int64_t b = 0; b < gridX; ++b)
      for (int64_t t = 0; t < blockX; ++t)
        for (int64_t i = begin + b * blockX + t; i < end; i += threads)
          params[i] = fixtureInitElement(seed, i);
    return CUDA_SUCCESS;
  }
  if (function->kind == KERNEL_STEP) {
    float *p[4];
    for (int k = 0; k < 4; ++k)
      p[k] = devicePointer(*(CUdeviceptr *)args[k]);
    int64_t step = *(int64_t *)args[4];
    float lrFactor = *(float *)args[5];
    float gradScale = *(float *)args[6];
    fprintf(stderr,
            "mock-cuda: launch %s grid %u block %u step %lld lr %g scale %g\n",
            function->name, gridX, blockX, (long long)step, (double)lrFactor,
            (double)gradScale);
    if (!p[0] || !p[1] || !p[2] || !p[3])
      return CUDA_ERROR_ILLEGAL_ADDRESS;
    for (int64_t b = 0; b < gridX; ++b)
      for (int64_t t = 0; t < blockX; ++t)
        for (int64_t i = b * blockX + t; i < FIXTURE_ELEMENTS; i += threads)
          fixtureStepElement(i, p[0], p[1], p[2], p[3], step, lrFactor,
                             gradScale, function->module->rows);
    return CUDA_SUCCESS;
  }
  if (function->kind == KERNEL_STEP_BF16) {
    // params, grads (bf16), state0, state1, copy (bf16), step, lr_factor,
    // grad_scale, seed, first, chunk_begin, chunk_end, end, units,
    // from_units.
    float *p[4];
    for (int k = 0; k < 4; ++k)
      p[k] = k == 1 ? NULL : devicePointer(*(CUdeviceptr *)args[k]);
    uint16_t *grads = halfPointer(*(CUdeviceptr *)args[1]);
    uint16_t *copy = halfPointer(*(CUdeviceptr *)args[4]);
    int64_t step = *(int64_t *)args[5];
    float lrFactor = *(float *)args[6];
    float gradScale = *(float *)args[7];
    uint64_t seed = *(uint64_t *)args[8];
    int64_t first = *(int64_t *)args[9], end = *(int64_t *)args[12];
    int64_t fromUnits = *(int64_t *)args[14];
    fprintf(stderr,
            "mock-cuda: launch %s grid %u block %u step %lld lr %g scale %g "
            "seed %llu\n",
            function->name, gridX, blockX, (long long)step, (double)lrFactor,
            (double)gradScale, (unsigned long long)seed);
    if (!p[0] || !grads || !p[2] || !p[3] || !copy)
      return CUDA_ERROR_ILLEGAL_ADDRESS;
    // The fixture has no shards nor LionAR units.
    if (first != 0 || end != FIXTURE_ELEMENTS || fromUnits != 0)
      return CUDA_ERROR_INVALID_VALUE;
    for (int64_t b = 0; b < gridX; ++b)
      for (int64_t t = 0; t < blockX; ++t)
        for (int64_t i = b * blockX + t; i < FIXTURE_ELEMENTS; i += threads)
          fixtureStepBf16Element(i, p[0], grads, p[2], p[3], copy, step,
                                 lrFactor, gradScale, function->module->rows,
                                 seed);
    return CUDA_SUCCESS;
  }
  if (function->kind == KERNEL_REDUCE || function->kind == KERNEL_REDUCE_BF16) {
    // The bf16 reduction's grads are bf16 bits.
    int bf16 = function->kind == KERNEL_REDUCE_BF16;
    CUdeviceptr at = *(CUdeviceptr *)args[0];
    const float *grads = bf16 ? NULL : devicePointer(at);
    const uint16_t *halves = bf16 ? halfPointer(at) : NULL;
    CUdeviceptr partials = *(CUdeviceptr *)args[1];
    fprintf(stderr, "mock-cuda: launch %s grid %u block %u\n", function->name,
            gridX, blockX);
    if ((!grads && !halves) ||
        findAllocation(partials, gridX * sizeof(double)) < 0)
      return CUDA_ERROR_ILLEGAL_ADDRESS;
    for (int64_t q = 0; q < gridX; ++q) // one block per slot
      ((double *)(uintptr_t)partials)[q] =
          bf16 ? fixtureReduceSlotBf16(q, halves) : fixtureReduceSlot(q, grads);
    return CUDA_SUCCESS;
  }
  if (function->kind == KERNEL_TELEMETRY) {
    const float *before = devicePointer(*(CUdeviceptr *)args[0]);
    const float *after = devicePointer(*(CUdeviceptr *)args[1]);
    CUdeviceptr partials = *(CUdeviceptr *)args[2];
    fprintf(stderr, "mock-cuda: launch %s grid %u block %u\n", function->name,
            gridX, blockX);
    if (!before || !after ||
        findAllocation(partials, 4 * gridX * sizeof(double)) < 0)
      return CUDA_ERROR_ILLEGAL_ADDRESS;
    for (int64_t q = 0; q < gridX; ++q) // one block per slot
      fixtureTelemetrySlot(q, before, after,
                           (double *)(uintptr_t)partials + 4 * q);
    return CUDA_SUCCESS;
  }
  if (function->kind == KERNEL_REDUCE_UNITS ||
      function->kind == KERNEL_STEP_UNITS) {
    // LionAR's units (FIXTURE_UNITS): the fixture's step is AdamW's, which
    // muir_step_kernel ran on every element; these check their buffers and
    // the unit partials (argument 7 or 9) and run nothing.
    int at = function->kind == KERNEL_REDUCE_UNITS ? 7 : 9;
    fprintf(stderr, "mock-cuda: launch %s grid %u block %u\n", function->name,
            gridX, blockX);
    for (int k = 0; k < 4; ++k)
      if (!devicePointer(*(CUdeviceptr *)args[k]))
        return CUDA_ERROR_ILLEGAL_ADDRESS;
    if (findAllocation(*(CUdeviceptr *)args[at], sizeof(double)) < 0)
      return CUDA_ERROR_ILLEGAL_ADDRESS;
    return CUDA_SUCCESS;
  }
  if (function->kind == KERNEL_UNIT_TELEMETRY) {
    // before, after, sums (4 per unit), first, end: FIXTURE_UNITS' units of
    // a whole state, written where blocks.w's row (row 0) has weight decay.
    const float *before = devicePointer(*(CUdeviceptr *)args[0]);
    const float *after = devicePointer(*(CUdeviceptr *)args[1]);
    CUdeviceptr sums = *(CUdeviceptr *)args[2];
    int64_t first = *(int64_t *)args[3], end = *(int64_t *)args[4];
    fprintf(stderr, "mock-cuda: launch %s grid %u block %u range [%lld, %lld)\n",
            function->name, gridX, blockX, (long long)first, (long long)end);
    if (!before || !after || first != 0 || end != FIXTURE_ELEMENTS ||
        findAllocation(sums, 4 * FIXTURE_UNIT_COUNT * sizeof(double)) < 0)
      return CUDA_ERROR_ILLEGAL_ADDRESS;
    for (int64_t u = 0; u < FIXTURE_UNIT_COUNT; ++u)
      if (function->module->rows[0].weight_decay != 0.0)
        fixtureUnitTelemetry(u, before, after,
                             (double *)(uintptr_t)sums + 4 * u);
    return CUDA_SUCCESS;
  }
  return CUDA_ERROR_INVALID_HANDLE;
}
