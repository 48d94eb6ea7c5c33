//===- TPToKernels.cpp - Fused init and optimizer-step kernels ------------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Turns an instantiated, laid-out tp.model into the loop-body IR of its
// kernels. Every tensor (every block copy of a repeated one) becomes one
// segment of the flat buffers with its own constants, so a single call
// updates the whole model: the per-tensor constants that make torch and apex
// launch one kernel per parameter group are immediates here.
//
// Numerics follow PyTorch (torch.optim.AdamW/Adam/SGD, 1.13 and later):
// per-step scalars (bias corrections, step size) are computed in f64 and
// rounded once to f32, then the elementwise update runs in f32 in the same
// operation order as ATen's single-tensor path.
//
//===----------------------------------------------------------------------===//

#include "PortableMath.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "muir/Conversion/Passes.h"
#include "muir/Dialect/TP/Utils/ParamTable.h"
#include "llvm/Support/MathExtras.h"
#include <cmath>
#include <map>

namespace mlir::tp {
#define GEN_PASS_DEF_CONVERTTPTOKERNELS
#include "muir/Conversion/Passes.h.inc"
} // namespace mlir::tp

using namespace mlir;
using namespace mlir::tp;

namespace {

/// One tensor copy of the flat buffers with its baked-in constants.
struct Segment {
  int64_t paramIndex, copy, offset, numel;
  InitKind init;
  double initStd, lr, weightDecay, eps, beta1, beta2;
};

/// Reads quantity `key` of `values` for block copy `copy`.
static double valueAt(DictionaryAttr values, StringRef key, int64_t copy,
                      double fallback) {
  Attribute a = values ? values.get(key) : Attribute();
  if (auto f = dyn_cast_or_null<FloatAttr>(a))
    return f.getValueAsDouble();
  if (auto arr = dyn_cast_or_null<DenseF64ArrayAttr>(a))
    return arr[std::min<int64_t>(copy, arr.size() - 1)];
  return fallback;
}

/// Emits Philox4x32-10 (Salmon et al., SC'11; Random123) on four counter
/// words and two key words.
static SmallVector<Value, 4> philox(OpBuilder &b, Location loc,
                                    SmallVector<Value, 4> ctr, Value k0,
                                    Value k1) {
  auto c32 = [&](uint32_t v) -> Value {
    return arith::ConstantIntOp::create(b, loc, b.getI32Type(), int64_t(v));
  };
  Value m0 = c32(0xD2511F53), m1 = c32(0xCD9E8D57);
  Value w0 = c32(0x9E3779B9), w1 = c32(0xBB67AE85);
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 = arith::AddIOp::create(b, loc, k0, w0);
      k1 = arith::AddIOp::create(b, loc, k1, w1);
    }
    auto p0 = arith::MulUIExtendedOp::create(b, loc, m0, ctr[0]);
    auto p1 = arith::MulUIExtendedOp::create(b, loc, m1, ctr[2]);
    Value x0 = arith::XOrIOp::create(
        b, loc, arith::XOrIOp::create(b, loc, p1.getHigh(), ctr[1]), k0);
    Value x2 = arith::XOrIOp::create(
        b, loc, arith::XOrIOp::create(b, loc, p0.getHigh(), ctr[3]), k1);
    ctr = {x0, p1.getLow(), x2, p0.getLow()};
  }
  return ctr;
}

class KernelBuilder {
public:
  KernelBuilder(ModuleOp module, ModelOp model, int64_t elements)
      : module(module), model(model), elements(elements),
        b(module.getContext()), loc(model.getLoc()) {}

  MemRefType bufferType() {
    return MemRefType::get({elements}, b.getF32Type());
  }

  Value f32(double v) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(float(v)));
  }
  Value f64(double v) {
    return arith::ConstantOp::create(b, loc, b.getF64FloatAttr(v));
  }
  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }

  /// `func.func @name(types) -> ()` with an entry block; the builder is
  /// left at its start.
  func::FuncOp startFunc(StringRef name, TypeRange inputs) {
    b.setInsertionPointToEnd(module.getBody());
    auto fn = func::FuncOp::create(b, loc, name, b.getFunctionType(inputs, {}));
    b.setInsertionPointToStart(fn.addEntryBlock());
    return fn;
  }

  /// Loops `body(i)` over [lo, hi) (index values) with `step` (default 1).
  void loop(Value lo, Value hi, function_ref<void(Value)> body) {
    loop(lo, hi, idx(1), body);
  }
  void loop(Value lo, Value hi, Value step, function_ref<void(Value)> body) {
    auto forOp = scf::ForOp::create(b, loc, lo, hi, step);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(forOp.getBody());
    body(forOp.getInductionVar());
  }

  void buildPhilox() {
    Type i32 = b.getI32Type();
    auto ctrType = MemRefType::get({4}, i32);
    auto keyType = MemRefType::get({2}, i32);
    func::FuncOp fn =
        startFunc("muir_philox4x32_10", {ctrType, keyType, ctrType});
    Value ctrMem = fn.getArgument(0), keyMem = fn.getArgument(1),
          outMem = fn.getArgument(2);
    SmallVector<Value, 4> ctr;
    for (int i = 0; i < 4; ++i)
      ctr.push_back(memref::LoadOp::create(b, loc, ctrMem, idx(i)));
    Value k0 = memref::LoadOp::create(b, loc, keyMem, idx(0));
    Value k1 = memref::LoadOp::create(b, loc, keyMem, idx(1));
    SmallVector<Value, 4> out = philox(b, loc, ctr, k0, k1);
    for (int i = 0; i < 4; ++i)
      memref::StoreOp::create(b, loc, out[i], outMem, idx(i));
    func::ReturnOp::create(b, loc);
  }

  /// The top 24 bits of `word`.
  Value top24(Value word) {
    return arith::ShRUIOp::create(
        b, loc, word, arith::ConstantIntOp::create(b, loc, b.getI32Type(), 8));
  }

  /// A uniform in [0, 1) from the top 24 bits of `word` (exact in f32).
  Value unit(Value word, bool openAtZero) {
    Value f = arith::UIToFPOp::create(b, loc, b.getF32Type(), top24(word));
    if (openAtZero) // (0, 1]: log() must not see 0
      f = arith::AddFOp::create(b, loc, f, f32(1.0));
    return arith::MulFOp::create(b, loc, f, f32(std::ldexp(1.0, -24)));
  }

  /// Box-Muller: the two independent normals sqrt(-2 ln u1) (cos, sin)(2 pi
  /// u2) from two words, with the portable ln, cos and sin (the same bits on
  /// the CPU and the GPU).
  std::pair<Value, Value> normalPair(Value w0, Value w1) {
    Value r = math::SqrtOp::create(
        b, loc,
        arith::MulFOp::create(b, loc, f32(-2.0),
                              emitPortableLog(b, loc, unit(w0, true))));
    auto [c, s] = emitPortableCosSinTurns24(b, loc, top24(w1));
    return {arith::MulFOp::create(b, loc, r, c),
            arith::MulFOp::create(b, loc, r, s)};
  }

  void buildInit(ArrayRef<Segment> segments) {
    Type i64 = b.getI64Type(), i32 = b.getI32Type();
    func::FuncOp fn =
        startFunc("muir_generated_init", {bufferType(), i64, i64, i64});
    Value params = fn.getArgument(0), seed = fn.getArgument(1);
    Value begin =
        arith::IndexCastOp::create(b, loc, b.getIndexType(), fn.getArgument(2));
    Value end =
        arith::IndexCastOp::create(b, loc, b.getIndexType(), fn.getArgument(3));
    Value k0 = arith::TruncIOp::create(b, loc, i32, seed);
    Value k1 = arith::TruncIOp::create(
        b, loc, i32,
        arith::ShRUIOp::create(b, loc, seed,
                               arith::ConstantIntOp::create(b, loc, i64, 32)));
    for (const Segment &s : segments) {
      Value lo = arith::MaxSIOp::create(b, loc, begin, idx(s.offset));
      Value hi = arith::MinSIOp::create(b, loc, end, idx(s.offset + s.numel));
      loop(lo, hi, [&](Value i) {
        Value v = initValue(s, i, k0, k1);
        memref::StoreOp::create(b, loc, v, params, i);
      });
    }
    func::ReturnOp::create(b, loc);
  }

  /// What the init body takes from a segment; immediates on the CPU,
  /// values chosen per chunk in the GPU kernel.
  struct InitParams {
    Value counterBase; // index: copy * numel - offset
    Value paramIndex;  // i32
    Value scale;       // f32: std, or sqrt(3) std for uniform
  };

  InitParams initParams(const Segment &s) {
    double scale =
        s.init == InitKind::uniform ? std::sqrt(3.0) * s.initStd : s.initStd;
    return {idx(s.copy * s.numel - s.offset),
            arith::ConstantIntOp::create(b, loc, b.getI32Type(), s.paramIndex),
            f32(scale)};
  }

  Value initValue(const Segment &s, Value i, Value k0, Value k1) {
    if (s.init == InitKind::zeros || s.init == InitKind::ones)
      return initValue(s.init, {}, i, k0, k1);
    return initValue(s.init, initParams(s), i, k0, k1);
  }

  /// The initial value of element `i` of a segment: counter = (element
  /// index within the parameter over all its copies, parameter index, 0).
  Value initValue(InitKind kind, const InitParams &q, Value i, Value k0,
                  Value k1) {
    if (kind == InitKind::zeros)
      return f32(0.0);
    if (kind == InitKind::ones)
      return f32(1.0);
    Type i64 = b.getI64Type(), i32 = b.getI32Type();
    Value local = arith::AddIOp::create(b, loc, i, q.counterBase);
    Value local64 = arith::IndexCastOp::create(b, loc, i64, local);
    SmallVector<Value, 4> ctr = {
        arith::TruncIOp::create(b, loc, i32, local64),
        arith::TruncIOp::create(
            b, loc, i32,
            arith::ShRUIOp::create(
                b, loc, local64,
                arith::ConstantIntOp::create(b, loc, i64, 32))),
        q.paramIndex, arith::ConstantIntOp::create(b, loc, i32, 0)};
    SmallVector<Value, 4> w = philox(b, loc, ctr, k0, k1);
    Value z;
    switch (kind) {
    case InitKind::uniform: {
      // U(-a, a) with a = sqrt(3) std has standard deviation std.
      Value u = unit(w[0], false);
      Value centered = arith::SubFOp::create(
          b, loc, arith::MulFOp::create(b, loc, f32(2.0), u), f32(1.0));
      return arith::MulFOp::create(b, loc, centered, q.scale);
    }
    case InitKind::normal:
      z = normalPair(w[0], w[1]).first;
      break;
    case InitKind::trunc_normal: {
      // Truncation at +-2 std: the first of the four Box-Muller normals of
      // (x0, x1) and (x2, x3) inside the interval, else the last clamped
      // (P = 0.0455^4, about 4e-6, of a clamp; see docs/Lowering.md).
      auto [z0, z1] = normalPair(w[0], w[1]);
      auto [z2, z3] = normalPair(w[2], w[3]);
      z = arith::MinimumFOp::create(
          b, loc, arith::MaximumFOp::create(b, loc, z3, f32(-2.0)), f32(2.0));
      for (Value cand : {z2, z1, z0}) {
        Value inside =
            arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLE,
                                  math::AbsFOp::create(b, loc, cand), f32(2.0));
        z = arith::SelectOp::create(b, loc, inside, cand, z);
      }
      break;
    }
    default:
      z = f32(0.0);
    }
    return arith::MulFOp::create(b, loc, z, q.scale);
  }

  /// The per-step scalars of one segment: computed in f64 and rounded once
  /// to f32, as PyTorch computes them in Python floats.
  struct StepScalars {
    Value stepSize, bc2Sqrt, decay, lr;
    Value invBc1, vScale; // adam-atan2: 1/bc1 and b^2/bc2
  };

  /// Adam-atan2's constants (Everett et al. 2024): p -= lr a atan2(m_hat,
  /// b sqrt(v_hat)), with the reference implementation's defaults
  /// (lucidrains/adam-atan2-pytorch).
  static constexpr double kAtan2A = 1.27, kAtan2B = 1.0;

  /// The loaded (in) or updated (out) values of one element; `s0`/`s1` are
  /// null where the optimizer has fewer states.
  struct StepElement {
    Value p, g, s0, s1;
  };

  bool usesState0() const { return optimizer != "sgd"; }
  /// Weight decay as a factor on p (AdamW-like) rather than as L2 in g.
  bool decaysByFactor() const {
    return optimizer == "adamw" || optimizer == "adamw-decoupled" ||
           optimizer == "adam-atan2" || optimizer == "lion";
  }
  bool usesState1() const {
    return optimizer == "adamw" || optimizer == "adam" ||
           optimizer == "adam-atan2" || optimizer == "adamw-decoupled";
  }

  /// beta^t for every distinct beta1 and beta2 of the segments, and the f32
  /// sqrt(1 - beta2^t), emitted once at the insertion point (the start of
  /// the step function or kernel) and reused by every segment.
  void hoistBiasCorrections(ArrayRef<Segment> segments, Value stepF) {
    powers.clear();
    bc2Sqrts.clear();
    if (!usesState1())
      return;
    auto power = [&](double beta) {
      auto [it, inserted] = powers.try_emplace(beta, Value());
      if (inserted)
        it->second = math::PowFOp::create(b, loc, f64(beta), stepF);
      return it->second;
    };
    for (const Segment &s : segments) {
      power(s.beta1);
      if (!bc2Sqrts.count(s.beta2))
        bc2Sqrts[s.beta2] = arith::TruncFOp::create(
            b, loc, b.getF32Type(),
            math::SqrtOp::create(
                b, loc,
                arith::SubFOp::create(b, loc, f64(1.0), power(s.beta2))));
    }
  }

  /// Needs hoistBiasCorrections first. `fence` (GPU: opaque()) is applied
  /// to the values that come from outside the segment.
  StepScalars stepScalars(const Segment &s, Value lrFactor,
                          function_ref<Value(Value)> fence = nullptr) {
    Type f32t = b.getF32Type();
    auto trunc = [&](Value v) {
      return arith::TruncFOp::create(b, loc, f32t, v);
    };
    auto in = [&](Value v) { return fence ? fence(v) : v; };
    StepScalars out;
    Value lr = arith::MulFOp::create(b, loc, f64(s.lr), in(lrFactor));
    if (decaysByFactor()) {
      // 1 - lr wd; Loshchilov-Hutter: 1 - wd lr_factor (wd is the
      // instantiated per-step decay; the schedule scales it as it scales lr).
      Value decayBy = optimizer == "adamw-decoupled" ? in(lrFactor) : lr;
      out.decay = trunc(arith::SubFOp::create(
          b, loc, f64(1.0),
          arith::MulFOp::create(b, loc, decayBy, f64(s.weightDecay))));
    }
    if (usesState1()) {
      // bias_correction1 = 1 - beta1^t; step_size = lr / bc1;
      // bc2_sqrt = sqrt(1 - beta2^t), all in double as in PyTorch.
      Value bc1 =
          arith::SubFOp::create(b, loc, f64(1.0), in(powers.at(s.beta1)));
      if (optimizer == "adam-atan2") {
        Value bc2 =
            arith::SubFOp::create(b, loc, f64(1.0), in(powers.at(s.beta2)));
        out.stepSize = trunc(arith::MulFOp::create(b, loc, lr, f64(kAtan2A)));
        out.invBc1 = trunc(arith::DivFOp::create(b, loc, f64(1.0), bc1));
        out.vScale =
            trunc(arith::DivFOp::create(b, loc, f64(kAtan2B * kAtan2B), bc2));
        return out;
      }
      out.stepSize = trunc(arith::DivFOp::create(b, loc, lr, bc1));
      out.bc2Sqrt = in(bc2Sqrts.at(s.beta2));
    } else {
      out.lr = trunc(lr);
    }
    return out;
  }

  /// beta prev + (1 - beta) g, each product rounded (ATen's order).
  Value average(Value prev, Value g, double beta) {
    return arith::AddFOp::create(
        b, loc, arith::MulFOp::create(b, loc, prev, f32(beta)),
        arith::MulFOp::create(b, loc, g, f32(1.0 - beta)));
  }

  /// The update of one element: the single loop body that the CPU function
  /// and the GPU kernel (scalar and 4-wide paths alike) are built from.
  StepElement stepElement(const Segment &s, const StepScalars &k,
                          StepElement in) {
    Value pi = in.p, gi = in.g;
    if (usesState1()) {
      if (decaysByFactor())
        pi = arith::MulFOp::create(b, loc, pi, k.decay);
      else if (s.weightDecay != 0.0) // L2: grad + wd * param
        gi = arith::AddFOp::create(
            b, loc, gi, arith::MulFOp::create(b, loc, pi, f32(s.weightDecay)));
      Value mi = average(in.s0, gi, s.beta1);
      Value vi = arith::AddFOp::create(
          b, loc, arith::MulFOp::create(b, loc, in.s1, f32(s.beta2)),
          arith::MulFOp::create(
              b, loc, arith::MulFOp::create(b, loc, f32(1.0 - s.beta2), gi),
              gi));
      if (optimizer == "adam-atan2") {
        // p -= (lr a) atan2(m / bc1, sqrt(v b^2 / bc2)): no eps.
        Value den = math::SqrtOp::create(
            b, loc, arith::MulFOp::create(b, loc, vi, k.vScale));
        Value update = emitPortableAtan2(
            b, loc, arith::MulFOp::create(b, loc, mi, k.invBc1), den);
        return {
            arith::SubFOp::create(
                b, loc, pi, arith::MulFOp::create(b, loc, k.stepSize, update)),
            {},
            mi,
            vi};
      }
      Value denom = arith::AddFOp::create(
          b, loc,
          arith::DivFOp::create(b, loc, math::SqrtOp::create(b, loc, vi),
                                k.bc2Sqrt),
          f32(s.eps));
      Value update = arith::MulFOp::create(
          b, loc, k.stepSize, arith::DivFOp::create(b, loc, mi, denom));
      return {arith::SubFOp::create(b, loc, pi, update), {}, mi, vi};
    }
    if (optimizer == "lion") {
      // Lion (Chen et al. 2023; lion-pytorch): p = p (1 - lr wd) -
      // lr sign(beta1 m + (1 - beta1) g); m = beta2 m + (1 - beta2) g.
      // sign(0) = 0 as torch.sign: select(c > 0, 1, select(c < 0, -1, 0)).
      Value c = average(in.s0, gi, s.beta1);
      auto cmp = [&](arith::CmpFPredicate pred) {
        return arith::CmpFOp::create(b, loc, pred, c, f32(0.0));
      };
      Value sign = arith::SelectOp::create(
          b, loc, cmp(arith::CmpFPredicate::OGT), f32(1.0),
          arith::SelectOp::create(b, loc, cmp(arith::CmpFPredicate::OLT),
                                  f32(-1.0), f32(0.0)));
      Value mi = average(in.s0, gi, s.beta2);
      Value pNew = arith::SubFOp::create(
          b, loc, arith::MulFOp::create(b, loc, pi, k.decay),
          arith::MulFOp::create(b, loc, k.lr, sign));
      return {pNew, {}, mi, {}};
    }
    // torch.optim.SGD: d_p = g + wd p; buf = momentum buf + d_p (the first
    // step starts from buf = 0, which gives buf = d_p exactly); nesterov:
    // d_p += momentum buf, else d_p = buf; p -= lr d_p.
    Value d = gi, buf;
    if (s.weightDecay != 0.0)
      d = arith::AddFOp::create(
          b, loc, d, arith::MulFOp::create(b, loc, pi, f32(s.weightDecay)));
    if (usesState0()) {
      buf = arith::AddFOp::create(
          b, loc, arith::MulFOp::create(b, loc, in.s0, f32(s.beta1)), d);
      d = nesterov ? Value(arith::AddFOp::create(
                         b, loc, d,
                         arith::MulFOp::create(b, loc, buf, f32(s.beta1))))
                   : buf;
    }
    return {arith::SubFOp::create(b, loc, pi,
                                  arith::MulFOp::create(b, loc, k.lr, d)),
            {},
            buf,
            {}};
  }

  /// Loads element `i` of the buffers the optimizer uses.
  StepElement loadElement(ArrayRef<Value> bufs, Value i) {
    StepElement e;
    e.p = memref::LoadOp::create(b, loc, bufs[0], i);
    e.g = memref::LoadOp::create(b, loc, bufs[1], i);
    if (usesState0())
      e.s0 = memref::LoadOp::create(b, loc, bufs[2], i);
    if (usesState1())
      e.s1 = memref::LoadOp::create(b, loc, bufs[3], i);
    return e;
  }

  /// Stores the updated values of element `i`.
  void storeElement(ArrayRef<Value> bufs, Value i, const StepElement &e) {
    memref::StoreOp::create(b, loc, e.p, bufs[0], i);
    if (e.s0)
      memref::StoreOp::create(b, loc, e.s0, bufs[2], i);
    if (e.s1)
      memref::StoreOp::create(b, loc, e.s1, bufs[3], i);
  }

  void buildStep(ArrayRef<Segment> segments) {
    Type i64 = b.getI64Type(), f32t = b.getF32Type(), f64t = b.getF64Type();
    func::FuncOp fn = startFunc(
        "muir_generated_step",
        {bufferType(), bufferType(), bufferType(), bufferType(), i64, f32t});
    SmallVector<Value, 4> bufs(fn.getArguments().take_front(4));
    Value stepF = arith::SIToFPOp::create(b, loc, f64t, fn.getArgument(4));
    Value lrFactor = arith::ExtFOp::create(b, loc, f64t, fn.getArgument(5));
    hoistBiasCorrections(segments, stepF);
    for (const Segment &s : segments) {
      StepScalars k = stepScalars(s, lrFactor);
      loop(idx(s.offset), idx(s.offset + s.numel), [&](Value i) {
        storeElement(bufs, i, stepElement(s, k, loadElement(bufs, i)));
      });
    }
    func::ReturnOp::create(b, loc);
  }

  //===--------------------------------------------------------------------===//
  // GPU kernels
  //===--------------------------------------------------------------------===//

  /// Elements per chunk: one block's share per grid-stride iteration at the
  /// runtime's launch configuration (256 threads x 4 elements).
  static constexpr int64_t kChunk = 1024;

  /// Splits the segments into chunks of at most kChunk elements that never
  /// straddle a segment; `firstChunk[s]` is the first chunk of segment s
  /// (one past the last entry: the chunk count).
  SmallVector<int64_t> chunkStarts(ArrayRef<Segment> segments) {
    SmallVector<int64_t> first;
    int64_t chunks = 0;
    for (const Segment &s : segments) {
      first.push_back(chunks);
      chunks += llvm::divideCeil(s.numel, kChunk);
    }
    first.push_back(chunks);
    return first;
  }

  /// Emits `leaf(s)` for the segment s holding chunk `c`, found by a
  /// balanced binary search over the immediates `first` (a block-uniform
  /// branch tree of depth log2(#segments); no table in memory). The leaves
  /// yield values of `types`, which the tree returns.
  SmallVector<Value>
  segmentTree(Value c, ArrayRef<int64_t> first, int64_t lo, int64_t hi,
              TypeRange types, function_ref<SmallVector<Value>(int64_t)> leaf) {
    if (hi - lo == 1)
      return leaf(lo);
    int64_t mid = lo + (hi - lo) / 2;
    Value below = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, c,
                                        idx(first[mid]));
    auto ifOp = scf::IfOp::create(b, loc, types, below, /*withElse=*/true);
    OpBuilder::InsertionGuard guard(b);
    for (auto [block, from, to] : {std::tuple(ifOp.thenBlock(), lo, mid),
                                   std::tuple(ifOp.elseBlock(), mid, hi)}) {
      if (types.empty()) // the builder added an empty scf.yield
        b.setInsertionPoint(block->getTerminator());
      else
        b.setInsertionPointToEnd(block);
      SmallVector<Value> results = segmentTree(c, first, from, to, types, leaf);
      if (!types.empty())
        scf::YieldOp::create(b, loc, results);
    }
    return SmallVector<Value>(ifOp.getResults());
  }

  /// `v` through an empty `asm volatile` (a PTX mov): a value LLVM cannot
  /// hoist. Each segment's code in a kernel starts by fencing what it takes
  /// from outside (the thread index, kernel arguments, the bias
  /// corrections), so that LLVM does not reassociate and lift every
  /// segment's `4 tid + offset`, per-step scalars and clipped bounds out of
  /// the chunk loop, which kept hundreds of values live (GPT-2: 255
  /// registers and 4 KiB of spills) to save a few instructions per chunk.
  /// ptxas removes the mov.
  Value opaque(Value v) {
    Type t = v.getType();
    bool isIndex = t.isIndex();
    if (isIndex) {
      t = b.getI64Type();
      v = arith::IndexCastOp::create(b, loc, t, v);
    }
    StringRef asmText = t.isF32()         ? "mov.f32 $0, $1;"
                        : t.isF64()       ? "mov.f64 $0, $1;"
                        : t.isInteger(32) ? "mov.b32 $0, $1;"
                                          : "mov.b64 $0, $1;";
    StringRef constraints = t.isF32()         ? "=f,f"
                            : t.isF64()       ? "=d,d"
                            : t.isInteger(32) ? "=r,r"
                                              : "=l,l";
    Value out =
        LLVM::InlineAsmOp::create(
            b, loc, t, ValueRange{v}, asmText, constraints,
            /*has_side_effects=*/true, /*is_align_stack=*/false,
            LLVM::TailCallKind::None, LLVM::AsmDialectAttr(), ArrayAttr())
            .getRes();
    if (isIndex)
      out = arith::IndexCastOp::create(b, loc, b.getIndexType(), out);
    return out;
  }

  /// A `gpu.func @name(types) kernel` in `gpuModule`, the builder at its
  /// start. Returns the function.
  gpu::GPUFuncOp startKernel(gpu::GPUModuleOp gpuModule, StringRef name,
                             TypeRange inputs) {
    b.setInsertionPointToEnd(gpuModule.getBody());
    auto fn =
        gpu::GPUFuncOp::create(b, loc, name, b.getFunctionType(inputs, {}));
    fn->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), b.getUnitAttr());
    b.setInsertionPointToStart(&fn.getBody().front());
    return fn;
  }

  /// Grid-stride over the chunks: `body(s, chunkBegin, chunkEnd, tid,
  /// blockDim)` with s an immediate segment index.
  void chunkLoop(
      ArrayRef<Segment> segments,
      function_ref<void(const Segment &, Value, Value, Value, Value)> body) {
    SmallVector<int64_t> first = chunkStarts(segments);
    Value tid = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
    Value bdim = gpu::BlockDimOp::create(b, loc, gpu::Dimension::x);
    Value bid = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
    Value gdim = gpu::GridDimOp::create(b, loc, gpu::Dimension::x);
    loop(bid, idx(first.back()), gdim, [&](Value c) {
      segmentTree(c, first, 0, segments.size(), {}, [&](int64_t si) {
        const Segment &s = segments[si];
        Value begin = arith::AddIOp::create(
            b, loc,
            arith::MulIOp::create(
                b, loc, arith::SubIOp::create(b, loc, c, idx(first[si])),
                idx(kChunk)),
            idx(s.offset));
        Value end = arith::MinSIOp::create(
            b, loc, arith::AddIOp::create(b, loc, begin, idx(kChunk)),
            idx(s.offset + s.numel));
        body(s, begin, end, opaque(tid), bdim);
        return SmallVector<Value>();
      });
    });
  }

  void buildGPUStep(gpu::GPUModuleOp gpuModule, ArrayRef<Segment> segments) {
    Type i64 = b.getI64Type(), f32t = b.getF32Type(), f64t = b.getF64Type();
    gpu::GPUFuncOp fn = startKernel(
        gpuModule, "muir_step_kernel",
        {bufferType(), bufferType(), bufferType(), bufferType(), i64, f32t});
    SmallVector<Value, 4> bufs(fn.getArguments().take_front(4));
    Value stepF = arith::SIToFPOp::create(b, loc, f64t, fn.getArgument(4));
    Value lrFactor = arith::ExtFOp::create(b, loc, f64t, fn.getArgument(5));
    hoistBiasCorrections(segments, stepF);
    auto vecType = VectorType::get({4}, f32t);
    chunkLoop(segments, [&](const Segment &s, Value begin, Value end, Value tid,
                            Value bdim) {
      StepScalars k =
          stepScalars(s, lrFactor, [&](Value v) { return opaque(v); });
      // Thread t takes elements [i, i + 4) for i = begin + 4t, 4 blockDim
      // apart: one 128-bit access per buffer when all four are in the
      // chunk (offsets are multiples of 16 elements), else scalar.
      Value first = arith::AddIOp::create(
          b, loc, begin, arith::MulIOp::create(b, loc, tid, idx(4)));
      Value stride = arith::MulIOp::create(b, loc, bdim, idx(4));
      loop(first, end, stride, [&](Value i) {
        Value four = arith::AddIOp::create(b, loc, i, idx(4));
        Value full =
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle, four, end);
        if (s.offset % 4 != 0) // unaligned: never vector (not produced by
          full = arith::ConstantIntOp::create(b, loc, b.getI1Type(), 0);
        auto ifOp = scf::IfOp::create(b, loc, full, /*withElseRegion=*/true);
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(ifOp.thenBlock());
        auto load = [&](Value buf) -> SmallVector<Value, 4> {
          if (!buf)
            return SmallVector<Value, 4>(4, Value());
          Value v =
              vector::LoadOp::create(b, loc, vecType, buf, i,
                                     /*nontemporal=*/false, llvm::Align(16));
          SmallVector<Value, 4> lanes;
          for (int64_t l = 0; l < 4; ++l)
            lanes.push_back(vector::ExtractOp::create(b, loc, v, l));
          return lanes;
        };
        SmallVector<Value, 4> p = load(bufs[0]), g = load(bufs[1]),
                              s0 = load(usesState0() ? bufs[2] : Value()),
                              s1 = load(usesState1() ? bufs[3] : Value());
        SmallVector<Value, 4> np, ns0, ns1;
        for (int64_t l = 0; l < 4; ++l) {
          StepElement e = stepElement(s, k, {p[l], g[l], s0[l], s1[l]});
          np.push_back(e.p);
          ns0.push_back(e.s0);
          ns1.push_back(e.s1);
        }
        auto store = [&](ArrayRef<Value> lanes, Value buf) {
          Value v = vector::FromElementsOp::create(b, loc, vecType, lanes);
          vector::StoreOp::create(b, loc, v, buf, i, /*nontemporal=*/false,
                                  llvm::Align(16));
        };
        store(np, bufs[0]);
        if (usesState0())
          store(ns0, bufs[2]);
        if (usesState1())
          store(ns1, bufs[3]);
        // The tail of a segment whose size is not a multiple of 4.
        b.setInsertionPointToStart(ifOp.elseBlock());
        loop(i, end, idx(1), [&](Value j) {
          storeElement(bufs, j, stepElement(s, k, loadElement(bufs, j)));
        });
      });
    });
    gpu::ReturnOp::create(b, loc);
  }

  void buildGPUInit(gpu::GPUModuleOp gpuModule, ArrayRef<Segment> segments) {
    Type i64 = b.getI64Type(), i32 = b.getI32Type();
    gpu::GPUFuncOp fn = startKernel(gpuModule, "muir_init_kernel",
                                    {bufferType(), i64, i64, i64});
    Value params = fn.getArgument(0), seed = fn.getArgument(1);
    Value begin =
        arith::IndexCastOp::create(b, loc, b.getIndexType(), fn.getArgument(2));
    Value end =
        arith::IndexCastOp::create(b, loc, b.getIndexType(), fn.getArgument(3));
    Value k0 = arith::TruncIOp::create(b, loc, i32, seed);
    Value k1 = arith::TruncIOp::create(
        b, loc, i32,
        arith::ShRUIOp::create(b, loc, seed,
                               arith::ConstantIntOp::create(b, loc, i64, 32)));
    // The leaves of the segment tree only choose the segment's parameters
    // (its chunk bounds, Philox counter base and parameter index, scale and
    // distribution); one copy of each distribution's code follows (a copy
    // per segment multiplies the code by the tensor count and, with
    // libdevice's cosf/logf, kept 238 registers live for GPT-2).
    SmallVector<int64_t> first = chunkStarts(segments);
    SmallVector<InitKind> kinds;
    for (const Segment &s : segments)
      if (!llvm::is_contained(kinds, s.init))
        kinds.push_back(s.init);
    Type index = b.getIndexType(), f32t = b.getF32Type();
    Value tid = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
    Value bdim = gpu::BlockDimOp::create(b, loc, gpu::Dimension::x);
    Value bid = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
    Value gdim = gpu::GridDimOp::create(b, loc, gpu::Dimension::x);
    loop(bid, idx(first.back()), gdim, [&](Value c) {
      SmallVector<Value> q = segmentTree(
          c, first, 0, segments.size(), {index, index, index, i32, f32t, index},
          [&](int64_t si) {
            const Segment &s = segments[si];
            Value lo = arith::AddIOp::create(
                b, loc,
                arith::MulIOp::create(
                    b, loc, arith::SubIOp::create(b, loc, c, idx(first[si])),
                    idx(kChunk)),
                idx(s.offset));
            Value hi = arith::MinSIOp::create(
                b, loc, arith::AddIOp::create(b, loc, lo, idx(kChunk)),
                idx(s.offset + s.numel));
            InitParams p = initParams(s);
            return SmallVector<Value>{
                lo,
                hi,
                p.counterBase,
                p.paramIndex,
                p.scale,
                idx(llvm::find(kinds, s.init) - kinds.begin())};
          });
      // Clip the chunk to [begin, end).
      Value lo = arith::MaxSIOp::create(b, loc, q[0], begin);
      Value hi = arith::MinSIOp::create(b, loc, q[1], end);
      InitParams p{q[2], q[3], q[4]};
      // Thread t takes the 4-aligned group [j, j + 4), j = (lo & ~3) + 4t,
      // 4 blockDim apart: one 128-bit store when the group lies inside
      // [lo, hi) (a shard's bounds need not be aligned), else its elements
      // inside one by one. Element i's value depends on i only, as on the
      // CPU.
      auto elements = [&](InitKind kind) {
        Value base = arith::AndIOp::create(b, loc, lo, idx(~int64_t(3)));
        Value first = arith::AddIOp::create(
            b, loc, base, arith::MulIOp::create(b, loc, tid, idx(4)));
        Value stride = arith::MulIOp::create(b, loc, bdim, idx(4));
        loop(first, hi, stride, [&](Value j) {
          Value j4 = arith::AddIOp::create(b, loc, j, idx(4));
          Value full = arith::AndIOp::create(
              b, loc,
              arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, j, lo),
              arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle, j4, hi));
          auto ifOp = scf::IfOp::create(b, loc, full, /*withElseRegion=*/true);
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(ifOp.thenBlock());
          SmallVector<Value, 4> lanes;
          for (int64_t l = 0; l < 4; ++l)
            lanes.push_back(initValue(
                kind, p, arith::AddIOp::create(b, loc, j, idx(l)), k0, k1));
          vector::StoreOp::create(
              b, loc,
              vector::FromElementsOp::create(b, loc, VectorType::get({4}, f32t),
                                             lanes),
              params, j, /*nontemporal=*/false, llvm::Align(16));
          b.setInsertionPointToStart(ifOp.elseBlock());
          loop(arith::MaxSIOp::create(b, loc, j, lo),
               arith::MinSIOp::create(b, loc, j4, hi), [&](Value i) {
                 memref::StoreOp::create(b, loc, initValue(kind, p, i, k0, k1),
                                         params, i);
               });
        });
      };
      if (kinds.size() == 1)
        return elements(kinds.front());
      SmallVector<int64_t> cases =
          llvm::to_vector(llvm::seq<int64_t>(1, kinds.size()));
      auto sw = scf::IndexSwitchOp::create(b, loc, TypeRange(), q[5], cases,
                                           cases.size());
      OpBuilder::InsertionGuard guard(b);
      for (auto [n, kind] : llvm::enumerate(kinds)) {
        Region &r = n == 0 ? sw.getDefaultRegion() : sw.getCaseRegions()[n - 1];
        b.setInsertionPointToStart(&r.emplaceBlock());
        elements(kind);
        scf::YieldOp::create(b, loc);
      }
    });
    gpu::ReturnOp::create(b, loc);
  }

  /// `gpu.module @muir_kernels` with the two kernels the runtime launches.
  void buildGPU(ArrayRef<Segment> segments) {
    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                    b.getUnitAttr());
    b.setInsertionPointToEnd(module.getBody());
    auto gpuModule = gpu::GPUModuleOp::create(b, loc, "muir_kernels");
    buildGPUInit(gpuModule, segments);
    buildGPUStep(gpuModule, segments);
  }

  std::string optimizer;
  bool nesterov = false;
  /// From hoistBiasCorrections: beta -> beta^t (f64); beta2 -> f32
  /// sqrt(1 - beta2^t).
  std::map<double, Value> powers, bc2Sqrts;

private:
  ModuleOp module;
  ModelOp model;
  int64_t elements;
  OpBuilder b;
  Location loc;
};

struct ConvertTPToKernelsPass
    : tp::impl::ConvertTPToKernelsBase<ConvertTPToKernelsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<ModelOp> models(module.getOps<ModelOp>());
    if (models.size() != 1) {
      module.emitError() << "convert-tp-to-kernels needs exactly one "
                            "tp.model in the module, found "
                         << models.size();
      return signalPassFailure();
    }
    ModelOp model = models.front();
    auto buffer = model->getAttrOfType<DictionaryAttr>("tp.buffer");
    auto parametrization =
        model->getAttrOfType<DictionaryAttr>("tp.parametrization");
    if (!buffer || !parametrization) {
      model.emitError() << "kernels need an instantiated, laid-out model; "
                           "run tp-parametrize, tp-instantiate and "
                           "tp-assign-layout first";
      return signalPassFailure();
    }
    std::string opt = optimizer;
    if (opt.empty())
      if (auto s = parametrization.getAs<StringAttr>("optimizer"))
        opt = s.getValue().str();
    bool nesterov = opt == "sgd-nesterov";
    if (nesterov)
      opt = "sgd-momentum";
    if (opt != "adamw" && opt != "adam" && opt != "sgd" &&
        opt != "sgd-momentum" && opt != "lion" && opt != "adam-atan2" &&
        opt != "adamw-decoupled") {
      model.emitError() << "no step kernel for optimizer '" << opt
                        << "'; expected sgd, sgd-momentum, sgd-nesterov, "
                           "adam, adamw, adamw-decoupled, lion or adam-atan2";
      return signalPassFailure();
    }

    FailureOr<std::vector<ParamInfo>> params = collectParams(model);
    if (failed(params))
      return signalPassFailure();
    std::vector<Segment> segments;
    for (auto [index, p] : llvm::enumerate(*params)) {
      if (p.op.getTied())
        continue;
      auto layout = p.op->getAttrOfType<DictionaryAttr>("tp.layout");
      auto values = p.op->getAttrOfType<DictionaryAttr>("tp.values");
      if (!layout || !values) {
        p.op.emitOpError() << "has no tp.layout or tp.values; run "
                              "tp-instantiate and tp-assign-layout first";
        return signalPassFailure();
      }
      auto get = [&](StringRef k) {
        auto a = layout.getAs<IntegerAttr>(k);
        return a ? a.getInt() : 0;
      };
      for (int64_t copy = 0; copy < get("copies"); ++copy)
        segments.push_back({int64_t(index), copy,
                            get("offset") + copy * get("stride"), get("numel"),
                            *p.op.getInit(),
                            valueAt(values, "init_std", copy, 0.0),
                            valueAt(values, "lr", copy, 0.0),
                            valueAt(values, "weight_decay", copy, 0.0),
                            valueAt(values, "eps", copy, 0.0),
                            valueAt(values, "beta1", copy, 0.0),
                            valueAt(values, "beta2", copy, 0.0)});
    }
    int64_t elements = buffer.getAs<IntegerAttr>("elements").getInt();
    KernelBuilder kb(module, model, std::max<int64_t>(elements, 1));
    kb.buildPhilox();
    kb.buildInit(segments);
    kb.optimizer = opt;
    kb.nesterov = nesterov;
    kb.buildStep(segments);
    if (gpu)
      kb.buildGPU(segments);
  }
};
} // namespace
