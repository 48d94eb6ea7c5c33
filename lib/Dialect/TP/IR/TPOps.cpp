//===- TPOps.cpp - tp dialect operations ----------------------------------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Verifiers of the tp ops. Local shape rules (a linear's fan-in matches its
// input) live on each op; rules that need the whole program (dims declared
// before use, unique names, ties) live on tp.model, which sees everything.
// Rules that need a dim's declaration (a head dim that splits a product dim)
// are the ops' DimUserOpInterface, which tp.model's verifier calls in
// program order with the index of the dims declared so far, after every op
// verifier has passed: no op verifier looks a dim up, so verification is
// one pass over the model and never reads a dim whose own verifier has not
// run.
//
//===----------------------------------------------------------------------===//

#include "muir/Dialect/TP/IR/TPOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "muir/Dialect/TP/IR/ModelIndex.h"
#include "muir/Dialect/TP/IR/TPAnnotations.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::tp;

//===----------------------------------------------------------------------===//
// Custom directives
//===----------------------------------------------------------------------===//

/// `normal` (an init distribution) or `tied "other"`.
static ParseResult parseInitOrTie(OpAsmParser &parser, InitKindAttr &init,
                                  StringAttr &tied) {
  if (succeeded(parser.parseOptionalKeyword("tied"))) {
    std::string other;
    if (parser.parseString(&other))
      return failure();
    tied = parser.getBuilder().getStringAttr(other);
    return success();
  }
  SMLoc loc = parser.getCurrentLocation();
  StringRef keyword;
  if (parser.parseKeyword(&keyword))
    return parser.emitError(loc, "expected an init distribution (normal, "
                                 "trunc_normal, uniform, zeros, ones) or "
                                 "'tied'");
  std::optional<InitKind> kind = symbolizeInitKind(keyword);
  if (!kind)
    return parser.emitError(loc)
           << "unknown init distribution '" << keyword
           << "'; expected normal, trunc_normal, uniform, zeros or ones";
  init = InitKindAttr::get(parser.getContext(), *kind);
  return success();
}

static void printInitOrTie(OpAsmPrinter &p, Operation *, InitKindAttr init,
                           StringAttr tied) {
  if (init)
    p << stringifyInitKind(init.getValue());
  if (init && tied)
    p << ' ';
  if (tied) {
    p << "tied ";
    p.printString(tied.getValue());
  }
}

/// An optional shape kind of tp.op: `opaque`, `elementwise` or `reshape`.
static ParseResult parseGenericKind(OpAsmParser &parser,
                                    GenericKindAttr &kind) {
  for (GenericKind k :
       {GenericKind::opaque, GenericKind::elementwise, GenericKind::reshape})
    if (succeeded(parser.parseOptionalKeyword(stringifyGenericKind(k)))) {
      kind = GenericKindAttr::get(parser.getContext(), k);
      return success();
    }
  return success();
}

static void printGenericKind(OpAsmPrinter &p, Operation *,
                             GenericKindAttr kind) {
  if (kind)
    p << ' ' << stringifyGenericKind(kind.getValue());
}

#define GET_OP_CLASSES
#include "muir/Dialect/TP/IR/TPOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Result names
//===----------------------------------------------------------------------===//

/// Names `value` after `name` when there is one; the printer makes it a
/// valid, unique SSA name (`blocks.attn.q.weight` stays, `2d` becomes `_2d`).
static void setNameIfAny(OpAsmSetValueNameFn setNameFn, Value value,
                         StringRef name) {
  if (!name.empty())
    setNameFn(value, name);
}

void InputOp::getAsmResultNames(OpAsmSetValueNameFn setNameFn) {
  setNameIfAny(setNameFn, getResult(), getName());
}

void ParamOp::getAsmResultNames(OpAsmSetValueNameFn setNameFn) {
  setNameIfAny(setNameFn, getResult(), getName());
}

// The values a repeat carries are the residual stream, `%h` by convention.
void RepeatOp::getAsmResultNames(OpAsmSetValueNameFn setNameFn) {
  for (Value result : getResults())
    setNameFn(result, "h");
}

void RepeatOp::getAsmBlockArgumentNames(Region &region,
                                        OpAsmSetValueNameFn setNameFn) {
  for (BlockArgument arg : region.getArguments())
    setNameFn(arg, "h");
}

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

/// Renders dims as `[a, b]` for diagnostics.
static std::string formatDims(ArrayRef<StringAttr> dims) {
  std::string s = "[";
  llvm::raw_string_ostream os(s);
  llvm::interleaveComma(dims, os, [&](StringAttr d) { os << d.getValue(); });
  os << "]";
  return s;
}

static NamedTensorType tensorOf(Value v) {
  return cast<NamedTensorType>(v.getType());
}

/// True when `product` is a product dim whose last factor is `head`, i.e.
/// a feature dim that splits into heads of `head` features.
static bool endsInFactor(const DimInfo *product, StringRef head) {
  if (!product || product->kind != DimKind::product)
    return false;
  ArrayAttr factors = DimOp(product->op).getFactorsAttr();
  return cast<FlatSymbolRefAttr>(factors[factors.size() - 1]).getValue() ==
         head;
}

//===----------------------------------------------------------------------===//
// ModelOp
//===----------------------------------------------------------------------===//

OutputOp ModelOp::getOutput() {
  return cast<OutputOp>(getBody().front().getTerminator());
}

namespace {
/// Walks a model in program order and checks what needs the whole program.
class ModelChecker {
public:
  explicit ModelChecker(ModelOp model) : model(model) {}

  LogicalResult run() {
    WalkResult result = model.getBody().walk<WalkOrder::PreOrder>(
        [&](Operation *op) -> WalkResult {
          if (failed(check(op)))
            return WalkResult::interrupt();
          return WalkResult::advance();
        });
    return failure(result.wasInterrupted());
  }

  /// The dims and parameters of the model, once run() succeeded.
  const ModelIndex &getIndex() const { return index; }

private:
  LogicalResult check(Operation *op) {
    if (auto dim = dyn_cast<DimOp>(op))
      return declare(dim);
    // Dim references are the ops' own (inherent) symbol attributes, such as
    // tp.repeat's depth and tp.attention's head_dim; a user's discardable
    // attribute that happens to hold a symbol is none of the model's business.
    for (NamedAttribute attr : op->getAttrs())
      if (auto ref = dyn_cast<FlatSymbolRefAttr>(attr.getValue());
          ref && op->getName().getRegisteredInfo() &&
          llvm::is_contained(op->getName().getAttributeNames(), attr.getName()))
        if (failed(checkDimRef(op, ref.getValue(), /*inType=*/false)))
          return failure();
    for (Type type : op->getResultTypes())
      if (failed(checkType(op, type)))
        return failure();
    for (Region &region : op->getRegions())
      for (Block &block : region)
        for (Type type : block.getArgumentTypes())
          if (failed(checkType(op, type)))
            return failure();
    if (auto param = dyn_cast<ParamOp>(op))
      return checkParam(param);
    if (auto input = dyn_cast<InputOp>(op))
      return checkInput(input);
    if (auto user = dyn_cast<DimUserOpInterface>(op))
      return user.verifyDimUses(index);
    return success();
  }

  /// Indexes `dim`. Names are unique: the SymbolTable trait checked that.
  LogicalResult declare(DimOp dim) {
    if (std::optional<ArrayAttr> factors = dim.getFactors()) {
      for (Attribute f : *factors) {
        StringRef name = cast<FlatSymbolRefAttr>(f).getValue();
        const DimInfo *factor = index.lookupDim(name);
        if (!factor)
          return dim.emitOpError()
                 << "factor '" << name << "' of dim '" << dim.getSymName()
                 << "' must be declared before it";
        if (factor->kind == DimKind::depth)
          return dim.emitOpError()
                 << "factor '" << name
                 << "' is a depth dim; a product may only multiply width "
                    "and fixed dims";
      }
    }
    if (!index.addDim(dim))
      return dim.emitOpError()
             << "dim '" << dim.getSymName()
             << "' is too large: the product of its factors' sizes does not "
                "fit in 64 bits";
    return success();
  }

  LogicalResult checkDimRef(Operation *op, StringRef name, bool inType) {
    if (const DimInfo *dim = index.lookupDim(name)) {
      if (inType && dim->kind == DimKind::depth)
        return op->emitOpError()
               << "uses depth dim '" << name
               << "' as a tensor dimension; depth is the repeat count of a "
                  "tp.repeat";
      return success();
    }
    // An error path: one scan of the block is fine here.
    if (model.lookupSymbol<DimOp>(name))
      return op->emitOpError()
             << "uses dim '" << name << "' before it is declared";
    return op->emitOpError() << "uses undeclared dim '" << name << "'";
  }

  LogicalResult checkType(Operation *op, Type type) {
    auto tensor = dyn_cast<NamedTensorType>(type);
    if (!tensor)
      return success();
    for (StringAttr dim : tensor.getDims())
      if (failed(checkDimRef(op, dim.getValue(), /*inType=*/true)))
        return failure();
    return success();
  }

  /// Reports `op`, which redeclares the `what` named `name` of `first`.
  static LogicalResult redeclared(Operation *op, Operation *first,
                                  StringRef what, StringRef name) {
    InFlightDiagnostic diag = op->emitOpError()
                              << "redeclares " << what << " '" << name << "'";
    diag.attachNote(first->getLoc()) << "first declared here";
    return diag;
  }

  LogicalResult checkInput(InputOp input) {
    auto [it, inserted] = inputs.try_emplace(input.getName(), input);
    if (!inserted)
      return redeclared(input, it->second, "input", input.getName());
    return success();
  }

  LogicalResult checkParam(ParamOp param) {
    if (ParamOp first = index.addParam(param))
      return redeclared(param, first, "parameter", param.getName());
    std::optional<StringRef> tied = param.getTied();
    if (!tied)
      return success();
    ParamOp target = index.lookupParam(*tied);
    if (!target)
      return param.emitOpError()
             << "is tied to '" << *tied
             << "', which is not a parameter declared before it";
    if (target == param)
      return param.emitOpError() << "is tied to itself";
    if (target.isRepeated())
      return param.emitOpError()
             << "is tied to '" << *tied
             << "', which is repeated per block; tie to a model-level "
                "parameter";
    if (std::optional<StringRef> chained = target.getTied())
      return param.emitOpError()
             << "is tied to '" << *tied << "', which is itself tied to '"
             << *chained << "'; tie to '" << *chained << "' directly";
    NamedTensorType mine = param.getType(), theirs = target.getType();
    if (mine.getElementType() != theirs.getElementType())
      return param.emitOpError()
             << "has element type " << mine.getElementType() << " but '"
             << *tied << "' has " << theirs.getElementType();
    ArrayRef<StringAttr> a = mine.getDims(), b = theirs.getDims();
    bool same = a == b;
    bool transposed =
        a.size() == 2 && b.size() == 2 && a[0] == b[1] && a[1] == b[0];
    if (!same && !transposed)
      return param.emitOpError()
             << "has shape " << formatDims(a) << " but '" << *tied
             << "' has shape " << formatDims(b)
             << "; a tied parameter has the same or the transposed shape";
    return success();
  }

  ModelOp model;
  /// The dims and parameters declared so far.
  ModelIndex index;
  llvm::StringMap<Operation *> inputs;
};
} // namespace

LogicalResult ModelOp::verifyRegions() {
  Block &body = getBody().front();
  if (body.empty() || !isa<OutputOp>(body.back()))
    return emitOpError() << "body must end in tp.output";
  ModelChecker checker(*this);
  if (failed(checker.run()))
    return failure();
  return verifyAnnotations(*this, checker.getIndex());
}

//===----------------------------------------------------------------------===//
// DimOp
//===----------------------------------------------------------------------===//

// tp.dim @name = width<base B, size N> | depth<base B, size N> | fixed<N>
//              | product<@a, @b, ...>
ParseResult DimOp::parse(OpAsmParser &parser, OperationState &result) {
  Builder &b = parser.getBuilder();
  StringAttr name;
  if (parser.parseSymbolName(name, getSymNameAttrName(result.name),
                             result.attributes) ||
      parser.parseEqual())
    return failure();
  SMLoc kindLoc = parser.getCurrentLocation();
  StringRef keyword;
  if (parser.parseKeyword(&keyword))
    return failure();
  std::optional<DimKind> kind = symbolizeDimKind(keyword);
  if (!kind)
    return parser.emitError(kindLoc)
           << "expected dim kind 'width', 'fixed', 'depth' or 'product', got '"
           << keyword << "'";
  result.addAttribute(getKindAttrName(result.name),
                      DimKindAttr::get(b.getContext(), *kind));
  if (parser.parseLess())
    return failure();
  int64_t base = 0, size = 0;
  switch (*kind) {
  case DimKind::width:
  case DimKind::depth:
    if (parser.parseKeyword("base") || parser.parseInteger(base) ||
        parser.parseComma() || parser.parseKeyword("size") ||
        parser.parseInteger(size))
      return failure();
    result.addAttribute(getBaseSizeAttrName(result.name),
                        b.getI64IntegerAttr(base));
    result.addAttribute(getSizeAttrName(result.name),
                        b.getI64IntegerAttr(size));
    break;
  case DimKind::fixed:
    if (parser.parseInteger(size))
      return failure();
    result.addAttribute(getSizeAttrName(result.name),
                        b.getI64IntegerAttr(size));
    break;
  case DimKind::product: {
    SmallVector<Attribute> factors;
    if (parser.parseCommaSeparatedList([&]() -> ParseResult {
          FlatSymbolRefAttr ref;
          if (parser.parseAttribute(ref))
            return failure();
          factors.push_back(ref);
          return success();
        }))
      return failure();
    result.addAttribute(getFactorsAttrName(result.name),
                        b.getArrayAttr(factors));
    break;
  }
  }
  if (parser.parseGreater() || parser.parseOptionalAttrDict(result.attributes))
    return failure();
  return success();
}

void DimOp::print(OpAsmPrinter &p) {
  p << ' ';
  p.printSymbolName(getSymName());
  p << " = " << stringifyDimKind(getKind()) << '<';
  switch (getKind()) {
  case DimKind::width:
  case DimKind::depth:
    p << "base " << (getBaseSizeAttr() ? getBaseSizeAttr().getInt() : 0)
      << ", size " << (getSizeAttr() ? getSizeAttr().getInt() : 0);
    break;
  case DimKind::fixed:
    p << (getSizeAttr() ? getSizeAttr().getInt() : 0);
    break;
  case DimKind::product:
    if (std::optional<ArrayAttr> factors = getFactors())
      llvm::interleaveComma(*factors, p,
                            [&](Attribute f) { p.printAttribute(f); });
    break;
  }
  p << '>';
  p.printOptionalAttrDict((*this)->getAttrs(),
                          {getSymNameAttrName(), getKindAttrName(),
                           getBaseSizeAttrName(), getSizeAttrName(),
                           getFactorsAttrName()});
}

LogicalResult DimOp::verify() {
  bool hasBase = getBaseSize().has_value(), hasSize = getSize().has_value();
  bool hasFactors = getFactors().has_value();
  switch (getKind()) {
  case DimKind::width:
  case DimKind::depth:
    if (!hasBase || !hasSize || hasFactors)
      return emitOpError() << "'" << stringifyDimKind(getKind())
                           << "' dim needs a base_size and a size, and no "
                              "factors";
    // The sizes are I64Attrs, whose getters return them unsigned: read
    // them signed so that fixed<-1> is not a huge positive size.
    if (getBaseSizeAttr().getInt() <= 0 || getSizeAttr().getInt() <= 0)
      return emitOpError() << "dim '" << getSymName()
                           << "' must have positive sizes, got base "
                           << getBaseSizeAttr().getInt() << " and size "
                           << getSizeAttr().getInt();
    return success();
  case DimKind::fixed:
    if (hasBase || !hasSize || hasFactors)
      return emitOpError()
             << "'fixed' dim needs a size and no base_size or factors";
    if (getSizeAttr().getInt() <= 0)
      return emitOpError() << "dim '" << getSymName()
                           << "' must have a positive size, got "
                           << getSizeAttr().getInt();
    return success();
  case DimKind::product:
    if (hasBase || hasSize || !hasFactors || getFactors()->size() < 2)
      return emitOpError() << "'product' dim needs at least two factors and "
                              "no sizes of its own";
    return success();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// ParamOp
//===----------------------------------------------------------------------===//

bool ParamOp::isRepeated() { return isa<RepeatOp>((*this)->getParentOp()); }

LogicalResult ParamOp::verify() {
  if (!isa<FloatType>(getType().getElementType()))
    return emitOpError() << "must have a float element type, got "
                         << getType().getElementType();
  if (getInit() && getTied())
    return emitOpError() << "is tied to '" << *getTied()
                         << "' and cannot have an init distribution of its "
                            "own";
  if (!getInit() && !getTied())
    return emitOpError() << "needs an init distribution (normal, "
                            "trunc_normal, uniform, zeros, ones) or a tie";
  if (getTied() && isRepeated())
    return emitOpError()
           << "is tied, so it must be declared at model level, not in a "
              "repeated block";
  if (getName().empty())
    return emitOpError() << "needs a non-empty module path";
  return success();
}

//===----------------------------------------------------------------------===//
// RepeatOp
//===----------------------------------------------------------------------===//

LogicalResult RepeatOp::verifyDimUses(const ModelIndex &index) {
  const DimInfo *dim = index.lookupDim(getDepth());
  if (dim && dim->kind != DimKind::depth)
    return emitOpError() << "repeats over '" << getDepth() << "', which is a "
                         << stringifyDimKind(dim->kind)
                         << " dim; it needs a depth dim";
  return success();
}

LogicalResult RepeatOp::verifyRegions() {
  Block &body = getBody().front();
  if (body.getNumArguments() != getInits().size())
    return emitOpError() << "body has " << body.getNumArguments()
                         << " arguments but carries " << getInits().size()
                         << " values";
  if (getResults().size() != getInits().size())
    return emitOpError() << "has " << getResults().size()
                         << " results but carries " << getInits().size()
                         << " values";
  auto yield = dyn_cast<YieldOp>(body.getTerminator());
  if (!yield)
    return emitOpError() << "body must end in tp.yield";
  if (yield.getValues().size() != getInits().size())
    return emitOpError() << "body yields " << yield.getValues().size()
                         << " values but carries " << getInits().size();
  for (auto [i, init] : llvm::enumerate(getInits())) {
    Type type = init.getType();
    if (body.getArgument(i).getType() != type)
      return emitOpError() << "body argument #" << i << " has type "
                           << body.getArgument(i).getType()
                           << " but the carried value has type " << type;
    if (getResult(i).getType() != type)
      return emitOpError() << "result #" << i << " has type "
                           << getResult(i).getType()
                           << " but the carried value has type " << type;
    if (yield.getValues()[i].getType() != type)
      return emitOpError() << "body yields " << yield.getValues()[i].getType()
                           << " as value #" << i
                           << " but the carried value has type " << type;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Compute ops
//===----------------------------------------------------------------------===//

/// Checks that all `values` share one element type.
static LogicalResult sameElementType(Operation *op, ValueRange values) {
  Type first;
  for (Value v : values) {
    Type t = tensorOf(v).getElementType();
    if (!first)
      first = t;
    else if (t != first)
      return op->emitOpError()
             << "mixes element types " << first << " and " << t;
  }
  return success();
}

/// Checks that `result` has exactly `dims`.
static LogicalResult expectDims(Operation *op, Value result,
                                ArrayRef<StringAttr> dims) {
  if (tensorOf(result).getDims() == dims)
    return success();
  return op->emitOpError() << "result must have dims " << formatDims(dims)
                           << ", got "
                           << formatDims(tensorOf(result).getDims());
}

LogicalResult LinearOp::verify() {
  NamedTensorType x = tensorOf(getInput()), w = tensorOf(getWeight());
  if (w.getRank() != 2)
    return emitOpError() << "weight must have rank 2 ([out, in]), got "
                         << formatDims(w.getDims());
  if (x.getRank() < 1)
    return emitOpError() << "input must have at least one dim";
  if (x.getDim(-1) != w.getDim(1))
    return emitOpError() << "input's last dim '" << x.getDim(-1)
                         << "' does not match the weight's fan-in dim '"
                         << w.getDim(1) << "'";
  if (Value bias = getBias()) {
    NamedTensorType b = tensorOf(bias);
    if (b.getRank() != 1 || b.getDim(0) != w.getDim(0))
      return emitOpError() << "bias must have dims [" << w.getDim(0)
                           << "], got " << formatDims(b.getDims());
  }
  if (failed(sameElementType(*this, getOperation()->getOperands())) ||
      failed(sameElementType(*this, {getInput(), getResult()})))
    return failure();
  SmallVector<StringAttr> dims(x.getDims().drop_back());
  dims.push_back(w.getDims()[0]);
  return expectDims(*this, getResult(), dims);
}

LogicalResult EmbeddingOp::verify() {
  NamedTensorType ids = tensorOf(getIndices()), table = tensorOf(getTable());
  if (!isa<IntegerType>(ids.getElementType()))
    return emitOpError() << "indices must have an integer element type, got "
                         << ids.getElementType();
  if (table.getRank() != 2)
    return emitOpError() << "table must have rank 2 ([count, features]), got "
                         << formatDims(table.getDims());
  if (failed(sameElementType(*this, {getTable(), getResult()})))
    return failure();
  SmallVector<StringAttr> dims(ids.getDims());
  dims.push_back(table.getDims()[1]);
  return expectDims(*this, getResult(), dims);
}

/// Shared verifier of the broadcasting elementwise ops.
static LogicalResult verifyBroadcast(Operation *op, Value lhs, Value rhs,
                                     Value result) {
  ArrayRef<StringAttr> a = tensorOf(lhs).getDims(), b = tensorOf(rhs).getDims();
  ArrayRef<StringAttr> longer = a.size() >= b.size() ? a : b;
  ArrayRef<StringAttr> shorter = a.size() >= b.size() ? b : a;
  if (longer.take_back(shorter.size()) != shorter)
    return op->emitOpError()
           << "cannot broadcast " << formatDims(a) << " with " << formatDims(b)
           << "; the shorter operand's dims must be a suffix of the other's";
  if (failed(sameElementType(op, {lhs, rhs, result})))
    return failure();
  return expectDims(op, result, longer);
}

LogicalResult AddOp::verify() {
  return verifyBroadcast(*this, getLhs(), getRhs(), getResult());
}
LogicalResult MulOp::verify() {
  return verifyBroadcast(*this, getLhs(), getRhs(), getResult());
}

LogicalResult ResidualOp::verify() {
  auto repeat = dyn_cast<RepeatOp>((*this)->getParentOp());
  if (!repeat)
    return emitOpError() << "must be directly inside a tp.repeat body";
  Value stream = getStream();
  bool fromBlock = false;
  if (auto arg = dyn_cast<BlockArgument>(stream))
    fromBlock = arg.getOwner() == (*this)->getBlock();
  else if (auto prev = stream.getDefiningOp<ResidualOp>())
    fromBlock = prev->getBlock() == (*this)->getBlock();
  if (!fromBlock)
    return emitOpError() << "stream operand must be the block's argument or "
                            "the result of an earlier tp.residual in the same "
                            "block";
  if (getBranch() == stream)
    return emitOpError() << "branch is the stream itself; a residual adds a "
                            "branch computed from the stream";
  return success();
}

/// Checks that a norm's parameter `v` is a vector over `dim`.
static LogicalResult expectVector(Operation *op, Value v, StringRef what,
                                  StringRef dim) {
  NamedTensorType t = tensorOf(v);
  if (t.getRank() == 1 && t.getDim(0) == dim)
    return success();
  return op->emitOpError() << what << " must have dims [" << dim << "], got "
                           << formatDims(t.getDims());
}

LogicalResult LayerNormOp::verify() {
  NamedTensorType x = tensorOf(getInput());
  if (x.getRank() < 1)
    return emitOpError() << "input must have at least one dim";
  if (getBias() && !getGain())
    return emitOpError() << "has a bias but no gain";
  if (getGain() && failed(expectVector(*this, getGain(), "gain", x.getDim(-1))))
    return failure();
  if (getBias() && failed(expectVector(*this, getBias(), "bias", x.getDim(-1))))
    return failure();
  if (getResult().getType() != x)
    return emitOpError() << "result type " << getResult().getType()
                         << " must equal the input type " << x;
  return sameElementType(*this, getOperation()->getOperands());
}

LogicalResult RMSNormOp::verify() {
  NamedTensorType x = tensorOf(getInput());
  if (x.getRank() < 1)
    return emitOpError() << "input must have at least one dim";
  if (getResult().getType() != x)
    return emitOpError() << "result type " << getResult().getType()
                         << " must equal the input type " << x;
  if (!getGain())
    return success();
  NamedTensorType g = tensorOf(getGain());
  if (g.getRank() != 1)
    return emitOpError() << "gain must have rank 1, got "
                         << formatDims(g.getDims());
  return sameElementType(*this, getOperation()->getOperands());
}

LogicalResult RMSNormOp::verifyDimUses(const ModelIndex &index) {
  if (!getGain())
    return success();
  StringRef last = tensorOf(getInput()).getDim(-1);
  StringRef gain = tensorOf(getGain()).getDim(0);
  if (gain == last || endsInFactor(index.lookupDim(last), gain))
    return success();
  return emitOpError() << "gain dim '" << gain << "' must be the input's last "
                       << "dim '" << last
                       << "' or, for a per-head norm, that product dim's last "
                          "factor";
}

/// Checks that `dim` (a last dim) splits into heads of `headDim`.
static LogicalResult expectHeads(Operation *op, const ModelIndex &index,
                                 StringRef what, StringRef dim,
                                 StringRef headDim) {
  if (endsInFactor(index.lookupDim(dim), headDim))
    return success();
  return op->emitOpError() << what << "'s last dim '" << dim
                           << "' must be a product dim whose last factor is "
                              "the head dim '"
                           << headDim << "'";
}

LogicalResult RoPEOp::verify() {
  if (tensorOf(getInput()).getRank() < 2)
    return emitOpError() << "input must have a sequence dim and a feature dim";
  return success();
}

LogicalResult RoPEOp::verifyDimUses(const ModelIndex &index) {
  NamedTensorType x = tensorOf(getInput());
  if (failed(expectHeads(*this, index, "input", x.getDim(-1), getHeadDim())))
    return failure();
  if (const DimInfo *head = index.lookupDim(getHeadDim()))
    for (int64_t size : {head->base, head->target})
      if (size % 2 != 0)
        return emitOpError() << "head dim '" << getHeadDim()
                             << "' must have an even size for rotary pairs, "
                                "got "
                             << size;
  return success();
}

LogicalResult AttentionOp::verify() {
  NamedTensorType q = tensorOf(getQuery()), k = tensorOf(getKey()),
                  v = tensorOf(getValue());
  if (q.getRank() < 2)
    return emitOpError() << "query must have a sequence dim and a feature dim";
  if (k != v)
    return emitOpError() << "key and value must have the same type, got " << k
                         << " and " << v;
  if (q.getRank() != k.getRank() ||
      q.getDims().drop_back() != k.getDims().drop_back())
    return emitOpError() << "query " << formatDims(q.getDims()) << " and key "
                         << formatDims(k.getDims())
                         << " must agree on all but the last dim";
  if (getResult().getType() != q)
    return emitOpError() << "result type " << getResult().getType()
                         << " must equal the query type " << q;
  return sameElementType(*this, getOperation()->getOperands());
}

LogicalResult AttentionOp::verifyDimUses(const ModelIndex &index) {
  StringRef q = tensorOf(getQuery()).getDim(-1);
  StringRef k = tensorOf(getKey()).getDim(-1);
  if (failed(expectHeads(*this, index, "query", q, getHeadDim())) ||
      failed(expectHeads(*this, index, "key", k, getHeadDim())))
    return failure();
  const DimInfo *qDim = index.lookupDim(q), *kDim = index.lookupDim(k);
  if (!qDim || !kDim)
    return success();
  for (bool base : {true, false}) {
    int64_t qs = base ? qDim->base : qDim->target;
    int64_t ks = base ? kDim->base : kDim->target;
    if (qs % ks != 0)
      return emitOpError()
             << "query width " << qs << " is not a multiple of key width " << ks
             << " in the " << (base ? "base" : "target")
             << " model; query heads must be a multiple of key heads";
  }
  return success();
}

LogicalResult CrossEntropyOp::verify() {
  NamedTensorType logits = tensorOf(getLogits()),
                  targets = tensorOf(getTargets());
  if (!isa<IntegerType>(targets.getElementType()))
    return emitOpError() << "targets must have an integer element type, got "
                         << targets.getElementType();
  if (logits.getRank() != targets.getRank() + 1 ||
      logits.getDims().drop_back() != targets.getDims())
    return emitOpError() << "logits " << formatDims(logits.getDims())
                         << " must be the targets' dims "
                         << formatDims(targets.getDims())
                         << " plus a class dim";
  NamedTensorType result = tensorOf(getResult());
  if (result.getRank() != 0 ||
      result.getElementType() != logits.getElementType()) {
    std::string want;
    llvm::raw_string_ostream os(want);
    os << NamedTensorType::get(getContext(), {}, logits.getElementType());
    return emitOpError() << "result must be a scalar of the logits' "
                            "element type, "
                         << want;
  }
  return success();
}

LogicalResult AttentionScaleOp::verify() {
  if (tensorOf(getLogits()).getRank() < 2)
    return emitOpError() << "logits must have a query dim and a key dim";
  return success();
}

LogicalResult AttentionScaleOp::verifyDimUses(const ModelIndex &index) {
  const DimInfo *head = index.lookupDim(getHeadDim());
  if (head && head->kind == DimKind::depth)
    return emitOpError() << "head dim '" << getHeadDim()
                         << "' is a depth dim; a head dim is a tensor dim";
  return success();
}

//===----------------------------------------------------------------------===//
// GenericOp
//===----------------------------------------------------------------------===//

LogicalResult GenericOp::verify() {
  if (getResults().empty())
    return emitOpError() << "'" << getSource() << "' must have a result";
  llvm::SmallDenseSet<StringRef> seen;
  for (Attribute a : getFlows()) {
    StringRef dim = cast<FlatSymbolRefAttr>(a).getValue();
    if (!seen.insert(dim).second)
      return emitOpError() << "'" << getSource() << "' lists dim '" << dim
                           << "' twice in flows";
    auto has = [&](Value v) {
      return llvm::is_contained(tensorOf(v).getDims(),
                                StringAttr::get(getContext(), dim));
    };
    if (!llvm::any_of(getInputs(), has))
      return emitOpError() << "'" << getSource() << "': dim '" << dim
                           << "' flows through the op but no operand has it";
    for (auto [i, result] : llvm::enumerate(getResults()))
      if (!has(result))
        return emitOpError() << "'" << getSource() << "': dim '" << dim
                             << "' flows through the op but result #" << i
                             << " does not have it";
  }
  switch (getShapeKind()) {
  case GenericKind::opaque:
    return success();
  case GenericKind::elementwise:
    if (getInputs().empty())
      return emitOpError() << "'" << getSource()
                           << "' is elementwise but has no operand";
    for (auto [i, result] : llvm::enumerate(getResults()))
      if (tensorOf(result).getDims() != tensorOf(getResult(0)).getDims())
        return emitOpError()
               << "'" << getSource() << "' is elementwise but result #" << i
               << " has dims " << formatDims(tensorOf(result).getDims())
               << " and result #0 "
               << formatDims(tensorOf(getResult(0)).getDims());
    return success();
  case GenericKind::reshape:
    if (getInputs().size() != 1 || getResults().size() != 1)
      return emitOpError() << "'" << getSource() << "' is a reshape but has "
                           << getInputs().size() << " operands and "
                           << getResults().size()
                           << " results; a reshape has one of each";
    return success();
  }
  return success();
}

/// The number of elements of `type` in the base model (`base`) or the
/// target, or nullopt when a dim is unknown or the count overflows.
static std::optional<int64_t> countElements(const ModelIndex &index,
                                            NamedTensorType type, bool base) {
  int64_t count = 1;
  for (StringAttr name : type.getDims()) {
    const DimInfo *dim = index.lookupDim(name.getValue());
    if (!dim)
      return std::nullopt;
    if (llvm::MulOverflow(count, base ? dim->base : dim->target, count))
      return std::nullopt;
  }
  return count;
}

/// True when the dim `name` has size 1 in both models.
static bool isUnitDim(const ModelIndex &index, StringRef name) {
  const DimInfo *dim = index.lookupDim(name);
  return dim && dim->base == 1 && dim->target == 1;
}

LogicalResult GenericOp::verifyDimUses(const ModelIndex &index) {
  // Flowing dims are dims of the types, which the model checked.
  if (getShapeKind() == GenericKind::elementwise) {
    ArrayRef<StringAttr> out = tensorOf(getResult(0)).getDims();
    for (auto [i, input] : llvm::enumerate(getInputs())) {
      ArrayRef<StringAttr> in = tensorOf(input).getDims();
      bool fits = in.size() <= out.size();
      for (size_t k = 0; fits && k < in.size(); ++k) {
        StringAttr a = in[in.size() - 1 - k], b = out[out.size() - 1 - k];
        fits = a == b || isUnitDim(index, a.getValue());
      }
      if (!fits)
        return emitOpError()
               << "'" << getSource() << "' is elementwise but operand #" << i
               << " " << formatDims(in) << " does not broadcast to the result "
               << formatDims(out)
               << " (trailing dims must match or have size 1)";
    }
    return success();
  }
  if (getShapeKind() == GenericKind::reshape) {
    NamedTensorType in = tensorOf(getInputs()[0]), out = tensorOf(getResult(0));
    for (bool base : {true, false}) {
      std::optional<int64_t> a = countElements(index, in, base),
                             b = countElements(index, out, base);
      if (a && b && *a != *b)
        return emitOpError()
               << "'" << getSource() << "' is a reshape but its "
               << "operand " << formatDims(in.getDims()) << " has " << *a
               << " elements and its result " << formatDims(out.getDims())
               << " " << *b << " in the " << (base ? "base" : "target")
               << " model";
    }
  }
  return success();
}

//===----------------------------------------------------------------------===//
// ParamUseOpInterface
//===----------------------------------------------------------------------===//

/// True when `operand` is one of `operands` (a named operand group).
static bool isOneOf(OpOperand &operand, MutableOperandRange operands) {
  return llvm::any_of(operands, [&](OpOperand &o) { return &o == &operand; });
}

/// The other operand of a binary op.
static Value otherOperand(Operation *op, OpOperand &operand) {
  return op->getOperand(1 - operand.getOperandNumber());
}

std::optional<ParamUse> LinearOp::getParamUse(OpOperand &operand) {
  // The weight is [out, in]; the bias is [out].
  if (isOneOf(operand, getWeightMutable())) {
    ArrayRef<StringAttr> w = tensorOf(getWeight()).getDims();
    return ParamUse::matrix(w[1], w[0], getInput());
  }
  if (isOneOf(operand, getBiasMutable()))
    return ParamUse::bias(tensorOf(operand.get()).getDims()[0], getInput());
  return std::nullopt;
}

std::optional<ParamUse> EmbeddingOp::getParamUse(OpOperand &operand) {
  // A [count, features] table: the count is the fan-in (one-hot inputs).
  if (!isOneOf(operand, getTableMutable()))
    return std::nullopt;
  ArrayRef<StringAttr> table = tensorOf(getTable()).getDims();
  return ParamUse::matrix(table[0], table[1], getIndices());
}

/// True when `v` has exactly one dim and it is the last dim of `other`.
static bool isFeatureVector(Value v, Value other) {
  ArrayRef<StringAttr> dims = tensorOf(v).getDims();
  NamedTensorType o = tensorOf(other);
  return dims.size() == 1 && o.getRank() >= 1 && dims[0] == o.getDims().back();
}

std::optional<ParamUse> AddOp::getParamUse(OpOperand &operand) {
  // A learned positional table [count, features] added to the stream acts
  // like an embedding of the positions; a vector over the features is a
  // bias (a linear written as x @ W + b).
  Value other = otherOperand(*this, operand);
  ArrayRef<StringAttr> dims = tensorOf(operand.get()).getDims();
  if (dims.size() == 2)
    return ParamUse::matrix(dims[0], dims[1], other);
  if (isFeatureVector(operand.get(), other))
    return ParamUse::bias(dims[0], other);
  return std::nullopt;
}

std::optional<ParamUse> MulOp::getParamUse(OpOperand &operand) {
  // A scalar multiplier, or a gain over the features: the gain of a norm
  // written op by op (Llama's RMSNorm: weight * x / rms(x)).
  Value other = otherOperand(*this, operand);
  if (tensorOf(operand.get()).getRank() == 0)
    return ParamUse::scalar(other);
  if (isFeatureVector(operand.get(), other))
    return ParamUse::norm(tensorOf(operand.get()).getDims()[0],
                          /*perHead=*/false, other);
  return std::nullopt;
}

/// A norm's gain or bias `operand` over the last dim of `input`, or over the
/// last factor of that product dim for a per-head norm.
static ParamUse normParamUse(OpOperand &operand, Value input) {
  StringAttr dim = tensorOf(operand.get()).getDims()[0];
  bool perHead = dim.getValue() != tensorOf(input).getDim(-1);
  return ParamUse::norm(dim, perHead, input);
}

std::optional<ParamUse> LayerNormOp::getParamUse(OpOperand &operand) {
  if (!isOneOf(operand, getGainMutable()) &&
      !isOneOf(operand, getBiasMutable()))
    return std::nullopt;
  return normParamUse(operand, getInput());
}

std::optional<ParamUse> RMSNormOp::getParamUse(OpOperand &operand) {
  if (!isOneOf(operand, getGainMutable()))
    return std::nullopt;
  return normParamUse(operand, getInput());
}
