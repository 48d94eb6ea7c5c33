# The runtime's CUDA launches against real packages' PTX (`muirc package`
# of the MLP: AdamW bf16, LionAR fp32 and bf16, SGD): the mock driver
# (test/Runtime/Inputs/mock_cuda.c) reads every `.entry` signature of a real
# kernels.ptx and refuses a launch whose argument count is not the
# declared one or whose pointer parameters are not device memory (NULL
# allowed: absent states), so a drift between GPUKernels.cpp's kernels and
# cuda.c's argument lists fails here without a GPU; it runs nothing. Every
# kernel the runtime launches is launched at least once: init, the step and
# its guards' reduction (each precision's), the telemetry (LionAR's
# per-unit one too) and LionAR's units' reduction across shards. The test
# fixture's real kernels (Inputs/fixture_kernels_nvptx.c, fp32 and bf16,
# which cuda-gpu.test runs on a GPU) take the same lists. A PTX whose bf16
# step declares one parameter more fails the launch; a CUDA shard of a bf16
# LionAR package is an error (its units across shards: not yet).
#
# REQUIRES: cuda-headers, ptxas
# RUN: rm -rf %t && mkdir -p %t/fixture %t/fixture-bf16
# RUN: %muir_cc -std=c11 -O1 -shared -fPIC -I%muir_rt_include -I%muir_src/test/Runtime/Inputs -I%cuda_include %muir_src/test/Runtime/Inputs/mock_cuda.c -lm -o %t/libcuda-mock.so
# RUN: muirc package %muir_src/examples/mlp.mlir --optimizer=adamw --precision=bf16 -o %t/adamw-bf16 > /dev/null
# RUN: muirc package %muir_src/examples/mlp.mlir --optimizer=lion-ar -o %t/lion-ar > /dev/null
# RUN: muirc package %muir_src/examples/mlp.mlir --optimizer=lion-ar --precision=bf16 -o %t/lion-ar-bf16 > /dev/null
# RUN: muirc package %muir_src/examples/mlp.mlir --scheme=mup --optimizer=sgd -o %t/sgd > /dev/null
# RUN: rm -f %t/*/kernels.sm_*.cubin
# RUN: cp -r %t/adamw-bf16 %t/drift && sed -i -e 's/^\(.*\)muir_step_bf16_kernel_param_14$/\1muir_step_bf16_kernel_param_14,\n\1muir_step_bf16_kernel_param_15/' %t/drift/kernels.ptx
# RUN: %muir_build_fixture -o %t/fixture/libmuir_kernels.so
# RUN: %muir_cc --target=nvptx64-nvidia-cuda -march=sm_80 -O2 -ffreestanding -ffp-contract=off -I%muir_rt_include -I%muir_src/test/Runtime/Inputs -S %muir_src/test/Runtime/Inputs/fixture_kernels_nvptx.c -o %t/fixture/kernels.ptx
# RUN: %muir_build_fixture -DFIXTURE_BF16 -o %t/fixture-bf16/libmuir_kernels.so
# RUN: %muir_cc --target=nvptx64-nvidia-cuda -march=sm_80 -O2 -ffreestanding -ffp-contract=off -I%muir_rt_include -I%muir_src/test/Runtime/Inputs -DFIXTURE_BF16 -S %muir_src/test/Runtime/Inputs/fixture_kernels_nvptx.c -o %t/fixture-bf16/kernels.ptx
# RUN: env MUIR_CUDA_DRIVER=%t/libcuda-mock.so %python %s %t adamw-bf16 lion-ar lion-ar-bf16 sgd fixture fixture-bf16 2>&1 | FileCheck %s
#
# CHECK: adamw-bf16:
# CHECK-DAG: ptx launch muir_init_kernel: 5 arguments as declared,
# CHECK-DAG: ptx launch muir_reduce_bf16_kernel: 4 arguments as declared,
# CHECK-DAG: ptx launch muir_step_bf16_kernel: 15 arguments as declared,
# CHECK-DAG: ptx launch muir_telemetry_kernel: 5 arguments as declared,
# CHECK: adamw-bf16: launched as the PTX declares
# CHECK: lion-ar:
# CHECK-DAG: ptx launch muir_reduce_kernel: 4 arguments as declared,
# CHECK-DAG: ptx launch muir_step_kernel: 13 arguments as declared,
# CHECK-DAG: ptx launch muir_unit_telemetry_kernel: 5 arguments as declared,
# CHECK-DAG: ptx launch muir_reduce_units_kernel: 11 arguments as declared,
# CHECK: lion-ar: launched as the PTX declares
# CHECK: lion-ar-bf16:
# CHECK-DAG: ptx launch muir_step_bf16_kernel: 15 arguments as declared,
# CHECK-DAG: ptx launch muir_unit_telemetry_kernel: 5 arguments as declared,
# CHECK-DAG: lion-ar-bf16 shard: ERROR_ARGUMENT: muir_state_create_shard: package '{{.*}}/lion-ar-bf16' (lion-ar{{.*}}) is bf16 and has {{[0-9]+}} LionAR units: its shards do not take the units' partial sums yet; it runs unsharded
# CHECK: lion-ar-bf16: launched as the PTX declares
# CHECK: sgd:
# CHECK-DAG: ptx launch muir_step_kernel: 13 arguments as declared,
# CHECK: sgd: launched as the PTX declares
# CHECK: fixture:
# CHECK-DAG: ptx launch muir_init_kernel: 5 arguments as declared,
# CHECK-DAG: ptx launch muir_reduce_kernel: 4 arguments as declared,
# CHECK-DAG: ptx launch muir_step_kernel: 13 arguments as declared,
# CHECK-DAG: ptx launch muir_telemetry_kernel: 5 arguments as declared,
# CHECK: fixture: launched as the PTX declares
# CHECK: fixture-bf16:
# CHECK-DAG: ptx launch muir_reduce_bf16_kernel: 4 arguments as declared,
# CHECK-DAG: ptx launch muir_step_bf16_kernel: 15 arguments as declared,
# CHECK-DAG: ptx launch muir_telemetry_kernel: 5 arguments as declared,
# CHECK: fixture-bf16: launched as the PTX declares
# CHECK: mock-cuda: ptx launch muir_step_bf16_kernel: 15 arguments given, but the PTX declares 16
# CHECK-NEXT: drift: ERROR_CUDA: launching muir_step_bf16_kernel ({{[0-9]+}} blocks of 256 threads): CUDA_ERROR_INVALID_VALUE (mock driver error)
# CHECK: mock-cuda: at exit: 0 allocations, 0 contexts retained, depth 0

import sys

import numpy as np

import muir

root = sys.argv[1]
for name in sys.argv[2:]:
    print(f"{name}:", flush=True)
    pkg = muir.Package(f"{root}/{name}")
    st = pkg.state("cuda")
    st.init(seed=1)
    st.step(1, max_grad_norm=1.0)
    st.step(2, telemetry=True)
    if pkg.num_units and pkg.precision == "fp32":
        # LionAR's units across two shards: the units' reduction round.
        shards = [pkg.state("cuda", shard=b) for b in pkg.plan_shards(2)]
        partials = np.zeros(pkg.step_partials)
        for sh in shards:
            sh.init(seed=1)
            partials += sh.reduce()
        slots = pkg.num_slots
        units = np.zeros(pkg.step_partials - slots)
        for sh in shards:
            units += sh.reduce_units(3, partials.copy())[slots:]
        partials[slots:] = units
        for sh in shards:
            sh.step_sharded(3, partials)
        del shards, sh
    elif pkg.num_units:
        # bf16 LionAR units across shards: not yet, on CUDA as on the CPU.
        try:
            pkg.state("cuda", shard=pkg.plan_shards(2)[0])
            raise AssertionError("a CUDA shard of a bf16 LionAR package")
        except muir.Error as e:
            print(f"{name} shard: {e}", flush=True)
    del st
    print(f"{name}: launched as the PTX declares", flush=True)

st = muir.Package(f"{root}/drift").state("cuda")
st.init(seed=1)
try:
    st.step(1)
    raise AssertionError("a launch with one argument too few ran")
except muir.Error as e:
    print(f"drift: {e}", flush=True)
del st
