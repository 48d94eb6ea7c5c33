/*===- library.h - Checking and loading libmuir_kernels.so --------*- C -*-===*
 *
 * Part of the muir project, under the Apache License v2.0 with LLVM
 * Exceptions.
 *
 *===----------------------------------------------------------------------===*/

#ifndef MUIR_RUNTIME_LIBRARY_H
#define MUIR_RUNTIME_LIBRARY_H

#include "muir/runtime.h"

#include <stdbool.h>
#include <stddef.h>

/** Checks that data[0, size) is an ELF shared object for this process
 *  (class, byte order, machine) that the dynamic loader can map and link
 *  without reading outside it: program headers, segments, the dynamic
 *  section and every table it points to (strings, symbols, hash tables,
 *  relocations and their targets, version records) lie inside the file and
 *  the loaded segments. Finds the package hash note (`*out_hash`: the
 *  NUL-terminated hash inside `data`, or NULL without a well-formed one;
 *  package_abi.h). On failure writes the reason into `why` and returns
 *  false. Reads nothing outside `data`. */
bool muir_elf_check(const unsigned char *data, size_t size,
                    const char **out_hash, char *why, size_t why_size);

/** Largest libmuir_kernels.so the runtime loads. */
#define MUIR_MAX_LIBRARY_BYTES (INT64_C(1) << 30)

/** A package's own copy of its library, loaded. */
typedef struct {
  void *handle; /* from dlopen */
  int fd;       /* the sealed memory file it was loaded from, or -1 */
  char *copy;   /* the private file it was loaded from instead, or NULL */
} muir_library_t;

/** Reads `name` from the directory `dir_fd` (called `dir` in messages) into
 *  a private, sealed memory file (memfd; a private temporary file where
 *  memfds are unavailable or not executable, or MUIR_NO_MEMFD is set),
 *  checks those bytes with muir_elf_check, checks that their package hash
 *  note says `expected_hash`, and dlopen()s the private copy.
 *  Nothing can change the bytes between the check and the load, and every
 *  load is a new library: glibc returns an already loaded library for the
 *  same path or inode, so loading a package rebuilt at the same path would
 *  otherwise return the old one. */
muir_status_t muir_library_load(const char *dir, int dir_fd, const char *name,
                                const char *expected_hash, muir_library_t *out);

/** dlclose()s and deletes the private copy; accepts a zeroed library. */
void muir_library_unload(muir_library_t *library);

#endif /* MUIR_RUNTIME_LIBRARY_H */
