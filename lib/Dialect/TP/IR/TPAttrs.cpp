//===- TPAttrs.cpp - tp dialect attributes --------------------------------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "muir/Dialect/TP/IR/TPAttrs.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "muir/Dialect/TP/IR/TPAnnotations.h"
#include "muir/Dialect/TP/IR/TPDialect.h"
#include "muir/Dialect/TP/IR/TPOps.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/MathExtras.h"
#include <cmath>

using namespace mlir;
using namespace mlir::tp;

//===----------------------------------------------------------------------===//
// ScaleAttr
//===----------------------------------------------------------------------===//

/// The four axes of a monomial, in print order.
static constexpr const char *kAxisNames[] = {"N", "L", "B", "D"};

/// `<1>` or `<N = -1, L = -1/2, B = 1/2, D = -1/2>` (any subset, in order).
Attribute ScaleAttr::parse(AsmParser &parser, Type) {
  Rational exps[4];
  bool seen[4] = {false, false, false, false};
  if (parser.parseLess())
    return {};
  if (succeeded(parser.parseOptionalGreater()))
    return ScaleAttr::one(parser.getContext());
  int64_t one;
  OptionalParseResult constant = parser.parseOptionalInteger(one);
  if (constant.has_value()) {
    if (failed(*constant))
      return {};
    if (one != 1) {
      parser.emitError(parser.getCurrentLocation(),
                       "a constant monomial is written #tp.scale<1>");
      return {};
    }
    if (parser.parseGreater())
      return {};
    return ScaleAttr::one(parser.getContext());
  }
  do {
    SMLoc loc = parser.getCurrentLocation();
    StringRef axis;
    if (parser.parseKeyword(&axis))
      return {};
    int index = llvm::StringSwitch<int>(axis)
                    .Case("N", 0)
                    .Case("L", 1)
                    .Case("B", 2)
                    .Case("D", 3)
                    .Default(-1);
    if (index < 0) {
      parser.emitError(loc) << "unknown scaling axis '" << axis
                            << "'; expected N (width), L (depth), B (batch) "
                               "or D (duration)";
      return {};
    }
    if (seen[index]) {
      parser.emitError(loc) << "scaling axis '" << axis << "' given twice";
      return {};
    }
    seen[index] = true;
    int64_t num = 0, den = 1;
    if (parser.parseEqual())
      return {};
    SMLoc numLoc = parser.getCurrentLocation();
    if (parser.parseInteger(num))
      return {};
    // Rational arithmetic multiplies numerators by denominators (and
    // normalising -2^63 is undefined): keep both within 32 bits.
    auto tooLarge = [&](SMLoc at, int64_t v) {
      if (v >= INT32_MIN + 1 && v <= INT32_MAX)
        return false;
      parser.emitError(at) << "exponent " << v
                           << " is too large; numerators and denominators "
                              "must be at most 2147483647 in magnitude";
      return true;
    };
    if (tooLarge(numLoc, num))
      return {};
    if (succeeded(parser.parseOptionalSlash())) {
      SMLoc denLoc = parser.getCurrentLocation();
      if (parser.parseInteger(den))
        return {};
      if (den <= 0) {
        parser.emitError(denLoc, "exponent denominator must be positive");
        return {};
      }
      if (tooLarge(denLoc, den))
        return {};
    }
    exps[index] = Rational(num, den);
  } while (succeeded(parser.parseOptionalComma()));
  if (parser.parseGreater())
    return {};
  return ScaleAttr::get(parser.getContext(), exps[0], exps[1], exps[2],
                        exps[3]);
}

void ScaleAttr::print(AsmPrinter &printer) const {
  Rational exps[4] = {getWidth(), getDepth(), getBatch(), getDuration()};
  printer << '<';
  bool first = true;
  for (int i = 0; i < 4; ++i) {
    if (exps[i].isZero())
      continue;
    if (!first)
      printer << ", ";
    first = false;
    printer << kAxisNames[i] << " = " << exps[i];
  }
  if (first)
    printer << '1';
  printer << '>';
}

ScaleAttr ScaleAttr::mul(ScaleAttr other) const {
  return get(getContext(), getWidth() + other.getWidth(),
             getDepth() + other.getDepth(), getBatch() + other.getBatch(),
             getDuration() + other.getDuration());
}

ScaleAttr ScaleAttr::pow(Rational power) const {
  return get(getContext(), getWidth() * power, getDepth() * power,
             getBatch() * power, getDuration() * power);
}

double ScaleAttr::evaluate(double width, double depth, double batch,
                           double duration) const {
  return std::pow(width, getWidth().toDouble()) *
         std::pow(depth, getDepth().toDouble()) *
         std::pow(batch, getBatch().toDouble()) *
         std::pow(duration, getDuration().toDouble());
}

//===----------------------------------------------------------------------===//
// LayoutAttr and BufferAttr
//===----------------------------------------------------------------------===//

/// Fails unless `lo <= value <= LayoutAttr::kMaxElements`.
static LogicalResult checkElements(function_ref<InFlightDiagnostic()> emitError,
                                   StringRef attr, StringRef key, int64_t value,
                                   int64_t lo) {
  if (value >= lo && value <= LayoutAttr::kMaxElements)
    return success();
  return emitError() << attr << " " << key << " must be in [" << lo << ", "
                     << LayoutAttr::kMaxElements << "], got " << value;
}

LogicalResult LayoutAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 int64_t offset, int64_t stride, int64_t numel,
                                 int64_t copies) {
  StringRef attr = "#tp.layout";
  // A stride shorter than a copy would make copies overlap.
  if (failed(checkElements(emitError, attr, "offset", offset, 0)) ||
      failed(checkElements(emitError, attr, "numel", numel, 1)) ||
      failed(checkElements(emitError, attr, "stride", stride, numel)) ||
      failed(checkElements(emitError, attr, "copies", copies, 1)))
    return failure();
  int64_t end;
  if (llvm::MulOverflow(stride, copies - 1, end) ||
      llvm::AddOverflow(end, offset + numel, end) || end > kMaxElements)
    return emitError() << "#tp.layout ends past the largest flat buffer (2^61 "
                          "f32 elements)";
  return success();
}

LogicalResult BufferAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 int64_t elements, int64_t alignment) {
  if (failed(checkElements(emitError, "#tp.buffer", "elements", elements, 0)))
    return failure();
  // 128-bit vector accesses need 16-byte alignment; 2^30 bounds the padding.
  if (alignment < 16 || alignment > (1 << 30) || alignment % 16 != 0)
    return emitError() << "#tp.buffer alignment must be a multiple of 16 "
                          "bytes in [16, 2^30], got "
                       << alignment;
  return success();
}

//===----------------------------------------------------------------------===//
// Parameter parsers and printers
//===----------------------------------------------------------------------===//

FailureOr<Rational> tp::parseRational(AsmParser &parser) {
  int64_t num = 0, den = 1;
  SMLoc loc = parser.getCurrentLocation();
  if (parser.parseInteger(num))
    return failure();
  if (succeeded(parser.parseOptionalSlash()) && parser.parseInteger(den))
    return failure();
  // Rational arithmetic multiplies numerators by denominators: keep both
  // within 32 bits, as #tp.scale does.
  if (den <= 0 || num < INT32_MIN + 1 || num > INT32_MAX || den > INT32_MAX)
    return parser.emitError(loc) << "expected a rational with a positive "
                                    "denominator, both at most 2147483647";
  return Rational(num, den);
}

FailureOr<llvm::APFloat> tp::parseF64(AsmParser &parser) {
  double value;
  if (parser.parseFloat(value))
    return failure();
  return llvm::APFloat(value);
}

FailureOr<DenseF64ArrayAttr> tp::parseF64Array(AsmParser &parser) {
  SmallVector<double> values;
  if (parser.parseCommaSeparatedList(AsmParser::Delimiter::Square, [&] {
        double value;
        if (parser.parseFloat(value))
          return failure();
        values.push_back(value);
        return success();
      }))
    return failure();
  return DenseF64ArrayAttr::get(parser.getContext(), values);
}

void tp::printF64Array(AsmPrinter &printer, DenseF64ArrayAttr values) {
  printer << '[';
  llvm::interleaveComma(values.asArrayRef(), printer,
                        [&](double v) { printer.printFloat(APFloat(v)); });
  printer << ']';
}

FailureOr<bool> tp::parseBool(AsmParser &parser) {
  if (succeeded(parser.parseOptionalKeyword("true")))
    return true;
  if (succeeded(parser.parseOptionalKeyword("false")))
    return false;
  return parser.emitError(parser.getCurrentLocation(),
                          "expected true or false");
}

//===----------------------------------------------------------------------===//
// ScalingAttr, ValuesAttr, InstanceAttr
//===----------------------------------------------------------------------===//

/// The parameter of `record` (a ScalingAttr or a ValuesAttr, which declare one
/// parameter per quantity under the same names) that holds `quantity`.
template <typename Record>
static auto byQuantity(Record record, Quantity quantity)
    -> decltype(record.getLr()) {
  switch (quantity) {
  case Quantity::init_std:
    return record.getInitStd();
  case Quantity::multiplier:
    return record.getMultiplier();
  case Quantity::lr:
    return record.getLr();
  case Quantity::weight_decay:
    return record.getWeightDecay();
  case Quantity::eps:
    return record.getEps();
  case Quantity::beta1:
    return record.getBeta1();
  case Quantity::beta2:
    return record.getBeta2();
  }
  llvm_unreachable("unknown quantity");
}

ScalingAttr ScalingAttr::get(MLIRContext *context,
                             ArrayRef<ScaleAttr> byQuantity,
                             StringAttr widthDim) {
  assert(byQuantity.size() == kNumQuantities && "one entry per quantity");
  auto at = [&](Quantity q) { return byQuantity[size_t(q)]; };
  return get(context, at(Quantity::init_std), at(Quantity::multiplier),
             at(Quantity::lr), at(Quantity::weight_decay), at(Quantity::eps),
             at(Quantity::beta1), at(Quantity::beta2), widthDim);
}

ScaleAttr ScalingAttr::getScale(Quantity quantity) const {
  return byQuantity(*this, quantity);
}

LogicalResult ScalingAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                  ScaleAttr, ScaleAttr, ScaleAttr, ScaleAttr,
                                  ScaleAttr, ScaleAttr, ScaleAttr,
                                  StringAttr widthDim) {
  if (widthDim && widthDim.getValue().empty())
    return emitError() << "#tp.scaling width_dim must name a dim";
  return success();
}

ValuesAttr ValuesAttr::get(MLIRContext *context,
                           ArrayRef<DenseF64ArrayAttr> byQuantity) {
  assert(byQuantity.size() == kNumQuantities && "one entry per quantity");
  auto at = [&](Quantity q) { return byQuantity[size_t(q)]; };
  return get(context, at(Quantity::init_std), at(Quantity::multiplier),
             at(Quantity::lr), at(Quantity::weight_decay), at(Quantity::eps),
             at(Quantity::beta1), at(Quantity::beta2));
}

DenseF64ArrayAttr ValuesAttr::getValue(Quantity quantity) const {
  return byQuantity(*this, quantity);
}

double ValuesAttr::at(Quantity quantity, int64_t copy, double fallback) const {
  DenseF64ArrayAttr values = getValue(quantity);
  if (!values || values.empty())
    return fallback;
  return values[std::min<int64_t>(copy, values.size() - 1)];
}

LogicalResult ValuesAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 DenseF64ArrayAttr initStd,
                                 DenseF64ArrayAttr multiplier,
                                 DenseF64ArrayAttr lr,
                                 DenseF64ArrayAttr weightDecay,
                                 DenseF64ArrayAttr eps, DenseF64ArrayAttr beta1,
                                 DenseF64ArrayAttr beta2) {
  DenseF64ArrayAttr byQuantity[] = {initStd, multiplier, lr,   weightDecay,
                                    eps,     beta1,      beta2};
  for (auto [i, values] : llvm::enumerate(byQuantity)) {
    if (!values)
      continue;
    auto quantity = Quantity(i);
    StringRef key = stringifyQuantity(quantity);
    if (values.empty())
      return emitError() << "#tp.values " << key
                         << " is empty; give one value, or one per block";
    bool beta = quantity == Quantity::beta1 || quantity == Quantity::beta2;
    for (double x : values.asArrayRef()) {
      if (std::optional<std::string> problem = float32Problem(x))
        return emitError() << "#tp.values " << key << " " << formatNumber(x)
                           << " " << *problem;
      if (beta && !(x >= 0 && x < 1))
        return emitError() << "#tp.values " << key << " must be in [0, 1), got "
                           << formatNumber(x);
      if (!beta && x < 0)
        return emitError() << "#tp.values " << key
                           << " must not be negative, got " << formatNumber(x);
    }
  }
  return success();
}

LogicalResult InstanceAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                   APFloat width, APFloat depth, APFloat batch,
                                   APFloat duration, ValuesAttr base,
                                   InitStdRule, APFloat stepsMultiplier) {
  for (auto [key, f] : {std::pair<StringRef, APFloat>{"width", width},
                        {"depth", depth},
                        {"batch", batch},
                        {"duration", duration},
                        {"steps_multiplier", stepsMultiplier}})
    if (double v = f.convertToDouble(); !(v > 0 && std::isfinite(v)))
      return emitError() << "#tp.instance " << key
                         << " must be a positive finite f64, got "
                         << formatNumber(v);
  if (!base || base.getMultiplier())
    return emitError() << "#tp.instance base holds the base value of every "
                          "quantity but multiplier";
  return success();
}
