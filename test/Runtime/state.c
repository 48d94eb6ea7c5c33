// States on the CPU: created and adopted buffers, init and its shards, three
// AdamW steps checked against a reference written here from PyTorch's
// torch.optim.AdamW (in double precision), host copies, launch configs.
//
// RUN: rm -rf %t && mkdir -p %t/pkg
// RUN: %muir_build_fixture -o %t/pkg/libmuir_kernels.so
// RUN: %muir_cc -std=c11 -Wall -Werror -I%muir_rt_include -I%S/Inputs %s %muir_rt_link -lm -o %t/test
// RUN: %t/test %t/pkg | FileCheck %s

#include "check.h"

#include <math.h>
#include <stdalign.h>
#include <stdbool.h>
#include <string.h>

#define ELEMENTS 48

/* The fixture's constants (fixture_package.c, fixture_manifest.json), per
 * span of flat elements. */
typedef struct {
  int64_t begin, end;
  float lr, beta1, beta2, eps, weightDecay;
} span_t;
static const span_t spans[] = {
    {0, 12, 1e-2f, 0.9f, 0.99f, 1e-8f, 0.1f},
    {16, 28, 1e-2f, 0.9f, 0.99f, 1e-8f, 0.1f},
    {32, 38, 3e-3f, 0.8f, 0.95f, 1e-6f, 0.0f},
};
#define NUM_SPANS (sizeof(spans) / sizeof(spans[0]))

/* One AdamW step in double precision over every parameter element. */
static void referenceStep(double *p, const double *g, double *m, double *v,
                          int64_t t, double lrFactor) {
  for (size_t s = 0; s < NUM_SPANS; ++s) {
    const span_t *k = &spans[s];
    double lr = k->lr * lrFactor, b1 = k->beta1, b2 = k->beta2;
    for (int64_t i = k->begin; i < k->end; ++i) {
      p[i] *= 1.0 - lr * k->weightDecay;
      m[i] = b1 * m[i] + (1.0 - b1) * g[i];
      v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i];
      double mHat = m[i] / (1.0 - pow(b1, (double)t));
      double vHat = v[i] / (1.0 - pow(b2, (double)t));
      p[i] -= lr * mHat / (sqrt(vHat) + k->eps);
    }
  }
}

static bool isPadding(int64_t i) {
  for (size_t s = 0; s < NUM_SPANS; ++s)
    if (i >= spans[s].begin && i < spans[s].end)
      return false;
  return true;
}

static float *buffer(muir_state_t *state, int32_t which) {
  float *data = NULL;
  int64_t elements = 0;
  CHECK_OK(muir_state_buffer(state, which, &data, &elements));
  CHECK(elements == ELEMENTS);
  return data;
}

int main(int argc, char **argv) {
  CHECK(argc == 2);
  muir_package_t *package = NULL;
  CHECK_OK(muir_package_open(argv[1], &package));

  // Created state: four aligned, zeroed buffers.
  muir_state_t *state = NULL;
  CHECK_OK(muir_state_create(package, MUIR_DEVICE_CPU, &state));
  CHECK(muir_state_device(state) == MUIR_DEVICE_CPU);
  for (int32_t which = 0; which < 4; ++which) {
    float *data = buffer(state, which);
    CHECK((uintptr_t)data % 64 == 0);
    for (int64_t i = 0; i < ELEMENTS; ++i)
      CHECK(data[i] == 0.0f);
  }

  // Init: deterministic in the seed, zero padding, values within the std.
  CHECK_OK(muir_state_init(state, 42));
  float full[ELEMENTS];
  memcpy(full, buffer(state, MUIR_BUFFER_PARAMS), sizeof(full));
  int nonzero = 0;
  for (int64_t i = 0; i < ELEMENTS; ++i) {
    if (isPadding(i))
      CHECK(full[i] == 0.0f);
    else
      nonzero += full[i] != 0.0f;
    CHECK(fabsf(full[i]) <= (i < 32 ? 0.5f : 1.0f));
  }
  CHECK(nonzero == 30);
  CHECK_OK(muir_state_init(state, 43));
  CHECK(memcmp(full, buffer(state, MUIR_BUFFER_PARAMS), sizeof(full)) != 0);

  // Shards of init, in any order and any split (through a parameter, inside
  // padding, empty), give the same bits as one full init.
  const int64_t cuts[][4] = {{0, 5, 30, 48}, {0, 16, 17, 48}, {0, 0, 47, 48}};
  for (int c = 0; c < 3; ++c) {
    float *params = buffer(state, MUIR_BUFFER_PARAMS);
    memset(params, 0x7f, ELEMENTS * sizeof(float));
    for (int s = 2; s >= 0; --s)
      CHECK_OK(muir_state_init_range(state, 42, cuts[c][s], cuts[c][s + 1]));
    CHECK(memcmp(full, params, sizeof(full)) == 0);
  }
  // CHECK: init shards match
  printf("init shards match\n");

  // Three steps against the reference, with a schedule factor.
  double p[ELEMENTS], g[ELEMENTS], m[ELEMENTS] = {0}, v[ELEMENTS] = {0};
  float *params = buffer(state, MUIR_BUFFER_PARAMS);
  float *grads = buffer(state, MUIR_BUFFER_GRADS);
  for (int64_t i = 0; i < ELEMENTS; ++i)
    p[i] = params[i];
  const float factors[] = {1.0f, 0.5f, 0.25f};
  double worst = 0.0;
  for (int64_t t = 1; t <= 3; ++t) {
    for (int64_t i = 0; i < ELEMENTS; ++i) {
      grads[i] = (float)sin(0.7 * (double)i + (double)t);
      g[i] = grads[i];
    }
    CHECK_OK(muir_state_step(state, t, factors[t - 1]));
    referenceStep(p, g, m, v, t, factors[t - 1]);
    for (int64_t i = 0; i < ELEMENTS; ++i) {
      double err = fabs(params[i] - p[i]) / (fabs(p[i]) + 1e-3);
      worst = err > worst ? err : worst;
      if (isPadding(i))
        CHECK(params[i] == 0.0f);
    }
  }
  CHECK(worst < 1e-5);
  // The optimizer states hold m and v.
  float *m0 = buffer(state, MUIR_BUFFER_STATE0);
  float *v0 = buffer(state, MUIR_BUFFER_STATE0 + 1);
  for (int64_t i = 0; i < ELEMENTS; ++i) {
    CHECK(fabs(m0[i] - m[i]) <= 1e-5 * (fabs(m[i]) + 1e-3));
    CHECK(fabs(v0[i] - v[i]) <= 1e-5 * (fabs(v[i]) + 1e-3));
  }
  // CHECK-NEXT: adamw matches the reference
  printf("adamw matches the reference\n");

  // An adopted state over the caller's buffers computes the same bits.
  alignas(64) float aParams[ELEMENTS];
  alignas(64) float aGrads[ELEMENTS];
  alignas(64) float aM[ELEMENTS];
  alignas(64) float aV[ELEMENTS];
  memset(aM, 0, sizeof(aM));
  memset(aV, 0, sizeof(aV));
  float *aStates[] = {aM, aV};
  muir_state_t *adopted = NULL;
  CHECK_OK(muir_state_adopt(package, MUIR_DEVICE_CPU, aParams, aGrads, aStates,
                            ELEMENTS, &adopted));
  CHECK(buffer(adopted, MUIR_BUFFER_PARAMS) == aParams);
  CHECK(buffer(adopted, MUIR_BUFFER_STATE0 + 1) == aV);
  CHECK_OK(muir_state_init(adopted, 42));
  CHECK(memcmp(full, aParams, sizeof(full)) == 0);

  muir_state_t *fresh = NULL;
  CHECK_OK(muir_state_create(package, MUIR_DEVICE_CPU, &fresh));
  CHECK_OK(muir_state_init(fresh, 42));
  for (int64_t i = 0; i < ELEMENTS; ++i)
    aGrads[i] = (float)cos((double)i);
  // Host copies put the same grads into the created state.
  CHECK_OK(
      muir_state_copy_from_host(fresh, MUIR_BUFFER_GRADS, 0, ELEMENTS, aGrads));
  CHECK_OK(muir_state_step(adopted, 1, 1.0f));
  CHECK_OK(muir_state_step(fresh, 1, 1.0f));
  float back[ELEMENTS];
  CHECK_OK(
      muir_state_copy_to_host(fresh, MUIR_BUFFER_PARAMS, 0, ELEMENTS, back));
  CHECK(memcmp(back, aParams, sizeof(back)) == 0);
  CHECK_OK(muir_state_copy_to_host(fresh, MUIR_BUFFER_STATE0, 10, 3, back));
  CHECK(memcmp(back, aM + 10, 3 * sizeof(float)) == 0);
  // CHECK-NEXT: adopted state matches
  printf("adopted state matches\n");
  // Releasing an adopted state leaves the caller's buffers alone.
  muir_state_release(adopted);
  aParams[0] += 1.0f;

  // The launch configuration of the CUDA path.
  muir_launch_config_t config;
  const int64_t sizes[] = {0, 1, 1024, 1025, INT64_C(1) << 40};
  // CHECK-NEXT: launch 0: 1 x 256
  // CHECK-NEXT: launch 1: 1 x 256
  // CHECK-NEXT: launch 1024: 1 x 256
  // CHECK-NEXT: launch 1025: 2 x 256
  // CHECK-NEXT: launch 1099511627776: 65535 x 256
  for (int i = 0; i < 5; ++i) {
    CHECK_OK(muir_launch_config(sizes[i], &config));
    printf("launch %lld: %u x %u\n", (long long)sizes[i], config.grid_x,
           config.block_x);
  }

  muir_state_release(fresh);
  muir_state_release(state);
  muir_package_release(package);
  return 0;
}
