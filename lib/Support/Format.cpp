//===- Format.cpp - Numbers and aligned columns as text -------------------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//

#include "muir/Support/Format.h"
#include "llvm/Support/Format.h"
#include <cmath>
#include <cstdlib>

using namespace muir;

std::string muir::formatShortest(double value) {
  if (std::isnan(value))
    return "nan";
  if (std::isinf(value))
    return value < 0 ? "-inf" : "inf";
  // The fewest significant digits that read back exactly (17 always do).
  std::string text;
  for (int digits = 1; digits <= 17; ++digits) {
    text.clear();
    llvm::raw_string_ostream(text) << llvm::format("%.*e", digits - 1, value);
    if (std::strtod(text.c_str(), nullptr) == value)
      break;
  }
  // `-d.ddde+XX` -> sign, digits without trailing zeros, exponent.
  llvm::StringRef mantissa(text);
  bool negative = mantissa.consume_front("-");
  size_t e = mantissa.find('e');
  int exponent = std::atoi(mantissa.data() + e + 1);
  std::string digits;
  for (char c : mantissa.take_front(e))
    if (c != '.')
      digits += c;
  while (digits.size() > 1 && digits.back() == '0')
    digits.pop_back();

  std::string out = negative ? "-" : "";
  int size = digits.size();
  if (exponent < -4 || exponent >= 16) {
    out += digits.substr(0, 1);
    if (size > 1)
      out += "." + digits.substr(1);
    llvm::raw_string_ostream(out) << llvm::format(
        "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
  } else if (exponent < 0) {
    out += "0." + std::string(-exponent - 1, '0') + digits;
  } else if (size <= exponent + 1) {
    out += digits + std::string(exponent + 1 - size, '0');
  } else {
    out += digits.substr(0, exponent + 1) + "." + digits.substr(exponent + 1);
  }
  return out;
}

std::string muir::joinShortest(llvm::ArrayRef<double> values,
                               llvm::StringRef separator) {
  std::string out;
  for (auto [i, value] : llvm::enumerate(values)) {
    if (i)
      out += separator;
    out += formatShortest(value);
  }
  return out;
}

std::string muir::formatG(double value, int precision) {
  std::string out;
  llvm::raw_string_ostream(out) << llvm::format("%.*g", precision, value);
  return out;
}

void Columns::addRow(std::vector<std::string> cells) {
  if (cells.size() > widths.size())
    widths.resize(cells.size(), 0);
  for (auto [i, cell] : llvm::enumerate(cells))
    widths[i] = std::max(widths[i], cell.size());
  rows.push_back(std::move(cells));
}

void Columns::alignRight(unsigned column) {
  if (column >= right.size())
    right.resize(column + 1, false);
  right[column] = true;
}

void Columns::printRow(llvm::raw_ostream &os, size_t row,
                       llvm::StringRef indent) const {
  std::string line = indent.str();
  for (auto [i, cell] : llvm::enumerate(rows[row])) {
    std::string pad(widths[i] - cell.size(), ' ');
    line += i < right.size() && right[i] ? pad + cell : cell + pad;
    line += "  ";
  }
  os << llvm::StringRef(line).rtrim() << "\n";
}

void Columns::print(llvm::raw_ostream &os, llvm::StringRef indent) const {
  for (size_t row = 0; row < rows.size(); ++row)
    printRow(os, row, indent);
}
