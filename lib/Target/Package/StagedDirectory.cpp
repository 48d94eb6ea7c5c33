//===- StagedDirectory.cpp - A directory replaced all at once -------------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// POSIX and Linux calls (flock, renameat2) where LLVM's file system layer
// has no equivalent.
//
//===----------------------------------------------------------------------===//

#include "StagedDirectory.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace muir;
using llvm::StringRef;

static llvm::Error errorf(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

static std::string errnoText() { return std::strerror(errno); }

/// The names in `dir` (without . and ..), or an error.
static llvm::Expected<std::vector<std::string>> listDirectory(StringRef dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
       it.increment(ec))
    names.push_back(llvm::sys::path::filename(it->path()).str());
  if (ec)
    return errorf("cannot list " + dir + ": " + ec.message());
  return names;
}

/// Deletes the files of `dir` that `deletable` accepts, then `dir` itself if
/// that left it empty. Returns whether `dir` is gone.
static bool removePackageDirectory(StringRef dir,
                                   StagedDirectory::FilePredicate deletable) {
  llvm::Expected<std::vector<std::string>> names = listDirectory(dir);
  if (!names) {
    llvm::consumeError(names.takeError());
    return false;
  }
  for (const std::string &name : *names)
    if (deletable(name) || name == StagedDirectory::kLockFile) {
      llvm::SmallString<256> path(dir);
      llvm::sys::path::append(path, name);
      llvm::sys::fs::remove(path);
    }
  return ::rmdir(std::string(dir).c_str()) == 0 || errno == ENOENT;
}

/// Opens `dir/kLockFile` and takes its lock without waiting. Returns the
/// descriptor, or -1 if the file is missing or locked by a live run.
static int tryLock(StringRef dir, bool create) {
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, StagedDirectory::kLockFile);
  int fd =
      ::open(path.c_str(),
             O_RDWR | O_CLOEXEC | O_NOFOLLOW | (create ? O_CREAT : 0), 0600);
  if (fd < 0)
    return -1;
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

/// Removes the staging directories of `dest` that no live run holds: their
/// lock file is unlocked and older than kStaleSeconds (a run takes its lock
/// right after creating the file, so a young unlocked one may be starting).
/// A directory without a lock file is not ours and is left alone.
static void removeStaleStaging(StringRef dest,
                               StagedDirectory::FilePredicate deletable) {
  StringRef parent = llvm::sys::path::parent_path(dest);
  std::string prefix = (llvm::sys::path::filename(dest) + ".tmp-").str();
  llvm::Expected<std::vector<std::string>> names = listDirectory(parent);
  if (!names) {
    llvm::consumeError(names.takeError());
    return;
  }
  for (const std::string &name : *names) {
    if (!StringRef(name).starts_with(prefix))
      continue;
    llvm::SmallString<256> dir(parent);
    llvm::sys::path::append(dir, name);
    int fd = tryLock(dir, /*create=*/false);
    if (fd < 0)
      continue;
    struct stat st;
    if (::fstat(fd, &st) == 0 &&
        std::time(nullptr) - st.st_mtime > StagedDirectory::kStaleSeconds)
      removePackageDirectory(dir, deletable);
    ::close(fd);
  }
}

llvm::Expected<StagedDirectory>
StagedDirectory::create(StringRef destination, FilePredicate replaceable) {
  llvm::SmallString<256> dest(destination);
  if (std::error_code ec = llvm::sys::fs::make_absolute(dest))
    return errorf("cannot resolve " + destination + ": " + ec.message());
  llvm::sys::path::remove_dots(dest, /*remove_dot_dot=*/true);
  while (dest.size() > 1 && llvm::sys::path::is_separator(dest.back()))
    dest.pop_back();
  StringRef name = llvm::sys::path::filename(dest);
  if (name.empty() || name == "/" || name == "." || name == "..")
    return errorf("cannot write a package to " + destination +
                  ": give a directory with a name of its own");

  // The destination: absent, or a directory of package files only.
  llvm::sys::fs::file_status status;
  if (!llvm::sys::fs::status(dest, status, /*follow=*/false)) {
    if (llvm::sys::fs::is_symlink_file(status))
      return errorf(destination +
                    " is a symbolic link; give the directory itself (a "
                    "package is replaced by renaming, which would replace the "
                    "link)");
    if (!llvm::sys::fs::is_directory(status))
      return errorf(destination + " exists and is not a directory");
    llvm::Expected<std::vector<std::string>> names = listDirectory(dest);
    if (!names)
      return names.takeError();
    for (const std::string &file : *names)
      if (!replaceable(file))
        return errorf(destination + " holds '" + file +
                      "', which is not a package file; refusing to replace "
                      "it (remove it or choose another -o)");
  }

  StringRef parent = llvm::sys::path::parent_path(dest);
  if (std::error_code ec = llvm::sys::fs::create_directories(parent))
    return errorf("cannot create " + parent + ": " + ec.message());
  removeStaleStaging(dest, replaceable);

  llvm::SmallString<256> staging;
  if (std::error_code ec =
          llvm::sys::fs::createUniqueDirectory(dest + ".tmp", staging))
    return errorf("cannot create a staging directory beside " + destination +
                  ": " + ec.message());
  int fd = tryLock(staging, /*create=*/true);
  if (fd < 0) {
    std::string why = errnoText();
    llvm::sys::fs::remove_directories(staging);
    return errorf("cannot lock the staging directory " + staging + ": " + why);
  }
  // createUniqueDirectory makes it owner-only; a package is as readable as
  // any directory the user creates.
  mode_t mask = ::umask(0);
  ::umask(mask);
  ::chmod(staging.c_str(), 0777 & ~mask);
  return StagedDirectory(std::string(dest), std::string(staging), fd);
}

StagedDirectory::StagedDirectory(StagedDirectory &&other)
    : dest(std::move(other.dest)), staging(std::move(other.staging)),
      lockFd(other.lockFd), committed(other.committed) {
  other.lockFd = -1;
  other.committed = true;
}

StagedDirectory::~StagedDirectory() {
  if (!committed)
    llvm::sys::fs::remove_directories(staging);
  if (lockFd >= 0)
    ::close(lockFd);
}

/// fsync()s `path` (a file or a directory); failures are ignored (some file
/// systems cannot sync directories).
static void syncPath(StringRef path) {
  int fd = ::open(std::string(path).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

/// renameat2 with `flags`; 0 or -1 with errno as the call sets it.
static int rename2(StringRef from, StringRef to, unsigned flags) {
  return ::renameat2(AT_FDCWD, std::string(from).c_str(), AT_FDCWD,
                     std::string(to).c_str(), flags);
}

llvm::Error StagedDirectory::commit(FilePredicate replaceable) {
  // Contents first, so a crash right after the rename cannot expose files
  // the disk has not seen.
  llvm::Expected<std::vector<std::string>> names = listDirectory(staging);
  if (!names)
    return names.takeError();
  for (const std::string &name : *names) {
    llvm::SmallString<256> path(staging);
    llvm::sys::path::append(path, name);
    if (name == kLockFile)
      llvm::sys::fs::remove(path);
    else
      syncPath(path);
  }
  syncPath(staging);

  // Into place: a plain rename where DEST is absent; an exchange where it
  // exists (another run may create or replace it at any moment, so loop).
  bool exchanged = false;
  for (int attempt = 0;; ++attempt) {
    if (attempt == 100)
      return errorf("cannot move " + staging + " to " + dest +
                    ": it keeps changing under concurrent runs");
    if (rename2(staging, dest, RENAME_NOREPLACE) == 0)
      break;
    if (errno == EINVAL || errno == ENOSYS) {
      // No renameat2 here: rename() replaces only an empty directory.
      if (::rename(staging.c_str(), dest.c_str()) == 0)
        break;
    } else if (errno != EEXIST && errno != ENOTEMPTY) {
      return errorf("cannot move " + staging + " to " + dest + ": " +
                    errnoText());
    }
    if (rename2(staging, dest, RENAME_EXCHANGE) == 0) {
      exchanged = true;
      break;
    }
    if (errno == ENOENT) // DEST vanished meanwhile: retry the plain rename
      continue;
    if (errno != EINVAL && errno != ENOSYS)
      return errorf("cannot replace " + dest + " with " + staging + ": " +
                    errnoText());
    // No exchange on this file system: move DEST aside, then retry.
    llvm::SmallString<256> aside;
    if (std::error_code ec =
            llvm::sys::fs::createUniqueDirectory(dest + ".tmp", aside))
      return errorf("cannot move " + dest + " aside: " + ec.message());
    if (::rename(dest.c_str(), aside.c_str()) != 0 && errno != ENOENT) {
      std::string why = errnoText();
      ::rmdir(aside.c_str());
      return errorf("cannot move " + dest + " aside: " + why);
    }
    if (!removePackageDirectory(aside, replaceable))
      llvm::errs() << "muirc: note: the previous contents of " << dest
                   << " are in " << aside << "\n";
  }
  committed = true;
  syncPath(llvm::sys::path::parent_path(dest));
  // The previous package is now at the staging name.
  if (exchanged && !removePackageDirectory(staging, replaceable))
    llvm::errs() << "muirc: note: the previous contents of " << dest
                 << " are in " << staging << "\n";
  return llvm::Error::success();
}
