/*===- manifest.h - Checking manifest.json against the table ------*- C -*-===*
 *
 * Part of the muir project, under the Apache License v2.0 with LLVM
 * Exceptions.
 *
 *===----------------------------------------------------------------------===*/

#ifndef MUIR_RUNTIME_MANIFEST_H
#define MUIR_RUNTIME_MANIFEST_H

#include "internal.h"
#include "json.h"

/** Largest manifest.json the runtime reads. */
#define MUIR_MAX_MANIFEST_BYTES (64 << 20)

/** Parses manifest.json (`text[0, size)`) of the package in `dir` and reads
 *  what is needed before the library is loaded: `abi_version`
 *  (MUIR_ERROR_VERSION unless it is the runtime's) and `package_hash` (64
 *  lowercase hex digits, copied to `out_hash`). */
muir_status_t muir_manifest_read(const char *dir, const char *text, size_t size,
                                 muir_json_t *out_root,
                                 char out_hash[MUIR_PACKAGE_HASH_LENGTH + 1]);

/** Checks that the manifest says what the library's table says: the package
 *  hash, the model, the optimizer and its options, the buffer size, the
 * alignment, the number of states and every parameter's name, offset, stride,
 * numel, copies, shape and tie, in table order. The table must have passed the
 *  runtime's own checks. */
muir_status_t muir_manifest_check(const char *dir, muir_json_t root,
                                  const muir_package_info_t *info);

/** The name of optimizer `code` (MUIR_OPTIMIZERS), or NULL. */
const char *muir_optimizer_name(int32_t code);

/** Whether `hash` is MUIR_PACKAGE_HASH_LENGTH lowercase hex digits. */
bool muir_is_package_hash(const char *hash);

#endif /* MUIR_RUNTIME_MANIFEST_H */
