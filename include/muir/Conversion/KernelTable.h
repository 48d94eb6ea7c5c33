//===- KernelTable.h - The constant table of the kernels --------*- C++ -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The kernels are generated once per update rule (optimizer variant, init
// distribution); what differs from tensor to tensor is data, read from a
// table compiled into the package: one row per untied parameter (its place
// in the flat buffers and how the GPU kernels and the reduction phase cut it
// up) and the constants of its copies (lr, weight decay, eps, betas, init
// scale), one row for all copies or one per copy where they differ (per-depth
// multipliers). The table's size grows with the number of distinct
// parameters, not with depth. Its C layout is muir_kernel_param_t and
// muir_tensor_row_t of package_abi.h; docs/Lowering.md describes it.
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_CONVERSION_KERNELTABLE_H
#define MUIR_CONVERSION_KERNELTABLE_H

#include "muir/Dialect/TP/IR/TPOps.h"
#include "muir/Parametrization/OptimizerSpec.h"
#include <cstdint>
#include <limits>
#include <vector>

namespace mlir::tp {

/// Elements per chunk, the GPU kernels' unit of work: one block's share per
/// grid-stride iteration at the runtime's launch configuration (256 threads
/// x 4 elements). Chunks never straddle two tensor copies.
constexpr int64_t kChunkElements = 1024;

/// The reduction phase cuts each tensor copy into at most this many slots
/// (one partial sum each; one GPU block each) of whole chunks.
constexpr int64_t kMaxSlotsPerCopy = 64;

/// ... and gives each slot at least this many chunks (when the copy has
/// them), so that a block has enough work to hide its final combination.
constexpr int64_t kMinChunksPerSlot = 4;

/// The GPU kernels number chunks and slots (and the CUDA grid of the
/// reduction) with 32 bits; table rows too.
constexpr int64_t kMaxKernelIndex = std::numeric_limits<int32_t>::max();

/// One untied parameter (all its copies): muir_kernel_param_t, field for
/// field (all int64, so that the IR's memref<P x 13 x i64> is the C array).
struct KernelParam {
  int64_t offset = 0, stride = 0, numel = 0, copies = 0;
  int64_t firstChunk = 0, chunksPerCopy = 0;
  int64_t firstSlot = 0, slotsPerCopy = 0, chunksPerSlot = 0;
  /// Index in the model's parameters (the Philox counter's third word).
  int64_t param = 0;
  /// InitKind.
  int64_t init = 0;
  /// The parameter's rows: firstRow + copy * rowStride (rowStride 0: one
  /// row for all copies).
  int64_t firstRow = 0, rowStride = 0;
  /// LionAR's rotational units: elements per unit (0: none) and the units
  /// of the entries before this one.
  int64_t unitElements = 0, firstUnit = 0;

  /// Units per copy.
  int64_t unitsPerCopy() const {
    return unitElements ? numel / unitElements : 0;
  }

  /// Field positions in the table (the IR reads them by index).
  enum Field {
    kOffset,
    kStride,
    kNumel,
    kCopies,
    kFirstChunk,
    kChunksPerCopy,
    kFirstSlot,
    kSlotsPerCopy,
    kChunksPerSlot,
    kParam,
    kInit,
    kFirstRow,
    kRowStride,
    kUnitElements,
    kFirstUnit,
    kNumFields
  };
  /// The fields in that order.
  std::vector<int64_t> fields() const;
};

/// The constants of one tensor copy (or all copies of a parameter):
/// muir_tensor_row_t.
struct TensorRow {
  double lr = 0, weightDecay = 0, eps = 0, beta1 = 0, beta2 = 0;
  /// The factor on the unit distribution: std, or sqrt(3) std for uniform.
  double initScale = 0;

  enum Field {
    kLr,
    kWeightDecay,
    kEps,
    kBeta1,
    kBeta2,
    kInitScale,
    kNumFields
  };
  std::vector<double> fields() const;
};

/// The table of one model.
struct KernelTable {
  std::vector<KernelParam> params;
  std::vector<TensorRow> rows;
  /// The ops of `params`, for messages.
  std::vector<ParamOp> ops;
  /// Chunks, reduction slots and rotational units over all parameters.
  int64_t chunks = 0, slots = 0, units = 0;
  /// The init distributions present, in first-use order.
  SmallVector<InitKind> initKinds;
};

/// Plans the table of an instantiated, laid-out model. Fails with a
/// diagnostic at the parameter when it lacks tp.layout or tp.values, is not
/// aligned for 128-bit accesses, or would make a count overflow what the
/// kernels index (kMaxKernelIndex chunks, slots or rows), before any code
/// is generated. Under `spec`'s LionAR, every parameter of rank >= 2 whose
/// unit (a row: the elements after the first dim, or the whole copy with
/// `units=tensor`) has at least 2 elements gets rotational units.
FailureOr<KernelTable> planKernelTable(ModelOp model,
                                       const OptimizerSpec &spec);

} // namespace mlir::tp

#endif // MUIR_CONVERSION_KERNELTABLE_H
