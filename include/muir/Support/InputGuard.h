//===- InputGuard.h - Reject input that would crash the parser --*- C++ -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// A scan of the raw input that muir-opt and muirc run before MLIR's parser,
// for input the parser itself cannot survive (found by test/fuzz/mutate.py):
//
// - Nesting. The parser is recursive descent: every level of `(`, `[`, `{`
//   or `<` (a region in a region, an array in an array, a type in a type)
//   takes stack, and a few thousand levels overflow it. Real tp programs
//   nest a handful of levels; deeper than kMaxNesting is rejected.
// - `array<index ...>`. MLIR 22's dense-array parser accepts `index` as an
//   element type and then asks it for a bit width: a null dereference.
//
// Either is reported as `file:line:col: error: ...` (without quoting the
// line, which may be megabytes long).
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_SUPPORT_INPUTGUARD_H
#define MUIR_SUPPORT_INPUTGUARD_H

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/LogicalResult.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"
#include <optional>
#include <string>
#include <utility>

namespace muir {

/// The deepest bracket nesting the tools accept.
constexpr unsigned kMaxNesting = 256;

/// The offset and description of the first hazard in `text`, or nullopt.
/// Counts `(`, `[`, `{` and `<` (not the `>` of `->`) and looks for the
/// bare keyword `array` followed by `<` and `index`, skipping string
/// literals and `//` comments. Unbalanced closers are ignored: malformed
/// input is left to the parser's own errors.
inline std::optional<std::pair<size_t, std::string>>
findInputHazard(llvm::StringRef text, unsigned maxNesting = kMaxNesting) {
  auto isIdent = [](char c) {
    return llvm::isAlnum(c) || c == '_' || c == '$' || c == '.';
  };
  auto skipSpace = [&](size_t i) {
    while (i < text.size() && llvm::isSpace(text[i]))
      ++i;
    return i;
  };
  unsigned depth = 0;
  for (size_t i = 0, e = text.size(); i < e; ++i) {
    char c = text[i];
    switch (c) {
    case '"':
      for (++i; i < e && text[i] != '"' && text[i] != '\n'; ++i)
        if (text[i] == '\\')
          ++i;
      continue;
    case '/':
      if (i + 1 < e && text[i + 1] == '/')
        while (i < e && text[i] != '\n')
          ++i;
      continue;
    case '(':
    case '[':
    case '{':
    case '<':
      if (++depth > maxNesting)
        return std::make_pair(
            i, "brackets nest more than " + std::to_string(maxNesting) +
                   " levels deep here; muir does not accept such deeply "
                   "nested input");
      continue;
    case ')':
    case ']':
    case '}':
      if (depth)
        --depth;
      continue;
    case '>':
      if (depth && (i == 0 || text[i - 1] != '-'))
        --depth;
      continue;
    default:
      break;
    }
    // `array` as a bare keyword (not `!llvm.array`, not `myarray`).
    if (c != 'a' || !text.substr(i).starts_with("array") ||
        (i > 0 && (isIdent(text[i - 1]) ||
                   llvm::StringRef("!#%@^").contains(text[i - 1]))))
      continue;
    size_t j = i + 5;
    if (j < e && isIdent(text[j]))
      continue;
    j = skipSpace(j);
    if (j >= e || text[j] != '<')
      continue;
    j = skipSpace(j + 1);
    if (text.substr(j).starts_with("index") &&
        (j + 5 >= e || !isIdent(text[j + 5])))
      return std::make_pair(j, std::string("a dense array cannot have 'index' "
                                           "elements; use i64"));
  }
  return std::nullopt;
}

/// Fails with `file:line:col: error: ...` on `os` when `buffer` holds a
/// hazard (see findInputHazard).
inline llvm::LogicalResult checkInput(const llvm::MemoryBuffer &buffer,
                                      llvm::raw_ostream &os) {
  llvm::StringRef text = buffer.getBuffer();
  auto hazard = findInputHazard(text);
  if (!hazard)
    return llvm::success();
  llvm::StringRef before = text.take_front(hazard->first);
  size_t line = before.count('\n') + 1;
  size_t lineStart = before.rfind('\n');
  size_t col = hazard->first -
               (lineStart == llvm::StringRef::npos ? 0 : lineStart + 1) + 1;
  os << buffer.getBufferIdentifier() << ":" << line << ":" << col
     << ": error: " << hazard->second << "\n";
  return llvm::failure();
}

} // namespace muir

#endif // MUIR_SUPPORT_INPUTGUARD_H
