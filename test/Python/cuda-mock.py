# A CUDA state from Python, against the mock driver (test/Runtime/Inputs/
# mock_cuda.c): host copies in and out, the same bits as a CPU state, and no
# numpy views of device memory.
#
# REQUIRES: cuda-headers
# RUN: rm -rf %t && mkdir -p %t/pkg
# RUN: %muir_cc -std=c11 -O1 -shared -fPIC -I%muir_rt_include -I%muir_src/test/Runtime/Inputs -I%cuda_include %muir_src/test/Runtime/Inputs/mock_cuda.c -lm -o %t/libcuda-mock.so
# RUN: %muir_build_fixture -o %t/pkg/libmuir_kernels.so
# RUN: echo ".version 8.0 // TEST FIXTURE" > %t/pkg/kernels.ptx
# RUN: env MUIR_CUDA_DRIVER=%t/libcuda-mock.so %python %s %t/pkg 2>&1 | FileCheck %s
# CHECK: mock-cuda: loaded ptx '.version 8.0 // TEST FIXTURE'
# CHECK: views: ERROR_ARGUMENT: params: the buffers of a state on cuda:0 are device memory; use copy_to_host / copy_from_host
# CHECK: cuda matches cpu
# CHECK: mock-cuda: at exit: 0 allocations, 0 contexts retained, depth 0

import sys

import numpy as np

import muir

pkg = muir.Package(sys.argv[1])
gpu = pkg.state("cuda")
cpu = pkg.state("cpu")
assert gpu.device == "cuda:0" and gpu.buffer_pointer(muir.BUFFER_PARAMS) != 0
try:
    gpu.params
    raise AssertionError("views of device memory")
except muir.Error as e:
    print("views: %s" % e, flush=True)
for s in (gpu, cpu):
    s.init(seed=5)
grads = np.cos(np.arange(48, dtype=np.float32))
for t in (1, 2):
    for s in (gpu, cpu):
        s.copy_from_host(muir.BUFFER_GRADS, grads * t)
        s.step(t, 0.5)
for which in range(4):
    assert (gpu.copy_to_host(which).tobytes()
            == cpu.copy_to_host(which).tobytes()), which
part = gpu.copy_to_host(muir.BUFFER_PARAMS, 16, 12).reshape(4, 3)
assert (part == cpu.params["blocks.w"][1]).all()
print("cuda matches cpu", flush=True)
del gpu, cpu
