# -*- Python -*-
import os

import lit.formats
from lit.llvm import llvm_config

config.name = "MUIR"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test", ".py"]
config.excludes = ["Inputs", "lit.cfg.py", "lit.site.cfg.py", "CMakeLists.txt"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.muir_obj_root, "test")

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%muir_src", config.muir_src_root))
config.substitutions.append(("%python", config.python_executable))
config.substitutions.append(("%muir_tools", config.muir_tools_dir))

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
