//===- JSON.cpp - Strict JSON for hand-written input files ----------------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// llvm::json builds the values; this file only looks at the text around it:
// a flat scan bounds the nesting before llvm::json recurses, and a scan of
// the (then known valid, shallow) text finds repeated keys and the position
// of a path. Positions are looked up only when an error is reported, so a
// document keeps no table of them.
//
//===----------------------------------------------------------------------===//

#include "muir/Support/JSON.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"

using namespace muir;
using llvm::StringRef;
namespace json = llvm::json;

char JSONError::ID;

void JSONError::log(llvm::raw_ostream &os) const {
  os << file << ":" << line << ":" << column << ": " << detail;
}

std::string muir::formatJSONPath(llvm::ArrayRef<JSONPathStep> path) {
  std::string out = "$";
  for (const JSONPathStep &step : path) {
    if (step.isIndex) {
      out += "[" + std::to_string(step.index) + "]";
      continue;
    }
    bool plain = !step.key.empty() && !llvm::isDigit(step.key.front()) &&
                 llvm::all_of(step.key, [](char c) {
                   return llvm::isAlnum(c) || c == '_' || c == '-';
                 });
    if (plain) {
      out += "." + step.key;
      continue;
    }
    out += "[\"";
    for (char c : step.key) {
      if (c == '"' || c == '\\')
        out += '\\';
      if (static_cast<unsigned char>(c) < 0x20)
        out += llvm::formatv("\\u{0:x-4}", unsigned(c)).str();
      else
        out += c;
    }
    out += "\"]";
  }
  return out;
}

/// The 1-based line and column of byte `offset` of `text`.
static std::pair<unsigned, unsigned> lineColumn(StringRef text, size_t offset) {
  StringRef before = text.take_front(offset);
  size_t lineStart = before.rfind('\n');
  lineStart = lineStart == StringRef::npos ? 0 : lineStart + 1;
  return {unsigned(1 + before.count('\n')), unsigned(offset - lineStart + 1)};
}

/// The offset of the first `[` or `{` nested deeper than `maxNesting`, if
/// any. Strings are skipped as JSON reads them (a backslash escapes the next
/// byte), so a bracket llvm::json would recurse on is never missed: where
/// the two could read the text differently, llvm::json stops at a syntax
/// error first.
static std::optional<size_t> findTooDeep(StringRef text, unsigned maxNesting) {
  unsigned depth = 0;
  for (size_t i = 0, e = text.size(); i < e; ++i) {
    switch (text[i]) {
    case '"':
      for (++i; i < e && text[i] != '"'; ++i)
        if (text[i] == '\\')
          ++i;
      break;
    case '[':
    case '{':
      if (++depth > maxNesting)
        return i;
      break;
    case ']':
    case '}':
      if (depth)
        --depth;
      break;
    default:
      break;
    }
  }
  return std::nullopt;
}

namespace {
/// Walks the text of a document llvm::json accepted: valid JSON, nested at
/// most kMaxJSONNesting deep (so recursion over it is bounded).
class Scanner {
public:
  explicit Scanner(StringRef text) : text(text) {}

  /// The next byte after white space, or 0 at the end.
  char peek() {
    while (pos < text.size() && StringRef(" \t\r\n").contains(text[pos]))
      ++pos;
    return pos < text.size() ? text[pos] : 0;
  }
  /// Steps over the byte `peek` returned.
  void next() { ++pos; }
  /// Steps over `c` if it comes next.
  bool consume(char c) {
    if (peek() != c)
      return false;
    ++pos;
    return true;
  }

  /// At a string: steps over it and returns its decoded value.
  std::string string() {
    size_t start = pos++;
    while (pos < text.size() && text[pos] != '"')
      pos += text[pos] == '\\' ? 2 : 1;
    ++pos;
    StringRef raw = text.slice(start, pos);
    // The string is valid JSON, so llvm::json decodes its escapes (and a
    // `\u0061` key equals an `a` key, as for llvm::json itself).
    llvm::Expected<json::Value> decoded = json::parse(raw);
    if (!decoded) {
      llvm::consumeError(decoded.takeError());
      return raw.str();
    }
    return decoded->getAsString().value_or(raw).str();
  }

  /// Steps over the value that comes next.
  void skipValue() {
    unsigned depth = 0;
    do {
      char c = peek();
      if (!c)
        return;
      if (c == '"') {
        string();
        continue;
      }
      if (c == '[' || c == '{') {
        ++depth;
        ++pos;
        continue;
      }
      if (c == ']' || c == '}' || c == ',' || c == ':') {
        depth -= c == ']' || c == '}';
        ++pos;
        continue;
      }
      while (pos < text.size() && !StringRef(",:]} \t\r\n").contains(text[pos]))
        ++pos;
    } while (depth > 0);
  }

  StringRef text;
  size_t pos = 0;
};
} // namespace

/// Fails at the first object that holds a key twice, naming both places.
static llvm::Error checkKeys(Scanner &s, std::vector<JSONPathStep> &path,
                             StringRef file) {
  char c = s.peek();
  if (c == '{') {
    s.next();
    llvm::StringMap<size_t> seen;
    while (!s.consume('}')) {
      s.peek();
      size_t at = s.pos;
      std::string key = s.string();
      path.push_back(key);
      auto [it, inserted] = seen.try_emplace(key, at);
      if (!inserted) {
        auto [line, column] = lineColumn(s.text, at);
        auto [firstLine, firstColumn] = lineColumn(s.text, it->second);
        return llvm::make_error<JSONError>(
            file.str(), line, column,
            llvm::formatv("{0}: duplicate key, first written at {1}:{2}; "
                          "JSON readers keep only one of the two",
                          formatJSONPath(path), firstLine, firstColumn)
                .str());
      }
      s.consume(':');
      if (llvm::Error e = checkKeys(s, path, file))
        return e;
      path.pop_back();
      s.consume(',');
    }
    return llvm::Error::success();
  }
  if (c == '[') {
    s.next();
    for (size_t i = 0; !s.consume(']'); ++i) {
      path.push_back(i);
      if (llvm::Error e = checkKeys(s, path, file))
        return e;
      path.pop_back();
      s.consume(',');
    }
    return llvm::Error::success();
  }
  s.skipValue();
  return llvm::Error::success();
}

/// llvm::json's `[line:col, byte=N]: message` as `file:line:col: invalid
/// JSON: message`. llvm::json counts columns from 0 but mostly reports the
/// byte after the one it stumbled on, so its column reads as a 1-based
/// column of that byte.
static llvm::Error syntaxError(StringRef file, llvm::Error error) {
  std::string message = llvm::toString(std::move(error));
  StringRef rest = message;
  unsigned line = 1, column = 1;
  if (rest.consume_front("[") && !rest.consumeInteger(10, line) &&
      rest.consume_front(":") && !rest.consumeInteger(10, column)) {
    size_t end = rest.find("]: ");
    if (end != StringRef::npos)
      rest = rest.drop_front(end + 3);
  }
  return llvm::make_error<JSONError>(file.str(), line, std::max(column, 1u),
                                     "invalid JSON: " + rest.str());
}

llvm::Expected<JSONDocument> JSONDocument::parse(StringRef text, StringRef file,
                                                 unsigned maxNesting) {
  if (std::optional<size_t> deep = findTooDeep(text, maxNesting)) {
    auto [line, column] = lineColumn(text, *deep);
    return llvm::make_error<JSONError>(
        file.str(), line, column,
        llvm::formatv("arrays and objects nest more than {0} levels deep "
                      "here; muir's JSON inputs need a few levels",
                      maxNesting)
            .str());
  }
  llvm::Expected<json::Value> value = json::parse(text);
  if (!value)
    return syntaxError(file, value.takeError());
  Scanner scanner(text);
  std::vector<JSONPathStep> path;
  if (llvm::Error e = checkKeys(scanner, path, file))
    return std::move(e);
  return JSONDocument(text, file, std::move(*value));
}

llvm::Expected<JSONDocument> JSONDocument::read(StringRef file, StringRef what,
                                                size_t maxBytes) {
  auto fail = [&](const llvm::Twine &reason) {
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        (file + ": cannot read " + what + ": " + reason).str());
  };
  llvm::sys::fs::file_t fd = llvm::sys::fs::getStdinHandle();
  if (file != "-") {
    llvm::Expected<llvm::sys::fs::file_t> opened =
        llvm::sys::fs::openNativeFileForRead(file);
    if (!opened)
      return fail(llvm::toString(opened.takeError()));
    fd = *opened;
  }
  llvm::scope_exit closeFile([&] {
    if (file != "-")
      llvm::sys::fs::closeFile(fd);
  });
  // Read in chunks up to the limit (a size from stat would not bound a pipe
  // or a character device).
  llvm::SmallVector<char, 0> bytes;
  while (true) {
    size_t used = bytes.size();
    bytes.resize_for_overwrite(used + (64 << 10));
    llvm::Expected<size_t> got = llvm::sys::fs::readNativeFile(
        fd, llvm::MutableArrayRef<char>(bytes.data() + used, 64 << 10));
    if (!got)
      return fail(llvm::toString(got.takeError()));
    bytes.truncate(used + *got);
    if (*got == 0)
      break;
    if (bytes.size() > maxBytes)
      return fail(llvm::formatv("larger than {0} MiB", maxBytes >> 20));
  }
  return parse(StringRef(bytes.data(), bytes.size()), file);
}

std::pair<unsigned, unsigned>
JSONDocument::position(llvm::ArrayRef<JSONPathStep> path) const {
  Scanner s(text);
  s.peek();
  size_t best = s.pos;
  for (const JSONPathStep &step : path) {
    bool found = false;
    if (step.isIndex && s.consume('[')) {
      for (size_t i = 0; !s.consume(']'); ++i) {
        s.peek();
        if (i == step.index) {
          best = s.pos;
          found = true;
          break;
        }
        s.skipValue();
        s.consume(',');
      }
    } else if (!step.isIndex && s.consume('{')) {
      while (!s.consume('}')) {
        s.peek();
        size_t at = s.pos;
        std::string key = s.string();
        s.consume(':');
        if (key == step.key) {
          best = at;
          found = true;
          break;
        }
        s.skipValue();
        s.consume(',');
      }
    }
    if (!found)
      break;
  }
  return lineColumn(text, best);
}

llvm::Error JSONDocument::error(llvm::ArrayRef<JSONPathStep> path,
                                const llvm::Twine &message) const {
  auto [line, column] = position(path);
  return llvm::make_error<JSONError>(
      fileName, line, column, formatJSONPath(path) + ": " + message.str());
}
