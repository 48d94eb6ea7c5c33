//===- Format.h - Numbers and aligned columns as text -----------*- C++ -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// What muir's text output needs beyond llvm::formatv and llvm::format (the
// one formatting library muir uses): a double in the shortest form that
// reads back as the same double, and columns aligned for a terminal (the
// parameter table, the report's table).
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_SUPPORT_FORMAT_H
#define MUIR_SUPPORT_FORMAT_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"
#include <string>
#include <vector>

namespace muir {

/// The shortest decimal that strtod reads back as `value`: fixed notation
/// for decimal exponents from -4 to 15 (`0.0025`, `100000`), else
/// `d.ddde-XX` with at least two exponent digits (`6.25e-10`); `nan`,
/// `inf`, `-inf`. The same text as Python's repr (without its `.0` on
/// whole numbers).
std::string formatShortest(double value);

/// `values` in formatShortest's form, `separator` between them.
std::string joinShortest(llvm::ArrayRef<double> values,
                         llvm::StringRef separator);

/// `value` as printf's `%.<precision>g`.
std::string formatG(double value, int precision);

/// Rows of cells printed as aligned columns: every cell padded to the
/// widest of its column, two spaces between columns, no trailing blanks.
class Columns {
public:
  /// Adds a row (rows may have fewer cells than others).
  void addRow(std::vector<std::string> cells);

  /// Pads column `column` on the left (numbers) instead of the right.
  void alignRight(unsigned column);

  size_t size() const { return rows.size(); }

  /// Prints row `row` after `indent`, aligned with every other row.
  void printRow(llvm::raw_ostream &os, size_t row,
                llvm::StringRef indent = "") const;

  /// Prints every row.
  void print(llvm::raw_ostream &os, llvm::StringRef indent = "") const;

private:
  std::vector<std::vector<std::string>> rows;
  llvm::SmallVector<size_t> widths;
  llvm::SmallVector<bool> right;
};

} // namespace muir

#endif // MUIR_SUPPORT_FORMAT_H
