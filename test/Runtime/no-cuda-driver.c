// Where no CUDA driver can be loaded (this machine, CI), a CUDA state is
// MUIR_ERROR_NO_DEVICE with a message, for created and adopted buffers alike,
// and the CPU path is unaffected.
//
// UNSUPPORTED: cuda-driver
// RUN: rm -rf %t && mkdir -p %t/pkg
// RUN: %muir_build_fixture -o %t/pkg/libmuir_kernels.so
// RUN: %muir_cc -std=c11 -Wall -Werror -I%muir_rt_include -I%S/Inputs %s %muir_rt_link -o %t/test
// RUN: env -u MUIR_CUDA_DRIVER %t/test %t/pkg | FileCheck %s

#include "check.h"

int main(int argc, char **argv) {
  CHECK(argc == 2);
  muir_package_t *package = NULL;
  CHECK_OK(muir_package_open(argv[1], &package));
  muir_state_t *state = NULL;
  // CHECK: create: no_device: no CUDA driver: cannot load libcuda.so.1: {{.*}} (MUIR_CUDA_DRIVER overrides the path)
  EXPECT_ERROR("create", MUIR_ERROR_NO_DEVICE,
               muir_state_create(package, MUIR_DEVICE_CUDA, &state));
  CHECK(state == NULL);
  // The driver is looked for once; the answer is the same every time.
  // CHECK-NEXT: create: no_device: no CUDA driver: cannot load libcuda.so.1
  EXPECT_ERROR("create", MUIR_ERROR_NO_DEVICE,
               muir_state_create(package, MUIR_DEVICE_CUDA_ORDINAL(3), &state));
  float *fake = (float *)(uintptr_t)4096;
  float *states[] = {fake + 128, fake + 192};
  // CHECK-NEXT: adopt: no_device: no CUDA driver: cannot load libcuda.so.1
  EXPECT_ERROR("adopt", MUIR_ERROR_NO_DEVICE,
               muir_state_adopt(package, MUIR_DEVICE_CUDA, fake, fake + 64,
                                states, 48, &state));
  CHECK(state == NULL);
  CHECK_OK(muir_state_create(package, MUIR_DEVICE_CPU, &state));
  CHECK_OK(muir_state_init(state, 1));
  CHECK_OK(muir_state_step(state, 1, 1.0f));
  // CHECK-NEXT: cpu ok
  printf("cpu ok\n");
  muir_state_release(state);
  muir_package_release(package);
  return 0;
}
