//===- JSON.h - Strict JSON for hand-written input files --------*- C++ -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Model cards and multipliers files are hand-written JSON. llvm::json parses
// them, but on its own it
//
// - recurses once per level of nesting, so a document nested a few hundred
//   thousand levels deep overflows the stack;
// - keeps one of two equal keys of an object and drops the other silently;
// - keeps no positions, so a reader cannot say where a bad value is.
//
// JSONDocument::parse closes all three: nesting deeper than kMaxJSONNesting
// and a key written twice in one object are errors, and every error names
// `file:line:column` (1-based) and the JSON path of the value.
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_SUPPORT_JSON_H
#define MUIR_SUPPORT_JSON_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"
#include <string>

namespace muir {

/// The deepest nesting of arrays and objects a muir JSON input may have. A
/// card is one level deep and a multipliers file three.
constexpr unsigned kMaxJSONNesting = 32;

/// Inputs larger than this are rejected before they are parsed: a card is a
/// few hundred bytes, a multipliers file a few kilobytes, and a device or
/// pipe that never ends must not be read into memory.
constexpr size_t kMaxJSONBytes = 16 << 20;

/// A traced PyTorch model (muirc import --torch) lists every call of every
/// block: a few hundred bytes per call, some 50 calls per block.
constexpr size_t kMaxTorchGraphBytes = size_t(512) << 20;

/// One step of a path into a JSON document: an object key or an array index.
struct JSONPathStep {
  JSONPathStep(llvm::StringRef key) : key(key.str()) {}
  JSONPathStep(const std::string &key) : key(key) {}
  JSONPathStep(const char *key) : key(key) {}
  JSONPathStep(size_t index) : index(index), isIndex(true) {}

  std::string key;
  size_t index = 0;
  bool isIndex = false;
};

/// Renders `path` as `$`, `$.depth.lr[2]` or `$.modules["blocks.*"].lr`
/// (keys that are not plain identifiers are quoted).
std::string formatJSONPath(llvm::ArrayRef<JSONPathStep> path);

/// An error at a place in a JSON file. Its message() reads `file:line:col:
/// detail`; a pass can instead report `detail` at
/// `FileLineColLoc(file, line, column)`.
class JSONError : public llvm::ErrorInfo<JSONError> {
public:
  static char ID;
  JSONError(std::string file, unsigned line, unsigned column,
            std::string detail)
      : file(std::move(file)), line(line), column(column),
        detail(std::move(detail)) {}
  void log(llvm::raw_ostream &os) const override;
  std::error_code convertToErrorCode() const override {
    return llvm::inconvertibleErrorCode();
  }

  std::string file;
  unsigned line, column;
  /// What is wrong, without the position.
  std::string detail;
};

/// A parsed JSON document that keeps its text to say where things are.
class JSONDocument {
public:
  /// Parses `text`, read from `file`. Fails with a JSONError on a syntax
  /// error, on nesting deeper than `maxNesting` (checked before llvm::json
  /// recurses) and on an object that holds a key twice (naming both places).
  static llvm::Expected<JSONDocument>
  parse(llvm::StringRef text, llvm::StringRef file,
        unsigned maxNesting = kMaxJSONNesting);

  /// Reads `file` (`-` is standard input) and parses it; an unreadable file
  /// or one larger than `maxBytes` is an error `file: cannot read <what>:
  /// <reason>`.
  static llvm::Expected<JSONDocument> read(llvm::StringRef file,
                                           llvm::StringRef what,
                                           size_t maxBytes = kMaxJSONBytes);

  const llvm::json::Value &root() const { return value; }
  llvm::StringRef file() const { return fileName; }

  /// The 1-based line and column where the value at `path` is written: the
  /// key of an object member, the first character of an array element. A
  /// path that leaves the document gives the deepest value on it that
  /// exists (the object that lacks a key, for a missing key).
  std::pair<unsigned, unsigned>
  position(llvm::ArrayRef<JSONPathStep> path) const;

  /// A JSONError `file:line:col: <path>: message` at position(path).
  llvm::Error error(llvm::ArrayRef<JSONPathStep> path,
                    const llvm::Twine &message) const;

private:
  JSONDocument(llvm::StringRef text, llvm::StringRef file,
               llvm::json::Value value)
      : text(text.str()), fileName(file.str()), value(std::move(value)) {}

  std::string text;
  std::string fileName;
  llvm::json::Value value;
};

} // namespace muir

#endif // MUIR_SUPPORT_JSON_H
