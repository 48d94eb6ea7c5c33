//===- LowerToNVVM.cpp - The generated GPU kernels to PTX -----------------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Upstream lowerings only: the gpu.module of convert-tp-to-kernels{gpu=true}
// goes through NVVM to PTX text (`gpu-module-to-binary{format=isa}`), which
// the package assembles with ptxas. Numerics: libdevice's __nv_sqrtf is
// sqrt.rn only under __CUDA_PREC_SQRT=1 (build recipe, pitfall P9b), which
// this pipeline sets; f32 division lowers to div.rn; NVPTX contracts no
// mul/add pair (the arith ops carry no `contract` flag) and emits the `.rn`
// forms so ptxas does not either. The IEEE results match the CPU kernels.
//
//===----------------------------------------------------------------------===//

#include "mlir/Conversion/GPUToNVVM/GPUToNVVMPass.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Pass/Pass.h" // the per-pass headers below need it first
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "muir/Conversion/Passes.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include <cstdlib>

using namespace mlir;

std::string mlir::tp::findCudaToolkit() {
  for (const char *var : {"CUDA_HOME", "CUDA_ROOT", "CUDA_PATH"})
    if (const char *dir = std::getenv(var); dir && *dir)
      return dir;
  if (llvm::sys::fs::is_directory("/usr/local/cuda"))
    return "/usr/local/cuda";
  return "";
}

/// Adds `__CUDA_PREC_SQRT=1` to LLVM's `--nvvm-reflect-add` list (a global
/// option of the NVVMReflect pass, read at each run) unless present.
static void requestPreciseSqrt() {
  auto &options = llvm::cl::getRegisteredOptions();
  auto it = options.find("nvvm-reflect-add");
  if (it == options.end())
    return;
  auto *list = static_cast<llvm::cl::list<std::string> *>(it->second);
  for (const std::string &entry : *list)
    if (StringRef(entry).starts_with("__CUDA_PREC_SQRT"))
      return;
  list->addOccurrence(0, "nvvm-reflect-add", "__CUDA_PREC_SQRT=1");
}

void mlir::tp::buildLowerToNVVMPipeline(OpPassManager &pm,
                                        const LowerToNVVMOptions &options) {
  requestPreciseSqrt();
  GpuNVVMAttachTargetOptions target;
  target.chip = options.chip;
  target.features = options.features;
  target.optLevel = 3;
  pm.addPass(createGpuNVVMAttachTarget(target));
  OpPassManager &gpu = pm.nest<gpu::GPUModuleOp>();
  gpu.addPass(createSCFToControlFlowPass());
  ConvertGpuOpsToNVVMOpsOptions nvvm;
  nvvm.useBarePtrCallConv = true; // static memrefs -> float * parameters
  gpu.addPass(createConvertGpuOpsToNVVMOps(nvvm));
  gpu.addPass(createCanonicalizerPass());
  gpu.addPass(createCSEPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  GpuModuleToBinaryPassOptions binary;
  binary.compilationTarget = "isa";
  binary.toolkitPath =
      options.toolkit.empty() ? findCudaToolkit() : options.toolkit;
  pm.addPass(createGpuModuleToBinaryPass(binary));
}

namespace {
struct LowerToNVVMPipelineOptions
    : PassPipelineOptions<LowerToNVVMPipelineOptions> {
  Option<std::string> chip{*this, "chip",
                           llvm::cl::desc("PTX target (ptxas assembles it for "
                                          "this and newer architectures)"),
                           llvm::cl::init("sm_80")};
  Option<std::string> features{*this, "features",
                               llvm::cl::desc("PTX ISA version feature"),
                               llvm::cl::init("+ptx80")};
  Option<std::string> toolkit{
      *this, "toolkit",
      llvm::cl::desc("CUDA toolkit for libdevice (default: $CUDA_HOME, "
                     "$CUDA_ROOT, $CUDA_PATH, /usr/local/cuda)"),
      llvm::cl::init("")};
};
} // namespace

void mlir::tp::registerLowerToNVVMPipeline() {
  PassPipelineRegistration<LowerToNVVMPipelineOptions>(
      "tp-lower-to-nvvm",
      "Lower the generated gpu.module (convert-tp-to-kernels{gpu=true}) "
      "through NVVM to PTX in a gpu.binary (IEEE sqrt and division)",
      [](OpPassManager &pm, const LowerToNVVMPipelineOptions &o) {
        buildLowerToNVVMPipeline(pm, {o.chip, o.features, o.toolkit});
      });
}
