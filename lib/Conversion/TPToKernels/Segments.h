//===- Segments.h - The tensor copies the kernels update --------*- C++ -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_LIB_CONVERSION_TPTOKERNELS_SEGMENTS_H
#define MUIR_LIB_CONVERSION_TPTOKERNELS_SEGMENTS_H

#include "muir/Dialect/TP/IR/TPOps.h"
#include <vector>

namespace mlir::tp {

/// One tensor copy of the flat buffers with its constants.
struct Segment {
  int64_t paramIndex, copy, offset, numel;
  InitKind init;
  double initStd, lr, weightDecay, eps, beta1, beta2;
};

/// The segments of an instantiated, laid-out model, in buffer order (tied
/// parameters own no storage and have none). Fails with a diagnostic on a
/// parameter without tp.layout or tp.values.
FailureOr<std::vector<Segment>> planSegments(ModelOp model);

/// Elements per GPU chunk: one block's share per grid-stride iteration at
/// the runtime's launch configuration (256 threads x 4 elements).
constexpr int64_t kChunkElements = 1024;

/// Splits the segments into chunks of at most kChunkElements that never
/// straddle a segment; entry s is the first chunk of segment s, and one
/// more entry holds the chunk count.
SmallVector<int64_t> chunkStarts(ArrayRef<Segment> segments);

} // namespace mlir::tp

#endif // MUIR_LIB_CONVERSION_TPTOKERNELS_SEGMENTS_H
