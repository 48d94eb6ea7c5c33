/*===- shard.c - Contiguous shards of the flat buffers ------------*- C -*-===*
 *
 * Part of the muir project, under the Apache License v2.0 with LLVM
 * Exceptions.
 *
 *===----------------------------------------------------------------------===*
 *
 * A shard is a range [begin, end) of the flat buffers whose bounds are slot
 * boundaries: 0, buffer_elements or the first element of a reduction slot
 * (docs/Distributed.md says why). The walk below visits the slots in slot
 * order; tp-assign-layout places tensors in table order, so their first
 * elements increase, which the walk checks rather than trusts. A bound
 * inside a LionAR unit must leave at least two of its elements on each side:
 * every shard keeps the unit's state (n0, nu) in the first two elements it
 * holds of it.
 *
 *===----------------------------------------------------------------------===*/

#include "internal.h"

#include <inttypes.h>
#include <stdlib.h>

/** A reduction slot's first element, first chunk and number, and the unit
 *  it cuts leaving fewer than two elements on one side (`unit_begin` <
 *  `unit_end`; both 0 when none). */
typedef struct {
  int64_t start, chunk, slot;
  int64_t unit_begin, unit_end;
} slot_t;

/** Calls `visit(context, slot)` for every reduction slot in slot order.
 *  Stops and returns false as soon as `visit` does. */
static bool forEachSlot(const muir_package_info_t *info,
                        bool (*visit)(void *, const slot_t *), void *context) {
  for (int64_t k = 0; k < info->num_kernel_params; ++k) {
    const muir_kernel_param_t *e = &info->kernel_params[k];
    for (int64_t c = 0; c < e->copies; ++c)
      for (int64_t s = 0; s < e->slots_per_copy; ++s) {
        int64_t chunks = s * e->chunks_per_slot;
        int64_t offset = chunks * MUIR_CHUNK_ELEMENTS;
        slot_t slot = {e->offset + c * e->stride + offset,
                       e->first_chunk + c * e->chunks_per_copy + chunks,
                       e->first_slot + c * e->slots_per_copy + s, 0, 0};
        int64_t u = e->unit_elements;
        int64_t into = u > 0 ? offset % u : 0;
        if (into == 1 || (into > 0 && u - into == 1)) {
          slot.unit_begin = slot.start - into;
          slot.unit_end = slot.unit_begin + u;
        }
        if (!visit(context, &slot))
          return false;
      }
  }
  return true;
}

typedef struct {
  int64_t want[2];   /* begin, end */
  muir_shard_t *out; /* chunk and slot numbers filled in when found */
  bool found[2];
  int64_t below[2], above[2]; /* the nearest boundaries, for messages */
  int64_t previous;           /* the last slot's start: they must increase */
  bool ordered;
  slot_t cut[2]; /* a bound's slot that cuts a unit too near its edge */
} locate_t;

static bool locateVisit(void *context, const slot_t *slot) {
  locate_t *l = context;
  int64_t start = slot->start;
  if (start <= l->previous) {
    l->ordered = false;
    return false;
  }
  l->previous = start;
  for (int i = 0; i < 2; ++i) {
    if (start == l->want[i]) {
      l->found[i] = true;
      *(i ? &l->out->chunk_end : &l->out->chunk_begin) = slot->chunk;
      *(i ? &l->out->slot_end : &l->out->slot_begin) = slot->slot;
      l->cut[i] = *slot;
    }
    // A slot that cuts a unit badly is no boundary to suggest.
    if (slot->unit_end > slot->unit_begin)
      continue;
    if (start < l->want[i] && start > l->below[i])
      l->below[i] = start;
    if (start > l->want[i] && start < l->above[i])
      l->above[i] = start;
  }
  return true;
}

muir_status_t muir_shard_locate(const muir_package_t *package, int64_t begin,
                                int64_t end, const char *caller,
                                muir_shard_t *out) {
  const muir_package_info_t *info = package->info;
  int64_t elements = info->buffer_elements;
  if (begin < 0 || begin > end || end > elements)
    return muir_set_error(MUIR_ERROR_ARGUMENT,
                          "%s: shard [%" PRId64 ", %" PRId64
                          ") is not a range inside the buffers [0, %" PRId64
                          ") of package '%s'",
                          caller, begin, end, elements, package->dir);
  muir_shard_t shard = {begin, end, 0, info->num_chunks, 0, info->num_slots};
  locate_t l = {{begin, end},
                &shard,
                {begin == 0, end == elements},
                {0, 0},
                {elements, elements},
                -1,
                true,
                {{0, 0, 0, 0, 0}, {0, 0, 0, 0, 0}}};
  forEachSlot(info, locateVisit, &l);
  if (!l.ordered)
    return muir_set_error(MUIR_ERROR_FORMAT,
                          "%s: the reduction slots of package '%s' are not "
                          "in the order of their elements; it cannot be "
                          "sharded",
                          caller, package->dir);
  // A bound at 0 or buffer_elements that is also a slot's start took that
  // slot's numbers above; otherwise the defaults (first or past the last).
  for (int i = 0; i < 2; ++i)
    if (!l.found[i])
      return muir_set_error(
          MUIR_ERROR_ARGUMENT,
          "%s: the shard's %s %" PRId64 " is not a shard boundary of package "
          "'%s' (0, %" PRId64 " or the first element of a reduction slot; "
          "the nearest are %" PRId64 " and %" PRId64
          "; muir_package_plan_shards picks them)",
          caller, i ? "end" : "begin", l.want[i], package->dir, elements,
          l.below[i], l.above[i]);
  for (int i = 0; i < 2; ++i)
    if (l.cut[i].unit_end > l.cut[i].unit_begin)
      return muir_set_error(
          MUIR_ERROR_ARGUMENT,
          "%s: the shard's %s %" PRId64 " cuts the LionAR unit [%" PRId64
          ", %" PRId64 ") of package '%s' leaving one element on one side; "
          "a shard keeps a unit's state in the first two elements it holds "
          "of it (the nearest usable boundaries are %" PRId64 " and %" PRId64
          "; muir_package_plan_shards avoids such bounds)",
          caller, i ? "end" : "begin", l.want[i], l.cut[i].unit_begin,
          l.cut[i].unit_end, package->dir, l.below[i], l.above[i]);
  *out = shard;
  return MUIR_OK;
}

typedef struct {
  int64_t *starts;
  int64_t count;
  int64_t last; /* the last slot's start: they must increase */
} starts_t;

static bool collectVisit(void *context, const slot_t *slot) {
  starts_t *s = context;
  if (s->last >= slot->start)
    return false;
  s->last = slot->start;
  if (slot->unit_end == slot->unit_begin) // no bound cuts a unit badly
    s->starts[s->count++] = slot->start;
  return true;
}

muir_status_t muir_package_plan_shards(const muir_package_t *package,
                                       int64_t ranks, int64_t *out_bounds) {
  muir_clear_error();
  const char *caller = "muir_package_plan_shards";
  if (!package || !out_bounds)
    return muir_set_error(MUIR_ERROR_ARGUMENT, "%s: %s is NULL", caller,
                          !package ? "package" : "out_bounds");
  if (ranks < 1)
    return muir_set_error(MUIR_ERROR_ARGUMENT,
                          "%s: %" PRId64 " ranks given; at least 1", caller,
                          ranks);
  const muir_package_info_t *info = package->info;
  int64_t elements = info->buffer_elements;
  // The candidates: 0, every slot's start, buffer_elements (sorted).
  starts_t s = {malloc((size_t)(info->num_slots + 2) * sizeof(int64_t)), 0, -1};
  if (!s.starts)
    return muir_set_error(MUIR_ERROR_MEMORY,
                          "%s: out of memory for %" PRId64 " slots", caller,
                          info->num_slots);
  if (!forEachSlot(info, collectVisit, &s)) {
    free(s.starts);
    return muir_set_error(MUIR_ERROR_FORMAT,
                          "%s: the reduction slots of package '%s' are not "
                          "in the order of their elements; it cannot be "
                          "sharded",
                          caller, package->dir);
  }
  // 0 is a boundary even where no slot starts (an empty first tensor).
  if (s.count == 0 || s.starts[0] != 0) {
    for (int64_t i = s.count; i > 0; --i)
      s.starts[i] = s.starts[i - 1];
    s.starts[0] = 0;
    ++s.count;
  }
  s.starts[s.count++] = elements;
  out_bounds[0] = 0;
  for (int64_t r = 1; r < ranks; ++r) {
    long double target = (long double)elements * r / ranks;
    // The first candidate at or above the target, then the nearer of it and
    // the one before (the lower on a tie).
    int64_t lo = 0, hi = s.count - 1;
    while (lo < hi) {
      int64_t mid = lo + (hi - lo) / 2;
      if ((long double)s.starts[mid] < target)
        lo = mid + 1;
      else
        hi = mid;
    }
    int64_t pick = s.starts[lo];
    if (lo > 0 &&
        target - (long double)s.starts[lo - 1] <= (long double)pick - target)
      pick = s.starts[lo - 1];
    out_bounds[r] = pick < out_bounds[r - 1] ? out_bounds[r - 1] : pick;
  }
  out_bounds[ranks] = elements;
  free(s.starts);
  return MUIR_OK;
}

int64_t muir_unit_partials(const muir_package_info_t *info) {
  return info->num_units > 0 ? MUIR_SLOT_UNIT_SUMS * info->num_slots : 0;
}

muir_status_t muir_package_unit_at(const muir_package_t *package,
                                   int64_t element, int64_t *out_begin,
                                   int64_t *out_end) {
  muir_clear_error();
  const char *caller = "muir_package_unit_at";
  if (!package || !out_begin || !out_end)
    return muir_set_error(MUIR_ERROR_ARGUMENT, "%s: %s is NULL", caller,
                          !package     ? "package"
                          : !out_begin ? "out_begin"
                                       : "out_end");
  const muir_package_info_t *info = package->info;
  if (element < 0 || element >= info->buffer_elements)
    return muir_set_error(MUIR_ERROR_ARGUMENT,
                          "%s: element %" PRId64 " is outside the buffers [0, "
                          "%" PRId64 ") of package '%s'",
                          caller, element, info->buffer_elements, package->dir);
  *out_begin = *out_end = 0;
  for (int64_t k = 0; k < info->num_kernel_params; ++k) {
    const muir_kernel_param_t *e = &info->kernel_params[k];
    int64_t into = element - e->offset;
    if (e->unit_elements <= 0 || into < 0)
      continue;
    // The table check makes stride >= numel > 0 where copies > 1.
    int64_t copy = e->copies > 1 ? into / e->stride : 0;
    int64_t within = into - copy * e->stride;
    if (copy >= e->copies || within >= e->numel)
      continue;
    *out_begin = element - within % e->unit_elements;
    *out_end = *out_begin + e->unit_elements;
    break;
  }
  return MUIR_OK;
}
