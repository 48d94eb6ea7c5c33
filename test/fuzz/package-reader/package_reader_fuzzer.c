/*===- package_reader_fuzzer.c - libFuzzer: the runtime's checks --*- C -*-===*
 *
 * Part of the muir project, under the Apache License v2.0 with LLVM
 * Exceptions.
 *
 *===----------------------------------------------------------------------===*
 *
 * Everything muir_package_open decides from a package's bytes before it
 * trusts them, fed the same input three ways:
 *
 *  - as manifest.json: the strict JSON reader, the ABI and hash fields, and
 *    the comparison with a valid table (the TEST FIXTURE's, so the fixture's
 *    manifest in the corpus passes and mutations of it reach every field);
 *  - as libmuir_kernels.so: the ELF check that runs before dlopen (never
 *    dlopen itself, which would run the input);
 *  - as a parameter table: the fixture's table with its numbers (offsets,
 *    strides, shapes, counts, alignment, ties) overwritten from the input,
 *    through the table check (overflow, overlap, ties).
 *
 * Built with -fsanitize=fuzzer,address over the runtime's own sources
 * (test/fuzz/CMakeLists.txt); run by test/fuzz/package-reader/fuzz.test.
 *
 *===----------------------------------------------------------------------===*/

#define FIXTURE_NO_EXPORTS
#include "fixture_package.c"

#include "../../../runtime/src/internal.h"
#include "../../../runtime/src/library.h"
#include "../../../runtime/src/manifest.h"

#include <stdlib.h>
#include <string.h>

/** Reads the manifest and, when it is well-formed, checks it against the
 *  fixture's table. */
static void fuzzManifest(const uint8_t *data, size_t size) {
  muir_json_t root;
  char hash[MUIR_PACKAGE_HASH_LENGTH + 1];
  if (muir_manifest_read("fuzz", (const char *)data, size, &root, hash) ==
      MUIR_OK)
    (void)muir_manifest_check("fuzz", root, &info);
}

static void fuzzElf(const uint8_t *data, size_t size) {
  char why[256];
  const char *hash = NULL;
  if (muir_elf_check(data, size, &hash, why, sizeof(why)) && hash)
    (void)strlen(hash);
}

/** Takes the next `n` bytes of the input (zeros once it runs out). */
static void take(const uint8_t **data, size_t *size, void *out, size_t n) {
  size_t k = n < *size ? n : *size;
  memset(out, 0, n);
  memcpy(out, *data, k);
  *data += k;
  *size -= k;
}

/** Forward multipliers for any number of copies the check accepts. */
static double multipliers[1 << 20];

static void fuzzTable(const uint8_t *data, size_t size) {
  static const char *const names[] = {"blocks.w", "embed.weight",
                                      "unembed.weight", "x"};
  if (multipliers[0] == 0.0)
    for (size_t k = 0; k < sizeof(multipliers) / sizeof(double); ++k)
      multipliers[k] = 1.0;
  muir_param_info_t params[8];
  muir_package_info_t table = info;
  uint8_t count;
  take(&data, &size, &count, 1);
  table.num_params = count % 9;
  table.params = params;
  take(&data, &size, &table.buffer_elements, sizeof(table.buffer_elements));
  take(&data, &size, &table.alignment, sizeof(table.alignment));
  take(&data, &size, &table.num_states, sizeof(table.num_states));
  take(&data, &size, &table.optimizer, sizeof(table.optimizer));
  for (int64_t i = 0; i < table.num_params; ++i) {
    muir_param_info_t *p = &params[i];
    *p = fixtureParams[i % FIXTURE_NUM_PARAMS];
    uint8_t pick[2];
    take(&data, &size, pick, sizeof(pick));
    p->name = names[pick[0] % 4];
    p->tied_to = pick[1] % 3 == 0 ? names[pick[1] / 3 % 4] : NULL;
    take(&data, &size, &p->init, sizeof(p->init));
    take(&data, &size, &p->rank, sizeof(p->rank));
    take(&data, &size, p->shape, sizeof(p->shape));
    take(&data, &size, &p->copies, sizeof(p->copies));
    take(&data, &size, &p->offset, sizeof(p->offset));
    take(&data, &size, &p->stride, sizeof(p->stride));
    take(&data, &size, &p->numel, sizeof(p->numel));
    p->multiplier = multipliers;
  }
  (void)muir_check_table("fuzz", &table);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzzManifest(data, size);
  fuzzElf(data, size);
  fuzzTable(data, size);
  return 0;
}
