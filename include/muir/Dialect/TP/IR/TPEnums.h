//===- TPEnums.h - The enums of the tp dialect and its passes ---*- C++ -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The enums generated from TPEnums.td: for each, `stringify<Enum>` and
// `symbolize<Enum>` (the spellings of the IR, the pass options and the
// tools), and `getMaxEnumValFor<Enum>`. Built into MuirTPEnums, which does
// not depend on the dialect.
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_DIALECT_TP_IR_TPENUMS_H
#define MUIR_DIALECT_TP_IR_TPENUMS_H

#include "mlir/Support/LLVM.h"
#include "llvm/ADT/DenseMapInfo.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/raw_ostream.h"
#include <cstdint>
#include <optional>
#include <string>

#include "muir/Dialect/TP/IR/TPEnums.h.inc"

namespace mlir::tp {

/// What generic code needs of a TPEnums.td enum the generator does not
/// template (its values by number); specialised by MUIR_TP_ENUM_INFO.
template <typename EnumT> struct EnumInfo;

#define MUIR_TP_ENUM_INFO(E)                                                   \
  template <> struct EnumInfo<E> {                                             \
    static std::optional<E> symbolize(uint32_t v) { return symbolize##E(v); }  \
    static constexpr unsigned maxValue = getMaxEnumValFor##E();                \
  };
MUIR_TP_ENUM_INFO(Scheme)
MUIR_TP_ENUM_INFO(Optimizer)
MUIR_TP_ENUM_INFO(Quantity)
MUIR_TP_ENUM_INFO(ReportFormat)
MUIR_TP_ENUM_INFO(UpdateUnits)
MUIR_TP_ENUM_INFO(AngleRule)
#undef MUIR_TP_ENUM_INFO

/// Every value of `EnumT`, in declaration order.
template <typename EnumT> llvm::SmallVector<EnumT> allEnumValues() {
  llvm::SmallVector<EnumT> values;
  for (uint32_t i = 0; i <= EnumInfo<EnumT>::maxValue; ++i)
    if (std::optional<EnumT> value = EnumInfo<EnumT>::symbolize(i))
      values.push_back(*value);
  return values;
}

/// The spellings of every value of `EnumT`, "a, b or c", for messages.
template <typename EnumT> std::string enumSpellings() {
  std::string text;
  llvm::SmallVector<EnumT> values = allEnumValues<EnumT>();
  for (size_t i = 0; i < values.size(); ++i) {
    if (i)
      text += i + 1 == values.size() ? " or " : ", ";
    text += stringifyEnum(values[i]).str();
  }
  return text;
}

/// The llvm::cl parser of a TPEnums.td enum, for pass options and tool
/// flags of that type: it knows every value by its TableGen spelling (no
/// `cl::values` list to keep in step) and rejects anything else when the
/// options are parsed, listing the valid values. MLIR's pass options print
/// a value back through `Values` (GenericOptionParser).
template <typename EnumT>
class EnumOptionParser : public llvm::cl::generic_parser_base {
protected:
  struct OptionInfo : public GenericOptionInfo {
    OptionInfo(llvm::StringRef name, EnumT value)
        : GenericOptionInfo(name, ""), V(value) {}
    llvm::cl::OptionValue<EnumT> V;
  };
  llvm::SmallVector<OptionInfo, 8> Values;

public:
  using parser_data_type = EnumT;

  EnumOptionParser(llvm::cl::Option &owner) : generic_parser_base(owner) {}

  void initialize() {
    for (EnumT value : allEnumValues<EnumT>())
      Values.emplace_back(stringifyEnum(value), value);
  }
  unsigned getNumOptions() const override { return Values.size(); }
  llvm::StringRef getOption(unsigned n) const override {
    return Values[n].Name;
  }
  llvm::StringRef getDescription(unsigned n) const override {
    return Values[n].HelpStr;
  }
  const llvm::cl::GenericOptionValue &
  getOptionValue(unsigned n) const override {
    return Values[n].V;
  }

  bool parse(llvm::cl::Option &option, llvm::StringRef argName,
             llvm::StringRef arg, EnumT &value) {
    llvm::StringRef text = Owner.hasArgStr() ? arg : argName;
    if (std::optional<EnumT> parsed = symbolizeEnum<EnumT>(text)) {
      value = *parsed;
      return false;
    }
    return option.error("unknown value '" + text + "'; expected " +
                        enumSpellings<EnumT>());
  }
};

} // namespace mlir::tp

/// Pass options and flags of these types parse through EnumOptionParser.
#define MUIR_TP_ENUM_OPTION(E)                                                 \
  template <>                                                                  \
  class llvm::cl::parser<mlir::tp::E>                                          \
      : public mlir::tp::EnumOptionParser<mlir::tp::E> {                       \
  public:                                                                      \
    using EnumOptionParser::EnumOptionParser;                                  \
  };
MUIR_TP_ENUM_OPTION(Scheme)
MUIR_TP_ENUM_OPTION(Optimizer)
MUIR_TP_ENUM_OPTION(ReportFormat)
#undef MUIR_TP_ENUM_OPTION

#endif // MUIR_DIALECT_TP_IR_TPENUMS_H
