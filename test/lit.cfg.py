# -*- Python -*-
import os

import lit.formats
from lit.llvm import llvm_config

config.name = "MUIR"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test", ".py"]
config.excludes = ["Inputs", "lib", "lit.cfg.py", "lit.site.cfg.py", "CMakeLists.txt"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.muir_obj_root, "test")

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%muir_src", config.muir_src_root))
config.substitutions.append(("%python", config.python_executable))
config.substitutions.append(("%muir_tools", config.muir_tools_dir))

# The C runtime (test/Runtime, test/Python): the library, its headers, a C
# compiler for test programs and fixture packages, and the fixture's build
# line (add -o DIR/libmuir_kernels.so and -DFIXTURE_... variants; it writes
# DIR/manifest.json too, see Runtime/Inputs/build_fixture.py).
muir_rt_lib = os.path.join(config.muir_obj_root, "lib", "libmuir_runtime.so")
muir_rt_include = os.path.join(config.muir_src_root, "runtime", "include")
muir_cc = os.path.join(config.llvm_tools_dir, "clang")
config.muir_rt_lib = muir_rt_lib
config.substitutions.append(("%muir_rt_lib", muir_rt_lib))
config.substitutions.append(("%muir_rt_include", muir_rt_include))
config.substitutions.append(
    ("%muir_rt_link", "%s -Wl,-rpath,%s" % (muir_rt_lib,
                                            os.path.dirname(muir_rt_lib))))
config.substitutions.append(
    ("%muir_build_fixture", "%s %s %s %s" % (
        config.python_executable,
        os.path.join(config.muir_src_root, "test", "Runtime", "Inputs",
                     "build_fixture.py"),
        muir_cc, muir_rt_include)))
config.substitutions.append(("%muir_cc", muir_cc))
# cuda.h (types only) for the mock CUDA driver in test/Runtime.
for cuda_root in [os.environ.get("CUDA_HOME"), os.environ.get("CUDA_PATH"),
                  "/usr/local/cuda"]:
    if cuda_root and os.path.exists(os.path.join(cuda_root, "include",
                                                 "cuda.h")):
        config.available_features.add("cuda-headers")
        config.substitutions.append(
            ("%cuda_include", os.path.join(cuda_root, "include")))
        ptxas = os.path.join(cuda_root, "bin", "ptxas")
        if os.access(ptxas, os.X_OK):
            config.available_features.add("ptxas")
            config.substitutions.append(("%ptxas", ptxas))
        break
# libFuzzer targets (test/fuzz/<target>/), where the compiler builds them;
# MUIR_FUZZ_SECONDS bounds each one's fuzzing (replaying the committed
# inputs always runs). %muir_fuzz_budget is the libFuzzer flag for it: 0
# must become -runs=0, since libFuzzer reads -max_total_time=0 as "no
# limit" and fuzzes until killed (a CI run hung there for 90 minutes).
muir_fuzzers = os.path.join(config.muir_obj_root, "bin", "fuzz")
config.substitutions.append(("%muir_fuzzers", muir_fuzzers))
fuzz_seconds = os.environ.get("MUIR_FUZZ_SECONDS", "60")
if not fuzz_seconds.isdigit():
    lit_config.fatal("MUIR_FUZZ_SECONDS must be a whole number of seconds, "
                     "got %r" % fuzz_seconds)
config.substitutions.append(
    ("%muir_fuzz_budget", "-max_total_time=%d" % int(fuzz_seconds)
     if int(fuzz_seconds) > 0 else "-runs=0"))
if os.path.isdir(muir_fuzzers) and os.listdir(muir_fuzzers):
    config.available_features.add("libfuzzer")
# A loadable CUDA driver (a GPU machine): the runtime's real CUDA path runs.
try:
    import ctypes
    ctypes.CDLL("libcuda.so.1")
    config.available_features.add("cuda-driver")
except OSError:
    pass

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP",
                                     "CUDA_HOME", "CUDA_ROOT", "CUDA_PATH"])
llvm_config.use_default_substitutions()

# RUN lines start with bare `not` (and may use other LLVM test utilities);
# lit only substitutes them after a pipe, so put their directory on PATH.
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

tool_dirs = [config.muir_tools_dir, config.llvm_tools_dir]
tools = ["muir-opt", "muir-translate", "muirc"]
llvm_config.add_tool_substitutions(tools, tool_dirs)

# MUIR_OPT_CHECK_IR_ROUNDTRIP=1 makes every muir-opt run re-parse its output.
if os.environ.get("MUIR_OPT_CHECK_IR_ROUNDTRIP"):
    config.substitutions.insert(0, ("muir-opt", "muir-opt --verify-roundtrip"))
