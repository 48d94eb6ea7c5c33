//===- StagedDirectory.h - A directory replaced all at once -----*- C++ -*-===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// `muirc package -o DIR` writes its files into a staging directory beside
// DIR and swaps it into place only when every file is written, so a reader of
// DIR sees the previous package or the new one, never a mix, whatever runs
// concurrently, fails or is killed.
//
//===----------------------------------------------------------------------===//

#ifndef MUIR_TARGET_PACKAGE_STAGEDDIRECTORY_H
#define MUIR_TARGET_PACKAGE_STAGEDDIRECTORY_H

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include <string>

namespace muir {

/// A staging directory `DEST.tmp-XXXXXX` beside its destination `DEST`.
///
/// - create() refuses a destination that is not a directory, is a symbolic
///   link, or holds a file that `replaceable` does not accept (so `-o` never
///   deletes a user's files), removes the staging directories of dead runs
///   beside it, and makes a new one holding a lock file (`.muir-staging`)
///   that stays locked (flock) while this object lives.
/// - commit() syncs the files and swaps the staging directory with DEST in
///   one rename (Linux renameat2 RENAME_EXCHANGE), then deletes the previous
///   contents. Where the file system cannot exchange, DEST is first moved
///   aside: for that instant DEST is absent, never mixed.
/// - Without commit(), the destructor deletes the staging directory; a run
///   killed before that leaves it behind, unlocked, for the next run to
///   remove (it holds no manifest.json, so the runtime refuses it).
class StagedDirectory {
public:
  /// Which file names a package directory may hold (and which ones cleanup
  /// may delete).
  using FilePredicate = llvm::function_ref<bool(llvm::StringRef name)>;

  static llvm::Expected<StagedDirectory> create(llvm::StringRef destination,
                                                FilePredicate replaceable);

  StagedDirectory(StagedDirectory &&other);
  StagedDirectory &operator=(StagedDirectory &&) = delete;
  ~StagedDirectory();

  /// The staging directory to write into.
  llvm::StringRef path() const { return staging; }
  /// The destination, absolute and normalised.
  llvm::StringRef destination() const { return dest; }

  /// Makes the staging directory the destination (see the class comment).
  llvm::Error commit(FilePredicate replaceable);

  /// The name of the lock file that marks a staging directory.
  static constexpr llvm::StringLiteral kLockFile = ".muir-staging";
  /// Staging directories whose lock is free and whose lock file is older
  /// than this many seconds belong to dead runs.
  static constexpr int kStaleSeconds = 10;

private:
  StagedDirectory(std::string dest, std::string staging, int lockFd)
      : dest(std::move(dest)), staging(std::move(staging)), lockFd(lockFd) {}

  std::string dest, staging;
  int lockFd = -1;
  bool committed = false;
};

} // namespace muir

#endif // MUIR_TARGET_PACKAGE_STAGEDDIRECTORY_H
