# Every argument the binding hands to C is checked first: integers that
# ctypes would wrap (init(seed=2**64) was init(0)), adopted buffers of the
# wrong count, dtype, shape, layout, alignment or kind (an integer address on
# the CPU segfaulted), strings C would cut at a NUL, values float32 cannot
# hold. Every failure is a muir.Error (an ArgumentError is also a ValueError,
# a NotFoundError also a KeyError) naming the call and the argument; none
# reaches C, and the state keeps working.
#
# RUN: rm -rf %t && mkdir -p %t/pkg
# RUN: %muir_build_fixture -o %t/pkg/libmuir_kernels.so
# RUN: env MUIR_CUDA_DRIVER=%t/no/libcuda.so.1 %python %s %t/pkg | FileCheck %s

import sys

import numpy as np

import muir

pkg = muir.Package(sys.argv[1])
st = pkg.state()
S = muir.Status


def expect(label, status, call, *args, **kwargs):
    try:
        call(*args, **kwargs)
    except muir.Error as e:
        assert e.status == status, (label, e.status, status, e)
        if status == S.ERROR_ARGUMENT:
            assert isinstance(e, ValueError), label
        print("%s: %s" % (label, e))
        return
    raise AssertionError("%s: no error" % label)


# Integers out of their C type's range.
# CHECK: seed-2**64: ERROR_ARGUMENT: init: seed = 18446744073709551616 is outside [0, 18446744073709551615]
expect("seed-2**64", S.ERROR_ARGUMENT, st.init, 2**64)
# CHECK-NEXT: seed-negative: ERROR_ARGUMENT: init: seed = -1 is outside [0, 18446744073709551615]
expect("seed-negative", S.ERROR_ARGUMENT, st.init, -1)
# CHECK-NEXT: seed-float: ERROR_ARGUMENT: init: seed must be an integer, not 1.5
expect("seed-float", S.ERROR_ARGUMENT, st.init, 1.5)
# CHECK-NEXT: seed-bool: ERROR_ARGUMENT: init: seed must be an integer, not True
expect("seed-bool", S.ERROR_ARGUMENT, st.init, True)
# CHECK-NEXT: seed-string: ERROR_ARGUMENT: init: seed must be an integer, not '1'
expect("seed-string", S.ERROR_ARGUMENT, st.init, "1")
# CHECK-NEXT: range-begin: ERROR_ARGUMENT: init_range: begin = -9223372036854775809 is outside [-9223372036854775808, 9223372036854775807]
expect("range-begin", S.ERROR_ARGUMENT, st.init_range, 0, -2**63 - 1, 4)
# CHECK-NEXT: range-end: ERROR_ARGUMENT: init_range: end = 9223372036854775808 is outside [-9223372036854775808, 9223372036854775807]
expect("range-end", S.ERROR_ARGUMENT, st.init_range, 0, 0, 2**63)
# CHECK-NEXT: step-2**63: ERROR_ARGUMENT: step: t = 9223372036854775808 is outside [1, 9223372036854775807]
expect("step-2**63", S.ERROR_ARGUMENT, st.step, 2**63)
# CHECK-NEXT: step-float: ERROR_ARGUMENT: step: t must be an integer, not 2.0
expect("step-float", S.ERROR_ARGUMENT, st.step, 2.0)
# CHECK-NEXT: which-2**32: ERROR_ARGUMENT: buffer_pointer: which = 4294967296 is outside [-2147483648, 2147483647]
expect("which-2**32", S.ERROR_ARGUMENT, st.buffer_pointer, 2**32)
# CHECK-NEXT: copy-count: ERROR_ARGUMENT: copy_to_host: elements [0, 0 + -1) are outside the buffer of 48 elements
expect("copy-count", S.ERROR_ARGUMENT, st.copy_to_host, 0, 0, -1)
# CHECK-NEXT: copy-huge: ERROR_ARGUMENT: copy_to_host: elements [0, 0 + 1099511627776) are outside the buffer of 48 elements
expect("copy-huge", S.ERROR_ARGUMENT, st.copy_to_host, 0, 0, 2**40)
# CHECK-NEXT: device-big: ERROR_ARGUMENT: device = 2147483648 is outside [0, 2147483647]
expect("device-big", S.ERROR_ARGUMENT, pkg.state, 2**31)
# CHECK-NEXT: device-bool: ERROR_ARGUMENT: device must be 'cpu', 'cuda' or 'cuda:N', not True
expect("device-bool", S.ERROR_ARGUMENT, pkg.state, True)
# CHECK-NEXT: device-ordinal: ERROR_ARGUMENT: device must be 'cpu', 'cuda' or 'cuda:N', not 'cuda:99999999999'
expect("device-ordinal", S.ERROR_ARGUMENT, pkg.state, "cuda:99999999999")
# Seeds are all 64 bits: the largest differs from 0 (2**64 used to wrap to 0).
st.init(2**64 - 1)
high = st.flat_params.copy()
st.init(np.uint64(0))
assert high.tobytes() != st.flat_params.tobytes()

# lr_factor: finite, non-negative, and a float32.
# CHECK-NEXT: lr-nan: ERROR_ARGUMENT: step: lr_factor nan is not a finite, non-negative float32
expect("lr-nan", S.ERROR_ARGUMENT, st.step, 1, float("nan"))
# CHECK-NEXT: lr-negative: ERROR_ARGUMENT: step: lr_factor -0.5 is not a finite, non-negative float32
expect("lr-negative", S.ERROR_ARGUMENT, st.step, 1, -0.5)
# CHECK-NEXT: lr-overflow: ERROR_ARGUMENT: step: lr_factor 1e+39 is not a finite, non-negative float32
expect("lr-overflow", S.ERROR_ARGUMENT, st.step, 1, 1e39)
# CHECK-NEXT: lr-underflow: ERROR_ARGUMENT: step: lr_factor 1e-50 underflows float32 to 0
expect("lr-underflow", S.ERROR_ARGUMENT, st.step, 1, 1e-50)
# CHECK-NEXT: lr-complex: ERROR_ARGUMENT: step: lr_factor must be a real number, not 1j
expect("lr-complex", S.ERROR_ARGUMENT, st.step, 1, 1j)

# Adopted buffers: count, kind, dtype, shape, layout, alignment, overlap.
good = [muir.aligned_zeros(48, 64) for _ in range(4)]
# CHECK-NEXT: adopt-no-states: ERROR_ARGUMENT: adopt: package '{{.*}}' (optimizer adamw) keeps 2 state buffers, but 0 were given
expect("adopt-no-states", S.ERROR_ARGUMENT, pkg.adopt, good[0], good[1])
# CHECK-NEXT: adopt-one-state: ERROR_ARGUMENT: adopt: package '{{.*}}' (optimizer adamw) keeps 2 state buffers, but 1 were given
expect("adopt-one-state", S.ERROR_ARGUMENT, pkg.adopt, good[0], good[1],
       [good[2]])
# CHECK-NEXT: adopt-three-states: ERROR_ARGUMENT: adopt: package '{{.*}}' (optimizer adamw) keeps 2 state buffers, but 3 were given
expect("adopt-three-states", S.ERROR_ARGUMENT, pkg.adopt, good[0], good[1],
       good[1:])
# CHECK-NEXT: adopt-states-array: ERROR_ARGUMENT: adopt: states must be a list or tuple of 2 buffers, not ndarray
expect("adopt-states-array", S.ERROR_ARGUMENT, pkg.adopt, good[0], good[1],
       np.stack(good[2:]))
# CHECK-NEXT: adopt-address-cpu: ERROR_ARGUMENT: adopt: params must be a numpy float32 array on the CPU, not int (an address cannot be checked)
expect("adopt-address-cpu", S.ERROR_ARGUMENT, pkg.adopt, 4096, good[1],
       good[2:])
# CHECK-NEXT: adopt-float64: ERROR_ARGUMENT: adopt: grads has dtype float64, not float32
expect("adopt-float64", S.ERROR_ARGUMENT, pkg.adopt, good[0],
       np.zeros(48), good[2:])
# CHECK-NEXT: adopt-int32: ERROR_ARGUMENT: adopt: states[0] has dtype int32, not float32
expect("adopt-int32", S.ERROR_ARGUMENT, pkg.adopt, good[0], good[1],
       [np.zeros(48, np.int32), good[3]])
# CHECK-NEXT: adopt-2d: ERROR_ARGUMENT: adopt: params must be 1-D and contiguous, not shape (6, 8) with strides (32, 4)
expect("adopt-2d", S.ERROR_ARGUMENT, pkg.adopt, good[0].reshape(6, 8),
       good[1], good[2:])
# CHECK-NEXT: adopt-strided: ERROR_ARGUMENT: adopt: grads must be 1-D and contiguous, not shape (48,) with strides (8,)
expect("adopt-strided", S.ERROR_ARGUMENT, pkg.adopt, good[0],
       muir.aligned_zeros(96, 64)[::2], good[2:])
readonly = muir.aligned_zeros(48, 64)
readonly.flags.writeable = False
# CHECK-NEXT: adopt-readonly: ERROR_ARGUMENT: adopt: states[1] is read-only
expect("adopt-readonly", S.ERROR_ARGUMENT, pkg.adopt, good[0], good[1],
       [good[2], readonly])
# CHECK-NEXT: adopt-size: ERROR_SIZE: adopt: params has 47 elements, but package '{{.*}}' (model 'fixture') needs 48 per buffer
expect("adopt-size", S.ERROR_SIZE, pkg.adopt, good[0][:47], good[1],
       good[2:])
# CHECK-NEXT: adopt-misaligned: ERROR_ARGUMENT: adopt: params at 0x{{[0-9a-f]+}} is not aligned to the package's 64 bytes (muir.aligned_zeros makes one)
expect("adopt-misaligned", S.ERROR_ARGUMENT, pkg.adopt,
       muir.aligned_zeros(49, 64)[1:], good[1], good[2:])
# CHECK-NEXT: adopt-same: ERROR_ARGUMENT: adopt: params and states[1] share memory
expect("adopt-same", S.ERROR_ARGUMENT, pkg.adopt, good[0], good[1],
       [good[2], good[0]])
wide = muir.aligned_zeros(96, 64)
# CHECK-NEXT: adopt-overlap: ERROR_ARGUMENT: adopt: params and grads share memory
expect("adopt-overlap", S.ERROR_ARGUMENT, pkg.adopt, wide[:48], wide[16:64],
       good[2:])
# CHECK-NEXT: adopt-array-cuda: ERROR_ARGUMENT: adopt: params is a numpy array, but a state on cuda:0 needs a device address (e.g. a torch tensor's data_ptr())
expect("adopt-array-cuda", S.ERROR_ARGUMENT, pkg.adopt, good[0], good[1],
       good[2:], device="cuda")
# CHECK-NEXT: adopt-address-cuda: ERROR_ARGUMENT: adopt: grads = 0 is outside [1, 18446744073709551615]
expect("adopt-address-cuda", S.ERROR_ARGUMENT, pkg.adopt, 4096, 0,
       [8192, 12288], device="cuda")
# CHECK-NEXT: adopt-cuda-nodriver: ERROR_NO_DEVICE: no CUDA driver
expect("adopt-cuda-nodriver", S.ERROR_NO_DEVICE, pkg.adopt, 4096, 8192,
       [12288, 16384], device="cuda")

# Strings C would cut at a NUL, and other kinds.
# CHECK-NEXT: path-nul: ERROR_ARGUMENT: Package: path '{{.*}}\x00/elsewhere' contains a NUL byte
expect("path-nul", S.ERROR_ARGUMENT, muir.Package, sys.argv[1] + "\0/elsewhere")
# CHECK-NEXT: path-int: ERROR_ARGUMENT: Package: path must be a string, not 3
expect("path-int", S.ERROR_ARGUMENT, muir.Package, 3)
# CHECK-NEXT: find-nul: ERROR_ARGUMENT: find: name 'blocks.w\x00junk' contains a NUL byte
expect("find-nul", S.ERROR_ARGUMENT, pkg.find, "blocks.w\0junk")
# CHECK-NEXT: find-none: ERROR_ARGUMENT: find: name must be a string, not None
expect("find-none", S.ERROR_ARGUMENT, pkg.find, None)
# CHECK-NEXT: expect-hash: ERROR_VERSION: package '{{.*}}' (model 'fixture') has package_hash f16d05ec6b29248d2c61adb1e9263f78e4f7bace1b955014a2d17872cfe4064d, not the expected 00ff: it was rebuilt since the code that expects it (a muir_package.h) was compiled
expect("expect-hash", S.ERROR_VERSION, muir.Package, sys.argv[1],
       expect_hash="00ff")
assert muir.Package(sys.argv[1], expect_hash=pkg.package_hash).model == "fixture"

# Values: real numbers float32 holds, in the view's exact shape.
# CHECK-NEXT: view-unknown: ERROR_NOT_FOUND: no parameter 'nope' (have: blocks.w, embed.weight, unembed.weight)
expect("view-unknown", S.ERROR_NOT_FOUND, lambda: st.grads["nope"])
# CHECK-NEXT: view-int-key: ERROR_NOT_FOUND: no parameter 5 (have: blocks.w, embed.weight, unembed.weight)
expect("view-int-key", S.ERROR_NOT_FOUND, lambda: st.grads[5])
assert "nope" not in st.grads and st.grads.get("nope") is None
try:
    st.params["nope"]
except KeyError:
    pass
# CHECK-NEXT: view-overflow: ERROR_ARGUMENT: grads['embed.weight']: 1e+40 overflows float32 (largest 3.40282e+38)
expect("view-overflow", S.ERROR_ARGUMENT, st.grads.__setitem__,
       "embed.weight", np.full((2, 3), 1e40))
# CHECK-NEXT: view-string: ERROR_ARGUMENT: grads['embed.weight']: values of dtype <U1 are not real numbers
expect("view-string", S.ERROR_ARGUMENT, st.grads.__setitem__,
       "embed.weight", "x")
# CHECK-NEXT: view-complex: ERROR_ARGUMENT: grads['embed.weight']: values of dtype complex128 are not real numbers
expect("view-complex", S.ERROR_ARGUMENT, st.grads.__setitem__,
       "embed.weight", np.ones((2, 3)) * 1j)
# CHECK-NEXT: view-shape: ERROR_ARGUMENT: grads['blocks.w'] has shape (2, 4, 3); cannot assign shape (3, 4)
expect("view-shape", S.ERROR_ARGUMENT, st.grads.__setitem__, "blocks.w",
       np.zeros((3, 4)))
# CHECK-NEXT: copy-objects: ERROR_ARGUMENT: copy_from_host: values: values of dtype object are not real numbers
expect("copy-objects", S.ERROR_ARGUMENT, st.copy_from_host, 1,
       [object(), 1.0])
# CHECK-NEXT: copy-overflow: ERROR_ARGUMENT: copy_from_host: values: 1e+300 overflows float32 (largest 3.40282e+38)
expect("copy-overflow", S.ERROR_ARGUMENT, st.copy_from_host, 1, [1e300])
# CHECK-NEXT: zeros-alignment: ERROR_ARGUMENT: aligned_zeros: alignment 48 is not a power of two
expect("zeros-alignment", S.ERROR_ARGUMENT, muir.aligned_zeros, 4, 48)
# CHECK-NEXT: zeros-negative: ERROR_ARGUMENT: aligned_zeros: elements = -1 is outside [0, 9223372036854775807]
expect("zeros-negative", S.ERROR_ARGUMENT, muir.aligned_zeros, -1)
# CHECK-NEXT: zeros-float64: ERROR_ARGUMENT: aligned_zeros: dtype float64 is not float32 or uint16 (bfloat16 bits)
expect("zeros-float64", S.ERROR_ARGUMENT, muir.aligned_zeros, 4,
       dtype=np.float64)
# A name numpy does not know is the same error, not numpy's TypeError.
# CHECK-NEXT: zeros-dtype-name: ERROR_ARGUMENT: aligned_zeros: dtype 'bfloat16' is not float32 or uint16 (bfloat16 bits)
expect("zeros-dtype-name", S.ERROR_ARGUMENT, muir.aligned_zeros, 4,
       dtype="bfloat16")

# Infinities that are already infinite are values, not overflow; the state
# still works after every error above.
st.grads["embed.weight"] = np.float64(0.25)
st.grads["embed.weight"] = np.float64("inf")
assert np.isinf(st.grads["embed.weight"]).all()
st.copy_from_host(muir.BUFFER_GRADS, np.full(48, 0.5), 0)
adopted = pkg.adopt(good[0], good[1], tuple(good[2:]))
adopted.init(3)
adopted.step(1)
st.init(2)
st.step(1, 0.5)
# CHECK-NEXT: done
print("done")
