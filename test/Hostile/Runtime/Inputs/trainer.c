/*===- trainer.c - A trainer compiled against one package's header -*- C -*-===*
 *
 * Part of the muir project, under the Apache License v2.0 with LLVM
 * Exceptions.
 *
 *===----------------------------------------------------------------------===*
 *
 * Opens the package in argv[1] and checks it is the build whose
 * muir_package.h it was compiled with (whose offsets it would use).
 *
 *===----------------------------------------------------------------------===*/

#include "muir_package.h"
#include "muir/runtime.h"

#include <stdio.h>

int main(int argc, char **argv) {
  muir_package_t *package = NULL;
  if (argc != 2 || muir_package_open(argv[1], &package) != MUIR_OK)
    return 2;
  muir_status_t status = muir_package_check_hash(package, MUIR_PACKAGE_HASH);
  printf("%s: %s\n", muir_status_string(status), muir_last_error());
  muir_package_release(package);
  return (int)status;
}
