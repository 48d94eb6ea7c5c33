/*===- error.c - Statuses and per-thread error messages -----------*- C -*-===*
 *
 * Part of the muir project, under the Apache License v2.0 with LLVM
 * Exceptions.
 *
 *===----------------------------------------------------------------------===*/

#include "internal.h"

#include <stdarg.h>
#include <stdio.h>

static _Thread_local char lastError[1024];

void muir_clear_error(void) { lastError[0] = '\0'; }

muir_status_t muir_set_error(muir_status_t status, const char *format, ...) {
  va_list args;
  va_start(args, format);
  vsnprintf(lastError, sizeof(lastError), format, args);
  va_end(args);
  return status;
}

const char *muir_last_error(void) { return lastError; }

const char *muir_status_string(muir_status_t status) {
  switch (status) {
  case MUIR_OK:
    return "ok";
  case MUIR_ERROR_IO:
    return "io";
  case MUIR_ERROR_FORMAT:
    return "format";
  case MUIR_ERROR_VERSION:
    return "version";
  case MUIR_ERROR_SIZE:
    return "size";
  case MUIR_ERROR_NOT_FOUND:
    return "not_found";
  case MUIR_ERROR_ARGUMENT:
    return "argument";
  case MUIR_ERROR_NO_DEVICE:
    return "no_device";
  case MUIR_ERROR_CUDA:
    return "cuda";
  case MUIR_ERROR_MEMORY:
    return "memory";
  }
  return "unknown";
}

uint32_t muir_runtime_api_version(void) { return MUIR_RUNTIME_API_VERSION; }

uint32_t muir_runtime_package_abi_version(void) {
  return MUIR_PACKAGE_ABI_VERSION;
}
