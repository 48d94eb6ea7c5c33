/*===- manifest.c - Checking manifest.json against the table ------*- C -*-===*
 *
 * Part of the muir project, under the Apache License v2.0 with LLVM
 * Exceptions.
 *
 *===----------------------------------------------------------------------===*
 *
 * The C table in libmuir_kernels.so is what the kernels were compiled
 * against; manifest.json repeats it for people, build systems and the Python
 * binding. A manifest edited by hand, or left beside another build's
 * library, would describe buffers the kernels do not use, so every field the
 * two share must agree before the package is handed out.
 *
 *===----------------------------------------------------------------------===*/

#include "manifest.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

const char *muir_optimizer_name(int32_t code) {
  switch (code) {
#define MUIR_OPTIMIZER_NAME(e, value, name, states)                            \
  case value:                                                                  \
    return name;
    MUIR_OPTIMIZERS(MUIR_OPTIMIZER_NAME)
#undef MUIR_OPTIMIZER_NAME
  }
  return NULL;
}

bool muir_is_package_hash(const char *hash) {
  for (int k = 0; k < MUIR_PACKAGE_HASH_LENGTH; ++k)
    if (!((hash[k] >= '0' && hash[k] <= '9') ||
          (hash[k] >= 'a' && hash[k] <= 'f')))
      return false;
  return hash[MUIR_PACKAGE_HASH_LENGTH] == '\0';
}

/** "manifest.json, line L, column C" for messages. */
static void where(muir_json_t value, char *out, size_t size) {
  int64_t line, column;
  muir_json_position(value, &line, &column);
  snprintf(out, size, "manifest.json line %" PRId64 ", column %" PRId64, line,
           column);
}

/** Looks `key` up in `object` (called `path` in messages), which must hold
 *  it once with the given type. */
static muir_status_t member(const char *dir, muir_json_t object,
                            const char *path, const char *key,
                            muir_json_type_t type, muir_json_t *out) {
  static const char *const typeNames[] = {"invalid",  "null",     "a boolean",
                                          "a number", "a string", "an array",
                                          "an object"};
  char at[96];
  int found = muir_json_member(object, key, out);
  if (found < 0) {
    where(object, at, sizeof(at));
    return muir_set_error(MUIR_ERROR_FORMAT,
                          "package '%s': %s: %s%s%s appears twice", dir, at,
                          path, path[0] ? "." : "", key);
  }
  if (found == 0) {
    where(object, at, sizeof(at));
    return muir_set_error(MUIR_ERROR_FORMAT, "package '%s': %s: %s has no '%s'",
                          dir, at, path[0] ? path : "the top level", key);
  }
  if (muir_json_type(*out) != type) {
    where(*out, at, sizeof(at));
    return muir_set_error(MUIR_ERROR_FORMAT,
                          "package '%s': %s: %s%s%s is not %s", dir, at, path,
                          path[0] ? "." : "", key, typeNames[type]);
  }
  return MUIR_OK;
}

/** An integer member. */
static muir_status_t intMember(const char *dir, muir_json_t object,
                               const char *path, const char *key,
                               int64_t *out) {
  muir_json_t value;
  muir_status_t status =
      member(dir, object, path, key, MUIR_JSON_NUMBER, &value);
  if (status != MUIR_OK)
    return status;
  if (!muir_json_int(value, out)) {
    char at[96];
    where(value, at, sizeof(at));
    return muir_set_error(MUIR_ERROR_FORMAT,
                          "package '%s': %s: %s%s%s is not an integer that "
                          "fits in 64 bits",
                          dir, at, path, path[0] ? "." : "", key);
  }
  return MUIR_OK;
}

muir_status_t muir_manifest_read(const char *dir, const char *text, size_t size,
                                 muir_json_t *out_root,
                                 char out_hash[MUIR_PACKAGE_HASH_LENGTH + 1]) {
  char error[160];
  muir_json_t root;
  if (!muir_json_parse(text, size, &root, error, sizeof(error)))
    return muir_set_error(MUIR_ERROR_FORMAT,
                          "package '%s': manifest.json is not valid JSON: %s",
                          dir, error);
  if (muir_json_type(root) != MUIR_JSON_OBJECT)
    return muir_set_error(MUIR_ERROR_FORMAT,
                          "package '%s': manifest.json is not a JSON object",
                          dir);
  int64_t abi;
  muir_status_t status = intMember(dir, root, "", "abi_version", &abi);
  if (status != MUIR_OK)
    return status;
  if (abi != MUIR_PACKAGE_ABI_VERSION)
    return muir_set_error(MUIR_ERROR_VERSION,
                          "package '%s' has ABI version %" PRId64
                          " but this runtime reads version %d; rebuild the "
                          "package with a matching muirc",
                          dir, abi, MUIR_PACKAGE_ABI_VERSION);
  muir_json_t hash;
  status = member(dir, root, "", "package_hash", MUIR_JSON_STRING, &hash);
  if (status != MUIR_OK)
    return status;
  char value[MUIR_PACKAGE_HASH_LENGTH + 2];
  muir_json_string_copy(hash, value, sizeof(value));
  if (!muir_is_package_hash(value) || !muir_json_string_equals(hash, value)) {
    char at[96];
    where(hash, at, sizeof(at));
    return muir_set_error(MUIR_ERROR_FORMAT,
                          "package '%s': %s: package_hash is not %d lowercase "
                          "hex digits",
                          dir, at, MUIR_PACKAGE_HASH_LENGTH);
  }
  memcpy(out_hash, value, MUIR_PACKAGE_HASH_LENGTH + 1);
  *out_root = root;
  return MUIR_OK;
}

/** The error for a field that differs between the manifest and the table. */
static muir_status_t mismatch(const char *dir, muir_json_t value,
                              const char *field, const char *manifest,
                              const char *table) {
  char at[96];
  where(value, at, sizeof(at));
  return muir_set_error(MUIR_ERROR_FORMAT,
                        "package '%s': %s: %s is %s in manifest.json but %s "
                        "in the library's table: the manifest was edited or "
                        "comes from another build",
                        dir, at, field, manifest, table);
}

/** Compares an integer member with the table's value. */
static muir_status_t sameInt(const char *dir, muir_json_t object,
                             const char *path, const char *key, int64_t want) {
  int64_t have;
  muir_status_t status = intMember(dir, object, path, key, &have);
  if (status != MUIR_OK)
    return status;
  if (have == want)
    return MUIR_OK;
  muir_json_t value;
  muir_json_member(object, key, &value);
  char field[160], a[32], b[32];
  snprintf(field, sizeof(field), "%s%s%s", path, path[0] ? "." : "", key);
  snprintf(a, sizeof(a), "%" PRId64, have);
  snprintf(b, sizeof(b), "%" PRId64, want);
  return mismatch(dir, value, field, a, b);
}

/** Compares a string-or-null member with the table's string (NULL: null). */
static muir_status_t sameString(const char *dir, muir_json_t object,
                                const char *path, const char *key,
                                const char *want) {
  muir_json_t value;
  muir_json_type_t type = muir_json_member(object, key, &value) == 1
                              ? muir_json_type(value)
                              : MUIR_JSON_INVALID;
  if (type != MUIR_JSON_STRING && type != MUIR_JSON_NULL)
    return member(dir, object, path, key,
                  want ? MUIR_JSON_STRING : MUIR_JSON_NULL, &value);
  if (type == MUIR_JSON_NULL ? !want
                             : want && muir_json_string_equals(value, want))
    return MUIR_OK;
  char field[160], have[96], quoted[104] = "null", table[104] = "null";
  snprintf(field, sizeof(field), "%s%s%s", path, path[0] ? "." : "", key);
  if (type == MUIR_JSON_STRING) {
    muir_json_string_copy(value, have, sizeof(have));
    snprintf(quoted, sizeof(quoted), "'%s'", have);
  }
  if (want)
    snprintf(table, sizeof(table), "'%.96s'", want);
  return mismatch(dir, value, field, quoted, table);
}

static muir_status_t checkParam(const char *dir, muir_json_t entry,
                                const muir_param_info_t *p, size_t i) {
  char path[64];
  snprintf(path, sizeof(path), "layout.params[%zu]", i);
  if (muir_json_type(entry) != MUIR_JSON_OBJECT) {
    char at[96];
    where(entry, at, sizeof(at));
    return muir_set_error(MUIR_ERROR_FORMAT,
                          "package '%s': %s: %s is not an object", dir, at,
                          path);
  }
  muir_status_t status = sameString(dir, entry, path, "name", p->name);
  if (status == MUIR_OK)
    status = sameString(dir, entry, path, "tied_to", p->tied_to);
  if (status == MUIR_OK)
    status = sameInt(dir, entry, path, "offset", p->offset);
  if (status == MUIR_OK)
    status = sameInt(dir, entry, path, "stride", p->stride);
  if (status == MUIR_OK)
    status = sameInt(dir, entry, path, "numel", p->numel);
  if (status == MUIR_OK)
    status = sameInt(dir, entry, path, "copies", p->copies);
  muir_json_t shape;
  if (status == MUIR_OK)
    status = member(dir, entry, path, "shape", MUIR_JSON_ARRAY, &shape);
  if (status != MUIR_OK)
    return status;
  size_t cursor = 0, d = 0;
  muir_json_t dim;
  bool same = muir_json_length(shape) == (size_t)p->rank;
  char have[160] = "[", table[160] = "[";
  while (muir_json_next(shape, &cursor, &dim)) {
    int64_t value;
    bool isInt = muir_json_int(dim, &value);
    same = same && isInt && value == p->shape[d++];
    if (isInt)
      snprintf(have + strlen(have), sizeof(have) - strlen(have), "%s%" PRId64,
               have[1] ? ", " : "", value);
    else
      snprintf(have + strlen(have), sizeof(have) - strlen(have), "%s?",
               have[1] ? ", " : "");
  }
  if (same)
    return MUIR_OK;
  for (int32_t k = 0; k < p->rank; ++k)
    snprintf(table + strlen(table), sizeof(table) - strlen(table), "%s%" PRId64,
             k ? ", " : "", p->shape[k]);
  snprintf(have + strlen(have), sizeof(have) - strlen(have), "]");
  snprintf(table + strlen(table), sizeof(table) - strlen(table), "]");
  char field[96];
  snprintf(field, sizeof(field), "%s.shape (of '%.48s')", path, p->name);
  return mismatch(dir, shape, field, have, table);
}

muir_status_t muir_manifest_check(const char *dir, muir_json_t root,
                                  const muir_package_info_t *info) {
  muir_status_t status =
      sameString(dir, root, "", "package_hash", info->package_hash);
  if (status == MUIR_OK)
    status = sameString(dir, root, "", "model", info->model);
  if (status == MUIR_OK)
    status = sameString(dir, root, "", "optimizer",
                        muir_optimizer_name(info->optimizer));
  if (status == MUIR_OK)
    status = sameString(dir, root, "", "optimizer_spec", info->optimizer_spec);
  if (status == MUIR_OK)
    status =
        sameString(dir, root, "", "precision",
                   info->precision == MUIR_PRECISION_BF16 ? "bf16" : "fp32");
  muir_json_t layout, params;
  if (status == MUIR_OK)
    status = member(dir, root, "", "layout", MUIR_JSON_OBJECT, &layout);
  if (status == MUIR_OK)
    status = sameInt(dir, layout, "layout", "buffer_elements",
                     info->buffer_elements);
  if (status == MUIR_OK)
    status = sameInt(dir, layout, "layout", "alignment_bytes", info->alignment);
  if (status == MUIR_OK)
    status = sameInt(dir, layout, "layout", "num_states", info->num_states);
  if (status == MUIR_OK)
    status = member(dir, layout, "layout", "params", MUIR_JSON_ARRAY, &params);
  if (status != MUIR_OK)
    return status;
  size_t count = muir_json_length(params);
  if (count != (size_t)info->num_params) {
    char a[32], b[32];
    snprintf(a, sizeof(a), "%zu", count);
    snprintf(b, sizeof(b), "%" PRId64, info->num_params);
    return mismatch(dir, params, "the number of parameters", a, b);
  }
  size_t cursor = 0, i = 0;
  muir_json_t entry;
  while (muir_json_next(params, &cursor, &entry)) {
    status = checkParam(dir, entry, &info->params[i], i);
    if (status != MUIR_OK)
      return status;
    ++i;
  }
  return MUIR_OK;
}
