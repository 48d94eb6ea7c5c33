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

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "muir/Conversion/Passes.h"
#include "muir/Dialect/TP/Utils/ParamTable.h"
#include "llvm/Support/MathExtras.h"
#include <cmath>

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

  /// Loops `body(i)` over [lo, hi) (index values).
  void loop(Value lo, Value hi, function_ref<void(Value)> body) {
    auto forOp = scf::ForOp::create(b, loc, lo, hi, idx(1));
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

  /// A uniform in [0, 1) from the top 24 bits of `word` (exact in f32).
  Value unit(Value word, bool openAtZero) {
    Value top = arith::ShRUIOp::create(
        b, loc, word, arith::ConstantIntOp::create(b, loc, b.getI32Type(), 8));
    Value f = arith::UIToFPOp::create(b, loc, b.getF32Type(), top);
    if (openAtZero) // (0, 1]: log() must not see 0
      f = arith::AddFOp::create(b, loc, f, f32(1.0));
    return arith::MulFOp::create(b, loc, f, f32(std::ldexp(1.0, -24)));
  }

  /// Box-Muller: sqrt(-2 ln u1) cos(2 pi u2) from two words.
  Value normal(Value w0, Value w1) {
    Value u1 = unit(w0, true), u2 = unit(w1, false);
    Value r = math::SqrtOp::create(
        b, loc,
        arith::MulFOp::create(b, loc, f32(-2.0),
                              math::LogOp::create(b, loc, u1)));
    Value angle =
        arith::MulFOp::create(b, loc, f32(2.0 * llvm::numbers::pi), u2);
    return arith::MulFOp::create(b, loc, r, math::CosOp::create(b, loc, angle));
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

  /// The initial value of element `i` of segment `s`: counter = (element
  /// index within the parameter over all its copies, parameter index, 0).
  Value initValue(const Segment &s, Value i, Value k0, Value k1) {
    if (s.init == InitKind::zeros)
      return f32(0.0);
    if (s.init == InitKind::ones)
      return f32(1.0);
    Type i64 = b.getI64Type(), i32 = b.getI32Type();
    Value local = arith::AddIOp::create(
        b, loc, arith::SubIOp::create(b, loc, i, idx(s.offset)),
        idx(s.copy * s.numel));
    Value local64 = arith::IndexCastOp::create(b, loc, i64, local);
    SmallVector<Value, 4> ctr = {
        arith::TruncIOp::create(b, loc, i32, local64),
        arith::TruncIOp::create(
            b, loc, i32,
            arith::ShRUIOp::create(
                b, loc, local64,
                arith::ConstantIntOp::create(b, loc, i64, 32))),
        arith::ConstantIntOp::create(b, loc, i32, s.paramIndex),
        arith::ConstantIntOp::create(b, loc, i32, 0)};
    SmallVector<Value, 4> w = philox(b, loc, ctr, k0, k1);
    Value z;
    switch (s.init) {
    case InitKind::uniform: {
      // U(-a, a) with a = sqrt(3) std has standard deviation std.
      Value u = unit(w[0], false);
      Value centered = arith::SubFOp::create(
          b, loc, arith::MulFOp::create(b, loc, f32(2.0), u), f32(1.0));
      return arith::MulFOp::create(b, loc, centered,
                                   f32(std::sqrt(3.0) * s.initStd));
    }
    case InitKind::normal:
      z = normal(w[0], w[1]);
      break;
    case InitKind::trunc_normal: {
      // Truncation at +-2 std: the first of two Box-Muller draws inside the
      // interval, else the second clamped (P = 0.0455^2, about 2e-3, of a
      // clamp; see docs/Lowering.md).
      Value z0 = normal(w[0], w[1]), z1 = normal(w[2], w[3]);
      Value inside =
          arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLE,
                                math::AbsFOp::create(b, loc, z0), f32(2.0));
      Value clamped = arith::MinimumFOp::create(
          b, loc, arith::MaximumFOp::create(b, loc, z1, f32(-2.0)), f32(2.0));
      z = arith::SelectOp::create(b, loc, inside, z0, clamped);
      break;
    }
    default:
      z = f32(0.0);
    }
    return arith::MulFOp::create(b, loc, z, f32(s.initStd));
  }

  void buildStep(ArrayRef<Segment> segments, StringRef optimizer,
                 bool nesterov) {
    Type i64 = b.getI64Type(), f32t = b.getF32Type(), f64t = b.getF64Type();
    func::FuncOp fn = startFunc(
        "muir_generated_step",
        {bufferType(), bufferType(), bufferType(), bufferType(), i64, f32t});
    Value p = fn.getArgument(0), g = fn.getArgument(1), s0 = fn.getArgument(2),
          s1 = fn.getArgument(3);
    Value stepF = arith::SIToFPOp::create(b, loc, f64t, fn.getArgument(4));
    Value lrFactor = arith::ExtFOp::create(b, loc, f64t, fn.getArgument(5));
    auto trunc = [&](Value v) {
      return arith::TruncFOp::create(b, loc, f32t, v);
    };
    for (const Segment &s : segments) {
      Value lr = arith::MulFOp::create(b, loc, f64(s.lr), lrFactor);
      Value lo = idx(s.offset), hi = idx(s.offset + s.numel);
      if (optimizer == "adamw" || optimizer == "adam") {
        // bias_correction1 = 1 - beta1^t; step_size = lr / bc1;
        // bc2_sqrt = sqrt(1 - beta2^t), all in double as in PyTorch.
        Value bc1 = arith::SubFOp::create(
            b, loc, f64(1.0),
            math::PowFOp::create(b, loc, f64(s.beta1), stepF));
        Value bc2 = arith::SubFOp::create(
            b, loc, f64(1.0),
            math::PowFOp::create(b, loc, f64(s.beta2), stepF));
        Value stepSize = trunc(arith::DivFOp::create(b, loc, lr, bc1));
        Value bc2Sqrt = trunc(math::SqrtOp::create(b, loc, bc2));
        Value decay = trunc(arith::SubFOp::create(
            b, loc, f64(1.0),
            arith::MulFOp::create(b, loc, lr, f64(s.weightDecay))));
        bool decoupled = optimizer == "adamw";
        loop(lo, hi, [&](Value i) {
          Value pi = memref::LoadOp::create(b, loc, p, i);
          Value gi = memref::LoadOp::create(b, loc, g, i);
          if (decoupled)
            pi = arith::MulFOp::create(b, loc, pi, decay);
          else if (s.weightDecay != 0.0) // L2: grad + wd * param
            gi = arith::AddFOp::create(
                b, loc, gi,
                arith::MulFOp::create(b, loc, pi, f32(s.weightDecay)));
          Value mi = memref::LoadOp::create(b, loc, s0, i);
          Value vi = memref::LoadOp::create(b, loc, s1, i);
          mi = arith::AddFOp::create(
              b, loc, arith::MulFOp::create(b, loc, mi, f32(s.beta1)),
              arith::MulFOp::create(b, loc, gi, f32(1.0 - s.beta1)));
          vi = arith::AddFOp::create(
              b, loc, arith::MulFOp::create(b, loc, vi, f32(s.beta2)),
              arith::MulFOp::create(
                  b, loc, arith::MulFOp::create(b, loc, f32(1.0 - s.beta2), gi),
                  gi));
          Value denom = arith::AddFOp::create(
              b, loc,
              arith::DivFOp::create(b, loc, math::SqrtOp::create(b, loc, vi),
                                    bc2Sqrt),
              f32(s.eps));
          Value update = arith::MulFOp::create(
              b, loc, stepSize, arith::DivFOp::create(b, loc, mi, denom));
          memref::StoreOp::create(
              b, loc, arith::SubFOp::create(b, loc, pi, update), p, i);
          memref::StoreOp::create(b, loc, mi, s0, i);
          memref::StoreOp::create(b, loc, vi, s1, i);
        });
      } else {
        // torch.optim.SGD: d_p = g + wd p; buf = momentum buf + d_p (the
        // first step starts from buf = 0, which gives buf = d_p exactly);
        // nesterov: d_p += momentum buf, else d_p = buf; p -= lr d_p.
        Value lrF = trunc(lr);
        bool momentum = optimizer == "sgd-momentum";
        loop(lo, hi, [&](Value i) {
          Value pi = memref::LoadOp::create(b, loc, p, i);
          Value d = memref::LoadOp::create(b, loc, g, i);
          if (s.weightDecay != 0.0)
            d = arith::AddFOp::create(
                b, loc, d,
                arith::MulFOp::create(b, loc, pi, f32(s.weightDecay)));
          if (momentum) {
            Value buf = memref::LoadOp::create(b, loc, s0, i);
            buf = arith::AddFOp::create(
                b, loc, arith::MulFOp::create(b, loc, buf, f32(s.beta1)), d);
            memref::StoreOp::create(b, loc, buf, s0, i);
            d = nesterov
                    ? Value(arith::AddFOp::create(
                          b, loc, d,
                          arith::MulFOp::create(b, loc, buf, f32(s.beta1))))
                    : buf;
          }
          memref::StoreOp::create(
              b, loc,
              arith::SubFOp::create(b, loc, pi,
                                    arith::MulFOp::create(b, loc, lrF, d)),
              p, i);
        });
      }
    }
    func::ReturnOp::create(b, loc);
  }

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
        opt != "sgd-momentum") {
      model.emitError() << "no step kernel for optimizer '" << opt
                        << "' yet; generated: adamw, adam, sgd, "
                           "sgd-momentum, sgd-nesterov";
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
    kb.buildStep(segments, opt, nesterov);
  }
};
} // namespace
