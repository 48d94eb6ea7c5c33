/*===- library.c - Loading a package's own copy of its library ----*- C -*-===*
 *
 * Part of the muir project, under the Apache License v2.0 with LLVM
 * Exceptions.
 *
 *===----------------------------------------------------------------------===*
 *
 * The library is copied into a memory file that is then sealed (no write,
 * grow or shrink), checked and loaded from /proc/self/fd/N. The file stays
 * open until the package is released, so its descriptor number, and with it
 * the path glibc remembers, is unique among the libraries loaded.
 *
 *===----------------------------------------------------------------------===*/

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create, F_ADD_SEALS */
#endif

#include "internal.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MFD_EXEC /* Linux 6.3: ask for an executable memfd explicitly */
#define MFD_EXEC 0x0010U
#endif

/** Copies `size` bytes of `from` into `to` (both descriptors) through a
 *  shared mapping of `to`; returns 0 or an errno value (EAGAIN when `from`
 *  ended early: it changed while being read). */
static int copyInto(int from, int to, size_t size) {
  if (ftruncate(to, (off_t)size) != 0)
    return errno;
  unsigned char *p =
      mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, to, 0);
  if (p == MAP_FAILED)
    return errno;
  size_t done = 0;
  int error = 0;
  while (done < size) {
    ssize_t got = read(from, p + done, size - done);
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0) {
      error = got < 0 ? errno : EAGAIN;
      break;
    }
    done += (size_t)got;
  }
  munmap(p, size);
  return error;
}

/** A memfd holding the library, sealed; -1 with errno on failure. */
static int memoryCopy(int from, size_t size) {
  unsigned flags = MFD_CLOEXEC | MFD_ALLOW_SEALING;
  int fd = memfd_create("libmuir_kernels.so", flags | MFD_EXEC);
  if (fd < 0 && errno == EINVAL) /* a kernel before MFD_EXEC */
    fd = memfd_create("libmuir_kernels.so", flags);
  if (fd < 0)
    return -1;
  int error = copyInto(from, fd, size);
  if (!error &&
      fcntl(fd, F_ADD_SEALS,
            F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0)
    error = errno;
  if (error) {
    close(fd);
    errno = error;
    return -1;
  }
  return fd;
}

/** A private copy in a fresh directory under $TMPDIR; NULL with errno on
 *  failure. `*out_fd` is open on it for reading. */
static char *fileCopy(int from, size_t size, int *out_fd) {
  const char *tmp = getenv("TMPDIR");
  if (!tmp || !tmp[0])
    tmp = "/tmp";
  size_t length = strlen(tmp) + sizeof("/muir-XXXXXX/libmuir_kernels.so");
  char *path = malloc(length);
  if (!path)
    return NULL;
  snprintf(path, length, "%s/muir-XXXXXX", tmp);
  if (!mkdtemp(path)) {
    int error = errno;
    free(path);
    errno = error;
    return NULL;
  }
  size_t dirLength = strlen(path);
  snprintf(path + dirLength, length - dirLength, "/libmuir_kernels.so");
  int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
  int error = fd < 0 ? errno : copyInto(from, fd, size);
  if (error) {
    if (fd >= 0)
      close(fd);
    unlink(path);
    path[dirLength] = '\0';
    rmdir(path);
    free(path);
    errno = error;
    return NULL;
  }
  *out_fd = fd;
  return path;
}

void muir_library_unload(muir_library_t *library) {
  if (library->handle)
    dlclose(library->handle);
  if (library->fd >= 0)
    close(library->fd);
  if (library->copy) {
    unlink(library->copy);
    char *slash = strrchr(library->copy, '/');
    if (slash) {
      *slash = '\0';
      rmdir(library->copy);
    }
    free(library->copy);
  }
  library->handle = NULL;
  library->fd = -1;
  library->copy = NULL;
}

/** The library's size, checked; MUIR_OK or an error naming `path`. */
static muir_status_t checkedSize(int fd, const char *path, size_t *out) {
  struct stat st;
  if (fstat(fd, &st) != 0)
    return muir_set_error(MUIR_ERROR_IO, "cannot read '%s': %s", path,
                          strerror(errno));
  if (!S_ISREG(st.st_mode))
    return muir_set_error(MUIR_ERROR_FORMAT, "'%s' is not a regular file",
                          path);
  if (st.st_size < 64 || st.st_size > MUIR_MAX_LIBRARY_BYTES)
    return muir_set_error(MUIR_ERROR_FORMAT,
                          "cannot load '%s': %" PRId64 " bytes is %s for a "
                          "kernel library",
                          path, (int64_t)st.st_size,
                          st.st_size < 64 ? "too short" : "too large");
  *out = (size_t)st.st_size;
  return MUIR_OK;
}

/** Checks the copy open as `fd` (`size` bytes) and its package hash note. */
static muir_status_t checkCopy(int fd, size_t size, const char *path,
                               const char *expected_hash) {
  unsigned char *data = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (data == MAP_FAILED)
    return muir_set_error(MUIR_ERROR_IO, "cannot map a copy of '%s': %s", path,
                          strerror(errno));
  char why[256];
  const char *hash = NULL;
  muir_status_t status = MUIR_OK;
  if (!muir_elf_check(data, size, &hash, why, sizeof(why)))
    status = muir_set_error(MUIR_ERROR_FORMAT,
                            "cannot load '%s': not a loadable shared library "
                            "for this machine: %s",
                            path, why);
  else if (!hash)
    status = muir_set_error(MUIR_ERROR_FORMAT,
                            "'%s' has no package hash note (.note.muir): not "
                            "the kernel library of a muir package",
                            path);
  else if (strcmp(hash, expected_hash) != 0)
    status = muir_set_error(
        MUIR_ERROR_FORMAT,
        "'%s' is not the library of this package: it is from package %s but "
        "manifest.json is from package %s (the files come from different "
        "builds)",
        path, hash, expected_hash);
  munmap(data, size);
  return status;
}

muir_status_t muir_library_load(const char *dir, int dir_fd, const char *name,
                                const char *expected_hash,
                                muir_library_t *out) {
  size_t pathSize = strlen(dir) + strlen(name) + 2;
  char *path = malloc(pathSize);
  if (!path)
    return muir_set_error(MUIR_ERROR_MEMORY, "out of memory opening '%s'", dir);
  snprintf(path, pathSize, "%s/%s", dir, name);
  muir_library_t library = {NULL, -1, NULL};
  muir_status_t status = MUIR_OK;
  size_t size = 0;
  // O_NONBLOCK: a FIFO planted in the package must not hang the open.
  int from = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (from < 0) {
    status =
        muir_set_error(MUIR_ERROR_IO, "package '%s' has no readable %s: %s",
                       dir, name, strerror(errno));
    goto done;
  }
  status = checkedSize(from, path, &size);
  if (status != MUIR_OK)
    goto done;

  // A memfd when it can be executed; else a private file.
  const char *noMemfd = getenv("MUIR_NO_MEMFD");
  bool useMemfd = !(noMemfd && noMemfd[0] && strcmp(noMemfd, "0") != 0);
  char procPath[64] = "";
  if (useMemfd) {
    library.fd = memoryCopy(from, size);
    if (library.fd >= 0) {
      snprintf(procPath, sizeof(procPath), "/proc/self/fd/%d", library.fd);
      if (access(procPath, R_OK) != 0) { /* no /proc */
        close(library.fd);
        library.fd = -1;
      }
    } else if (errno == EAGAIN) {
      status = muir_set_error(MUIR_ERROR_IO,
                              "'%s' changed while it was being read", path);
      goto done;
    }
  }
  if (library.fd < 0) {
    if (lseek(from, 0, SEEK_SET) != 0 ||
        !(library.copy = fileCopy(from, size, &library.fd))) {
      status = muir_set_error(MUIR_ERROR_IO,
                              "cannot make a private copy of '%s' to load: %s",
                              path, strerror(errno));
      goto done;
    }
  }
  status = checkCopy(library.fd, size, path, expected_hash);
  if (status != MUIR_OK)
    goto done;
  dlerror();
  library.handle =
      dlopen(library.copy ? library.copy : procPath, RTLD_NOW | RTLD_LOCAL);
  if (!library.handle) {
    const char *why = dlerror();
    status = muir_set_error(MUIR_ERROR_FORMAT, "cannot load '%s': %s", path,
                            why ? why : "unknown dlopen error");
    goto done;
  }
  if (library.copy) { /* loaded: the name is no longer needed */
    close(library.fd);
    library.fd = -1;
  }

done:
  if (from >= 0)
    close(from);
  free(path);
  if (status != MUIR_OK)
    muir_library_unload(&library);
  else
    *out = library;
  return status;
}
