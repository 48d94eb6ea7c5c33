/*===- json.h - A strict, allocation-free JSON reader -------------*- C -*-===*
 *
 * Part of the muir project, under the Apache License v2.0 with LLVM
 * Exceptions.
 *
 *===----------------------------------------------------------------------===*
 *
 * Just enough JSON for the runtime to read manifest.json: a validating pass
 * over the whole text (RFC 8259, strict: no comments, trailing commas, lone
 * surrogates, invalid UTF-8 or control characters in strings; nesting at
 * most MUIR_JSON_MAX_DEPTH), then lookups that walk the validated text. No
 * value is copied and nothing is allocated, so hostile input costs at most
 * its own size in time per lookup and nothing in memory.
 *
 *===----------------------------------------------------------------------===*/

#ifndef MUIR_RUNTIME_JSON_H
#define MUIR_RUNTIME_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Deepest nesting of arrays and objects accepted. */
#define MUIR_JSON_MAX_DEPTH 64

typedef enum {
  MUIR_JSON_INVALID = 0,
  MUIR_JSON_NULL,
  MUIR_JSON_BOOL,
  MUIR_JSON_NUMBER,
  MUIR_JSON_STRING,
  MUIR_JSON_ARRAY,
  MUIR_JSON_OBJECT
} muir_json_type_t;

/** A value inside a validated document: the text and where the value
 *  starts. */
typedef struct {
  const char *text;
  size_t size;
  size_t at;
} muir_json_t;

/** Validates `text[0, size)` as one JSON value (surrounded by whitespace
 *  only). On success writes the root to `*out_root`; on failure writes
 *  "line L, column C: what" into `error` and returns false. */
bool muir_json_parse(const char *text, size_t size, muir_json_t *out_root,
                     char *error, size_t error_size);

muir_json_type_t muir_json_type(muir_json_t value);

/** Line and column (from 1; columns count bytes) where `value` starts. */
void muir_json_position(muir_json_t value, int64_t *line, int64_t *column);

/** Looks `key` up in an object: 1 and the value in `*out` when it occurs
 *  once, 0 when it is absent (or `object` is not an object), -1 when it
 *  occurs more than once. */
int muir_json_member(muir_json_t object, const char *key, muir_json_t *out);

/** Array iteration: `*cursor` starts at 0; each call writes the next element
 *  to `*out` and returns true, or returns false after the last. */
bool muir_json_next(muir_json_t array, size_t *cursor, muir_json_t *out);

/** Number of elements of an array (0 for anything else). */
size_t muir_json_length(muir_json_t array);

/** An integer written without fraction or exponent that fits in int64. */
bool muir_json_int(muir_json_t value, int64_t *out);

/** Whether the string `value` decodes to exactly the NUL-terminated `s`
 *  (a decoded NUL never matches). */
bool muir_json_string_equals(muir_json_t value, const char *s);

/** Decodes the string `value` into `out` (NUL-terminated, at most
 *  `out_size - 1` bytes; longer strings are cut). Returns the full decoded
 *  length. For messages. */
size_t muir_json_string_copy(muir_json_t value, char *out, size_t out_size);

#endif /* MUIR_RUNTIME_JSON_H */
