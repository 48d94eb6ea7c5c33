/*===- elf_check.c - Is this file safe to hand to dlopen? ---------*- C -*-===*
 *
 * Part of the muir project, under the Apache License v2.0 with LLVM
 * Exceptions.
 *
 *===----------------------------------------------------------------------===*
 *
 * glibc's dlopen trusts the file: a segment that extends past the end of a
 * truncated library is mapped anyway and the first touch of it raises
 * SIGBUS; a dynamic table that points outside the mapped segments raises
 * SIGSEGV. muir_elf_check reads the same structures the loader reads, from
 * the bytes that will be loaded, and refuses anything that points outside
 * them. Every field is copied out with memcpy (tables need not be aligned in
 * a hostile file) and every sum is checked for overflow.
 *
 *===----------------------------------------------------------------------===*/

#include "library.h"

#include <elf.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#if UINTPTR_MAX == UINT64_MAX
#define MUIR_ELF_CLASS ELFCLASS64
typedef Elf64_Ehdr ehdr_t;
typedef Elf64_Phdr phdr_t;
typedef Elf64_Shdr shdr_t;
typedef Elf64_Dyn dyn_t;
typedef Elf64_Sym sym_t;
typedef Elf64_Rela rela_t;
typedef Elf64_Rel rel_t;
typedef Elf64_Verdef verdef_t;
typedef Elf64_Verdaux verdaux_t;
typedef Elf64_Verneed verneed_t;
typedef Elf64_Vernaux vernaux_t;
typedef uint64_t addr_t;
#define MUIR_R_SYM(info) ELF64_R_SYM(info)
#else
#define MUIR_ELF_CLASS ELFCLASS32
typedef Elf32_Ehdr ehdr_t;
typedef Elf32_Phdr phdr_t;
typedef Elf32_Shdr shdr_t;
typedef Elf32_Dyn dyn_t;
typedef Elf32_Sym sym_t;
typedef Elf32_Rela rela_t;
typedef Elf32_Rel rel_t;
typedef Elf32_Verdef verdef_t;
typedef Elf32_Verdaux verdaux_t;
typedef Elf32_Verneed verneed_t;
typedef Elf32_Vernaux vernaux_t;
typedef uint32_t addr_t;
#define MUIR_R_SYM(info) ELF32_R_SYM(info)
#endif

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define MUIR_ELF_DATA ELFDATA2LSB
#else
#define MUIR_ELF_DATA ELFDATA2MSB
#endif

#if defined(__x86_64__)
#define MUIR_ELF_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define MUIR_ELF_MACHINE EM_AARCH64
#elif defined(__powerpc64__)
#define MUIR_ELF_MACHINE EM_PPC64
#elif defined(__riscv)
#define MUIR_ELF_MACHINE EM_RISCV
#elif defined(__i386__)
#define MUIR_ELF_MACHINE EM_386
#elif defined(__arm__)
#define MUIR_ELF_MACHINE EM_ARM
#endif

/** Most program headers, dynamic entries and table entries examined; a real
 *  package has a few dozen of the first two and a few thousand of the
 *  last. */
#define MUIR_ELF_MAX_ENTRIES (1 << 24)

typedef struct {
  const unsigned char *data;
  size_t size;
  phdr_t loads[64];
  size_t numLoads;
  /* The dynamic symbol table (addresses), once found. */
  uint64_t symtab, strsz, versym;
  char *why;
  size_t whySize;
} elf_t;

static bool fail(elf_t *e, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static bool fail(elf_t *e, const char *format, ...) {
  va_list args;
  va_start(args, format);
  vsnprintf(e->why, e->whySize, format, args);
  va_end(args);
  return false;
}

/** Whether [offset, offset + length) lies in the file. */
static bool inFile(const elf_t *e, uint64_t offset, uint64_t length) {
  return offset <= e->size && length <= e->size - offset;
}

/** The file offset of [address, address + length) when the whole range lies
 *  in the file-backed part of one loaded segment; else false. */
static bool fileOffset(const elf_t *e, uint64_t address, uint64_t length,
                       uint64_t *out) {
  for (size_t k = 0; k < e->numLoads; ++k) {
    const phdr_t *p = &e->loads[k];
    if (address >= p->p_vaddr && address - p->p_vaddr <= p->p_filesz &&
        length <= p->p_filesz - (address - p->p_vaddr)) {
      *out = p->p_offset + (address - p->p_vaddr);
      return true;
    }
  }
  return false;
}

/** Whether [address, address + length) lies in one loaded segment's memory
 *  (file-backed or zero-filled). */
static bool inMemory(const elf_t *e, uint64_t address, uint64_t length) {
  for (size_t k = 0; k < e->numLoads; ++k) {
    const phdr_t *p = &e->loads[k];
    if (address >= p->p_vaddr && address - p->p_vaddr <= p->p_memsz &&
        length <= p->p_memsz - (address - p->p_vaddr))
      return true;
  }
  return false;
}

/** Copies the table entry `index` of `size` bytes at file offset `base`. */
static void readAt(const elf_t *e, uint64_t base, uint64_t index, size_t size,
                   void *out) {
  memcpy(out, e->data + base + index * size, size);
}

/** The dynamic section's values the loader uses (addresses unrelocated). */
typedef struct {
  uint64_t tag[DT_NUM]; /* value of each standard tag (0: absent) */
  bool has[DT_NUM];     /* whether each standard tag occurs */
  uint64_t gnuHash, versym, verdef, verdefnum, verneed, verneednum;
  uint64_t neededOffsets[64];
  size_t numNeeded;
} dynamic_t;

/** Loads the program headers into `e` and checks every segment. Returns the
 *  PT_DYNAMIC header in `*dynamic`. */
static bool checkSegments(elf_t *e, const ehdr_t *h, phdr_t *dynamic) {
  if (h->e_phentsize != sizeof(phdr_t))
    return fail(e, "program header size %u, expected %zu", h->e_phentsize,
                sizeof(phdr_t));
  if (h->e_phnum == 0 || h->e_phnum == PN_XNUM)
    return fail(e, "%u program headers", h->e_phnum);
  if (!inFile(e, h->e_phoff, (uint64_t)h->e_phnum * sizeof(phdr_t)))
    return fail(e,
                "program headers at offset %" PRIu64 " (%u of them) end past "
                "the end of the file (%zu bytes): truncated?",
                (uint64_t)h->e_phoff, h->e_phnum, e->size);
  bool haveDynamic = false;
  phdr_t others[64];
  size_t numOthers = 0;
  for (size_t k = 0; k < h->e_phnum; ++k) {
    phdr_t p;
    readAt(e, h->e_phoff, k, sizeof(p), &p);
    if (p.p_filesz > 0 && !inFile(e, p.p_offset, p.p_filesz))
      return fail(e,
                  "segment %zu (type %#x) at offset %" PRIu64 " with %" PRIu64
                  " bytes ends past the end of the file (%zu bytes): "
                  "truncated?",
                  k, (unsigned)p.p_type, (uint64_t)p.p_offset,
                  (uint64_t)p.p_filesz, e->size);
    if (p.p_type == PT_LOAD) {
      if (e->numLoads == sizeof(e->loads) / sizeof(e->loads[0]))
        return fail(e, "more than 64 loadable segments");
      if (p.p_filesz > p.p_memsz || p.p_vaddr + p.p_memsz < p.p_vaddr)
        return fail(e,
                    "loadable segment %zu has %" PRIu64
                    " bytes in the file but %" PRIu64 " in memory",
                    k, (uint64_t)p.p_filesz, (uint64_t)p.p_memsz);
      if (p.p_align > 1 && ((p.p_align & (p.p_align - 1)) != 0 ||
                            (p.p_vaddr - p.p_offset) % p.p_align != 0))
        return fail(
            e, "loadable segment %zu is misaligned (alignment %" PRIu64 ")", k,
            (uint64_t)p.p_align);
      if (e->numLoads > 0) {
        const phdr_t *last = &e->loads[e->numLoads - 1];
        if (p.p_vaddr < last->p_vaddr + last->p_memsz)
          return fail(e,
                      "loadable segment %zu overlaps or precedes the one "
                      "before it",
                      k);
      }
      e->loads[e->numLoads++] = p;
    } else if (p.p_type == PT_DYNAMIC) {
      if (haveDynamic)
        return fail(e, "two dynamic segments");
      haveDynamic = true;
      *dynamic = p;
    } else if (p.p_type == PT_NOTE || p.p_type == PT_GNU_PROPERTY ||
               p.p_type == PT_TLS || p.p_type == PT_GNU_RELRO ||
               p.p_type == PT_GNU_EH_FRAME) {
      if (numOthers < sizeof(others) / sizeof(others[0]))
        others[numOthers++] = p;
    }
  }
  if (e->numLoads == 0)
    return fail(e, "no loadable segment");
  if (!haveDynamic)
    return fail(e, "no dynamic segment: not a shared library");
  // Segments the loader reads through the mapping must lie in it.
  for (size_t k = 0; k < numOthers; ++k) {
    const phdr_t *p = &others[k];
    uint64_t offset;
    bool read = p->p_type == PT_NOTE || p->p_type == PT_GNU_PROPERTY ||
                p->p_type == PT_TLS;
    if (read ? !fileOffset(e, p->p_vaddr, p->p_filesz, &offset)
             : !inMemory(e, p->p_vaddr, p->p_memsz))
      return fail(e,
                  "segment of type %#x at address %#" PRIx64
                  " lies outside the loaded segments",
                  (unsigned)p->p_type, (uint64_t)p->p_vaddr);
  }
  uint64_t offset;
  if (!fileOffset(e, dynamic->p_vaddr, dynamic->p_filesz, &offset) ||
      offset != dynamic->p_offset)
    return fail(e, "the dynamic segment lies outside the loaded segments");
  return true;
}

static bool readDynamic(elf_t *e, const phdr_t *segment, dynamic_t *d) {
  memset(d, 0, sizeof(*d));
  uint64_t count = segment->p_filesz / sizeof(dyn_t);
  bool ended = false;
  for (uint64_t k = 0; k < count && k < MUIR_ELF_MAX_ENTRIES; ++k) {
    dyn_t entry;
    readAt(e, segment->p_offset, k, sizeof(entry), &entry);
    uint64_t tag = (uint64_t)entry.d_tag, value = entry.d_un.d_val;
    if (tag == DT_NULL) {
      ended = true;
      break;
    }
    if (tag == DT_NEEDED) {
      if (d->numNeeded == sizeof(d->neededOffsets) / sizeof(uint64_t))
        return fail(e, "more than 64 needed libraries");
      d->neededOffsets[d->numNeeded++] = value;
    } else if (tag < DT_NUM) {
      d->tag[tag] = value;
      d->has[tag] = true;
    } else if (tag == DT_GNU_HASH) {
      d->gnuHash = value;
    } else if (tag == DT_VERSYM) {
      d->versym = value;
    } else if (tag == DT_VERDEF) {
      d->verdef = value;
    } else if (tag == DT_VERDEFNUM) {
      d->verdefnum = value;
    } else if (tag == DT_VERNEED) {
      d->verneed = value;
    } else if (tag == DT_VERNEEDNUM) {
      d->verneednum = value;
    }
  }
  if (!ended)
    return fail(e, "the dynamic section has no DT_NULL end");
  return true;
}

/** A NUL-terminated string at `offset` of the string table. */
static bool stringAt(const elf_t *e, uint64_t strtab, uint64_t strsz,
                     uint64_t offset, const char **out) {
  if (offset >= strsz)
    return false;
  const char *s = (const char *)e->data + strtab + offset;
  if (!memchr(s, '\0', strsz - offset))
    return false;
  *out = s;
  return true;
}

/** The number of dynamic symbols, from DT_HASH or DT_GNU_HASH (their tables
 *  are checked on the way). */
static bool symbolCount(elf_t *e, const dynamic_t *d, uint64_t *out) {
  uint64_t at;
  if (d->has[DT_HASH]) {
    uint32_t header[2];
    if (!fileOffset(e, d->tag[DT_HASH], sizeof(header), &at))
      return fail(e, "DT_HASH lies outside the loaded segments");
    memcpy(header, e->data + at, sizeof(header));
    uint64_t words = 2 + (uint64_t)header[0] + header[1];
    if (!fileOffset(e, d->tag[DT_HASH], words * 4, &at))
      return fail(e, "the DT_HASH table lies outside the loaded segments");
    *out = header[1];
    return true;
  }
  if (!d->gnuHash)
    return fail(e, "no symbol hash table (DT_HASH or DT_GNU_HASH)");
  uint32_t header[4]; /* nbuckets, symoffset, bloom words, bloom shift */
  if (!fileOffset(e, d->gnuHash, sizeof(header), &at))
    return fail(e, "DT_GNU_HASH lies outside the loaded segments");
  memcpy(header, e->data + at, sizeof(header));
  uint64_t bloom = (uint64_t)header[2] * sizeof(addr_t);
  uint64_t buckets; /* file offset of the buckets */
  if (!fileOffset(e, d->gnuHash + sizeof(header),
                  bloom + (uint64_t)header[0] * 4, &buckets))
    return fail(e, "the DT_GNU_HASH table lies outside the loaded segments");
  buckets += bloom;
  // The last symbol: the highest bucket start, then along its chain to the
  // entry whose low bit ends it.
  uint64_t last = 0;
  for (uint64_t b = 0; b < header[0]; ++b) {
    uint32_t start;
    memcpy(&start, e->data + buckets + b * 4, 4);
    if (start > last)
      last = start;
  }
  if (last == 0) {
    *out = header[1];
    return true;
  }
  if (last < header[1])
    return fail(e, "a DT_GNU_HASH bucket starts below its first symbol");
  uint64_t chains =
      d->gnuHash + sizeof(header) + bloom + (uint64_t)header[0] * 4;
  for (;; ++last) {
    if (last - header[1] > MUIR_ELF_MAX_ENTRIES ||
        !fileOffset(e, chains + (last - header[1]) * 4, 4, &at))
      return fail(e, "a DT_GNU_HASH chain runs outside the loaded segments");
    uint32_t hash;
    memcpy(&hash, e->data + at, 4);
    if (hash & 1)
      break;
  }
  *out = last + 1;
  return true;
}

/** Checks dynamic symbol `index` as the loader reads it: its entry and its
 *  version inside the loaded segments, its name inside the string table. */
static bool checkSymbol(elf_t *e, uint64_t index) {
  uint64_t at, versym;
  if (index > UINT64_MAX / sizeof(sym_t) ||
      !fileOffset(e, e->symtab + index * sizeof(sym_t), sizeof(sym_t), &at))
    return fail(e,
                "dynamic symbol %" PRIu64 " lies outside the loaded "
                "segments",
                index);
  sym_t s;
  memcpy(&s, e->data + at, sizeof(s));
  if (s.st_name != 0 && s.st_name >= e->strsz)
    return fail(e,
                "dynamic symbol %" PRIu64 "'s name lies outside the "
                "string table",
                index);
  if (e->versym && !fileOffset(e, e->versym + index * 2, 2, &versym))
    return fail(e,
                "the version of dynamic symbol %" PRIu64 " lies outside "
                "the loaded segments",
                index);
  return true;
}

/** Checks one relocation table: inside the loaded segments, entries of the
 *  right size, every target inside a loaded segment, every symbol sound. */
static bool checkRelocations(elf_t *e, const char *name, uint64_t address,
                             uint64_t size, uint64_t entrySize, bool rela) {
  uint64_t at;
  if (size == 0)
    return true;
  if (entrySize != (rela ? sizeof(rela_t) : sizeof(rel_t)) ||
      size % entrySize != 0)
    return fail(e, "%s entries of %" PRIu64 " bytes", name, entrySize);
  if (!fileOffset(e, address, size, &at))
    return fail(e, "the %s table lies outside the loaded segments", name);
  for (uint64_t k = 0; k < size / entrySize; ++k) {
    uint64_t offset, info;
    if (rela) {
      rela_t r;
      readAt(e, at, k, sizeof(r), &r);
      offset = r.r_offset;
      info = r.r_info;
    } else {
      rel_t r;
      readAt(e, at, k, sizeof(r), &r);
      offset = r.r_offset;
      info = r.r_info;
    }
    if (!inMemory(e, offset, sizeof(addr_t)))
      return fail(e,
                  "%s entry %" PRIu64 " relocates address %#" PRIx64
                  ", outside the loaded segments",
                  name, k, offset);
    if (MUIR_R_SYM(info) != 0 && !checkSymbol(e, MUIR_R_SYM(info)))
      return false;
  }
  return true;
}

/** Checks the version definition and requirement records glibc walks. */
static bool checkVersions(elf_t *e, const dynamic_t *d, uint64_t strtab,
                          uint64_t strsz) {
  const char *name;
  uint64_t address = d->verdef, at;
  for (uint64_t k = 0; address && k < d->verdefnum; ++k) {
    verdef_t v;
    if (!fileOffset(e, address, sizeof(v), &at))
      return fail(e, "a version definition lies outside the loaded segments");
    memcpy(&v, e->data + at, sizeof(v));
    uint64_t aux = address + v.vd_aux;
    for (uint64_t j = 0; j < v.vd_cnt && j < MUIR_ELF_MAX_ENTRIES; ++j) {
      verdaux_t a;
      if (!fileOffset(e, aux, sizeof(a), &at))
        return fail(e, "a version name lies outside the loaded segments");
      memcpy(&a, e->data + at, sizeof(a));
      if (!stringAt(e, strtab, strsz, a.vda_name, &name))
        return fail(e, "a version name lies outside the string table");
      if (!a.vda_next)
        break;
      aux += a.vda_next;
    }
    if (!v.vd_next)
      break;
    address += v.vd_next;
  }
  address = d->verneed;
  for (uint64_t k = 0; address && k < d->verneednum; ++k) {
    verneed_t v;
    if (!fileOffset(e, address, sizeof(v), &at))
      return fail(e, "a version requirement lies outside the loaded segments");
    memcpy(&v, e->data + at, sizeof(v));
    if (!stringAt(e, strtab, strsz, v.vn_file, &name))
      return fail(e, "a version requirement names no string");
    uint64_t aux = address + v.vn_aux;
    for (uint64_t j = 0; j < v.vn_cnt && j < MUIR_ELF_MAX_ENTRIES; ++j) {
      vernaux_t a;
      if (!fileOffset(e, aux, sizeof(a), &at))
        return fail(e, "a version requirement lies outside the loaded "
                       "segments");
      memcpy(&a, e->data + at, sizeof(a));
      if (!stringAt(e, strtab, strsz, a.vna_name, &name))
        return fail(e, "a required version names no string");
      if (!a.vna_next)
        break;
      aux += a.vna_next;
    }
    if (!v.vn_next)
      break;
    address += v.vn_next;
  }
  return true;
}

/** The descriptor of the first note of owner `owner` and type `type` in the
 *  PT_NOTE segments (checked to lie in the file), or NULL. */
static const unsigned char *findNote(const elf_t *e, const ehdr_t *h,
                                     const char *owner, uint32_t type,
                                     uint32_t *out_size) {
  size_t ownerSize = strlen(owner) + 1;
  for (size_t k = 0; k < h->e_phnum; ++k) {
    phdr_t p;
    readAt(e, h->e_phoff, k, sizeof(p), &p);
    if (p.p_type != PT_NOTE)
      continue;
    uint64_t align = p.p_align == 8 ? 8 : 4;
    uint64_t at = 0;
    while (p.p_filesz - at >= 12) {
      uint32_t header[3]; /* namesz, descsz, type */
      memcpy(header, e->data + p.p_offset + at, sizeof(header));
      uint64_t name = at + 12;
      uint64_t desc = name + ((header[0] + align - 1) & ~(align - 1));
      uint64_t end = desc + ((header[1] + align - 1) & ~(align - 1));
      if (desc > p.p_filesz || header[1] > p.p_filesz - desc)
        break;
      if (header[2] == type && header[0] == ownerSize &&
          memcmp(e->data + p.p_offset + name, owner, ownerSize) == 0) {
        *out_size = header[1];
        return e->data + p.p_offset + desc;
      }
      if (end <= at || end > p.p_filesz)
        break;
      at = end;
    }
  }
  return NULL;
}

bool muir_elf_check(const unsigned char *data, size_t size,
                    const char **out_hash, char *why, size_t why_size) {
  elf_t e = {.data = data, .size = size, .why = why, .whySize = why_size};
  ehdr_t h;
  if (size < sizeof(h))
    return fail(&e, "%zu bytes: too short for an ELF header", size);
  memcpy(&h, data, sizeof(h));
  if (memcmp(h.e_ident, ELFMAG, SELFMAG) != 0)
    return fail(&e, "not an ELF file");
  if (h.e_ident[EI_CLASS] != MUIR_ELF_CLASS)
    return fail(&e, "ELF class %d, but this process reads class %d (%d-bit)",
                h.e_ident[EI_CLASS], MUIR_ELF_CLASS, (int)sizeof(void *) * 8);
  if (h.e_ident[EI_DATA] != MUIR_ELF_DATA)
    return fail(&e, "byte order %d, but this process has %d",
                h.e_ident[EI_DATA], MUIR_ELF_DATA);
  if (h.e_ident[EI_VERSION] != EV_CURRENT || h.e_version != EV_CURRENT)
    return fail(&e, "ELF version %d", h.e_ident[EI_VERSION]);
  if (h.e_type != ET_DYN)
    return fail(&e, "ELF type %u, not a shared object (%u)", h.e_type, ET_DYN);
#ifdef MUIR_ELF_MACHINE
  if (h.e_machine != MUIR_ELF_MACHINE)
    return fail(&e, "built for machine %u, but this process runs on %u",
                h.e_machine, MUIR_ELF_MACHINE);
#endif

  phdr_t segment;
  dynamic_t d;
  if (!checkSegments(&e, &h, &segment) || !readDynamic(&e, &segment, &d))
    return false;

  // The loader does not read sections, but a file whose section headers or
  // sections end past its end has lost its tail: truncated.
  if (h.e_shoff != 0 || h.e_shnum != 0) {
    if (h.e_shentsize != sizeof(shdr_t) ||
        !inFile(&e, h.e_shoff, (uint64_t)h.e_shnum * sizeof(shdr_t)))
      return fail(&e,
                  "section headers at offset %" PRIu64 " (%u of them) end "
                  "past the end of the file (%zu bytes): truncated?",
                  (uint64_t)h.e_shoff, h.e_shnum, size);
    for (size_t k = 0; k < h.e_shnum; ++k) {
      shdr_t section;
      readAt(&e, h.e_shoff, k, sizeof(section), &section);
      if (section.sh_type != SHT_NOBITS &&
          !inFile(&e, section.sh_offset, section.sh_size))
        return fail(&e,
                    "section %zu at offset %" PRIu64 " with %" PRIu64
                    " bytes ends past the end of the file (%zu bytes): "
                    "truncated?",
                    k, (uint64_t)section.sh_offset, (uint64_t)section.sh_size,
                    size);
    }
  }

  uint64_t strtab, strsz = d.tag[DT_STRSZ];
  if (!d.has[DT_STRTAB] || !fileOffset(&e, d.tag[DT_STRTAB], strsz, &strtab))
    return fail(&e, "the dynamic string table lies outside the loaded "
                    "segments");
  const char *name;
  for (size_t k = 0; k < d.numNeeded; ++k)
    if (!stringAt(&e, strtab, strsz, d.neededOffsets[k], &name))
      return fail(&e, "a needed library's name lies outside the string "
                      "table");
  if (d.has[DT_SONAME] && !stringAt(&e, strtab, strsz, d.tag[DT_SONAME], &name))
    return fail(&e, "DT_SONAME lies outside the string table");

  // The symbols dlsym can reach through the hash table, then those the
  // relocations name.
  uint64_t numSymbols;
  if (!d.has[DT_SYMTAB])
    return fail(&e, "no dynamic symbol table");
  e.symtab = d.tag[DT_SYMTAB];
  e.strsz = strsz;
  e.versym = d.versym;
  if ((d.has[DT_SYMENT] && d.tag[DT_SYMENT] != sizeof(sym_t)) ||
      !symbolCount(&e, &d, &numSymbols))
    return d.has[DT_SYMENT] && d.tag[DT_SYMENT] != sizeof(sym_t)
               ? fail(&e, "dynamic symbols of %" PRIu64 " bytes",
                      d.tag[DT_SYMENT])
               : false;
  if (numSymbols > MUIR_ELF_MAX_ENTRIES)
    return fail(&e, "%" PRIu64 " dynamic symbols", numSymbols);
  for (uint64_t k = 0; k < numSymbols; ++k)
    if (!checkSymbol(&e, k))
      return false;
  if (!checkVersions(&e, &d, strtab, strsz))
    return false;

  if (!checkRelocations(&e, "DT_RELA", d.tag[DT_RELA], d.tag[DT_RELASZ],
                        d.tag[DT_RELAENT], true) ||
      !checkRelocations(&e, "DT_REL", d.tag[DT_REL], d.tag[DT_RELSZ],
                        d.tag[DT_RELENT], false))
    return false;
  if (d.tag[DT_PLTRELSZ] &&
      !checkRelocations(&e, "DT_JMPREL", d.tag[DT_JMPREL], d.tag[DT_PLTRELSZ],
                        d.tag[DT_PLTREL] == DT_RELA ? sizeof(rela_t)
                                                    : sizeof(rel_t),
                        d.tag[DT_PLTREL] == DT_RELA))
    return false;

  static const struct {
    int address, size;
    const char *name;
  } arrays[] = {{DT_INIT_ARRAY, DT_INIT_ARRAYSZ, "DT_INIT_ARRAY"},
                {DT_FINI_ARRAY, DT_FINI_ARRAYSZ, "DT_FINI_ARRAY"},
                {DT_PREINIT_ARRAY, DT_PREINIT_ARRAYSZ, "DT_PREINIT_ARRAY"}};
  for (size_t k = 0; k < sizeof(arrays) / sizeof(arrays[0]); ++k)
    if (d.has[arrays[k].address] &&
        !inMemory(&e, d.tag[arrays[k].address], d.tag[arrays[k].size]))
      return fail(&e, "%s lies outside the loaded segments", arrays[k].name);
  if ((d.has[DT_INIT] && !inMemory(&e, d.tag[DT_INIT], 1)) ||
      (d.has[DT_FINI] && !inMemory(&e, d.tag[DT_FINI], 1)))
    return fail(&e, "DT_INIT or DT_FINI lies outside the loaded segments");

  uint32_t noteSize = 0;
  const unsigned char *note =
      findNote(&e, &h, "muir", MUIR_NOTE_PACKAGE_HASH, &noteSize);
  *out_hash = note && noteSize == MUIR_PACKAGE_HASH_LENGTH + 1 &&
                      note[MUIR_PACKAGE_HASH_LENGTH] == '\0'
                  ? (const char *)note
                  : NULL;
  return true;
}
