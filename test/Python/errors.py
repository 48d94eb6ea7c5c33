# Every runtime error reaches Python as muir.Error with its status and the
# runtime's message; what Python checks itself before calling the runtime
# (steps, lr_factor, adopted buffers; test/Hostile/Python has the rest) is a
# muir.Error too.
#
# RUN: rm -rf %t && mkdir -p %t/pkg %t/empty %t/abi
# RUN: %muir_build_fixture -o %t/pkg/libmuir_kernels.so
# RUN: %muir_build_fixture -DFIXTURE_ABI=3 -o %t/abi/libmuir_kernels.so
# RUN: env MUIR_CUDA_DRIVER=%t/no/libcuda.so.1 %python %s %t | FileCheck %s

import sys

import numpy as np

import muir

root = sys.argv[1]


def expect(label, status, call, *args, **kwargs):
    try:
        call(*args, **kwargs)
    except muir.Error as e:
        assert e.status == status, (label, e.status, status)
        assert e.message and str(e) == "%s: %s" % (status.name, e.message)
        print("%s: %s" % (label, e))
        return
    raise AssertionError("%s: no error" % label)


S = muir.Status
# CHECK: missing: ERROR_IO: cannot open package directory '{{.*}}/missing': No such file or directory
expect("missing", S.ERROR_IO, muir.Package, root + "/missing")
# CHECK-NEXT: empty: ERROR_IO: package '{{.*}}/empty' has no manifest.json
expect("empty", S.ERROR_IO, muir.Package, root + "/empty")
# CHECK-NEXT: abi: ERROR_VERSION: package '{{.*}}/abi' has ABI version 3 but this runtime reads version 2
expect("abi", S.ERROR_VERSION, muir.Package, root + "/abi")

pkg = muir.Package(root + "/pkg")
# CHECK-NEXT: find: ERROR_NOT_FOUND: package '{{.*}}/pkg' (model 'fixture') has no parameter 'nope'
expect("find", S.ERROR_NOT_FOUND, pkg.find, "nope")
# CHECK-NEXT: cuda: ERROR_NO_DEVICE: no CUDA driver: cannot load {{.*}}/no/libcuda.so.1
expect("cuda", S.ERROR_NO_DEVICE, pkg.state, "cuda")
# CHECK-NEXT: cuda1: ERROR_NO_DEVICE: no CUDA driver
expect("cuda1", S.ERROR_NO_DEVICE, pkg.state, "cuda:1")

st = pkg.state()
# CHECK-NEXT: step0: ERROR_ARGUMENT: step: t = 0 is outside [1, 9223372036854775807]
expect("step0", S.ERROR_ARGUMENT, st.step, 0)
# CHECK-NEXT: lr: ERROR_ARGUMENT: step: lr_factor nan is not a finite, non-negative float32
expect("lr", S.ERROR_ARGUMENT, st.step, 1, float("nan"))
# CHECK-NEXT: range: ERROR_ARGUMENT: muir_state_init_range: range [0, 100) is not inside the params buffer [0, 48)
expect("range", S.ERROR_ARGUMENT, st.init_range, 0, 0, 100)
# CHECK-NEXT: copy: ERROR_ARGUMENT: muir_state_copy_from_host: elements [40, 40 + 10) are outside the grads buffer of 48 elements
expect("copy", S.ERROR_ARGUMENT, st.copy_from_host, muir.BUFFER_GRADS,
       np.zeros(10), 40)
# CHECK-NEXT: buffer: ERROR_ARGUMENT: muir_state_buffer_bytes: no buffer 9
expect("buffer", S.ERROR_ARGUMENT, st.buffer_pointer, 9)

good = [muir.aligned_zeros(48, 64) for _ in range(4)]
# CHECK-NEXT: size: ERROR_SIZE: adopt: params has 40 elements, but package '{{.*}}/pkg' (model 'fixture') needs 48 per buffer
small = [muir.aligned_zeros(40, 64) for _ in range(4)]
expect("size", S.ERROR_SIZE, pkg.adopt, small[0], small[1], small[2:])
# CHECK-NEXT: misaligned: ERROR_ARGUMENT: adopt: grads at 0x{{[0-9a-f]+}} is not aligned to the package's 64 bytes (muir.aligned_zeros makes one)
shifted = muir.aligned_zeros(49, 64)[1:]
expect("misaligned", S.ERROR_ARGUMENT, pkg.adopt, good[0], shifted, good[2:])
# CHECK-NEXT: states: ERROR_ARGUMENT: adopt: package '{{.*}}/pkg' (optimizer adamw) keeps 2 state buffers, but 0 were given
expect("states", S.ERROR_ARGUMENT, pkg.adopt, good[0], good[1])
# Device addresses whose bytes overlap: the runtime refuses them before it
# looks for the driver.
# CHECK-NEXT: overlap: ERROR_ARGUMENT: muir_state_adopt_buffers: the grads buffer [0x1040, + 192 bytes) overlaps the params buffer [0x1000, + 192 bytes)
expect("overlap", S.ERROR_ARGUMENT, pkg.adopt, 4096, 4096 + 64,
       [12288, 16384], device="cuda")

# Python-side misuse is reported before the runtime is called.
try:
    pkg.state("gpu")
    raise AssertionError("bad device accepted")
except ValueError as e:
    # CHECK-NEXT: device: ERROR_ARGUMENT: device must be 'cpu', 'cuda' or 'cuda:N', not 'gpu'
    print("device: %s" % e)
try:
    st.params["nope"]
    raise AssertionError("unknown name accepted")
except KeyError as e:
    # CHECK-NEXT: key: ERROR_NOT_FOUND: no parameter 'nope' (have: blocks.w, embed.weight, unembed.weight)
    print("key: %s" % e)
# The state still works after all of that.
st.init(1)
st.step(1)
# CHECK-NEXT: done
print("done")
