// Every bad argument to the package and state calls returns its status and a
// message naming the problem; nothing crashes, and the state stays usable.
//
// RUN: rm -rf %t && mkdir -p %t/pkg
// RUN: %muir_build_fixture -o %t/pkg/libmuir_kernels.so
// RUN: %muir_cc -std=c11 -Wall -Werror -I%muir_rt_include -I%S/Inputs %s %muir_rt_link -lm -o %t/test
// RUN: %t/test %t/pkg | FileCheck %s

#include "check.h"

#include <math.h>
#include <stdalign.h>
#include <string.h>

#define ELEMENTS 48

int main(int argc, char **argv) {
  CHECK(argc == 2);
  muir_package_t *package = NULL;
  CHECK_OK(muir_package_open(argv[1], &package));
  int64_t index = 0;

  // CHECK: find: not_found: package '{{.*}}/pkg' (model 'fixture') has no parameter 'blocks.v'
  EXPECT_ERROR("find", MUIR_ERROR_NOT_FOUND,
               muir_package_find_param(package, "blocks.v", &index));
  // A prefix of a name is not the name.
  // CHECK-NEXT: find: not_found: package '{{.*}}' (model 'fixture') has no parameter 'blocks'
  EXPECT_ERROR("find", MUIR_ERROR_NOT_FOUND,
               muir_package_find_param(package, "blocks", &index));
  // CHECK-NEXT: find: argument: muir_package_find_param: name is NULL
  EXPECT_ERROR("find", MUIR_ERROR_ARGUMENT,
               muir_package_find_param(package, NULL, &index));
  // CHECK-NEXT: info: argument: muir_package_get_info: out_info is NULL
  EXPECT_ERROR("info", MUIR_ERROR_ARGUMENT,
               muir_package_get_info(package, NULL));

  muir_state_t *state = NULL;
  // CHECK-NEXT: create: argument: muir_state_create: package is NULL
  EXPECT_ERROR("create", MUIR_ERROR_ARGUMENT,
               muir_state_create(NULL, MUIR_DEVICE_CPU, &state));
  // CHECK-NEXT: create: argument: muir_state_create: device -1 is neither MUIR_DEVICE_CPU nor a CUDA device
  EXPECT_ERROR("create", MUIR_ERROR_ARGUMENT,
               muir_state_create(package, -1, &state));
  CHECK(state == NULL);

  // Adopting buffers of the wrong size, misaligned, missing or repeated.
  alignas(64) float params[ELEMENTS + 16];
  alignas(64) float grads[ELEMENTS];
  alignas(64) float m[ELEMENTS];
  alignas(64) float v[ELEMENTS];
  float *states[] = {m, v};
  // CHECK-NEXT: adopt: size: muir_state_adopt: buffers of 47 elements given, but package '{{.*}}/pkg' (model 'fixture') needs 48 elements per buffer
  EXPECT_ERROR("adopt", MUIR_ERROR_SIZE,
               muir_state_adopt(package, MUIR_DEVICE_CPU, params, grads, states,
                                ELEMENTS - 1, &state));
  // CHECK-NEXT: adopt: size: muir_state_adopt: buffers of 64 elements given
  EXPECT_ERROR("adopt", MUIR_ERROR_SIZE,
               muir_state_adopt(package, MUIR_DEVICE_CPU, params, grads, states,
                                ELEMENTS + 16, &state));
  // CHECK-NEXT: adopt: argument: muir_state_adopt: the params buffer at 0x{{[0-9a-f]+}} is not aligned to the package's 64 bytes
  EXPECT_ERROR("adopt", MUIR_ERROR_ARGUMENT,
               muir_state_adopt(package, MUIR_DEVICE_CPU, params + 1, grads,
                                states, ELEMENTS, &state));
  float *misalignedStates[] = {m, v + 4};
  // CHECK-NEXT: adopt: argument: muir_state_adopt: the state 1 buffer at 0x{{[0-9a-f]+}} is not aligned to the package's 64 bytes
  EXPECT_ERROR("adopt", MUIR_ERROR_ARGUMENT,
               muir_state_adopt(package, MUIR_DEVICE_CPU, params, grads,
                                misalignedStates, ELEMENTS, &state));
  // CHECK-NEXT: adopt: argument: muir_state_adopt: the grads buffer is NULL
  EXPECT_ERROR("adopt", MUIR_ERROR_ARGUMENT,
               muir_state_adopt(package, MUIR_DEVICE_CPU, params, NULL, states,
                                ELEMENTS, &state));
  // CHECK-NEXT: adopt: argument: muir_state_adopt: states is NULL, but package '{{.*}}/pkg' needs 2 optimizer state buffers
  EXPECT_ERROR("adopt", MUIR_ERROR_ARGUMENT,
               muir_state_adopt(package, MUIR_DEVICE_CPU, params, grads, NULL,
                                ELEMENTS, &state));
  float *missingState[] = {m, NULL};
  // CHECK-NEXT: adopt: argument: muir_state_adopt: the state 1 buffer is NULL
  EXPECT_ERROR("adopt", MUIR_ERROR_ARGUMENT,
               muir_state_adopt(package, MUIR_DEVICE_CPU, params, grads,
                                missingState, ELEMENTS, &state));
  float *sharedStates[] = {m, grads};
  // CHECK-NEXT: adopt: argument: muir_state_adopt: the grads and state 1 buffers are the same memory 0x{{[0-9a-f]+}}
  EXPECT_ERROR("adopt", MUIR_ERROR_ARGUMENT,
               muir_state_adopt(package, MUIR_DEVICE_CPU, params, grads,
                                sharedStates, ELEMENTS, &state));
  CHECK(state == NULL);
  // Buffers that meet without starting at the same address: a step would
  // write one through the other. Adjacent ones are fine.
  // CHECK-NEXT: adopt: argument: muir_state_adopt: the grads buffer [0x{{[0-9a-f]+}}, + 192 bytes) overlaps the params buffer [0x{{[0-9a-f]+}}, + 192 bytes)
  EXPECT_ERROR("adopt", MUIR_ERROR_ARGUMENT,
               muir_state_adopt(package, MUIR_DEVICE_CPU, params, params + 16,
                                states, ELEMENTS, &state));
  // CHECK-NEXT: adopt: argument: muir_state_adopt: the state 1 buffer [0x{{[0-9a-f]+}}, + 192 bytes) overlaps the params buffer [0x{{[0-9a-f]+}}, + 192 bytes)
  float *overStates[] = {m, params + 32};
  EXPECT_ERROR("adopt", MUIR_ERROR_ARGUMENT,
               muir_state_adopt(package, MUIR_DEVICE_CPU, params, grads,
                                overStates, ELEMENTS, &state));
  CHECK(state == NULL);
  alignas(64) float pair[2 * ELEMENTS];
  CHECK_OK(muir_state_adopt(package, MUIR_DEVICE_CPU, pair, pair + ELEMENTS,
                            states, ELEMENTS, &state));
  muir_state_release(state);
  state = NULL;

  CHECK_OK(muir_state_create(package, MUIR_DEVICE_CPU, &state));
  CHECK_OK(muir_state_init(state, 7));
  float before[ELEMENTS];
  CHECK_OK(
      muir_state_copy_to_host(state, MUIR_BUFFER_PARAMS, 0, ELEMENTS, before));

  float *data = NULL;
  int64_t elements = 0;
  // CHECK-NEXT: buffer: argument: muir_state_buffer: no buffer 4 (package '{{.*}}/pkg' has 4: params, grads and 2 optimizer states)
  EXPECT_ERROR("buffer", MUIR_ERROR_ARGUMENT,
               muir_state_buffer(state, 4, &data, &elements));
  // CHECK-NEXT: buffer: argument: muir_state_buffer: no buffer -1
  EXPECT_ERROR("buffer", MUIR_ERROR_ARGUMENT,
               muir_state_buffer(state, -1, &data, &elements));
  // CHECK-NEXT: buffer: argument: muir_state_buffer: out_data is NULL
  EXPECT_ERROR("buffer", MUIR_ERROR_ARGUMENT,
               muir_state_buffer(state, 0, NULL, &elements));

  float host[ELEMENTS];
  // CHECK-NEXT: copy: argument: muir_state_copy_to_host: elements [40, 40 + 9) are outside the params buffer of 48 elements
  EXPECT_ERROR("copy", MUIR_ERROR_ARGUMENT,
               muir_state_copy_to_host(state, MUIR_BUFFER_PARAMS, 40, 9, host));
  // CHECK-NEXT: copy: argument: muir_state_copy_from_host: elements [-1, -1 + 2) are outside the state 0 buffer of 48 elements
  EXPECT_ERROR(
      "copy", MUIR_ERROR_ARGUMENT,
      muir_state_copy_from_host(state, MUIR_BUFFER_STATE0, -1, 2, host));
  // CHECK-NEXT: copy: argument: muir_state_copy_from_host: host is NULL
  EXPECT_ERROR("copy", MUIR_ERROR_ARGUMENT,
               muir_state_copy_from_host(state, MUIR_BUFFER_GRADS, 0, 2, NULL));

  // CHECK-NEXT: init: argument: muir_state_init_range: range [0, 49) is not inside the params buffer [0, 48)
  EXPECT_ERROR("init", MUIR_ERROR_ARGUMENT,
               muir_state_init_range(state, 1, 0, 49));
  // CHECK-NEXT: init: argument: muir_state_init_range: range [10, 9) is not inside the params buffer [0, 48)
  EXPECT_ERROR("init", MUIR_ERROR_ARGUMENT,
               muir_state_init_range(state, 1, 10, 9));
  // CHECK-NEXT: init: argument: muir_state_init_range: range [-16, 0) is not inside the params buffer [0, 48)
  EXPECT_ERROR("init", MUIR_ERROR_ARGUMENT,
               muir_state_init_range(state, 1, -16, 0));
  // CHECK-NEXT: init: argument: muir_state_init: state is NULL
  EXPECT_ERROR("init", MUIR_ERROR_ARGUMENT, muir_state_init(NULL, 1));

  // CHECK-NEXT: step: argument: muir_state_step: step 0 given, but steps count from 1
  EXPECT_ERROR("step", MUIR_ERROR_ARGUMENT, muir_state_step(state, 0, 1.0f));
  // CHECK-NEXT: step: argument: muir_state_step: step -3 given, but steps count from 1
  EXPECT_ERROR("step", MUIR_ERROR_ARGUMENT, muir_state_step(state, -3, 1.0f));
  // CHECK-NEXT: step: argument: muir_state_step: lr_factor nan is not a finite non-negative number
  EXPECT_ERROR("step", MUIR_ERROR_ARGUMENT, muir_state_step(state, 1, NAN));
  // CHECK-NEXT: step: argument: muir_state_step: lr_factor inf is not a finite non-negative number
  EXPECT_ERROR("step", MUIR_ERROR_ARGUMENT,
               muir_state_step(state, 1, INFINITY));
  // CHECK-NEXT: step: argument: muir_state_step: lr_factor -0.5 is not a finite non-negative number
  EXPECT_ERROR("step", MUIR_ERROR_ARGUMENT, muir_state_step(state, 1, -0.5f));
  // CHECK-NEXT: step: argument: muir_state_step: state is NULL
  EXPECT_ERROR("step", MUIR_ERROR_ARGUMENT, muir_state_step(NULL, 1, 1.0f));

  // CHECK-NEXT: launch: argument: muir_launch_config: negative element count
  muir_launch_config_t config;
  EXPECT_ERROR("launch", MUIR_ERROR_ARGUMENT, muir_launch_config(-1, &config));

  // None of the failed calls touched the parameters, and the next good call
  // clears the message.
  CHECK_OK(
      muir_state_copy_to_host(state, MUIR_BUFFER_PARAMS, 0, ELEMENTS, host));
  CHECK(memcmp(host, before, sizeof(host)) == 0);
  CHECK(muir_last_error()[0] == '\0');
  CHECK_OK(muir_state_step(state, 1, 0.0f));
  // CHECK-NEXT: done
  printf("done\n");

  muir_state_release(state);
  muir_package_release(package);
  return 0;
}
