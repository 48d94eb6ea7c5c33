//===- NestingLimit.h - Reject absurdly nested input ------------*- C++ -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// MLIR's parser is recursive descent: every level of `(`, `[`, `{` or `<`
// (a region in a region, an array in an array, a type in a type) takes
// stack, and a few thousand levels overflow it. Real tp programs nest a
// handful of levels, so the tools reject input nested deeper than
// kMaxNesting with a located error before parsing it.
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_SUPPORT_NESTINGLIMIT_H
#define MUIR_SUPPORT_NESTINGLIMIT_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/LogicalResult.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"
#include <optional>

namespace muir {

/// The deepest bracket nesting the tools accept.
constexpr unsigned kMaxNesting = 256;

/// The offset of the first bracket in `text` that opens level `limit + 1`,
/// or nullopt. Counts `(`, `[`, `{` and `<` (not the `>` of `->`), skipping
/// string literals and `//` comments. Unbalanced closers are ignored, so
/// malformed input is left to the parser's own errors.
inline std::optional<size_t> findExcessiveNesting(llvm::StringRef text,
                                                  unsigned limit) {
  unsigned depth = 0;
  for (size_t i = 0, e = text.size(); i < e; ++i) {
    switch (text[i]) {
    case '"':
      for (++i; i < e && text[i] != '"' && text[i] != '\n'; ++i)
        if (text[i] == '\\')
          ++i;
      break;
    case '/':
      if (i + 1 < e && text[i + 1] == '/')
        while (i < e && text[i] != '\n')
          ++i;
      break;
    case '(':
    case '[':
    case '{':
    case '<':
      if (++depth > limit)
        return i;
      break;
    case ')':
    case ']':
    case '}':
      if (depth)
        --depth;
      break;
    case '>':
      if (depth && (i == 0 || text[i - 1] != '-'))
        --depth;
      break;
    default:
      break;
    }
  }
  return std::nullopt;
}

/// Fails with `file:line:col: error: ...` on `os` when `buffer` nests deeper
/// than kMaxNesting. The source line is not quoted: it may be megabytes.
inline llvm::LogicalResult checkNesting(const llvm::MemoryBuffer &buffer,
                                        llvm::raw_ostream &os) {
  llvm::StringRef text = buffer.getBuffer();
  std::optional<size_t> at = findExcessiveNesting(text, kMaxNesting);
  if (!at)
    return llvm::success();
  llvm::StringRef before = text.take_front(*at);
  size_t line = before.count('\n') + 1;
  size_t lineStart = before.rfind('\n');
  size_t col = *at - (lineStart == llvm::StringRef::npos ? 0 : lineStart + 1);
  os << buffer.getBufferIdentifier() << ":" << line << ":" << col + 1
     << ": error: brackets nest more than " << kMaxNesting
     << " levels deep here; muir does not accept such deeply nested input\n";
  return llvm::failure();
}

} // namespace muir

#endif // MUIR_SUPPORT_NESTINGLIMIT_H
