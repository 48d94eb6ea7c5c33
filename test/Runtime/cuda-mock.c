// The CUDA path against a mock driver (Inputs/mock_cuda.c, host memory):
// module selection (exact cubin, a lower minor of the same major, PTX JIT
// after a rejected cubin), launches that match the CPU kernels bit for bit,
// adopted device buffers, host copies, LionAR's per-unit telemetry (the
// fixture's units variant), and every CUDA error with its status and
// message. Nothing is left allocated, retained or pushed at exit.
//
// REQUIRES: cuda-headers
// RUN: rm -rf %t && mkdir -p %t/ptx %t/cubin %t/minor %t/badcubin %t/badonly %t/none %t/jit %t/nostep
// RUN: %muir_cc -std=c11 -O1 -shared -fPIC -Wall -Werror -I%muir_rt_include -I%S/Inputs -I%cuda_include %S/Inputs/mock_cuda.c -lm -o %t/libcuda-mock.so
// RUN: %muir_cc -std=c11 -Wall -Werror -I%muir_rt_include -I%S/Inputs -I%cuda_include %s %muir_rt_link -ldl -lm -o %t/cuda
// RUN: %muir_build_fixture -o %t/ptx/libmuir_kernels.so
// RUN: echo ".version 8.0 // TEST FIXTURE kernels.ptx" > %t/ptx/kernels.ptx
// RUN: cp %t/ptx/libmuir_kernels.so %t/ptx/manifest.json %t/cubin/ && echo "MOCK-CUBIN sm_90" > %t/cubin/kernels.sm_90.cubin
// RUN: cp %t/ptx/libmuir_kernels.so %t/ptx/manifest.json %t/minor/ && echo "MOCK-CUBIN sm_80" > %t/minor/kernels.sm_80.cubin && echo "MOCK-CUBIN sm_90" > %t/minor/kernels.sm_90.cubin
// RUN: cp %t/ptx/* %t/badcubin/ && echo "MOCK-BAD sm_90" > %t/badcubin/kernels.sm_90.cubin
// RUN: cp %t/ptx/libmuir_kernels.so %t/ptx/manifest.json %t/badonly/ && echo "MOCK-BAD sm_90" > %t/badonly/kernels.sm_90.cubin
// RUN: cp %t/ptx/libmuir_kernels.so %t/ptx/manifest.json %t/none/
// RUN: cp %t/ptx/libmuir_kernels.so %t/ptx/manifest.json %t/jit/ && echo ".version 8.0 MOCK-JIT-ERROR" > %t/jit/kernels.ptx
// RUN: cp %t/ptx/libmuir_kernels.so %t/ptx/manifest.json %t/nostep/ && echo ".version 8.0 MOCK-NO-STEP" > %t/nostep/kernels.ptx
//
// The whole path, from PTX, from an exact cubin, from an sm_80 cubin on an
// sm_86 device (sm_90's is no use there), from PTX after a rejected cubin.
// RUN: env MUIR_CUDA_DRIVER=%t/libcuda-mock.so %t/cuda run %t/ptx 2>&1 | FileCheck %s --check-prefix=PTX
// RUN: env MUIR_CUDA_DRIVER=%t/libcuda-mock.so %t/cuda run %t/cubin 2>&1 | FileCheck %s --check-prefix=CUBIN
// RUN: env MUIR_CUDA_DRIVER=%t/libcuda-mock.so MOCK_CUDA_CC=86 %t/cuda run %t/minor 2>&1 | FileCheck %s --check-prefix=MINOR
// RUN: env MUIR_CUDA_DRIVER=%t/libcuda-mock.so %t/cuda run %t/badcubin 2>&1 | FileCheck %s --check-prefix=FALLBACK
// PTX: mock-cuda: loaded ptx '.version 8.0 // TEST FIXTURE kernels.ptx'
// PTX: mock-cuda: loaded ptx '.version 8.0 // TEST FIXTURE kernels.ptx'
// PTX: mock-cuda: launch muir_init_kernel grid 1 block 256 seed 42 range [20, 48)
// PTX-NEXT: mock-cuda: launch muir_init_kernel grid 1 block 256 seed 42 range [0, 20)
// PTX-NEXT: mock-cuda: launch muir_init_kernel grid 1 block 256 seed 42 range [0, 48)
// PTX-NEXT: mock-cuda: launch muir_step_kernel grid 1 block 256 step 1 lr 1 scale 1
// PTX: mock-cuda: launch muir_step_kernel grid 1 block 256 step 3 lr 0.25 scale 0.0{{[0-9]+}}
// PTX: created, adopted and CPU states agree
// PTX: mock-cuda: at exit: 0 allocations, 0 contexts retained, depth 0
// CUBIN: mock-cuda: loaded cubin 'MOCK-CUBIN sm_90'
// CUBIN: created, adopted and CPU states agree
// CUBIN: mock-cuda: at exit: 0 allocations, 0 contexts retained, depth 0
// MINOR: mock-cuda: loaded cubin 'MOCK-CUBIN sm_80'
// MINOR: created, adopted and CPU states agree
// FALLBACK: mock-cuda: rejected image 'MOCK-BAD sm_90'
// FALLBACK-NEXT: mock-cuda: loaded ptx '.version 8.0 // TEST FIXTURE kernels.ptx'
// FALLBACK: created, adopted and CPU states agree
//
// LionAR's per-unit telemetry on a CUDA state (the fixture's units variant:
// blocks.w's 8 rows are units): muir_unit_telemetry_kernel launched after
// the slots' telemetry, one thread per unit over the whole state, and
// muir_state_unit_telemetry's numbers from the params before and after.
// RUN: mkdir -p %t/units && %muir_build_fixture -DFIXTURE_UNITS -o %t/units/libmuir_kernels.so
// RUN: echo ".version 8.0 // TEST FIXTURE kernels.ptx" > %t/units/kernels.ptx
// RUN: env MUIR_CUDA_DRIVER=%t/libcuda-mock.so %t/cuda units %t/units 2>&1 | FileCheck %s --check-prefix=UNITS
// A step of a package with units: the units' partials of its slots, the
// chunks, the units (64 a block).
// UNITS: mock-cuda: launch muir_reduce_units_kernel grid 1 block 256
// UNITS-NEXT: mock-cuda: launch muir_step_kernel grid 1 block 256 step 1
// UNITS-NEXT: mock-cuda: launch muir_step_units_kernel grid 1 block 256
// UNITS: mock-cuda: launch muir_telemetry_kernel grid 3 block 256
// UNITS-NEXT: mock-cuda: launch muir_unit_telemetry_kernel grid 1 block 256 range [0, 48)
// UNITS: per-unit telemetry of 8 units from the params before and after
// UNITS: mock-cuda: launch muir_unit_telemetry_kernel grid 1 block 256 range [0, 48)
// UNITS: no weight decay: every unit NaN
// UNITS: mock-cuda: at exit: 0 allocations, 0 contexts retained, depth 0
// A failed launch of the units kernel (the fourth) fails the step.
// RUN: env MUIR_CUDA_DRIVER=%t/libcuda-mock.so MOCK_CUDA_FAIL=cuLaunchKernel MOCK_CUDA_FAIL_AT=4 not %t/cuda units %t/units 2>&1 | FileCheck %s --check-prefix=STEPUNITS
// STEPUNITS: muir_state_step(state, 1, 1.0f): cuda: launching muir_step_units_kernel (1 blocks of 256 threads): CUDA_ERROR_LAUNCH_FAILED (mock driver error)
// A failed launch of the unit telemetry kernel (the ninth launch: init,
// then three per step) fails the telemetry step with its name.
// RUN: env MUIR_CUDA_DRIVER=%t/libcuda-mock.so MOCK_CUDA_FAIL=cuLaunchKernel MOCK_CUDA_FAIL_AT=9 not %t/cuda units %t/units 2>&1 | FileCheck %s --check-prefix=UNITLAUNCH
// UNITLAUNCH: step 2: cuda: launching muir_unit_telemetry_kernel (1 blocks of 256 threads): CUDA_ERROR_LAUNCH_FAILED (mock driver error)
// The failed step leaves no per-unit telemetry (not zeros as if it ran).
// UNITLAUNCH-NEXT: units after the failed step: argument: muir_state_unit_telemetry: the state's last step was not a telemetry step of a whole state, or it failed
// The driver's other failures on the units variant: the seventh and eighth
// allocations (the telemetry step's copy of the params before it, 48 floats,
// and its per-unit sums, 8 units x 4 doubles), the memset of a created
// buffer, and that of the unit partials before a whole state's step (the
// sixth memset: four buffers, then one per step).
// RUN: env MUIR_CUDA_DRIVER=%t/libcuda-mock.so MOCK_CUDA_FAIL=cuMemAlloc_v2 MOCK_CUDA_FAIL_AT=7 not %t/cuda units %t/units 2>&1 | FileCheck %s --check-prefix=TELEALLOC -DBYTES=192
// RUN: env MUIR_CUDA_DRIVER=%t/libcuda-mock.so MOCK_CUDA_FAIL=cuMemAlloc_v2 MOCK_CUDA_FAIL_AT=8 not %t/cuda units %t/units 2>&1 | FileCheck %s --check-prefix=TELEALLOC -DBYTES=256
// TELEALLOC: step 2: memory: cuMemAlloc of [[BYTES]] bytes for the telemetry on CUDA device 0: CUDA_ERROR_OUT_OF_MEMORY (mock driver error)
// TELEALLOC-NEXT: units after the failed step: argument: muir_state_unit_telemetry: the state's last step was not a telemetry step of a whole state, or it failed
// TELEALLOC: mock-cuda: at exit: 0 allocations, 0 contexts retained, depth 0
// RUN: env MUIR_CUDA_DRIVER=%t/libcuda-mock.so MOCK_CUDA_FAIL=cuMemsetD8_v2 MOCK_CUDA_FAIL_AT=2 not %t/cuda units %t/units 2>&1 | FileCheck %s --check-prefix=MEMSET
// MEMSET: muir_state_create(package, MUIR_DEVICE_CUDA, &state): cuda: cuMemsetD8 of buffer 1: CUDA_ERROR_ILLEGAL_ADDRESS (mock driver error)
// MEMSET: mock-cuda: at exit: 0 allocations, 0 contexts retained, depth 0
// RUN: env MUIR_CUDA_DRIVER=%t/libcuda-mock.so MOCK_CUDA_FAIL=cuMemsetD8_v2 MOCK_CUDA_FAIL_AT=6 not %t/cuda units %t/units 2>&1 | FileCheck %s --check-prefix=ZEROUNITS
// ZEROUNITS: step 2: cuda: zeroing the unit partials on CUDA device 0: CUDA_ERROR_ILLEGAL_ADDRESS (mock driver error)
// ZEROUNITS: mock-cuda: at exit: 0 allocations, 0 contexts retained, depth 0
//
// Packages without usable kernels.
// RUN: env MUIR_CUDA_DRIVER=%t/libcuda-mock.so not %t/cuda create %t/none 2>&1 | FileCheck %s --check-prefix=NONE
// NONE: create: io: package '{{.*}}/none' has no CUDA kernels for sm_90: no kernels.sm_90.cubin and {{.*}}/none/kernels.ptx cannot be read: No such file or directory
// NONE: mock-cuda: at exit: 0 allocations, 0 contexts retained, depth 0
// RUN: env MUIR_CUDA_DRIVER=%t/libcuda-mock.so not %t/cuda create %t/badonly 2>&1 | FileCheck %s --check-prefix=BADONLY
// BADONLY: create: cuda: package '{{.*}}/badonly': the driver rejected {{.*}}/badonly/kernels.sm_90.cubin: CUDA_ERROR_INVALID_IMAGE (mock driver error), and {{.*}}/badonly/kernels.ptx cannot be read: No such file or directory
// RUN: env MUIR_CUDA_DRIVER=%t/libcuda-mock.so not %t/cuda create %t/jit 2>&1 | FileCheck %s --check-prefix=JIT
// JIT: create: cuda: package '{{.*}}/jit': the CUDA driver cannot JIT-compile {{.*}}/jit/kernels.ptx for sm_90 (log: ptxas fatal   : mock syntax error at line 3): CUDA_ERROR_INVALID_PTX (mock driver error)
// JIT: mock-cuda: at exit: 0 allocations, 0 contexts retained, depth 0
// RUN: env MUIR_CUDA_DRIVER=%t/libcuda-mock.so not %t/cuda create %t/nostep 2>&1 | FileCheck %s --check-prefix=NOSTEP
// NOSTEP: create: format: package '{{.*}}/nostep': its CUDA module has no kernel muir_step_kernel
// NOSTEP: mock-cuda: at exit: 0 allocations, 0 contexts retained, depth 0
//
// Driver failures: out of memory, a failed launch, a fault while running.
// RUN: env MUIR_CUDA_DRIVER=%t/libcuda-mock.so MOCK_CUDA_FAIL=cuMemAlloc_v2 not %t/cuda create %t/ptx 2>&1 | FileCheck %s --check-prefix=OOM
// OOM: create: memory: cuMemAlloc of buffer 0 (192 bytes) on CUDA device 0 for package '{{.*}}/ptx': CUDA_ERROR_OUT_OF_MEMORY (mock driver error)
// OOM: mock-cuda: at exit: 0 allocations, 0 contexts retained, depth 0
// RUN: env MUIR_CUDA_DRIVER=%t/libcuda-mock.so MOCK_CUDA_FAIL=cuLaunchKernel not %t/cuda step %t/ptx 2>&1 | FileCheck %s --check-prefix=LAUNCH
// LAUNCH: init: cuda: launching muir_init_kernel (1 blocks of 256 threads): CUDA_ERROR_LAUNCH_FAILED (mock driver error)
// LAUNCH: step: cuda: launching muir_step_kernel (1 blocks of 256 threads): CUDA_ERROR_LAUNCH_FAILED (mock driver error)
// LAUNCH: mock-cuda: at exit: 0 allocations, 0 contexts retained, depth 0
// RUN: env MUIR_CUDA_DRIVER=%t/libcuda-mock.so MOCK_CUDA_FAIL=cuCtxSynchronize not %t/cuda step %t/ptx 2>&1 | FileCheck %s --check-prefix=FAULT
// FAULT: step: cuda: running muir_step_kernel: CUDA_ERROR_ILLEGAL_ADDRESS (mock driver error)
//
// No device: no such ordinal, none at all, no driver, a library that is no
// driver.
// RUN: env MUIR_CUDA_DRIVER=%t/libcuda-mock.so not %t/cuda create %t/ptx 1 2>&1 | FileCheck %s --check-prefix=ORDINAL
// ORDINAL: create: no_device: CUDA device 1 requested, but the driver sees 1 device
// RUN: env MUIR_CUDA_DRIVER=%t/libcuda-mock.so MOCK_CUDA_DEVICES=0 not %t/cuda create %t/ptx 2>&1 | FileCheck %s --check-prefix=NODEVICE
// NODEVICE: create: no_device: the CUDA driver {{.*}}/libcuda-mock.so found no usable device: cuInit: CUDA_ERROR_NO_DEVICE (mock driver error)
// NODEVICE: adopt: no_device: the CUDA driver {{.*}}/libcuda-mock.so found no usable device
// RUN: env MUIR_CUDA_DRIVER=%t/missing/libcuda.so.1 not %t/cuda create %t/ptx 2>&1 | FileCheck %s --check-prefix=NODRIVER
// NODRIVER: create: no_device: no CUDA driver: cannot load {{.*}}/missing/libcuda.so.1: {{.*}}No such file or directory (MUIR_CUDA_DRIVER overrides the path)
// NODRIVER: adopt: no_device: no CUDA driver: cannot load
// RUN: env MUIR_CUDA_DRIVER=%t/ptx/libmuir_kernels.so not %t/cuda create %t/ptx 2>&1 | FileCheck %s --check-prefix=NOTDRIVER
// NOTDRIVER: create: no_device: the CUDA driver {{.*}}/ptx/libmuir_kernels.so lacks cuInit (driver too old?)

#include "check.h"

#include <cuda.h>
#include <dlfcn.h>
#include <math.h>
#include <string.h>

#define ELEMENTS 48
#define FIXTURE_UNIT_COUNT 8 /* fixture_package.c's FIXTURE_UNITS */

typedef CUresult (*alloc_fn_t)(CUdeviceptr *, size_t);
typedef CUresult (*free_fn_t)(CUdeviceptr);
typedef CUresult (*memset_fn_t)(CUdeviceptr, unsigned char, size_t);
typedef CUresult (*ctx_fn_t)(CUcontext);
typedef CUresult (*pop_fn_t)(CUcontext *);

static void readAll(muir_state_t *state, float out[][ELEMENTS]) {
  for (int32_t which = 0; which < 4; ++which)
    CHECK_OK(muir_state_copy_to_host(state, which, 0, ELEMENTS, out[which]));
}

/* Runs the same init, shards and steps on `states`, checking they agree. */
static void runAll(muir_state_t **states, int count) {
  float grads[ELEMENTS];
  for (int s = 0; s < count; ++s) {
    if (s == 1) {
      // One state initialises in two shards, in reverse order.
      CHECK_OK(muir_state_init_range(states[s], 42, 20, ELEMENTS));
      CHECK_OK(muir_state_init_range(states[s], 42, 0, 20));
      CHECK_OK(muir_state_init_range(states[s], 42, 7, 7));
    } else {
      CHECK_OK(muir_state_init(states[s], 42));
    }
  }
  const float factors[] = {1.0f, 0.5f, 0.25f};
  for (int64_t t = 1; t <= 3; ++t) {
    for (int64_t i = 0; i < ELEMENTS; ++i)
      grads[i] = (float)((i * 7 + t * 3) % 11) - 5.0f;
    for (int s = 0; s < count; ++s) {
      CHECK_OK(muir_state_copy_from_host(states[s], MUIR_BUFFER_GRADS, 0,
                                         ELEMENTS, grads));
      if (t < 3) {
        CHECK_OK(muir_state_step(states[s], t, factors[t - 1]));
        continue;
      }
      // The last step clips (the norm is about 20): the factor reaches the
      // kernel on every device alike.
      muir_step_guards_t guards = {1.0, 1};
      muir_step_report_t report;
      CHECK_OK(muir_state_step_guarded(states[s], t, factors[t - 1], &guards,
                                       &report));
      CHECK(report.grad_scale < 0.1f && report.grad_scale > 0.0f &&
            !report.skipped);
    }
  }
  // A telemetry step on every CUDA state (the fixture's CPU library has no
  // telemetry kernel): each copy's norms and angle from the params before
  // and after, in double.
  for (int s = 1; s < count; ++s) {
    float before[ELEMENTS], after[ELEMENTS];
    CHECK_OK(muir_state_copy_to_host(states[s], MUIR_BUFFER_PARAMS, 0,
                                     ELEMENTS, before));
    muir_step_telemetry_t telemetry[3];
    CHECK_OK(muir_state_step_telemetry(states[s], 4, 1.0f, NULL, NULL,
                                       telemetry, 3));
    CHECK_OK(muir_state_copy_to_host(states[s], MUIR_BUFFER_PARAMS, 0,
                                     ELEMENTS, after));
    // blocks.w's two copies, then embed.weight (unembed.weight is tied).
    const int64_t begins[] = {0, 16, 32};
    const int64_t counts[] = {12, 12, 6};
    for (int e = 0; e < 3; ++e) {
      double w2 = 0, v2 = 0, d2 = 0;
      for (int64_t i = begins[e]; i < begins[e] + counts[e]; ++i) {
        double w = before[i], v = after[i];
        w2 += w * w, v2 += v * v, d2 += (v - w) * (v - w);
      }
      CHECK(telemetry[e].param_norm == sqrt(w2) &&
            telemetry[e].param_norm_after == sqrt(v2) &&
            telemetry[e].update_norm == sqrt(d2) && telemetry[e].angle > 0.0);
    }
    CHECK(memcmp(before, after, sizeof(before)) != 0);
  }
  if (count > 1) // the CPU state takes the same step
    CHECK_OK(muir_state_step(states[0], 4, 1.0f));
  static float first[4][ELEMENTS], other[4][ELEMENTS];
  readAll(states[0], first);
  for (int s = 1; s < count; ++s) {
    readAll(states[s], other);
    CHECK(memcmp(first, other, sizeof(first)) == 0);
  }
}

static int runMode(const char *dir) {
  muir_package_t *package = NULL;
  CHECK_OK(muir_package_open(dir, &package));

  muir_state_t *cpu = NULL, *cuda = NULL, *adopted = NULL;
  CHECK_OK(muir_state_create(package, MUIR_DEVICE_CPU, &cpu));
  CHECK_OK(muir_state_create(package, MUIR_DEVICE_CUDA, &cuda));
  CHECK(muir_state_device(cuda) == MUIR_DEVICE_CUDA);
  float *data = NULL;
  int64_t elements = 0;
  CHECK_OK(muir_state_buffer(cuda, MUIR_BUFFER_STATE0 + 1, &data, &elements));
  CHECK(data != NULL && (uintptr_t)data % 64 == 0 && elements == ELEMENTS);
  // Created buffers start zeroed (the mock fills fresh memory with 0xab).
  float host[ELEMENTS];
  CHECK_OK(
      muir_state_copy_to_host(cuda, MUIR_BUFFER_STATE0 + 1, 0, ELEMENTS, host));
  for (int64_t i = 0; i < ELEMENTS; ++i)
    CHECK(host[i] == 0.0f);

  // Device buffers the caller allocated in the primary context.
  const char *driverPath = getenv("MUIR_CUDA_DRIVER");
  void *driver =
      dlopen(driverPath ? driverPath : "libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  CHECK(driver != NULL);
  alloc_fn_t memAlloc = (alloc_fn_t)dlsym(driver, "cuMemAlloc_v2");
  free_fn_t memFree = (free_fn_t)dlsym(driver, "cuMemFree_v2");
  memset_fn_t memset8 = (memset_fn_t)dlsym(driver, "cuMemsetD8_v2");
  CUresult (*retain)(CUcontext *, CUdevice) =
      (CUresult (*)(CUcontext *, CUdevice))dlsym(driver,
                                                 "cuDevicePrimaryCtxRetain");
  CUresult (*release)(CUdevice) =
      (CUresult (*)(CUdevice))dlsym(driver, "cuDevicePrimaryCtxRelease_v2");
  ctx_fn_t push = (ctx_fn_t)dlsym(driver, "cuCtxPushCurrent_v2");
  pop_fn_t pop = (pop_fn_t)dlsym(driver, "cuCtxPopCurrent_v2");
  CHECK(memAlloc && memFree && memset8 && retain && release && push && pop);
  CUcontext context;
  CHECK(retain(&context, 0) == CUDA_SUCCESS);
  CHECK(push(context) == CUDA_SUCCESS);
  CUdeviceptr mine[4];
  for (int i = 0; i < 4; ++i) {
    CHECK(memAlloc(&mine[i], ELEMENTS * sizeof(float)) == CUDA_SUCCESS);
    CHECK(memset8(mine[i], 0, ELEMENTS * sizeof(float)) == CUDA_SUCCESS);
  }
  CHECK(pop(&context) == CUDA_SUCCESS);
  float *states[] = {(float *)(uintptr_t)mine[2], (float *)(uintptr_t)mine[3]};
  CHECK_OK(muir_state_adopt(
      package, MUIR_DEVICE_CUDA, (float *)(uintptr_t)mine[0],
      (float *)(uintptr_t)mine[1], states, ELEMENTS, &adopted));
  CHECK_OK(muir_state_buffer(adopted, MUIR_BUFFER_PARAMS, &data, &elements));
  CHECK((CUdeviceptr)(uintptr_t)data == mine[0]);

  muir_state_t *all[] = {cpu, cuda, adopted};
  runAll(all, 3);
  printf("created, adopted and CPU states agree\n");
  fflush(stdout);

  muir_state_release(adopted);
  for (int i = 0; i < 4; ++i)
    CHECK(memFree(mine[i]) == CUDA_SUCCESS);
  CHECK(release(0) == CUDA_SUCCESS);
  muir_state_release(cuda);
  muir_state_release(cpu);
  muir_package_release(package);
  return 0;
}

/* The telemetry the runtime documents for four sums (w^2, w'^2, d^2, w d):
 * the norms and atan2 of d's parts across and along w. */
static muir_step_telemetry_t expectedTelemetry(const double s[4]) {
  double along = s[3] / sqrt(s[0]), across = s[2] - along * along;
  return (muir_step_telemetry_t){
      sqrt(s[0]), sqrt(s[1]), sqrt(s[2]),
      atan2(sqrt(across > 0.0 ? across : 0.0), sqrt(s[0]) + along)};
}

/* LionAR's per-unit telemetry on a CUDA state of the fixture's units
 * variant (blocks.w's rows). */
static int unitsMode(const char *dir) {
  muir_package_t *package = NULL;
  CHECK_OK(muir_package_open(dir, &package));
  muir_state_t *state = NULL;
  CHECK_OK(muir_state_create(package, MUIR_DEVICE_CUDA, &state));
  CHECK_OK(muir_state_init(state, 42));
  float grads[ELEMENTS], before[ELEMENTS], after[ELEMENTS];
  for (int64_t i = 0; i < ELEMENTS; ++i)
    grads[i] = (float)((i * 5 + 2) % 9) - 4.0f;
  CHECK_OK(
      muir_state_copy_from_host(state, MUIR_BUFFER_GRADS, 0, ELEMENTS, grads));
  muir_step_telemetry_t units[FIXTURE_UNIT_COUNT], copies[3];
  // Not after a plain step.
  CHECK_OK(muir_state_step(state, 1, 1.0f));
  CHECK(muir_state_unit_telemetry(state, 0, units, FIXTURE_UNIT_COUNT) ==
            MUIR_ERROR_ARGUMENT &&
        strstr(muir_last_error(), "not a telemetry step"));
  CHECK_OK(
      muir_state_copy_to_host(state, MUIR_BUFFER_PARAMS, 0, ELEMENTS, before));
  muir_status_t status =
      muir_state_step_telemetry(state, 2, 1.0f, NULL, NULL, copies, 3);
  if (status != MUIR_OK) {
    printf("step 2: %s: %s\n", muir_status_string(status), muir_last_error());
    EXPECT_ERROR("units after the failed step", MUIR_ERROR_ARGUMENT,
                 muir_state_unit_telemetry(state, 0, units,
                                           FIXTURE_UNIT_COUNT));
    muir_state_release(state);
    muir_package_release(package);
    return 1;
  }
  CHECK_OK(
      muir_state_copy_to_host(state, MUIR_BUFFER_PARAMS, 0, ELEMENTS, after));
  CHECK_OK(muir_state_unit_telemetry(state, 0, units, FIXTURE_UNIT_COUNT));
  // Row r of copy c: elements [16 c + 3 r, + 3), summed in order.
  for (int u = 0; u < FIXTURE_UNIT_COUNT; ++u) {
    double s[4] = {0.0, 0.0, 0.0, 0.0};
    for (int64_t i = u / 4 * 16 + u % 4 * 3; i < u / 4 * 16 + u % 4 * 3 + 3;
         ++i) {
      double w = before[i], v = after[i], d = v - w;
      s[0] += w * w, s[1] += v * v, s[2] += d * d, s[3] += w * d;
    }
    muir_step_telemetry_t want = expectedTelemetry(s);
    CHECK(units[u].param_norm == want.param_norm &&
          units[u].param_norm_after == want.param_norm_after &&
          units[u].update_norm == want.update_norm &&
          units[u].angle == want.angle && want.angle > 0.0);
  }
  printf("per-unit telemetry of %d units from the params before and after\n",
         FIXTURE_UNIT_COUNT);
  // The errors of a CUDA state's call: no units, a wrong count.
  CHECK(muir_state_unit_telemetry(state, 1, units, 1) == MUIR_ERROR_ARGUMENT &&
        strstr(muir_last_error(), "has no rotational units"));
  CHECK(muir_state_unit_telemetry(state, 0, units, 7) == MUIR_ERROR_ARGUMENT &&
        strstr(muir_last_error(), "room for 7 entries given"));
  // Without weight decay blocks.w does not rotate: its units stay NaN (the
  // host's NaN went to the device and back).
  CHECK_OK(muir_state_set_optimizer_multipliers(state, 0, 1.0, 0.0));
  CHECK_OK(muir_state_step_telemetry(state, 3, 1.0f, NULL, NULL, copies, 3));
  CHECK_OK(muir_state_unit_telemetry(state, 0, units, FIXTURE_UNIT_COUNT));
  for (int u = 0; u < FIXTURE_UNIT_COUNT; ++u)
    CHECK(isnan(units[u].param_norm) && isnan(units[u].angle));
  printf("no weight decay: every unit NaN\n");
  muir_state_release(state);
  muir_package_release(package);
  return 0;
}

int main(int argc, char **argv) {
  CHECK(argc >= 3);
  setvbuf(stdout, NULL, _IONBF, 0);
  const char *mode = argv[1], *dir = argv[2];
  if (strcmp(mode, "run") == 0)
    return runMode(dir);
  if (strcmp(mode, "units") == 0)
    return unitsMode(dir);

  muir_package_t *package = NULL;
  CHECK_OK(muir_package_open(dir, &package));
  muir_device_t device = MUIR_DEVICE_CUDA_ORDINAL(argc > 3 ? atoi(argv[3]) : 0);
  muir_state_t *state = NULL;
  muir_status_t status = muir_state_create(package, device, &state);
  printf("create: %s: %s\n", muir_status_string(status), muir_last_error());
  if (strcmp(mode, "create") == 0) {
    // Adopting fails the same way when the device is missing.
    if (status == MUIR_ERROR_NO_DEVICE) {
      float *fake = (float *)(uintptr_t)4096;
      float *states[] = {fake + 128, fake + 192};
      muir_status_t adopt = muir_state_adopt(package, device, fake, fake + 64,
                                             states, ELEMENTS, &state);
      printf("adopt: %s: %s\n", muir_status_string(adopt), muir_last_error());
      CHECK(adopt == MUIR_ERROR_NO_DEVICE);
    }
    muir_state_release(state);
    muir_package_release(package);
    return (int)status;
  }
  CHECK(strcmp(mode, "step") == 0 && status == MUIR_OK);
  status = muir_state_init(state, 1);
  printf("init: %s: %s\n", muir_status_string(status), muir_last_error());
  muir_status_t step = muir_state_step(state, 1, 1.0f);
  printf("step: %s: %s\n", muir_status_string(step), muir_last_error());
  muir_state_release(state);
  muir_package_release(package);
  return (int)step;
}
