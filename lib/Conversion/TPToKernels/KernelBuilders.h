//===- KernelBuilders.h - The CPU and GPU kernel builders -------*- C++ -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_LIB_CONVERSION_TPTOKERNELS_KERNELBUILDERS_H
#define MUIR_LIB_CONVERSION_TPTOKERNELS_KERNELBUILDERS_H

#include "Bf16Rules.h"
#include "StepRules.h"
#include "mlir/IR/BuiltinOps.h"
#include "muir/Conversion/KernelTable.h"
#include <functional>

namespace mlir::tp {

/// What the kernel builders of every target take.
struct KernelPlan {
  /// Elements of each flat buffer (at least 1: memrefs are static).
  int64_t elements;
  const KernelTable &table;
  const StepRule &rule;
  /// A bf16 package: bf16 gradients and a bf16 copy of the params beside
  /// the f32 master weights and states (Bf16Rules.h).
  bool bf16 = false;
};

/// The type of the flat buffers: `memref<elements x f32>`.
MemRefType bufferType(MLIRContext *context, const KernelPlan &plan);

/// The type of a bf16 package's 2-byte buffers (the gradients and the
/// params' bf16 copy): `memref<elements x i16>`, raw bf16 bits.
MemRefType bf16BufferType(MLIRContext *context, const KernelPlan &plan);

/// The buffers a step reads and writes: params, grads, state0, state1 (null
/// where the optimizer has fewer states) and, in a bf16 package, the bf16
/// copy of the params (the grads are then bf16 too) and the step's rounding
/// stream.
struct StepBuffers {
  SmallVector<Value, 4> buffers;
  /// memref<N x i16>; null in an fp32 package.
  Value copy;
  /// index: buffer index + shift is the flat-buffer element (a shard's or
  /// the kernel's first element; the rounding stream's counter).
  Value shift;
  RoundingStream rounding;
  /// LionAR's unit sums with their 4 lanes as one vector (the CPU: LLVM
  /// does not vectorise the four scalar lanes), the same arithmetic lane
  /// by lane; scalar lanes otherwise (a GPU thread).
  bool vectorLanes = false;
  /// Where set, the loop over buffer indices [lo, hi) that gives each
  /// element its rounding bits (`body(i, bits)`; the CPU's bf16 blocks of
  /// Philox groups) for LionAR's elementwise phase; else one by one, each
  /// element its own Philox call.
  std::function<void(Value, Value, function_ref<void(Value, Value)>)> elements;

  bool bf16() const { return bool(copy); }
};

/// The kernels' table in the IR: `memref.global @muir_kernel_params :
/// memref<P x 15 x i64>` and `@muir_tensor_rows : memref<R x 6 x f64>`
/// (package_abi.h's structs, at least one row each), and loads from them.
class TableIR {
public:
  static MemRefType paramsType(MLIRContext *context, const KernelTable &table);
  static MemRefType rowsType(MLIRContext *context, const KernelTable &table);

  /// Emits both globals at the builder's insertion point; the rows are
  /// writable unless `constantRows` (the GPU module's rows may be
  /// overwritten at run time).
  static void emitGlobals(OpBuilder &b, Location loc, const KernelTable &table,
                          bool constantRows);

  /// Reads the globals at the builder's insertion point (the nearest
  /// symbol table holds them); `rows` replaces the row global when given.
  TableIR(KernelIR &ir, const KernelTable &table, Value rows = {});

  /// Field `f` (index) of parameter entry `p` (index).
  Value param(Value p, KernelParam::Field f);
  /// Field `f` (f64) of row `r` (index).
  Value row(Value r, TensorRow::Field f);
  /// The step constants of row `r`.
  TensorConstants constants(Value r);
  /// The row of copy `copy` of parameter entry `p`.
  Value rowOf(Value p, Value copy);

  /// The last parameter entry p with field `f` <= `x` (index), for a field
  /// that starts at 0 and never decreases (first_chunk, first_slot): a
  /// branch-free binary search, ceil(log2 P) dependent loads.
  Value search(Value x, KernelParam::Field f);

  /// Number of parameter entries.
  int64_t size() const { return table.params.size(); }

private:
  KernelIR &ir;
  const KernelTable &table;
  Value params, rows;
};

/// Loads element `i` of the buffers (params, grads, state0, state1) that
/// the rule uses; a bf16 gradient widened to f32.
StepElement loadElement(KernelIR &ir, const StepBuffers &buffers, Value i,
                        const StepRule &rule);

/// Stores the updated values of element `i`, and in a bf16 package the
/// params' bf16 copy, stochastically rounded with `bits` (the element's
/// rounding bits when the caller has them, else its own Philox call).
void storeElement(KernelIR &ir, const StepBuffers &buffers, Value i,
                  const StepElement &e, Value bits = {});

/// The step scalars of table row `row`, with beta^t from `step` (f64) where
/// the rule uses it and the kernel's gradient scale.
StepScalars copyScalars(KernelIR &ir, const StepRule &rule, TableIR &table,
                        Value row, Value step, Value lrFactor, Value gradScale);

/// Whether copies of parameter entry `p` rotate (LionAR): the entry has
/// units and the copy's weight decay (in `s`) is not 0.
Value isRotational(KernelIR &ir, TableIR &table, Value p, const StepScalars &s);

/// LionAR's unit sums per reduction slot
/// (docs/Distributed.md#lionar-units-that-span-shards): a unit that straddles a
/// slot start (its elements lie in two or more slots) sums its elements segment
/// by segment, one segment per slot it meets, each in emitSegmentSums' order,
/// and adds the segments' sums in slot order. Slot s holds at most two such
/// segments, each kUnitSums f64 values in the partials vector: the head (from
/// the slot's first element, of the unit that contains it) at kSlotUnitSums s,
/// the tail (from the first element of a unit that starts inside the slot and
/// ends after it) at kSlotUnitSums s + kUnitSums. A shard's bounds are slot
/// starts, so every segment lies in one shard and the ranks' vectors sum
/// exactly.
constexpr int64_t kSlotUnitSums = 2 * StepRule::kUnitSums;

/// Where a unit's sums come from: computed from the buffers, or, for a
/// unit that straddles a slot start when `fromPartials` (i1) is set, read
/// from `partials` (memref of kSlotUnitSums f64 per slot, summed over the
/// ranks).
struct UnitPartials {
  Value partials, fromPartials;
};

/// One tensor copy with units: its first element `base` (flat), elements
/// per unit, elements per reduction slot and its first slot's number.
struct UnitCopy {
  Value base, unitElements, perSlot, firstSlot;
};
UnitCopy unitCopy(KernelIR &ir, TableIR &table, Value p, Value copy,
                  Value base);

/// The rule's kUnitSums f64 sums over buffer elements [lo, hi):
/// kUnitLanes interleaved accumulators (element lo + i in lane i mod 4, the
/// last (hi - lo) mod 4 in lane 0), each in element order, then the lanes
/// in order: independent chains, the same order on every target (the CPU
/// runs the four lanes as one vector: StepBuffers::vectorLanes).
SmallVector<Value> emitSegmentSums(KernelIR &ir, const StepRule &rule,
                                   const StepScalars &s,
                                   const StepBuffers &buffers, Value lo,
                                   Value hi);

/// The head and tail segment sums of reduction slot `slot` (flat elements
/// [from, to) of copy `u`) into `partials` (see kSlotUnitSums); the
/// buffers hold the elements from buffers.shift on. Writes only the
/// segments that exist (the caller zeroes the vector).
void emitSlotUnitSums(KernelIR &ir, const StepRule &rule, const StepScalars &s,
                      const StepBuffers &buffers, const UnitCopy &u, Value slot,
                      Value from, Value to, Value partials);

/// LionAR's step of unit `unit` (index) of copy `u` on the flat elements
/// [begin, end) that the buffers hold from buffers.shift on (element e at
/// e - shift): the unit's sums (per slot segment, from the buffers or from
/// `sums`), its scalars and state, then the elementwise phase on its
/// elements in [begin, end), calling `observe(i, before, after)` for each
/// (i a buffer index) when given. The unit's state (n0, nu) is at its first
/// two elements in [begin, end) of state buffer 1 (the unit's own first
/// two in a whole state; a shard that starts inside the unit keeps a
/// replica at its own first two). The CPU function and the GPU kernel (one
/// thread per unit) both use it: the same sums in the same order, the same
/// bits.
void emitUnitStep(
    KernelIR &ir, const StepRule &rule, const StepScalars &s,
    const StepBuffers &buffers, const UnitCopy &u, Value unit, Value step,
    Value begin, Value end, const UnitPartials &sums,
    function_ref<void(Value, const StepElement &, const StepElement &)>
        observe = {});

/// emitUnitStep's reduction phase and state: the unit's sums, its scalars
/// (returned) and its new (n0, nu) stored. `localSums`, when given, are the
/// sums of a unit that lies in one slot, computed by the caller in
/// emitSegmentSums' order (the GPU's units kernel: lanes on threads), used
/// instead of emitSegmentSums.
UnitScalars emitUnitScalars(KernelIR &ir, const StepRule &rule,
                            const StepScalars &s, const StepBuffers &buffers,
                            const UnitCopy &u, Value unit, Value step,
                            Value begin, const UnitPartials &sums,
                            ArrayRef<Value> localSums = {});

/// emitUnitStep's elementwise phase with the unit's scalars `us`: the
/// unit's elements in [begin, end) from the `offset`-th on, every
/// `stride`-th (index values; 0 and 1 for all of them: the only stride
/// with StepBuffers::elements).
void emitUnitElements(
    KernelIR &ir, const StepRule &rule, const StepScalars &s,
    const StepBuffers &buffers, const UnitCopy &u, Value unit, Value begin,
    Value end, const UnitScalars &us, Value offset, Value stride,
    function_ref<void(Value, const StepElement &, const StepElement &)>
        observe = {});

/// `scf.index_switch` on the init kind `kind` (index) over the kinds of the
/// table, `body(kind)` in each case; other values do nothing.
void switchOnInit(KernelIR &ir, const KernelTable &table, Value kind,
                  function_ref<void(InitKind)> body);

/// The CPU functions at the end of `module`: @muir_generated_init,
/// @muir_generated_step and @muir_generated_step_rows, @muir_generated_reduce
/// and @muir_philox4x32_10, with the table's globals.
void buildCPUKernels(ModuleOp module, Location loc, const KernelPlan &plan);

/// `gpu.module @muir_kernels` with the kernels the runtime launches and the
/// table's globals, at the end of `module` (which becomes a
/// gpu.container_module).
void buildGPUKernels(ModuleOp module, Location loc, const KernelPlan &plan);

} // namespace mlir::tp

#endif // MUIR_LIB_CONVERSION_TPTOKERNELS_KERNELBUILDERS_H
