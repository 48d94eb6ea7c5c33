/*===- package.c - Opening a package and checking its table -------*- C -*-===*
 *
 * Part of the muir project, under the Apache License v2.0 with LLVM
 * Exceptions.
 *
 *===----------------------------------------------------------------------===*
 *
 * Opening a package checks everything before handing it out: manifest.json
 * (written last by muirc, so its absence marks an unfinished build) gives
 * the ABI version and the package hash; the library is copied privately,
 * checked as an ELF file and by its hash note (package_abi.h), and
 * only then loaded, with RTLD_LOCAL, so two packages (two models) can be
 * open in one process: their identical symbol names are resolved per handle
 * with dlsym. The table is checked once, here, and compared with the
 * manifest; the rest of the runtime relies on it (every copy of every
 * parameter inside the buffer, offsets aligned, names unique).
 *
 *===----------------------------------------------------------------------===*/

#include "internal.h"
#include "manifest.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MUIR_KERNELS_LIBRARY "libmuir_kernels.so"

/** Largest alignment (bytes) a table may ask for. */
#define MUIR_MAX_ALIGNMENT 65536

/** Most parameters, and most tensor copies (a repeated parameter has one per
 *  block), a table may have: far above any model (GPT-3 has about 1,200
 *  copies), and low enough that checking them takes little memory. */
#define MUIR_MAX_PARAMS (1 << 20)
#define MUIR_MAX_TENSOR_COPIES (1 << 20)

static char *copyString(const char *s) {
  size_t n = strlen(s) + 1;
  char *copy = malloc(n);
  if (copy)
    memcpy(copy, s, n);
  return copy;
}

/** `a * b` into `*out` unless it overflows int64 (both non-negative). */
static bool mulNonNegative(int64_t a, int64_t b, int64_t *out) {
  if (a != 0 && b > INT64_MAX / a)
    return false;
  *out = a * b;
  return true;
}

static bool addNonNegative(int64_t a, int64_t b, int64_t *out) {
  if (a > INT64_MAX - b)
    return false;
  *out = a + b;
  return true;
}

/** One copy of one parameter in the flat buffer, for the overlap check. */
typedef struct {
  int64_t begin, end;
  int64_t param, copy;
} interval_t;

static int compareIntervals(const void *lhs, const void *rhs) {
  const interval_t *a = lhs, *b = rhs;
  if (a->begin != b->begin)
    return a->begin < b->begin ? -1 : 1;
  return a->end < b->end ? -1 : (a->end > b->end ? 1 : 0);
}

static int compareNames(const void *lhs, const void *rhs) {
  const muir_param_info_t *a = *(const muir_param_info_t *const *)lhs;
  const muir_param_info_t *b = *(const muir_param_info_t *const *)rhs;
  return strcmp(a->name, b->name);
}

/** Checks `n` forward multipliers of `what` (a parameter or a residual
 *  branch called `name`): present and finite. */
static muir_status_t checkMultipliers(const char *dir, const char *what,
                                      const char *name, const double *values,
                                      int64_t n) {
  if (!values)
    return muir_set_error(MUIR_ERROR_FORMAT,
                          "package '%s': %s '%s' has no forward multipliers",
                          dir, what, name);
  for (int64_t l = 0; l < n; ++l)
    if (!isfinite(values[l]))
      return muir_set_error(MUIR_ERROR_FORMAT,
                            "package '%s': %s '%s' has a non-finite forward "
                            "multiplier at copy %" PRId64,
                            dir, what, name, l);
  return MUIR_OK;
}

/** Checks one parameter on its own; `i` is its index. */
static muir_status_t checkParam(const char *dir,
                                const muir_package_info_t *info, int64_t i) {
  const muir_param_info_t *p = &info->params[i];
  int64_t alignElems = info->alignment / (int64_t)sizeof(float);
  if (!p->name || !p->name[0])
    return muir_set_error(MUIR_ERROR_FORMAT,
                          "package '%s': parameter %" PRId64 " has no name",
                          dir, i);
  const char *name = p->name;
  if (p->rank < 0 || p->rank > MUIR_MAX_RANK)
    return muir_set_error(MUIR_ERROR_FORMAT,
                          "package '%s': parameter '%s' has rank %d (0 to %d "
                          "allowed)",
                          dir, name, p->rank, MUIR_MAX_RANK);
  int64_t numel = 1;
  for (int32_t d = 0; d < p->rank; ++d) {
    if (p->shape[d] < 0 || !mulNonNegative(numel, p->shape[d], &numel))
      return muir_set_error(MUIR_ERROR_FORMAT,
                            "package '%s': parameter '%s' has a bad dimension "
                            "%" PRId64 " at index %d",
                            dir, name, p->shape[d], d);
  }
  if (p->numel != numel)
    return muir_set_error(MUIR_ERROR_FORMAT,
                          "package '%s': parameter '%s' has numel %" PRId64
                          " but its shape holds %" PRId64 " elements",
                          dir, name, p->numel, numel);
  if (p->init < MUIR_INIT_NORMAL || p->init > MUIR_INIT_TIED)
    return muir_set_error(MUIR_ERROR_FORMAT,
                          "package '%s': parameter '%s' has unknown init kind "
                          "%d",
                          dir, name, p->init);
  if ((p->init == MUIR_INIT_TIED) != (p->tied_to != NULL))
    return muir_set_error(MUIR_ERROR_FORMAT,
                          "package '%s': parameter '%s' has init kind %d but "
                          "tied_to %s%s%s",
                          dir, name, p->init, p->tied_to ? "'" : "",
                          p->tied_to ? p->tied_to : "NULL",
                          p->tied_to ? "'" : "");
  if (p->copies < 1 || p->copies > MUIR_MAX_TENSOR_COPIES)
    return muir_set_error(MUIR_ERROR_FORMAT,
                          "package '%s': parameter '%s' has %" PRId64
                          " copies (1 to %d allowed)",
                          dir, name, p->copies, MUIR_MAX_TENSOR_COPIES);
  if (p->offset < 0 || p->offset % alignElems != 0)
    return muir_set_error(MUIR_ERROR_FORMAT,
                          "package '%s': parameter '%s' has offset %" PRId64
                          ", not a non-negative multiple of the alignment "
                          "(%" PRId64 " bytes = %" PRId64 " elements)",
                          dir, name, p->offset, info->alignment, alignElems);
  int64_t span = 0;
  if (p->copies > 1 && (p->stride < p->numel || p->stride % alignElems != 0))
    return muir_set_error(MUIR_ERROR_FORMAT,
                          "package '%s': parameter '%s' has stride %" PRId64
                          " for copies of %" PRId64 " elements (must be at "
                          "least numel and a multiple of %" PRId64 ")",
                          dir, name, p->stride, p->numel, alignElems);
  // The last element of the last copy: offset + (copies-1)*stride + numel.
  int64_t end = 0;
  bool fits =
      (p->copies == 1 || mulNonNegative(p->copies - 1, p->stride, &span)) &&
      addNonNegative(span, p->numel, &span) &&
      addNonNegative(p->offset, span, &end);
  if (!fits || end > info->buffer_elements)
    return muir_set_error(MUIR_ERROR_FORMAT,
                          "package '%s': parameter '%s' (offset %" PRId64
                          ", %" PRId64 " copies, stride %" PRId64
                          ", numel %" PRId64 ") ends past the buffer of "
                          "%" PRId64 " elements",
                          dir, name, p->offset, p->copies, p->stride, p->numel,
                          info->buffer_elements);
  return checkMultipliers(dir, "parameter", name, p->multiplier, p->copies);
}

/** Checks the residual branches and attentions of the table. */
static muir_status_t checkForward(const char *dir,
                                  const muir_package_info_t *info) {
  if (info->num_residuals < 0 || info->num_residuals > MUIR_MAX_PARAMS ||
      (info->num_residuals > 0 && !info->residuals))
    return muir_set_error(
        MUIR_ERROR_FORMAT,
        "package '%s': bad residual list (%" PRId64 " branches at %p)", dir,
        info->num_residuals, (const void *)info->residuals);
  for (int64_t k = 0; k < info->num_residuals; ++k) {
    const muir_residual_info_t *r = &info->residuals[k];
    if (!r->name || !r->name[0] || !r->depth)
      return muir_set_error(MUIR_ERROR_FORMAT,
                            "package '%s': residual branch %" PRId64
                            " has no name or depth dim",
                            dir, k);
    if (r->copies < 1 || r->copies > MUIR_MAX_TENSOR_COPIES ||
        r->index_in_block < 0)
      return muir_set_error(MUIR_ERROR_FORMAT,
                            "package '%s': residual branch '%s' has %" PRId64
                            " copies and index %" PRId64
                            " in its block (1 to %d copies and an index from "
                            "0 needed)",
                            dir, r->name, r->copies, r->index_in_block,
                            MUIR_MAX_TENSOR_COPIES);
    muir_status_t status = checkMultipliers(dir, "residual branch", r->name,
                                            r->multiplier, r->copies);
    if (status != MUIR_OK)
      return status;
  }
  if (info->num_attentions < 0 || info->num_attentions > MUIR_MAX_PARAMS ||
      (info->num_attentions > 0 && !info->attentions))
    return muir_set_error(
        MUIR_ERROR_FORMAT,
        "package '%s': bad attention list (%" PRId64 " attentions at %p)", dir,
        info->num_attentions, (const void *)info->attentions);
  for (int64_t k = 0; k < info->num_attentions; ++k) {
    const muir_attention_info_t *a = &info->attentions[k];
    if (!a->name || !a->name[0] || !a->head_dim)
      return muir_set_error(MUIR_ERROR_FORMAT,
                            "package '%s': attention %" PRId64
                            " has no name or head dim",
                            dir, k);
    if (!(a->scale > 0) || !isfinite(a->scale) || a->head_dim_size < 1)
      return muir_set_error(MUIR_ERROR_FORMAT,
                            "package '%s': attention '%s' has scale %g over a "
                            "head dim of %" PRId64
                            " (a positive scale and size needed)",
                            dir, a->name, a->scale, a->head_dim_size);
  }
  return MUIR_OK;
}

/** Finds the parameter called `name` in `sorted` (by name), or NULL. */
static const muir_param_info_t *
findSorted(const muir_param_info_t *const *sorted, int64_t count,
           const char *name) {
  muir_param_info_t key = {0};
  key.name = name;
  const muir_param_info_t *keyPointer = &key;
  const muir_param_info_t *const *found = bsearch(
      &keyPointer, sorted, (size_t)count, sizeof(*sorted), compareNames);
  return found ? *found : NULL;
}

/** Checks that a tied parameter names an untied owner laid out identically
 *  (`sorted`: the table by name). */
static muir_status_t checkTie(const char *dir, const muir_param_info_t *p,
                              const muir_param_info_t *const *sorted,
                              int64_t count) {
  if (!p->tied_to)
    return MUIR_OK;
  const muir_param_info_t *q = findSorted(sorted, count, p->tied_to);
  if (!q || q == p)
    return muir_set_error(MUIR_ERROR_FORMAT,
                          "package '%s': parameter '%s' is tied to '%s', which "
                          "is not in the table",
                          dir, p->name, p->tied_to);
  if (q->tied_to)
    return muir_set_error(MUIR_ERROR_FORMAT,
                          "package '%s': parameter '%s' is tied to '%s', "
                          "which is itself tied to '%s'",
                          dir, p->name, q->name, q->tied_to);
  if (q->offset != p->offset || q->copies != p->copies ||
      q->numel != p->numel || (p->copies > 1 && q->stride != p->stride))
    return muir_set_error(MUIR_ERROR_FORMAT,
                          "package '%s': parameter '%s' is tied to '%s' but "
                          "their layouts differ (offset %" PRId64 " vs %" PRId64
                          ", numel %" PRId64 " vs %" PRId64 ", copies %" PRId64
                          " vs %" PRId64 ")",
                          dir, p->name, q->name, p->offset, q->offset, p->numel,
                          q->numel, p->copies, q->copies);
  return MUIR_OK;
}

/** Checks that no two untied parameter copies share an element. */
static muir_status_t checkOverlap(const char *dir,
                                  const muir_package_info_t *info) {
  int64_t count = 0, covered = 0;
  for (int64_t i = 0; i < info->num_params; ++i) {
    const muir_param_info_t *p = &info->params[i];
    if (p->tied_to || p->numel == 0)
      continue;
    // Every copy lies inside the buffer (checkParam), so copies that cover
    // more elements than the buffer holds must overlap; this also bounds
    // the intervals allocated below by buffer_elements.
    int64_t elements;
    if (!mulNonNegative(p->copies, p->numel, &elements) ||
        !addNonNegative(covered, elements, &covered) ||
        covered > info->buffer_elements)
      return muir_set_error(MUIR_ERROR_FORMAT,
                            "package '%s': parameters overlap: up to '%s' "
                            "they cover more than the buffer's %" PRId64
                            " elements",
                            dir, p->name, info->buffer_elements);
    count += p->copies;
    if (count > MUIR_MAX_TENSOR_COPIES)
      return muir_set_error(MUIR_ERROR_FORMAT,
                            "package '%s': more than %d tensor copies (up to "
                            "'%s')",
                            dir, MUIR_MAX_TENSOR_COPIES, p->name);
  }
  if (count == 0)
    return MUIR_OK;
  interval_t *intervals = malloc((size_t)count * sizeof(interval_t));
  if (!intervals)
    return muir_set_error(MUIR_ERROR_MEMORY,
                          "package '%s': out of memory checking %" PRId64
                          " tensor copies",
                          dir, count);
  int64_t n = 0;
  for (int64_t i = 0; i < info->num_params; ++i) {
    const muir_param_info_t *p = &info->params[i];
    if (p->tied_to || p->numel == 0)
      continue;
    for (int64_t c = 0; c < p->copies; ++c) {
      int64_t begin = p->offset + c * p->stride;
      intervals[n++] = (interval_t){begin, begin + p->numel, i, c};
    }
  }
  qsort(intervals, (size_t)n, sizeof(interval_t), compareIntervals);
  muir_status_t status = MUIR_OK;
  for (int64_t k = 1; k < n; ++k) {
    const interval_t *a = &intervals[k - 1], *b = &intervals[k];
    if (b->begin >= a->end)
      continue;
    status = muir_set_error(
        MUIR_ERROR_FORMAT,
        "package '%s': parameters overlap: '%s' copy %" PRId64 " [%" PRId64
        ", %" PRId64 ") and '%s' copy %" PRId64 " [%" PRId64 ", %" PRId64 ")",
        dir, info->params[a->param].name, a->copy, a->begin, a->end,
        info->params[b->param].name, b->copy, b->begin, b->end);
    break;
  }
  free(intervals);
  return status;
}

/** The state buffers optimizer `code` keeps (MUIR_OPTIMIZERS), or -1 for
 *  an unknown code. */
static int32_t optimizerStates(int32_t code) {
  switch (code) {
#define MUIR_OPTIMIZER_STATES(e, value, name, states)                          \
  case value:                                                                  \
    return states;
    MUIR_OPTIMIZERS(MUIR_OPTIMIZER_STATES)
#undef MUIR_OPTIMIZER_STATES
  }
  return -1;
}

/** Checks the kernels' table against the parameter table (the kernels
 *  trust it: a wrong offset or count would make them write outside the
 *  buffers): one entry per untied parameter, in order, with its layout; the
 *  chunk, slot and unit numbering of package_abi.h; rows inside the row
 *  table. */
static muir_status_t checkKernelTable(const char *dir,
                                      const muir_package_info_t *info) {
  if (info->num_kernel_params < 0 || info->num_tensor_rows < 0 ||
      (info->num_kernel_params > 0 && !info->kernel_params) ||
      (info->num_tensor_rows > 0 && !info->tensor_rows))
    return muir_set_error(
        MUIR_ERROR_FORMAT,
        "package '%s': bad kernel table (%" PRId64 " entries at %p, %" PRId64
        " rows at %p)",
        dir, info->num_kernel_params, (const void *)info->kernel_params,
        info->num_tensor_rows, (const void *)info->tensor_rows);
  int64_t k = 0, chunks = 0, slots = 0, rows = 0, units = 0;
  for (int64_t i = 0; i < info->num_params; ++i) {
    const muir_param_info_t *p = &info->params[i];
    if (p->tied_to)
      continue;
    const muir_kernel_param_t *e =
        k < info->num_kernel_params ? &info->kernel_params[k] : NULL;
    ++k;
    const char *why = NULL;
    int64_t perSlot = e ? e->chunks_per_slot : 0;
    if (!e)
      why = "has no entry";
    else if (e->param != i || e->offset != p->offset ||
             e->stride != p->stride || e->numel != p->numel ||
             e->copies != p->copies || e->init != p->init)
      why = "has an entry that does not match its layout";
    else if (e->first_chunk != chunks ||
             e->chunks_per_copy !=
                 (p->numel + MUIR_CHUNK_ELEMENTS - 1) / MUIR_CHUNK_ELEMENTS ||
             e->first_slot != slots || e->slots_per_copy < 0 ||
             (e->slots_per_copy > 0 &&
              (perSlot < 1 || perSlot > e->chunks_per_copy ||
               e->slots_per_copy !=
                   (e->chunks_per_copy + perSlot - 1) / perSlot)) ||
             (e->slots_per_copy == 0 && e->chunks_per_copy != 0))
      why = "has a wrong chunk or slot numbering";
    else if (e->first_row != rows || (e->row_stride != 0 && e->row_stride != 1))
      why = "has wrong rows";
    else if (e->first_unit != units || e->unit_elements < 0 ||
             (e->unit_elements > 0 &&
              (e->unit_elements < 2 || p->numel % e->unit_elements != 0)))
      why = "has wrong rotational units";
    if (why)
      return muir_set_error(MUIR_ERROR_FORMAT,
                            "package '%s': parameter '%s' %s in the kernel "
                            "table",
                            dir, p->name, why);
    // Counts stay far below INT64_MAX: copies * numel fit the buffer.
    chunks += e->chunks_per_copy * e->copies;
    slots += e->slots_per_copy * e->copies;
    rows += e->row_stride ? e->copies : 1;
    if (e->unit_elements > 0)
      units += p->numel / e->unit_elements * e->copies;
  }
  if (k != info->num_kernel_params || chunks != info->num_chunks ||
      slots != info->num_slots || rows != info->num_tensor_rows ||
      units != info->num_units || chunks > INT32_MAX || units > INT32_MAX)
    return muir_set_error(
        MUIR_ERROR_FORMAT,
        "package '%s': the kernel table's totals (%" PRId64 " entries, %" PRId64
        " chunks, %" PRId64 " slots, %" PRId64 " rows, %" PRId64
        " units) do not match the parameters (%" PRId64 ", %" PRId64
        ", %" PRId64 ", %" PRId64 ", %" PRId64 ")",
        dir, info->num_kernel_params, info->num_chunks, info->num_slots,
        info->num_tensor_rows, info->num_units, k, chunks, slots, rows, units);
  return MUIR_OK;
}

muir_status_t muir_check_table(const char *dir,
                               const muir_package_info_t *info) {
  if (!info->model)
    return muir_set_error(MUIR_ERROR_FORMAT,
                          "package '%s': the table has no model name", dir);
  if (!info->package_hash || !muir_is_package_hash(info->package_hash))
    return muir_set_error(MUIR_ERROR_FORMAT,
                          "package '%s': the table's package_hash is not %d "
                          "lowercase hex digits",
                          dir, MUIR_PACKAGE_HASH_LENGTH);
  if (info->precision != MUIR_PRECISION_FP32 &&
      info->precision != MUIR_PRECISION_BF16)
    return muir_set_error(MUIR_ERROR_FORMAT,
                          "package '%s': unknown precision %d (0 fp32, 1 bf16)",
                          dir, info->precision);
  int32_t states = optimizerStates(info->optimizer);
  if (states < 0)
    return muir_set_error(MUIR_ERROR_FORMAT,
                          "package '%s': unknown optimizer %d", dir,
                          info->optimizer);
  // The spec names the optimizer the table declares, then its options.
  const char *name = muir_optimizer_name(info->optimizer);
  size_t nameLength = strlen(name);
  if (!info->optimizer_spec ||
      strncmp(info->optimizer_spec, name, nameLength) != 0 ||
      (info->optimizer_spec[nameLength] != '\0' &&
       info->optimizer_spec[nameLength] != ':'))
    return muir_set_error(
        MUIR_ERROR_FORMAT,
        "package '%s': optimizer spec '%s' does not name "
        "the table's optimizer '%s'",
        dir, info->optimizer_spec ? info->optimizer_spec : "(null)", name);
  if (info->num_states < 0 || info->num_states > MUIR_MAX_STATES)
    return muir_set_error(MUIR_ERROR_FORMAT,
                          "package '%s': %d optimizer state buffers (0 to %d "
                          "allowed)",
                          dir, info->num_states, MUIR_MAX_STATES);
  if (info->num_states != states)
    return muir_set_error(MUIR_ERROR_FORMAT,
                          "package '%s': optimizer %d keeps %d state buffers, "
                          "but the table declares %d",
                          dir, info->optimizer, states, info->num_states);
  if (info->alignment < (int64_t)sizeof(float) ||
      info->alignment > MUIR_MAX_ALIGNMENT ||
      (info->alignment & (info->alignment - 1)) != 0)
    return muir_set_error(MUIR_ERROR_FORMAT,
                          "package '%s': alignment %" PRId64
                          " bytes is not a power of two from 4 to %d",
                          dir, info->alignment, MUIR_MAX_ALIGNMENT);
  // Bytes of one buffer must fit in size_t and int64 with room to spare.
  if (info->buffer_elements < 0 || info->buffer_elements > (INT64_C(1) << 58))
    return muir_set_error(MUIR_ERROR_FORMAT,
                          "package '%s': bad buffer size %" PRId64 " elements",
                          dir, info->buffer_elements);
  if (info->num_params < 0 || info->num_params > MUIR_MAX_PARAMS ||
      (info->num_params > 0 && !info->params))
    return muir_set_error(MUIR_ERROR_FORMAT,
                          "package '%s': bad parameter list (%" PRId64
                          " parameters at %p; at most %d)",
                          dir, info->num_params, (const void *)info->params,
                          MUIR_MAX_PARAMS);
  for (int64_t i = 0; i < info->num_params; ++i) {
    muir_status_t status = checkParam(dir, info, i);
    if (status != MUIR_OK)
      return status;
  }
  // Names sorted once: duplicates sit side by side, ties are found by
  // binary search (the table is the library's data, so its size is not to
  // be trusted with quadratic work).
  const muir_param_info_t **sorted =
      malloc((size_t)(info->num_params + 1) * sizeof(*sorted));
  if (!sorted)
    return muir_set_error(MUIR_ERROR_MEMORY,
                          "package '%s': out of memory checking names", dir);
  for (int64_t i = 0; i < info->num_params; ++i)
    sorted[i] = &info->params[i];
  qsort(sorted, (size_t)info->num_params, sizeof(*sorted), compareNames);
  muir_status_t status = MUIR_OK;
  for (int64_t i = 1; i < info->num_params && status == MUIR_OK; ++i)
    if (strcmp(sorted[i - 1]->name, sorted[i]->name) == 0)
      status = muir_set_error(MUIR_ERROR_FORMAT,
                              "package '%s': two parameters are called '%s'",
                              dir, sorted[i]->name);
  for (int64_t i = 0; i < info->num_params && status == MUIR_OK; ++i)
    status = checkTie(dir, &info->params[i], sorted, info->num_params);
  free(sorted);
  if (status == MUIR_OK)
    status = checkForward(dir, info);
  if (status == MUIR_OK)
    status = checkOverlap(dir, info);
  if (status != MUIR_OK)
    return status;
  return checkKernelTable(dir, info);
}

int muir_package_read_file(const muir_package_t *package, const char *name,
                           size_t limit, char **out_data, size_t *out_size) {
  // O_NONBLOCK: a FIFO planted in the package must not hang the open.
  int fd = openat(package->dir_fd, name,
                  O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0)
    return errno;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    int error = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
    close(fd);
    return error;
  }
  size_t capacity = st.st_size > 0 && (uint64_t)st.st_size < limit
                        ? (size_t)st.st_size + 1
                        : 4096;
  char *data = NULL;
  size_t size = 0;
  int error = 0;
  for (;;) {
    if (size == capacity || !data) {
      if (data)
        capacity *= 2;
      char *grown = realloc(data, capacity + 1);
      if (!grown) {
        error = ENOMEM;
        break;
      }
      data = grown;
    }
    ssize_t got = read(fd, data + size, capacity - size);
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0) {
      error = errno;
      break;
    }
    if (got == 0)
      break;
    size += (size_t)got;
    if (size > limit) {
      error = EFBIG;
      break;
    }
  }
  close(fd);
  if (error) {
    free(data);
    return error;
  }
  data[size] = '\0';
  *out_data = data;
  *out_size = size;
  return 0;
}

/** Resolves the ABI symbols and checks the table they describe. */
static muir_status_t resolveSymbols(muir_package_t *package) {
  const char *dir = package->dir;
  static const char *const symbols[] = {
      "muir_package_info", "muir_kernel_init", "muir_kernel_step",
      "muir_kernel_step_rows", "muir_kernel_reduce"};
  enum { kSymbols = sizeof(symbols) / sizeof(symbols[0]) };
  void *found[kSymbols];
  for (int i = 0; i < kSymbols; ++i) {
    found[i] = dlsym(package->library.handle, symbols[i]);
    if (!found[i])
      return muir_set_error(MUIR_ERROR_FORMAT,
                            "'%s/%s' does not export %s: not a muir kernel "
                            "package (package_abi.h)",
                            dir, MUIR_KERNELS_LIBRARY, symbols[i]);
  }
  muir_info_fn_t infoFn;
  memcpy(&infoFn, &found[0], sizeof(infoFn));
  memcpy(&package->init, &found[1], sizeof(package->init));
  memcpy(&package->step, &found[2], sizeof(package->step));
  memcpy(&package->stepRows, &found[3], sizeof(package->stepRows));
  memcpy(&package->reduce, &found[4], sizeof(package->reduce));
  void *telemetry =
      dlsym(package->library.handle, "muir_kernel_step_telemetry");
  memcpy(&package->stepTelemetry, &telemetry, sizeof(package->stepTelemetry));
  void *shard = dlsym(package->library.handle, "muir_kernel_init_shard");
  memcpy(&package->initShard, &shard, sizeof(package->initShard));
  shard = dlsym(package->library.handle, "muir_kernel_step_shard");
  memcpy(&package->stepShard, &shard, sizeof(package->stepShard));
  shard = dlsym(package->library.handle, "muir_kernel_reduce_shard");
  memcpy(&package->reduceShard, &shard, sizeof(package->reduceShard));
  void *bf16 = dlsym(package->library.handle, "muir_kernel_step_bf16");
  memcpy(&package->stepBf16, &bf16, sizeof(package->stepBf16));
  bf16 = dlsym(package->library.handle, "muir_kernel_reduce_bf16");
  memcpy(&package->reduceBf16, &bf16, sizeof(package->reduceBf16));
  bf16 = dlsym(package->library.handle, "muir_kernel_step_telemetry_bf16");
  memcpy(&package->stepTelemetryBf16, &bf16,
         sizeof(package->stepTelemetryBf16));
  shard = dlsym(package->library.handle, "muir_kernel_reduce_units");
  memcpy(&package->reduceUnits, &shard, sizeof(package->reduceUnits));
  package->info = infoFn();
  if (!package->info)
    return muir_set_error(MUIR_ERROR_FORMAT,
                          "'%s/%s': muir_package_info() returned NULL", dir,
                          MUIR_KERNELS_LIBRARY);
  // abi_version is the first field in every version of the struct, so it can
  // be read before anything else is trusted.
  if (package->info->abi_version != MUIR_PACKAGE_ABI_VERSION)
    return muir_set_error(MUIR_ERROR_VERSION,
                          "package '%s' has ABI version %" PRIu32
                          " in its library but this runtime reads version "
                          "%d; rebuild the package with a matching muirc",
                          dir, package->info->abi_version,
                          MUIR_PACKAGE_ABI_VERSION);
  muir_status_t status = muir_check_table(dir, package->info);
  if (status == MUIR_OK && package->info->precision == MUIR_PRECISION_BF16 &&
      (!package->stepBf16 || !package->reduceBf16))
    return muir_set_error(MUIR_ERROR_FORMAT,
                          "package '%s' is bf16 but '%s/%s' does not export "
                          "%s (package_abi.h)",
                          dir, dir, MUIR_KERNELS_LIBRARY,
                          !package->stepBf16 ? "muir_kernel_step_bf16"
                                             : "muir_kernel_reduce_bf16");
  return status;
}

/** Opens the directory, reads and checks manifest.json, loads the package's
 *  own copy of its library (checked before dlopen), checks its table and
 *  that the manifest agrees with it. */
static muir_status_t loadPackage(muir_package_t *package) {
  const char *dir = package->dir;
  package->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (package->dir_fd < 0)
    return errno == ENOTDIR
               ? muir_set_error(MUIR_ERROR_IO,
                                "package path '%s' is not a directory", dir)
               : muir_set_error(MUIR_ERROR_IO,
                                "cannot open package directory '%s': %s", dir,
                                strerror(errno));
  char *text = NULL;
  size_t size = 0;
  int error = muir_package_read_file(package, "manifest.json",
                                     MUIR_MAX_MANIFEST_BYTES, &text, &size);
  if (error == ENOENT)
    return muir_set_error(MUIR_ERROR_IO,
                          "package '%s' has no manifest.json (muirc writes it "
                          "last: an unfinished build, or not a package)",
                          dir);
  if (error)
    return muir_set_error(MUIR_ERROR_IO,
                          "cannot read manifest.json of package '%s': %s", dir,
                          error == EFBIG    ? "larger than 64 MiB"
                          : error == EINVAL ? "not a regular file"
                                            : strerror(error));
  muir_json_t manifest;
  char hash[MUIR_PACKAGE_HASH_LENGTH + 1];
  muir_status_t status = muir_manifest_read(dir, text, size, &manifest, hash);
  if (status == MUIR_OK)
    status = muir_library_load(dir, package->dir_fd, MUIR_KERNELS_LIBRARY, hash,
                               &package->library);
  if (status == MUIR_OK)
    status = resolveSymbols(package);
  if (status == MUIR_OK)
    status = muir_manifest_check(dir, manifest, package->info);
  package->manifest = text;
  package->manifest_size = size;
  return status;
}

static void destroyPackage(muir_package_t *package) {
  muir_library_unload(&package->library);
  if (package->dir_fd >= 0)
    close(package->dir_fd);
  free(package->manifest);
  free(package->dir);
  free(package);
}

/** Whether `dir` names another directory than the one `package` opened: muirc
 *  swapped a rebuilt package in (renameat2 RENAME_EXCHANGE) and is removing
 *  the old one, whose files may vanish while they are read. */
static bool replacedWhileOpening(const muir_package_t *package) {
  struct stat opened, now;
  if (package->dir_fd < 0 || fstat(package->dir_fd, &opened) != 0)
    return false;
  if (stat(package->dir, &now) != 0)
    return opened.st_nlink == 0;
  return opened.st_dev != now.st_dev || opened.st_ino != now.st_ino;
}

/** How often an open starts over when the package is replaced under it. */
enum { MUIR_OPEN_ATTEMPTS = 16 };

muir_status_t muir_package_open(const char *dir, muir_package_t **out_package) {
  muir_clear_error();
  if (!dir || !out_package)
    return muir_set_error(MUIR_ERROR_ARGUMENT, "muir_package_open: %s is NULL",
                          !dir ? "dir" : "out_package");
  for (int attempt = 1;; ++attempt) {
    muir_package_t *package = calloc(1, sizeof(*package));
    if (package) {
      package->dir_fd = -1;
      package->library.fd = -1;
      package->dir = copyString(dir);
    }
    if (!package || !package->dir) {
      if (package)
        destroyPackage(package);
      return muir_set_error(MUIR_ERROR_MEMORY,
                            "out of memory opening package '%s'", dir);
    }
    atomic_init(&package->refs, 1);
    muir_status_t status = loadPackage(package);
    if (status == MUIR_OK) {
      muir_clear_error();
      *out_package = package;
      return MUIR_OK;
    }
    // A failure in a directory that is no longer the package at `dir` says
    // nothing about the package now there: open that one instead.
    bool retry = attempt < MUIR_OPEN_ATTEMPTS && replacedWhileOpening(package);
    destroyPackage(package);
    if (!retry)
      return status;
  }
}

void muir_package_retain(muir_package_t *package) {
  if (package)
    atomic_fetch_add(&package->refs, 1);
}

void muir_package_release(muir_package_t *package) {
  if (package && atomic_fetch_sub(&package->refs, 1) == 1)
    destroyPackage(package);
}

muir_status_t muir_package_get_info(const muir_package_t *package,
                                    const muir_package_info_t **out_info) {
  muir_clear_error();
  if (!package || !out_info)
    return muir_set_error(MUIR_ERROR_ARGUMENT,
                          "muir_package_get_info: %s is NULL",
                          !package ? "package" : "out_info");
  *out_info = package->info;
  return MUIR_OK;
}

muir_status_t muir_package_get_manifest(const muir_package_t *package,
                                        const char **out_text,
                                        size_t *out_size) {
  muir_clear_error();
  if (!package || !out_text || !out_size)
    return muir_set_error(
        MUIR_ERROR_ARGUMENT, "muir_package_get_manifest: %s is NULL",
        !package ? "package" : (!out_text ? "out_text" : "out_size"));
  *out_text = package->manifest;
  *out_size = package->manifest_size;
  return MUIR_OK;
}

const char *muir_package_dir(const muir_package_t *package) {
  return package ? package->dir : "";
}

muir_status_t muir_package_find_param(const muir_package_t *package,
                                      const char *name, int64_t *out_index) {
  muir_clear_error();
  if (!package || !name || !out_index)
    return muir_set_error(
        MUIR_ERROR_ARGUMENT, "muir_package_find_param: %s is NULL",
        !package ? "package" : (!name ? "name" : "out_index"));
  const muir_package_info_t *info = package->info;
  for (int64_t i = 0; i < info->num_params; ++i) {
    if (strcmp(info->params[i].name, name) == 0) {
      *out_index = i;
      return MUIR_OK;
    }
  }
  return muir_set_error(MUIR_ERROR_NOT_FOUND,
                        "package '%s' (model '%s') has no parameter '%s'",
                        package->dir, info->model, name);
}

muir_status_t muir_package_check_hash(const muir_package_t *package,
                                      const char *expected_hash) {
  muir_clear_error();
  if (!package || !expected_hash)
    return muir_set_error(MUIR_ERROR_ARGUMENT,
                          "muir_package_check_hash: %s is NULL",
                          !package ? "package" : "expected_hash");
  if (strcmp(package->info->package_hash, expected_hash) != 0)
    return muir_set_error(MUIR_ERROR_VERSION,
                          "package '%s' (model '%s') has package_hash %s, not "
                          "the expected %.80s: it was rebuilt since the code "
                          "that expects it (a muir_package.h) was compiled",
                          package->dir, package->info->model,
                          package->info->package_hash, expected_hash);
  return MUIR_OK;
}
