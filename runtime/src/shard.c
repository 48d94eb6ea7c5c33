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
 * elements increase, which the walk checks rather than trusts.
 *
 *===----------------------------------------------------------------------===*/

#include "internal.h"

#include <inttypes.h>
#include <stdlib.h>

/** Calls `visit(context, start, chunk, slot)` for every reduction slot in
 *  slot order: its first element, its first chunk and its number. Stops and
 *  returns false as soon as `visit` does. */
static bool forEachSlot(const muir_package_info_t *info,
                        bool (*visit)(void *, int64_t, int64_t, int64_t),
                        void *context) {
  for (int64_t k = 0; k < info->num_kernel_params; ++k) {
    const muir_kernel_param_t *e = &info->kernel_params[k];
    for (int64_t c = 0; c < e->copies; ++c)
      for (int64_t s = 0; s < e->slots_per_copy; ++s) {
        int64_t chunks = s * e->chunks_per_slot;
        if (!visit(context,
                   e->offset + c * e->stride + chunks * MUIR_CHUNK_ELEMENTS,
                   e->first_chunk + c * e->chunks_per_copy + chunks,
                   e->first_slot + c * e->slots_per_copy + s))
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
} locate_t;

static bool locateVisit(void *context, int64_t start, int64_t chunk,
                        int64_t slot) {
  locate_t *l = context;
  if (start <= l->previous) {
    l->ordered = false;
    return false;
  }
  l->previous = start;
  for (int i = 0; i < 2; ++i) {
    if (start == l->want[i]) {
      l->found[i] = true;
      *(i ? &l->out->chunk_end : &l->out->chunk_begin) = chunk;
      *(i ? &l->out->slot_end : &l->out->slot_begin) = slot;
    }
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
                true};
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
  *out = shard;
  return MUIR_OK;
}

typedef struct {
  int64_t *starts;
  int64_t count;
} starts_t;

static bool collectVisit(void *context, int64_t start, int64_t chunk,
                         int64_t slot) {
  (void)chunk;
  (void)slot;
  starts_t *s = context;
  if (s->count > 0 && start <= s->starts[s->count - 1])
    return false;
  s->starts[s->count++] = start;
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
  starts_t s = {malloc((size_t)(info->num_slots + 2) * sizeof(int64_t)), 0};
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
