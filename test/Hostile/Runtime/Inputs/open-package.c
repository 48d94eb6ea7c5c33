/*===- open-package.c - Open packages, print what the runtime says -*- C -*-===*
 *
 * Part of the muir project, under the Apache License v2.0 with LLVM
 * Exceptions.
 *
 *===----------------------------------------------------------------------===*
 *
 * For each directory on the command line: "NAME: STATUS: MESSAGE" from
 * muir_package_open (NAME is the directory's last component), and for a
 * package that opens, one init and one step on the CPU. Exits 0 when every
 * package opened, else 1; a signal (SIGBUS, SIGSEGV) fails the test.
 *
 *===----------------------------------------------------------------------===*/

#include "muir/runtime.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
  int failed = 0;
  for (int i = 1; i < argc; ++i) {
    const char *name = strrchr(argv[i], '/');
    name = name ? name + 1 : argv[i];
    muir_package_t *package = NULL;
    muir_status_t status = muir_package_open(argv[i], &package);
    if (status != MUIR_OK) {
      printf("%s: %s: %s\n", name, muir_status_string(status),
             muir_last_error());
      failed = 1;
      continue;
    }
    const muir_package_info_t *info = NULL;
    muir_state_t *state = NULL;
    if (muir_package_get_info(package, &info) != MUIR_OK ||
        muir_state_create(package, MUIR_DEVICE_CPU, &state) != MUIR_OK ||
        muir_state_init(state, 1) != MUIR_OK ||
        muir_state_step(state, 1, 1.0f) != MUIR_OK) {
      printf("%s: opened, but: %s\n", name, muir_last_error());
      failed = 1;
    } else {
      printf("%s: ok: model %s, %lld elements, hash %.12s\n", name,
             info->model, (long long)info->buffer_elements,
             info->package_hash);
    }
    muir_state_release(state);
    muir_package_release(package);
  }
  return failed;
}
