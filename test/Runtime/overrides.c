// The reduction phase and per-tensor overrides through the C API, on the
// CPU and (with the mock driver) on CUDA: the global gradient norm against
// a sum written here in long double (padding, which holds garbage, left
// out); lr and weight-decay multipliers of one parameter against the
// fixture's AdamW in double precision with those constants; multipliers
// 1 and 1 restore the compiled-in step bit for bit; a state's multipliers
// do not touch another state; every bad argument.
//
// RUN: rm -rf %t && mkdir -p %t/pkg
// RUN: %muir_build_fixture -o %t/pkg/libmuir_kernels.so
// RUN: %muir_cc -std=c11 -Wall -Werror -I%muir_rt_include -I%S/Inputs %s %muir_rt_link -lm -o %t/test
// RUN: %t/test %t/pkg cpu | FileCheck %s
// RUN: %if cuda-headers %{ %muir_cc -std=c11 -O1 -shared -fPIC -Wall -Werror -I%muir_rt_include -I%S/Inputs -I%cuda_include %S/Inputs/mock_cuda.c -lm -o %t/libcuda-mock.so %}
// RUN: %if cuda-headers %{ echo ".version 8.0 // TEST FIXTURE kernels.ptx" > %t/pkg/kernels.ptx %}
// RUN: %if cuda-headers %{ env MUIR_CUDA_DRIVER=%t/libcuda-mock.so %t/test %t/pkg cuda > %t/cuda.out 2> %t/cuda.err %}
// RUN: %if cuda-headers %{ FileCheck %s < %t/cuda.out %}
// RUN: %if cuda-headers %{ FileCheck %s --check-prefix=MOCK < %t/cuda.err %}
// MOCK: mock-cuda: launch muir_reduce_kernel grid 3 block 256
// MOCK: mock-cuda: at exit: 0 allocations, 0 contexts retained, depth 0

#include "check.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#define ELEMENTS 48

/* The fixture's parameter elements and constants (fixture_package.c). */
typedef struct {
  int64_t begin, end, param;
  float lr, beta1, beta2, eps, weightDecay;
} span_t;
static const span_t spans[] = {
    {0, 12, 0, 1e-2f, 0.9f, 0.99f, 1e-8f, 0.1f},
    {16, 28, 0, 1e-2f, 0.9f, 0.99f, 1e-8f, 0.1f},
    {32, 38, 1, 3e-3f, 0.8f, 0.95f, 1e-6f, 0.0f},
};
#define NUM_SPANS (sizeof(spans) / sizeof(spans[0]))

/* One AdamW step from zero moments in double precision, parameter 0's lr
 * and weight decay times the multipliers. */
static double referenceStep(int64_t i, double p, double g, double lrFactor,
                            double lrMultiplier, double wdMultiplier) {
  for (size_t s = 0; s < NUM_SPANS; ++s) {
    const span_t *k = &spans[s];
    if (i < k->begin || i >= k->end)
      continue;
    double lr = k->lr * lrFactor * (k->param == 0 ? lrMultiplier : 1.0);
    double wd = k->weightDecay * (k->param == 0 ? wdMultiplier : 1.0);
    double m = (1.0 - k->beta1) * g, v = (1.0 - k->beta2) * g * g;
    double mHat = m / (1.0 - k->beta1), vHat = v / (1.0 - k->beta2);
    return p * (1.0 - lr * wd) - lr * mHat / (sqrt(vHat) + k->eps);
  }
  return p; /* padding */
}

static bool isPadding(int64_t i) {
  for (size_t s = 0; s < NUM_SPANS; ++s)
    if (i >= spans[s].begin && i < spans[s].end)
      return false;
  return true;
}

static void fill(muir_state_t *state, const float *params,
                 const float *grads) {
  float zeros[ELEMENTS] = {0};
  CHECK_OK(muir_state_copy_from_host(state, MUIR_BUFFER_PARAMS, 0, ELEMENTS,
                                     params));
  CHECK_OK(muir_state_copy_from_host(state, MUIR_BUFFER_GRADS, 0, ELEMENTS,
                                     grads));
  for (int32_t k = 0; k < 2; ++k)
    CHECK_OK(muir_state_copy_from_host(state, MUIR_BUFFER_STATE0 + k, 0,
                                       ELEMENTS, zeros));
}

int main(int argc, char **argv) {
  CHECK(argc == 3);
  muir_device_t device =
      strcmp(argv[2], "cuda") == 0 ? MUIR_DEVICE_CUDA : MUIR_DEVICE_CPU;
  muir_package_t *package = NULL;
  CHECK_OK(muir_package_open(argv[1], &package));
  const muir_package_info_t *info = NULL;
  CHECK_OK(muir_package_get_info(package, &info));
  CHECK(info->num_slots == 3 && info->num_tensor_rows == 2);

  float params[ELEMENTS], grads[ELEMENTS];
  long double sum = 0;
  for (int64_t i = 0; i < ELEMENTS; ++i) {
    params[i] = (float)sin(0.37 * (double)i) * 0.5f;
    // Padding gets large values that would show in the norm.
    grads[i] = isPadding(i) ? 1e3f : (float)cos(0.91 * (double)i) * 1e-2f;
    if (!isPadding(i))
      sum += (long double)grads[i] * grads[i];
  }
  double want = (double)sqrtl(sum);

  // The norm alone, and with a step; the same bits every time.
  muir_state_t *state = NULL, *other = NULL;
  CHECK_OK(muir_state_create(package, device, &state));
  CHECK_OK(muir_state_create(package, device, &other));
  fill(state, params, grads);
  double norm = 0, again = 0;
  CHECK_OK(muir_state_grad_norm(state, &norm));
  printf("norm %.17g want %.17g\n", norm, want);
  // CHECK: norm [[NORM:[0-9.e-]+]] want
  CHECK(fabs(norm - want) <= 1e-15 * want);
  CHECK_OK(muir_state_step_with_norm(state, 1, 1.0f, &again));
  CHECK(memcmp(&norm, &again, sizeof(norm)) == 0);

  // Multipliers: 1 and 1 by default; lr x 2.5 and no weight decay for
  // blocks.w in `state`, nothing in `other`.
  double lr = 0, wd = 0;
  CHECK_OK(muir_state_get_optimizer_multipliers(state, 0, &lr, &wd));
  CHECK(lr == 1.0 && wd == 1.0);
  fill(state, params, grads);
  fill(other, params, grads);
  CHECK_OK(muir_state_set_optimizer_multipliers(state, 0, 2.5, 0.0));
  CHECK_OK(muir_state_get_optimizer_multipliers(state, 0, &lr, &wd));
  CHECK(lr == 2.5 && wd == 0.0);
  CHECK_OK(muir_state_step(state, 1, 0.5f));
  CHECK_OK(muir_state_step(other, 1, 0.5f));
  float got[ELEMENTS], plain[ELEMENTS];
  CHECK_OK(muir_state_copy_to_host(state, MUIR_BUFFER_PARAMS, 0, ELEMENTS, got));
  CHECK_OK(muir_state_copy_to_host(other, MUIR_BUFFER_PARAMS, 0, ELEMENTS,
                                   plain));
  double worst = 0, worstPlain = 0;
  for (int64_t i = 0; i < ELEMENTS; ++i) {
    double r = referenceStep(i, params[i], grads[i], 0.5, 2.5, 0.0);
    double rPlain = referenceStep(i, params[i], grads[i], 0.5, 1.0, 1.0);
    worst = fmax(worst, fabs(got[i] - r) / (fabs(r) + 1e-3));
    worstPlain = fmax(worstPlain, fabs(plain[i] - rPlain) / (fabs(rPlain) + 1e-3));
    if (i >= 32 && i < 38) // embed.weight keeps its constants
      CHECK(got[i] == plain[i]);
    if (i < 12)
      CHECK(got[i] != plain[i]);
  }
  printf("override worst %.3g plain worst %.3g\n", worst, worstPlain);
  // CHECK: override worst
  CHECK(worst < 1e-6 && worstPlain < 1e-6);

  // 1 and 1 restore the compiled-in constants bit for bit.
  CHECK_OK(muir_state_set_optimizer_multipliers(state, 0, 1.0, 1.0));
  fill(state, params, grads);
  fill(other, params, grads);
  CHECK_OK(muir_state_step(state, 1, 0.5f));
  CHECK_OK(muir_state_step(other, 1, 0.5f));
  CHECK_OK(muir_state_copy_to_host(state, MUIR_BUFFER_PARAMS, 0, ELEMENTS, got));
  CHECK_OK(muir_state_copy_to_host(other, MUIR_BUFFER_PARAMS, 0, ELEMENTS,
                                   plain));
  CHECK(memcmp(got, plain, sizeof(got)) == 0);
  printf("restored\n");
  // CHECK-NEXT: restored

  // Bad arguments.
  EXPECT_ERROR("tied", MUIR_ERROR_ARGUMENT,
               muir_state_set_optimizer_multipliers(state, 2, 2.0, 1.0));
  // CHECK-NEXT: tied: argument: muir_state_set_optimizer_multipliers: parameter 'unembed.weight' is tied to 'embed.weight' and has no constants of its own; set those of 'embed.weight'
  EXPECT_ERROR("range", MUIR_ERROR_ARGUMENT,
               muir_state_set_optimizer_multipliers(state, 3, 2.0, 1.0));
  // CHECK-NEXT: range: argument: muir_state_set_optimizer_multipliers: no parameter 3 (package '{{.*}}' has 3)
  EXPECT_ERROR("negative", MUIR_ERROR_ARGUMENT,
               muir_state_set_optimizer_multipliers(state, 0, -1.0, 1.0));
  // CHECK-NEXT: negative: argument: muir_state_set_optimizer_multipliers: multipliers must be finite and non-negative, got lr -1 and weight decay 1
  EXPECT_ERROR("nan", MUIR_ERROR_ARGUMENT,
               muir_state_set_optimizer_multipliers(state, 0, 1.0, NAN));
  // CHECK-NEXT: nan: argument: muir_state_set_optimizer_multipliers: multipliers must be finite and non-negative, got lr 1 and weight decay nan
  EXPECT_ERROR("get", MUIR_ERROR_ARGUMENT,
               muir_state_get_optimizer_multipliers(state, 0, NULL, &wd));
  // CHECK-NEXT: get: argument: muir_state_get_optimizer_multipliers: out_lr is NULL
  EXPECT_ERROR("norm", MUIR_ERROR_ARGUMENT, muir_state_grad_norm(state, NULL));
  // CHECK-NEXT: norm: argument: muir_state_grad_norm: out_norm is NULL
  EXPECT_ERROR("step", MUIR_ERROR_ARGUMENT,
               muir_state_step_with_norm(state, 0, 1.0f, &norm));
  // CHECK-NEXT: step: argument: muir_state_step: step 0 given, but steps count from 1
  CHECK(memcmp(&norm, &again, sizeof(norm)) == 0); // not written

  muir_state_release(state);
  muir_state_release(other);
  muir_package_release(package);
  return 0;
}
