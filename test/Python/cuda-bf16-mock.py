# A bf16 package's CUDA states from Python, against the mock driver
# (test/Runtime/Inputs/mock_cuda.c) and the bf16 fixture package
# (FIXTURE_BF16): a created state and one adopted over device memory the
# caller allocated (Package.adopt with params_bf16) give a CPU state's bytes
# in every buffer through init and clipped steps, the 2-byte buffers moving
# as uint16 bfloat16 bits (copy_to_host / copy_from_host), and float values
# into them are an error.
#
# REQUIRES: cuda-headers
# RUN: rm -rf %t && mkdir -p %t/pkg
# RUN: %muir_cc -std=c11 -O1 -shared -fPIC -I%muir_rt_include -I%muir_src/test/Runtime/Inputs -I%cuda_include %muir_src/test/Runtime/Inputs/mock_cuda.c -lm -o %t/libcuda-mock.so
# RUN: %muir_build_fixture -DFIXTURE_BF16 -o %t/pkg/libmuir_kernels.so
# RUN: echo ".version 8.0 // TEST FIXTURE bf16" > %t/pkg/kernels.ptx
# RUN: env MUIR_CUDA_DRIVER=%t/libcuda-mock.so %python %s %t/pkg 2>&1 | FileCheck %s
# CHECK: mock-cuda: launch muir_step_bf16_kernel grid 1 block 256 step 2 lr 1 scale 0.{{[0-9]+}} seed 5
# CHECK: floats into the grads: ERROR_ARGUMENT: copy_from_host: values: a bf16 buffer takes bfloat16 bits as uint16 (muir.to_bf16 rounds float32 to them), not float32
# CHECK: bf16 cuda (created, adopted) matches cpu
# CHECK: mock-cuda: at exit: 0 allocations, 0 contexts retained, depth 0

import ctypes
import os
import sys

import numpy as np

import muir

pkg = muir.Package(sys.argv[1])
assert pkg.precision == "bf16"

# Device buffers of the caller, in the primary context.
cu = ctypes.CDLL(os.environ["MUIR_CUDA_DRIVER"])
context = ctypes.c_void_p()
assert cu.cuDevicePrimaryCtxRetain(ctypes.byref(context), 0) == 0
assert cu.cuCtxPushCurrent_v2(context) == 0
mine = []
for size in (4, 2, 4, 4, 2):  # params, grads, m, v, the params copy
    p = ctypes.c_uint64()
    assert cu.cuMemAlloc_v2(ctypes.byref(p), ctypes.c_size_t(48 * size)) == 0
    assert cu.cuMemsetD8_v2(p, ctypes.c_ubyte(0), ctypes.c_size_t(48 * size)) == 0
    mine.append(p.value)
assert cu.cuCtxPopCurrent_v2(ctypes.byref(context)) == 0

gpu = pkg.state("cuda")
adopted = pkg.adopt(mine[0], mine[1], mine[2:4], device="cuda",
                    params_bf16=mine[4])
cpu = pkg.state("cpu")
assert adopted.buffer_pointer(muir.BUFFER_PARAMS_BF16) == mine[4]
states = (gpu, adopted, cpu)
for s in states:
    s.init(seed=5)
grads = muir.to_bf16(np.cos(np.arange(48, dtype=np.float32)) * 3)
for t in (1, 2):
    for s in states:
        s.copy_from_host(muir.BUFFER_GRADS, grads)
        report = s.step(t, 0.5 * t, max_grad_norm=1.0)
        assert report.grad_scale < 1.0 and not report.skipped
try:
    gpu.copy_from_host(muir.BUFFER_GRADS, muir.from_bf16(grads))
    raise AssertionError("float values into bf16 grads")
except muir.Error as e:
    print("floats into the grads: %s" % e, flush=True)
for which in (0, 1, 2, 3, muir.BUFFER_PARAMS_BF16):
    want = cpu.copy_to_host(which)
    assert want.dtype == (np.uint16 if which in (1, muir.BUFFER_PARAMS_BF16)
                          else np.float32)
    for s in (gpu, adopted):
        assert s.copy_to_host(which).tobytes() == want.tobytes(), which
assert (gpu.copy_to_host(muir.BUFFER_GRADS) == grads).all()
assert (gpu.copy_to_host(muir.BUFFER_PARAMS_BF16)
        == cpu.flat_params_bf16).all()
print("bf16 cuda (created, adopted) matches cpu", flush=True)
del gpu, adopted, cpu, states, s
for p in mine:
    assert cu.cuMemFree_v2(ctypes.c_uint64(p)) == 0
assert cu.cuDevicePrimaryCtxRelease_v2(0) == 0
