/*===- check.h - Helpers for the runtime's C tests ----------------*- C -*-===*
 *
 * Part of the muir project, under the Apache License v2.0 with LLVM
 * Exceptions.
 *
 *===----------------------------------------------------------------------===*/

#ifndef MUIR_TEST_RUNTIME_CHECK_H
#define MUIR_TEST_RUNTIME_CHECK_H

#include "muir/runtime.h"

#include <stdio.h>
#include <stdlib.h>

/** Fails the test unless `call` returns MUIR_OK. */
#define CHECK_OK(call)                                                         \
  do {                                                                         \
    muir_status_t checkStatus = (call);                                        \
    if (checkStatus != MUIR_OK) {                                              \
      fprintf(stderr, "%s:%d: %s: %s: %s\n", __FILE__, __LINE__, #call,        \
              muir_status_string(checkStatus), muir_last_error());             \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

/** Fails the test unless `cond` holds. */
#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

/** Runs `call`, which must fail with `expected`, and prints
 *  "label: status: message" for FileCheck to pin the message. */
#define EXPECT_ERROR(label, expected, call)                                    \
  do {                                                                         \
    muir_status_t checkStatus = (call);                                        \
    printf("%s: %s: %s\n", label, muir_status_string(checkStatus),             \
           muir_last_error());                                                 \
    if (checkStatus != (expected)) {                                           \
      fprintf(stderr, "%s:%d: %s returned %s, expected %s\n", __FILE__,        \
              __LINE__, #call, muir_status_string(checkStatus),                \
              muir_status_string(expected));                                   \
      exit(1);                                                                 \
    }                                                                          \
    if (muir_last_error()[0] == '\0') {                                        \
      fprintf(stderr, "%s:%d: %s failed without a message\n", __FILE__,        \
              __LINE__, #call);                                                \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

#endif /* MUIR_TEST_RUNTIME_CHECK_H */
