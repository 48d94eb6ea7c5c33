//===- TPTypes.cpp - tp dialect types -------------------------------------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "muir/Dialect/TP/IR/TPTypes.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/DialectImplementation.h"
#include "muir/Dialect/TP/IR/TPDialect.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::tp;

#define GET_TYPEDEF_CLASSES
#include "muir/Dialect/TP/IR/TPOpsTypes.cpp.inc"

void TPDialect::registerTypes() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "muir/Dialect/TP/IR/TPOpsTypes.cpp.inc"
      >();
}

/// `<[d0, d1, ...], elementType>`
Type NamedTensorType::parse(AsmParser &parser) {
  SmallVector<StringAttr> dims;
  Type elementType;
  auto parseDim = [&]() -> ParseResult {
    std::string name;
    if (parser.parseKeywordOrString(&name))
      return failure();
    dims.push_back(parser.getBuilder().getStringAttr(name));
    return success();
  };
  SMLoc loc = parser.getCurrentLocation();
  if (parser.parseLess() ||
      parser.parseCommaSeparatedList(AsmParser::Delimiter::Square, parseDim,
                                     " in dimension list") ||
      parser.parseComma() || parser.parseType(elementType) ||
      parser.parseGreater())
    return {};
  return parser.getChecked<NamedTensorType>(loc, parser.getContext(), dims,
                                            elementType);
}

void NamedTensorType::print(AsmPrinter &printer) const {
  printer << "<[";
  llvm::interleaveComma(getDims(), printer, [&](StringAttr dim) {
    printer.printKeywordOrString(dim.getValue());
  });
  printer << "], " << getElementType() << ">";
}

LogicalResult
NamedTensorType::verify(function_ref<InFlightDiagnostic()> emitError,
                        ArrayRef<StringAttr> dims, Type elementType) {
  if (!isa<IntegerType, FloatType, ComplexType>(elementType))
    return emitError() << "tp.tensor element type must be an integer, float "
                          "or complex type, got "
                       << elementType;
  return success();
}
