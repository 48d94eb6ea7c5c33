// Reopening a package rebuilt at the same path, in the same process, loads
// the new library (glibc's dlopen returns the library already loaded for a
// path or inode, so the runtime loads a private copy each time); packages
// opened before the rebuild keep working on their own copy. Both ways of
// making the copy: a sealed memfd, and (MUIR_NO_MEMFD=1) a private file,
// which is deleted when the package is released.
//
// RUN: rm -rf %t && mkdir -p %t/tmp
// RUN: sed 's/width<base 64, size 1024>/width<base 64, size 256>/' %muir_src/examples/mlp.mlir > %t/narrow.mlir
// RUN: %muir_cc -std=c11 -Wall -Werror -I%muir_rt_include %s %muir_rt_link -o %t/reopen
// RUN: muirc package %muir_src/examples/mlp.mlir --scheme mup --lr 0.1 --no-gpu -o %t/pkg
// RUN: %t/reopen %t/pkg "muirc package %t/narrow.mlir --scheme mup --lr 0.1 --no-gpu -o %t/pkg" "muirc package %muir_src/examples/mlp.mlir --scheme mup --lr 0.1 --no-gpu -o %t/pkg" | FileCheck %s
// RUN: env MUIR_NO_MEMFD=1 TMPDIR=%t/tmp %t/reopen %t/pkg "muirc package %t/narrow.mlir --scheme mup --lr 0.1 --no-gpu -o %t/pkg" "muirc package %muir_src/examples/mlp.mlir --scheme mup --lr 0.1 --no-gpu -o %t/pkg" | FileCheck %s
// RUN: ls -A %t/tmp | count 0
//
// CHECK: first: 2913296 elements
// CHECK: rebuilt: 335120 elements, another hash
// CHECK: first still steps
// CHECK: rebuilt back: 2913296 elements, the first hash
// CHECK: done

#include "muir/runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(x)                                                               \
  do {                                                                         \
    if (!(x)) {                                                                \
      fprintf(stderr, "%s:%d: check failed: %s (%s)\n", __FILE__, __LINE__,   \
              #x, muir_last_error());                                          \
      return 1;                                                                \
    }                                                                          \
  } while (0)

/** Opens `dir` and runs one init and step in a new state. */
static muir_package_t *openAndStep(const char *dir, muir_state_t **state) {
  muir_package_t *package = NULL;
  if (muir_package_open(dir, &package) != MUIR_OK ||
      muir_state_create(package, MUIR_DEVICE_CPU, state) != MUIR_OK ||
      muir_state_init(*state, 3) != MUIR_OK ||
      muir_state_step(*state, 1, 1.0f) != MUIR_OK) {
    fprintf(stderr, "%s: %s\n", dir, muir_last_error());
    exit(1);
  }
  return package;
}

int main(int argc, char **argv) {
  CHECK(argc == 4);
  const muir_package_info_t *a, *b, *c;
  muir_state_t *sa, *sb, *sc;
  muir_package_t *first = openAndStep(argv[1], &sa);
  CHECK(muir_package_get_info(first, &a) == MUIR_OK);
  printf("first: %lld elements\n", (long long)a->buffer_elements);

  CHECK(system(argv[2]) == 0);
  muir_package_t *rebuilt = openAndStep(argv[1], &sb);
  CHECK(muir_package_get_info(rebuilt, &b) == MUIR_OK);
  CHECK(strcmp(a->package_hash, b->package_hash) != 0);
  printf("rebuilt: %lld elements, another hash\n",
         (long long)b->buffer_elements);

  // The first package's library, table and state are untouched.
  CHECK(muir_state_step(sa, 2, 0.5f) == MUIR_OK);
  CHECK(a->buffer_elements != b->buffer_elements);
  printf("first still steps\n");

  CHECK(system(argv[3]) == 0);
  muir_package_t *back = openAndStep(argv[1], &sc);
  CHECK(muir_package_get_info(back, &c) == MUIR_OK);
  CHECK(strcmp(a->package_hash, c->package_hash) == 0);
  CHECK(c != a); // its own copy, though the same build
  printf("rebuilt back: %lld elements, the first hash\n",
         (long long)c->buffer_elements);

  muir_state_release(sa);
  muir_state_release(sb);
  muir_state_release(sc);
  muir_package_release(first);
  muir_package_release(rebuilt);
  muir_package_release(back);
  printf("done\n");
  return 0;
}
