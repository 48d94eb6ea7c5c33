// bf16 states on CUDA against the mock driver (Inputs/mock_cuda.c), and
// adopted bf16 buffers (muir_state_adopt_buffers) on both devices: the bf16
// fixture package (FIXTURE_BF16: bf16 grads and params copy, float32 master
// weights and AdamW moments) through init, plain, clipped, skipped (a NaN
// gradient), telemetry and reseeded steps gives the same bytes in every
// buffer on a created and an adopted CPU state and a created and an adopted
// CUDA state. Independently of the kernels: init's copy is every master
// weight's nearest bf16 (ties to even, found here by comparing neighbours in
// double), a step's copy one of the two bf16 values around its master
// weight, and the fixture's Philox4x32-10 reproduces Random123's known
// answers. Then every error: missing bf16 kernels, a failed allocation of
// the copy, a failed rounding copy at init, a failed bf16 launch, float and
// bytes copies of the wrong element size, and each bad adopted buffer.
//
// REQUIRES: cuda-headers
// RUN: rm -rf %t && mkdir -p %t/bf16 %t/nobf16 %t/fp32
// RUN: %muir_cc -std=c11 -O1 -shared -fPIC -Wall -Werror -I%muir_rt_include -I%S/Inputs -I%cuda_include %S/Inputs/mock_cuda.c -lm -o %t/libcuda-mock.so
// RUN: %muir_cc -std=c11 -Wall -Werror -I%muir_rt_include -I%S/Inputs -I%cuda_include %s %muir_rt_link -ldl -lm -o %t/bf16test
// RUN: %muir_build_fixture -DFIXTURE_BF16 -o %t/bf16/libmuir_kernels.so
// RUN: echo ".version 8.0 // TEST FIXTURE bf16 kernels.ptx" > %t/bf16/kernels.ptx
// RUN: cp %t/bf16/libmuir_kernels.so %t/bf16/manifest.json %t/nobf16/ && echo ".version 8.0 MOCK-NO-BF16" > %t/nobf16/kernels.ptx
// RUN: %muir_build_fixture -o %t/fp32/libmuir_kernels.so
// RUN: echo ".version 8.0 // TEST FIXTURE kernels.ptx" > %t/fp32/kernels.ptx
//
// RUN: env MUIR_CUDA_DRIVER=%t/libcuda-mock.so %t/bf16test run %t/bf16 2>&1 | FileCheck %s --check-prefix=BF16 --implicit-check-not="launch muir_step_kernel" --implicit-check-not="launch muir_reduce_kernel"
// BF16: mock-cuda: launch muir_init_kernel grid 1 block 256 seed 42 range [20, 48)
// BF16-NEXT: mock-cuda: launch muir_init_kernel grid 1 block 256 seed 42 range [0, 20)
// BF16: mock-cuda: launch muir_reduce_bf16_kernel grid 3 block 256
// BF16-NEXT: mock-cuda: launch muir_step_bf16_kernel grid 1 block 256 step 1 lr 1 scale 1 seed 42
// BF16: mock-cuda: launch muir_step_bf16_kernel grid 1 block 256 step 3 lr 0.25 scale 0.0{{[0-9]+}} seed 42
// BF16: mock-cuda: launch muir_step_bf16_kernel grid 1 block 256 step 4 lr 1 scale 1 seed 42
// BF16-NEXT: mock-cuda: launch muir_telemetry_kernel grid 3 block 256
// BF16: mock-cuda: launch muir_step_bf16_kernel grid 1 block 256 step 5 lr 1 scale 1 seed 7
// BF16: float copy of the grads: argument: muir_state_copy_to_host: the grads buffer of package '{{.*}}/bf16' holds bf16 values (2 bytes each, the package's precision), not floats: use muir_state_buffer_bytes
// BF16-NEXT: float copy into the params copy: argument: muir_state_copy_from_host: the params_bf16 buffer of package '{{.*}}/bf16' holds bf16 values
// BF16-NEXT: 4-byte copy of the grads: argument: muir_state_copy_bytes_to_host: the grads buffer of package '{{.*}}/bf16' holds 2-byte elements, but element_size 4 was given
// BF16-NEXT: 2-byte copy into the params: argument: muir_state_copy_bytes_from_host: the params buffer of package '{{.*}}/bf16' holds 4-byte elements, but element_size 2 was given
// BF16-NEXT: 0-byte copy of the params: argument: muir_state_copy_bytes_to_host: the params buffer of package '{{.*}}/bf16' holds 4-byte elements, but element_size 0 was given
// BF16-NEXT: bytes copy past the end: argument: muir_state_copy_bytes_to_host: elements [40, 40 + 9) are outside the params_bf16 buffer of 48 elements
// BF16-NEXT: bf16: created and adopted CPU and CUDA states agree
// BF16: mock-cuda: at exit: 0 allocations, 0 contexts retained, depth 0
//
// Without the bf16 kernels, and the driver's failures on a bf16 state: the
// fifth allocation (the params copy, after params, grads and the two
// moments), the device-to-host copy of init's rounding, the step's launch
// (the second launch, after init's).
// RUN: env MUIR_CUDA_DRIVER=%t/libcuda-mock.so not %t/bf16test step %t/nobf16 2>&1 | FileCheck %s --check-prefix=NOBF16
// NOBF16: create: format: package '{{.*}}/nobf16': its CUDA module has no kernel muir_step_bf16_kernel
// NOBF16: mock-cuda: at exit: 0 allocations, 0 contexts retained, depth 0
// RUN: env MUIR_CUDA_DRIVER=%t/libcuda-mock.so MOCK_CUDA_FAIL=cuMemAlloc_v2 MOCK_CUDA_FAIL_AT=5 not %t/bf16test step %t/bf16 2>&1 | FileCheck %s --check-prefix=OOM
// OOM: create: memory: cuMemAlloc of buffer 64 (96 bytes) on CUDA device 0 for package '{{.*}}/bf16': CUDA_ERROR_OUT_OF_MEMORY (mock driver error)
// OOM: mock-cuda: at exit: 0 allocations, 0 contexts retained, depth 0
// RUN: env MUIR_CUDA_DRIVER=%t/libcuda-mock.so MOCK_CUDA_FAIL=cuMemcpyDtoH_v2 not %t/bf16test step %t/bf16 2>&1 | FileCheck %s --check-prefix=ROUND
// ROUND: init: cuda: rounding the bf16 copy of params [0, 48) at init on CUDA device 0: CUDA_ERROR_ILLEGAL_ADDRESS (mock driver error)
// ROUND: mock-cuda: at exit: 0 allocations, 0 contexts retained, depth 0
// RUN: env MUIR_CUDA_DRIVER=%t/libcuda-mock.so MOCK_CUDA_FAIL=cuLaunchKernel MOCK_CUDA_FAIL_AT=2 not %t/bf16test step %t/bf16 2>&1 | FileCheck %s --check-prefix=LAUNCH
// LAUNCH: init: ok:
// LAUNCH-NEXT: step: cuda: launching muir_step_bf16_kernel (1 blocks of 256 threads): CUDA_ERROR_LAUNCH_FAILED (mock driver error)
// LAUNCH: mock-cuda: at exit: 0 allocations, 0 contexts retained, depth 0
//
// Bad adopted buffers, the same on the CPU and on CUDA.
// RUN: %t/bf16test adopt %t/bf16 %t/fp32 0 | FileCheck %s --check-prefix=ADOPT
// RUN: env MUIR_CUDA_DRIVER=%t/libcuda-mock.so %t/bf16test adopt %t/bf16 %t/fp32 1 | FileCheck %s --check-prefix=ADOPT
// ADOPT: float adopt: argument: muir_state_adopt: package '{{.*}}/bf16' is bf16, whose grads and params copy are 2-byte buffers: adopt them with muir_state_adopt_buffers
// ADOPT-NEXT: no copy: argument: muir_state_adopt_buffers: 4 buffers given, but package '{{.*}}/bf16' (adamw:bias-correction1=true, bf16) needs 5: params, grads, 2 optimizer states and the bf16 copy of the params
// ADOPT-NEXT: float grads: argument: muir_state_adopt_buffers: the grads buffer has 4-byte elements, but package '{{.*}}/bf16' (bf16) needs 2-byte ones (bfloat16 bits)
// ADOPT-NEXT: bf16 moment: argument: muir_state_adopt_buffers: the state 1 buffer has 2-byte elements, but package '{{.*}}/bf16' (bf16) needs 4-byte ones (float32)
// ADOPT-NEXT: short copy: size: muir_state_adopt_buffers: the params_bf16 buffer holds 47 elements, but package '{{.*}}/bf16' (model 'fixture') needs 48 elements per buffer
// ADOPT-NEXT: NULL copy: argument: muir_state_adopt_buffers: the params_bf16 buffer is NULL
// ADOPT-NEXT: misaligned copy: argument: muir_state_adopt_buffers: the params_bf16 buffer at 0x{{[0-9a-f]+}} is not aligned to the package's 64 bytes
// ADOPT-NEXT: copy over the grads: argument: muir_state_adopt_buffers: the grads and params_bf16 buffers are the same memory 0x{{[0-9a-f]+}}
// ADOPT-NEXT: copy inside the grads: argument: muir_state_adopt_buffers: the params_bf16 buffer [0x{{[0-9a-f]+}}, + 96 bytes) overlaps the grads buffer [0x{{[0-9a-f]+}}, + 96 bytes)
// ADOPT-NEXT: NULL buffers: argument: muir_state_adopt_buffers: buffers is NULL
// ADOPT-NEXT: bf16 grads, fp32 package: argument: muir_state_adopt_buffers: the grads buffer has 2-byte elements, but package '{{.*}}/fp32' (fp32) needs 4-byte ones (float32)
// ADOPT-NEXT: a copy for an fp32 package: argument: muir_state_adopt_buffers: 5 buffers given, but package '{{.*}}/fp32' (adamw:bias-correction1=true, fp32) needs 4: params, grads, 2 optimizer states
// ADOPT-NEXT: fp32 through muir_state_adopt_buffers: ok

#define FIXTURE_NO_EXPORTS
#include "fixture_package.c" /* fixturePhilox, for its known answers */

#include "check.h"

#include <cuda.h>
#include <dlfcn.h>
#include <math.h>
#include <string.h>

#define ELEMENTS 48
#define STATES 4    /* CPU created, CPU adopted, CUDA created, CUDA adopted */
#define BUFFERS 5    /* params, grads, m, v, the params copy */

static const int32_t which[BUFFERS] = {MUIR_BUFFER_PARAMS, MUIR_BUFFER_GRADS,
                                       MUIR_BUFFER_STATE0,
                                       MUIR_BUFFER_STATE0 + 1,
                                       MUIR_BUFFER_PARAMS_BF16};
static const int32_t sizes[BUFFERS] = {4, 2, 4, 4, 2};

/** The driver's allocation entry points, for device buffers the caller
 *  owns (in the device's primary context). */
typedef struct {
  CUresult (*alloc)(CUdeviceptr *, size_t);
  CUresult (*free)(CUdeviceptr);
  CUresult (*memset8)(CUdeviceptr, unsigned char, size_t);
  CUresult (*retain)(CUcontext *, CUdevice);
  CUresult (*release)(CUdevice);
  CUresult (*push)(CUcontext);
  CUresult (*pop)(CUcontext *);
} driver_t;

static driver_t openDriver(void) {
  const char *path = getenv("MUIR_CUDA_DRIVER");
  void *library = dlopen(path ? path : "libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  CHECK(library != NULL);
  driver_t d;
  *(void **)&d.alloc = dlsym(library, "cuMemAlloc_v2");
  *(void **)&d.free = dlsym(library, "cuMemFree_v2");
  *(void **)&d.memset8 = dlsym(library, "cuMemsetD8_v2");
  *(void **)&d.retain = dlsym(library, "cuDevicePrimaryCtxRetain");
  *(void **)&d.release = dlsym(library, "cuDevicePrimaryCtxRelease_v2");
  *(void **)&d.push = dlsym(library, "cuCtxPushCurrent_v2");
  *(void **)&d.pop = dlsym(library, "cuCtxPopCurrent_v2");
  CHECK(d.alloc && d.free && d.memset8 && d.retain && d.release && d.push &&
        d.pop);
  return d;
}

/** BUFFERS zeroed buffers of the right element sizes, on the host or (with
 *  `driver`) on the device, described for muir_state_adopt_buffers. */
static void allocate(const driver_t *driver, muir_buffer_t out[BUFFERS]) {
  CUcontext context;
  if (driver) {
    CHECK(driver->retain(&context, 0) == CUDA_SUCCESS);
    CHECK(driver->push(context) == CUDA_SUCCESS);
  }
  for (int b = 0; b < BUFFERS; ++b) {
    size_t bytes = (size_t)ELEMENTS * (size_t)sizes[b];
    void *data;
    if (driver) {
      CUdeviceptr p;
      CHECK(driver->alloc(&p, bytes) == CUDA_SUCCESS);
      CHECK(driver->memset8(p, 0, bytes) == CUDA_SUCCESS);
      data = (void *)(uintptr_t)p;
    } else {
      data = aligned_alloc(64, 128 * 4);
      CHECK(data != NULL);
      memset(data, 0, 128 * 4);
    }
    out[b] = (muir_buffer_t){data, ELEMENTS, sizes[b]};
  }
  if (driver)
    CHECK(driver->pop(&context) == CUDA_SUCCESS);
}

static void release(const driver_t *driver, muir_buffer_t buffers[BUFFERS]) {
  for (int b = 0; b < BUFFERS; ++b) {
    if (driver)
      CHECK(driver->free((CUdeviceptr)(uintptr_t)buffers[b].data) ==
            CUDA_SUCCESS);
    else
      free(buffers[b].data);
  }
  if (driver)
    CHECK(driver->release(0) == CUDA_SUCCESS);
}

static float widen(uint16_t bits) {
  uint32_t word = (uint32_t)bits << 16;
  float x;
  memcpy(&x, &word, sizeof(x));
  return x;
}

static uint32_t bitsOf(float x) {
  uint32_t bits;
  memcpy(&bits, &x, sizeof(bits));
  return bits;
}

/** Every buffer of `state`, in the order of `which`, as bytes. */
typedef struct {
  float params[ELEMENTS], m[ELEMENTS], v[ELEMENTS];
  uint16_t grads[ELEMENTS], copy[ELEMENTS];
} snapshot_t;

static void snapshot(const muir_state_t *state, snapshot_t *out) {
  void *to[BUFFERS] = {out->params, out->grads, out->m, out->v, out->copy};
  for (int b = 0; b < BUFFERS; ++b) {
    void *data;
    int64_t elements;
    int32_t size;
    CHECK_OK(muir_state_buffer_bytes(state, which[b], &data, &elements, &size));
    CHECK(elements == ELEMENTS && size == sizes[b]);
    CHECK_OK(muir_state_copy_bytes_to_host(state, which[b], 0, ELEMENTS, size,
                                           to[b]));
  }
}

/** Whether `copy` is the nearest bf16 of `x` (ties to even), decided by
 *  comparing the two bf16 values around x in double. */
static int nearestBf16(float x, uint16_t copy) {
  uint16_t down = (uint16_t)(bitsOf(x) >> 16), up = (uint16_t)(down + 1);
  if (widen(down) == x)
    return copy == down;
  double toDown = fabs((double)x - widen(down));
  double toUp = fabs((double)widen(up) - x);
  uint16_t nearest = toDown < toUp   ? down
                     : toUp < toDown ? up
                     : (down & 1)    ? up
                                     : down;
  return copy == nearest;
}

/** Whether `copy` is one of the two bf16 values around `x`. */
static int aroundBf16(float x, uint16_t copy) {
  uint16_t down = (uint16_t)(bitsOf(x) >> 16);
  return copy == down || (widen(down) != x && copy == (uint16_t)(down + 1));
}

/** The padding and tied elements outside every tensor (the steps leave
 *  them alone). */
static int isPadding(int64_t i) {
  return (i >= 12 && i < 16) || (i >= 28 && i < 32) || i >= 38;
}

static void checkCopy(const muir_state_t *state, int init) {
  snapshot_t s;
  snapshot(state, &s);
  for (int64_t i = 0; i < ELEMENTS; ++i) {
    CHECK(init ? nearestBf16(s.params[i], s.copy[i])
               : aroundBf16(s.params[i], s.copy[i]));
    CHECK(!isPadding(i) || (s.params[i] == 0.0f && s.copy[i] == 0));
  }
}

static void setGrads(muir_state_t *const *states, const uint16_t *grads) {
  for (int s = 0; s < STATES; ++s)
    CHECK_OK(muir_state_copy_bytes_from_host(states[s], MUIR_BUFFER_GRADS, 0,
                                             ELEMENTS, 2, grads));
}

static int runMode(const char *dir) {
  // Random123's known answers (shared/reference/philox-kat.md).
  static const uint32_t kat[3][10] = {
      {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
      {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff,
       0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
      {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0,
       0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}};
  for (int k = 0; k < 3; ++k) {
    uint32_t counter[4] = {kat[k][0], kat[k][1], kat[k][2], kat[k][3]};
    fixturePhilox(counter, kat[k][4], kat[k][5]);
    CHECK(memcmp(counter, kat[k] + 6, sizeof(counter)) == 0);
  }

  muir_package_t *package = NULL;
  CHECK_OK(muir_package_open(dir, &package));
  driver_t driver = openDriver();
  muir_buffer_t host[BUFFERS], device[BUFFERS];
  allocate(NULL, host);
  allocate(&driver, device);
  muir_state_t *states[STATES];
  CHECK_OK(muir_state_create(package, MUIR_DEVICE_CPU, &states[0]));
  CHECK_OK(muir_state_adopt_buffers(package, MUIR_DEVICE_CPU, 0, ELEMENTS, host,
                                    BUFFERS, &states[1]));
  CHECK_OK(muir_state_create(package, MUIR_DEVICE_CUDA, &states[2]));
  CHECK_OK(muir_state_adopt_buffers(package, MUIR_DEVICE_CUDA, 0, ELEMENTS,
                                    device, BUFFERS, &states[3]));
  // The adopted states run on the caller's memory.
  for (int b = 0; b < BUFFERS; ++b) {
    void *data;
    int64_t elements;
    int32_t size;
    CHECK_OK(
        muir_state_buffer_bytes(states[3], which[b], &data, &elements, &size));
    CHECK(data == device[b].data && size == sizes[b]);
    CHECK_OK(
        muir_state_buffer_bytes(states[1], which[b], &data, &elements, &size));
    CHECK(data == host[b].data);
  }

  // Init: one CUDA state in two ranges, in reverse order.
  for (int s = 0; s < STATES; ++s) {
    if (s == 2) {
      CHECK_OK(muir_state_init_range(states[s], 42, 20, ELEMENTS));
      CHECK_OK(muir_state_init_range(states[s], 42, 0, 20));
    } else {
      CHECK_OK(muir_state_init(states[s], 42));
    }
    checkCopy(states[s], /*init=*/1);
    uint64_t seed = 0;
    CHECK_OK(muir_state_get_rounding_seed(states[s], &seed));
    CHECK(seed == 42);
  }

  // Steps 1-3 on bf16 gradients of either sign and several sizes; step 3
  // clips (the norm is about 20).
  uint16_t grads[ELEMENTS];
  const float factors[] = {1.0f, 0.5f, 0.25f};
  for (int64_t t = 1; t <= 3; ++t) {
    for (int64_t i = 0; i < ELEMENTS; ++i)
      grads[i] = (uint16_t)(bitsOf((float)((i * 7 + t * 3) % 11) - 5.0f +
                                   0.001f * (float)i) >>
                            16);
    setGrads(states, grads);
    double norms[STATES];
    for (int s = 0; s < STATES; ++s) {
      muir_step_guards_t guards = {t == 3 ? 1.0 : 0.0, 1};
      muir_step_report_t report;
      CHECK_OK(muir_state_step_guarded(states[s], t, factors[t - 1], &guards,
                                       &report));
      CHECK(!report.skipped &&
            (t == 3 ? report.grad_scale < 0.1f : report.grad_scale == 1.0f));
      norms[s] = report.grad_norm;
      checkCopy(states[s], /*init=*/0);
    }
    // The norm of the widened gradients, in double.
    double sum = 0.0;
    for (int64_t i = 0; i < ELEMENTS; ++i)
      if (!isPadding(i)) {
        double g = widen(grads[i]);
        sum += g * g;
      }
    for (int s = 0; s < STATES; ++s)
      CHECK(fabs(norms[s] - sqrt(sum)) <= 1e-12 * sqrt(sum));
  }

  // A NaN gradient with skip_nonfinite: every byte stays.
  grads[3] = 0x7fc0;
  setGrads(states, grads);
  for (int s = 0; s < STATES; ++s) {
    snapshot_t before, after;
    snapshot(states[s], &before);
    muir_step_guards_t guards = {0.0, 1};
    muir_step_report_t report;
    CHECK_OK(muir_state_step_guarded(states[s], 4, 1.0f, &guards, &report));
    CHECK(report.skipped && isnan(report.grad_norm));
    snapshot(states[s], &after);
    CHECK(memcmp(&before, &after, sizeof(before)) == 0);
  }

  // A telemetry step: every state measures the same master weights.
  grads[3] = 0x3f80;
  setGrads(states, grads);
  muir_step_telemetry_t telemetry[STATES][3];
  for (int s = 0; s < STATES; ++s) {
    CHECK_OK(muir_state_step_telemetry(states[s], 4, 1.0f, NULL, NULL,
                                       telemetry[s], 3));
    CHECK(telemetry[s][0].update_norm > 0.0 && telemetry[s][0].angle > 0.0);
    CHECK(memcmp(telemetry[s], telemetry[0], sizeof(telemetry[0])) == 0);
  }

  // Another rounding seed, as a resumed run sets it.
  for (int s = 0; s < STATES; ++s) {
    CHECK_OK(muir_state_set_rounding_seed(states[s], 7));
    CHECK_OK(muir_state_step(states[s], 5, 1.0f));
    checkCopy(states[s], /*init=*/0);
  }

  snapshot_t first, other;
  snapshot(states[0], &first);
  for (int s = 1; s < STATES; ++s) {
    snapshot(states[s], &other);
    CHECK(memcmp(&first, &other, sizeof(first)) == 0);
  }

  // Copies of the wrong element size.
  float floats[ELEMENTS];
  uint16_t halves[ELEMENTS];
  EXPECT_ERROR("float copy of the grads", MUIR_ERROR_ARGUMENT,
               muir_state_copy_to_host(states[2], MUIR_BUFFER_GRADS, 0,
                                       ELEMENTS, floats));
  EXPECT_ERROR("float copy into the params copy", MUIR_ERROR_ARGUMENT,
               muir_state_copy_from_host(states[2], MUIR_BUFFER_PARAMS_BF16, 0,
                                         ELEMENTS, floats));
  EXPECT_ERROR("4-byte copy of the grads", MUIR_ERROR_ARGUMENT,
               muir_state_copy_bytes_to_host(states[2], MUIR_BUFFER_GRADS, 0,
                                             ELEMENTS, 4, floats));
  EXPECT_ERROR("2-byte copy into the params", MUIR_ERROR_ARGUMENT,
               muir_state_copy_bytes_from_host(states[2], MUIR_BUFFER_PARAMS, 0,
                                               ELEMENTS, 2, halves));
  EXPECT_ERROR("0-byte copy of the params", MUIR_ERROR_ARGUMENT,
               muir_state_copy_bytes_to_host(states[2], MUIR_BUFFER_PARAMS, 0,
                                             ELEMENTS, 0, floats));
  EXPECT_ERROR("bytes copy past the end", MUIR_ERROR_ARGUMENT,
               muir_state_copy_bytes_to_host(states[2], MUIR_BUFFER_PARAMS_BF16,
                                             40, 9, 2, halves));
  printf("bf16: created and adopted CPU and CUDA states agree\n");
  fflush(stdout);

  for (int s = 0; s < STATES; ++s)
    muir_state_release(states[s]);
  release(NULL, host);
  release(&driver, device);
  muir_package_release(package);
  return 0;
}

/** Each bad buffer list muir_state_adopt_buffers refuses, on `device`. */
static int adoptMode(const char *bf16Dir, const char *fp32Dir,
                     muir_device_t device) {
  muir_package_t *package = NULL, *fp32 = NULL;
  CHECK_OK(muir_package_open(bf16Dir, &package));
  CHECK_OK(muir_package_open(fp32Dir, &fp32));
  // Addresses only: every call below fails before a buffer is touched,
  // but the last, which steps nothing.
  driver_t driver;
  muir_buffer_t good[BUFFERS];
  if (device == MUIR_DEVICE_CPU) {
    allocate(NULL, good);
  } else {
    driver = openDriver();
    allocate(&driver, good);
  }
  muir_state_t *state = NULL;
  float *states[] = {good[2].data, good[3].data};
  EXPECT_ERROR("float adopt", MUIR_ERROR_ARGUMENT,
               muir_state_adopt(package, device, good[0].data, good[1].data,
                                states, ELEMENTS, &state));
  EXPECT_ERROR("no copy", MUIR_ERROR_ARGUMENT,
               muir_state_adopt_buffers(package, device, 0, ELEMENTS, good, 4,
                                        &state));
  muir_buffer_t bad[BUFFERS];
  memcpy(bad, good, sizeof(bad));
  bad[1].element_size = 4;
  EXPECT_ERROR("float grads", MUIR_ERROR_ARGUMENT,
               muir_state_adopt_buffers(package, device, 0, ELEMENTS, bad,
                                        BUFFERS, &state));
  memcpy(bad, good, sizeof(bad));
  bad[3].element_size = 2;
  EXPECT_ERROR("bf16 moment", MUIR_ERROR_ARGUMENT,
               muir_state_adopt_buffers(package, device, 0, ELEMENTS, bad,
                                        BUFFERS, &state));
  memcpy(bad, good, sizeof(bad));
  bad[4].elements = ELEMENTS - 1;
  EXPECT_ERROR("short copy", MUIR_ERROR_SIZE,
               muir_state_adopt_buffers(package, device, 0, ELEMENTS, bad,
                                        BUFFERS, &state));
  memcpy(bad, good, sizeof(bad));
  bad[4].data = NULL;
  EXPECT_ERROR("NULL copy", MUIR_ERROR_ARGUMENT,
               muir_state_adopt_buffers(package, device, 0, ELEMENTS, bad,
                                        BUFFERS, &state));
  memcpy(bad, good, sizeof(bad));
  bad[4].data = (char *)bad[4].data + 2;
  EXPECT_ERROR("misaligned copy", MUIR_ERROR_ARGUMENT,
               muir_state_adopt_buffers(package, device, 0, ELEMENTS, bad,
                                        BUFFERS, &state));
  memcpy(bad, good, sizeof(bad));
  bad[4].data = bad[1].data;
  EXPECT_ERROR("copy over the grads", MUIR_ERROR_ARGUMENT,
               muir_state_adopt_buffers(package, device, 0, ELEMENTS, bad,
                                        BUFFERS, &state));
  bad[4].data = (char *)bad[1].data + 64;
  EXPECT_ERROR("copy inside the grads", MUIR_ERROR_ARGUMENT,
               muir_state_adopt_buffers(package, device, 0, ELEMENTS, bad,
                                        BUFFERS, &state));
  EXPECT_ERROR("NULL buffers", MUIR_ERROR_ARGUMENT,
               muir_state_adopt_buffers(package, device, 0, ELEMENTS, NULL,
                                        BUFFERS, &state));
  memcpy(bad, good, sizeof(bad));
  EXPECT_ERROR("bf16 grads, fp32 package", MUIR_ERROR_ARGUMENT,
               muir_state_adopt_buffers(fp32, device, 0, ELEMENTS, bad, 4,
                                        &state));
  bad[1].element_size = 4;
  EXPECT_ERROR("a copy for an fp32 package", MUIR_ERROR_ARGUMENT,
               muir_state_adopt_buffers(fp32, device, 0, ELEMENTS, bad,
                                        BUFFERS, &state));
  // An fp32 package's float buffers through the same call.
  CHECK_OK(
      muir_state_adopt_buffers(fp32, device, 0, ELEMENTS, bad, 4, &state));
  float *data;
  int64_t elements;
  CHECK_OK(muir_state_buffer(state, MUIR_BUFFER_GRADS, &data, &elements));
  CHECK((void *)data == bad[1].data && elements == ELEMENTS);
  printf("fp32 through muir_state_adopt_buffers: ok\n");
  muir_state_release(state);
  release(device == MUIR_DEVICE_CPU ? NULL : &driver, good);
  muir_package_release(fp32);
  muir_package_release(package);
  return 0;
}

int main(int argc, char **argv) {
  CHECK(argc >= 3);
  setvbuf(stdout, NULL, _IONBF, 0);
  const char *mode = argv[1], *dir = argv[2];
  if (strcmp(mode, "run") == 0)
    return runMode(dir);
  if (strcmp(mode, "adopt") == 0) {
    CHECK(argc == 5);
    return adoptMode(dir, argv[3],
                     atoi(argv[4]) ? MUIR_DEVICE_CUDA : MUIR_DEVICE_CPU);
  }
  // "step": one CUDA state through create, init and a step, each printing
  // its status and message.
  CHECK(strcmp(mode, "step") == 0);
  muir_package_t *package = NULL;
  CHECK_OK(muir_package_open(dir, &package));
  muir_state_t *state = NULL;
  muir_status_t status = muir_state_create(package, MUIR_DEVICE_CUDA, &state);
  printf("create: %s: %s\n", muir_status_string(status), muir_last_error());
  if (status == MUIR_OK) {
    status = muir_state_init(state, 1);
    printf("init: %s: %s\n", muir_status_string(status), muir_last_error());
  }
  if (status == MUIR_OK) {
    status = muir_state_step(state, 1, 1.0f);
    printf("step: %s: %s\n", muir_status_string(status), muir_last_error());
  }
  muir_state_release(state);
  muir_package_release(package);
  return (int)status;
}
