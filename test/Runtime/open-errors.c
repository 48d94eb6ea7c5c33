// Every way muir_package_open can fail returns its status and a message that
// names the problem; the program exits with the status.
//
// RUN: rm -rf %t && mkdir -p %t/empty %t/nolib %t/garbage %t/nosym %t/abi %t/good
// RUN: %muir_cc -std=c11 -Wall -Werror -I%muir_rt_include -I%S/Inputs %s %muir_rt_link -o %t/open
// RUN: %muir_build_fixture -o %t/good/libmuir_kernels.so
// RUN: %t/open %t/good | FileCheck %s --check-prefix=GOOD
// GOOD: open: ok:
//
// No directory, a file instead of one, no manifest or no library in it, NULL
// arguments.
// RUN: not %t/open %t/missing | FileCheck %s --check-prefix=NODIR
// NODIR: open: io: cannot open package directory '{{.*}}/missing': No such file or directory
// RUN: not %t/open %t/good/libmuir_kernels.so | FileCheck %s --check-prefix=NOTDIR
// NOTDIR: open: io: package path '{{.*}}/good/libmuir_kernels.so' is not a directory
// RUN: not %t/open %t/empty | FileCheck %s --check-prefix=NOMANIFEST
// NOMANIFEST: open: io: package '{{.*}}/empty' has no manifest.json (muirc writes it last: an unfinished build, or not a package)
// RUN: cp %t/good/manifest.json %t/nolib/
// RUN: not %t/open %t/nolib | FileCheck %s --check-prefix=NOLIB
// NOLIB: open: io: package '{{.*}}/nolib' has no readable libmuir_kernels.so: No such file or directory
// RUN: not %t/open --null | FileCheck %s --check-prefix=NULL
// NULL: open: argument: muir_package_open: dir is NULL
// NULL-NEXT: open: argument: muir_package_open: out_package is NULL
//
// Not a shared library; a library without the ABI symbols.
// RUN: cp %t/good/manifest.json %t/garbage/
// RUN: %python -c "print('not an ELF file ' * 8)" > %t/garbage/libmuir_kernels.so
// RUN: not %t/open %t/garbage | FileCheck %s --check-prefix=GARBAGE
// GARBAGE: open: format: cannot load '{{.*}}/garbage/libmuir_kernels.so': not a loadable shared library for this machine: not an ELF file
// RUN: %muir_build_fixture -DFIXTURE_OMIT_STEP -o %t/nosym/libmuir_kernels.so
// RUN: not %t/open %t/nosym | FileCheck %s --check-prefix=NOSYM
// NOSYM: open: format: '{{.*}}/nosym/libmuir_kernels.so' does not export muir_kernel_step: not a muir kernel package (package_abi.h)
//
// A package built for another ABI.
// RUN: %muir_build_fixture -DFIXTURE_ABI=999 -o %t/abi/libmuir_kernels.so
// RUN: not %t/open %t/abi | FileCheck %s --check-prefix=ABI
// ABI: open: version: package '{{.*}}/abi' has ABI version 999 but this runtime reads version 2; rebuild the package with a matching muirc
//
// Corrupt tables (the FIXTURE_CORRUPT cases in Inputs/fixture_package.c).
// RUN: mkdir %t/c1 && %muir_build_fixture -DFIXTURE_CORRUPT=1 -o %t/c1/libmuir_kernels.so
// RUN: mkdir %t/c2 && %muir_build_fixture -DFIXTURE_CORRUPT=2 -o %t/c2/libmuir_kernels.so
// RUN: mkdir %t/c3 && %muir_build_fixture -DFIXTURE_CORRUPT=3 -o %t/c3/libmuir_kernels.so
// RUN: mkdir %t/c4 && %muir_build_fixture -DFIXTURE_CORRUPT=4 -o %t/c4/libmuir_kernels.so
// RUN: mkdir %t/c5 && %muir_build_fixture -DFIXTURE_CORRUPT=5 -o %t/c5/libmuir_kernels.so
// RUN: mkdir %t/c6 && %muir_build_fixture -DFIXTURE_CORRUPT=6 -o %t/c6/libmuir_kernels.so
// RUN: mkdir %t/c7 && %muir_build_fixture -DFIXTURE_CORRUPT=7 -o %t/c7/libmuir_kernels.so
// RUN: mkdir %t/c8 && %muir_build_fixture -DFIXTURE_CORRUPT=8 -o %t/c8/libmuir_kernels.so
// RUN: mkdir %t/c9 && %muir_build_fixture -DFIXTURE_CORRUPT=9 -o %t/c9/libmuir_kernels.so
// RUN: mkdir %t/c10 && %muir_build_fixture -DFIXTURE_CORRUPT=10 -o %t/c10/libmuir_kernels.so
// RUN: mkdir %t/c11 && %muir_build_fixture -DFIXTURE_CORRUPT=11 -o %t/c11/libmuir_kernels.so
// RUN: mkdir %t/c12 && %muir_build_fixture -DFIXTURE_CORRUPT=12 -o %t/c12/libmuir_kernels.so
// RUN: mkdir %t/c13 && %muir_build_fixture -Wno-division-by-zero -DFIXTURE_CORRUPT=13 -o %t/c13/libmuir_kernels.so
// RUN: mkdir %t/c14 && %muir_build_fixture -DFIXTURE_CORRUPT=14 -o %t/c14/libmuir_kernels.so
// RUN: not %t/open %t/c1 | FileCheck %s --check-prefix=MISALIGNED
// MISALIGNED: open: format: package '{{.*}}/c1': parameter 'embed.weight' has offset 33, not a non-negative multiple of the alignment (64 bytes = 16 elements)
// RUN: not %t/open %t/c2 | FileCheck %s --check-prefix=OVERLAP
// OVERLAP: open: format: package '{{.*}}/c2': parameters overlap: 'embed.weight' copy 0 [16, 22) and 'blocks.w' copy 1 [16, 28)
// RUN: not %t/open %t/c3 | FileCheck %s --check-prefix=RANGE
// RANGE: open: format: package '{{.*}}/c3': parameter 'embed.weight' (offset 48, 1 copies, stride 6, numel 6) ends past the buffer of 48 elements
// RUN: not %t/open %t/c4 | FileCheck %s --check-prefix=DUPLICATE
// DUPLICATE: open: format: package '{{.*}}/c4': two parameters are called 'blocks.w'
// RUN: not %t/open %t/c5 | FileCheck %s --check-prefix=TIE
// TIE: open: format: package '{{.*}}/c5': parameter 'unembed.weight' is tied to 'embed.bias', which is not in the table
// RUN: not %t/open %t/c6 | FileCheck %s --check-prefix=NUMEL
// NUMEL: open: format: package '{{.*}}/c6': parameter 'blocks.w' has numel 11 but its shape holds 12 elements
// RUN: not %t/open %t/c7 | FileCheck %s --check-prefix=ALIGNMENT
// ALIGNMENT: open: format: package '{{.*}}/c7': alignment 48 bytes is not a power of two from 4 to 65536
// RUN: not %t/open %t/c8 | FileCheck %s --check-prefix=STRIDE
// STRIDE: open: format: package '{{.*}}/c8': parameter 'blocks.w' has stride 0 for copies of 12 elements (must be at least numel and a multiple of 16)
// RUN: not %t/open %t/c9 | FileCheck %s --check-prefix=TIELAYOUT
// TIELAYOUT: open: format: package '{{.*}}/c9': parameter 'unembed.weight' is tied to 'embed.weight' but their layouts differ (offset 0 vs 32, numel 6 vs 6, copies 1 vs 1)
// RUN: not %t/open %t/c10 | FileCheck %s --check-prefix=OPTIMIZER
// OPTIMIZER: open: format: package '{{.*}}/c10': unknown optimizer 99
// RUN: not %t/open %t/c11 | FileCheck %s --check-prefix=STATES
// STATES: open: format: package '{{.*}}/c11': optimizer 3 keeps 2 state buffers, but the table declares 1
// RUN: not %t/open %t/c12 | FileCheck %s --check-prefix=MULTIPLIER
// MULTIPLIER: open: format: package '{{.*}}/c12': parameter 'blocks.w' has no forward multipliers
// RUN: not %t/open %t/c13 | FileCheck %s --check-prefix=RESIDUAL
// RESIDUAL: open: format: package '{{.*}}/c13': residual branch 'layers.residual0' has a non-finite forward multiplier at copy 1
// RUN: not %t/open %t/c14 | FileCheck %s --check-prefix=ATTENTION
// ATTENTION: open: format: package '{{.*}}/c14': attention 'layers.attention0' has scale 0 over a head dim of 4 (a positive scale and size needed)
//
// A kernel table that disagrees with the parameters (the kernels trust it).
// RUN: mkdir %t/c15 && %muir_build_fixture -DFIXTURE_CORRUPT=15 -o %t/c15/libmuir_kernels.so
// RUN: mkdir %t/c16 && %muir_build_fixture -DFIXTURE_CORRUPT=16 -o %t/c16/libmuir_kernels.so
// RUN: not %t/open %t/c15 | FileCheck %s --check-prefix=KERNELTABLE
// KERNELTABLE: open: format: package '{{.*}}/c15': parameter 'embed.weight' has an entry that does not match its layout in the kernel table
// RUN: not %t/open %t/c16 | FileCheck %s --check-prefix=TOTALS
// TOTALS: open: format: package '{{.*}}/c16': the kernel table's totals (2 entries, 3 chunks, 4 slots, 2 rows, 0 units) do not match the parameters (2, 3, 3, 2, 0)
//
// An optimizer spec that names another optimizer than the table's code.
// RUN: mkdir %t/c30 && %muir_build_fixture -DFIXTURE_CORRUPT=30 -o %t/c30/libmuir_kernels.so
// RUN: not %t/open %t/c30 | FileCheck %s --check-prefix=SPEC
// SPEC: open: format: package '{{.*}}/c30': optimizer spec 'adam:bias-correction1=true' does not name the table's optimizer 'adamw'
// RUN: mkdir %t/c31 && %muir_build_fixture -DFIXTURE_CORRUPT=31 -o %t/c31/libmuir_kernels.so
// RUN: not %t/open %t/c31 | FileCheck %s --check-prefix=UNITS
// UNITS: open: format: package '{{.*}}/c31': parameter 'blocks.w' has wrong rotational units in the kernel table
//
// An unknown precision, and a bf16 table whose library lacks the bf16
// kernels.
// RUN: mkdir %t/c33 && %muir_build_fixture -DFIXTURE_CORRUPT=33 -o %t/c33/libmuir_kernels.so
// RUN: not %t/open %t/c33 | FileCheck %s --check-prefix=PRECISION
// PRECISION: open: format: package '{{.*}}/c33': unknown precision 7 (0 fp32, 1 bf16)
// RUN: mkdir %t/c34 && %muir_build_fixture -DFIXTURE_CORRUPT=34 -o %t/c34/libmuir_kernels.so
// RUN: not %t/open %t/c34 | FileCheck %s --check-prefix=BF16
// BF16: open: format: package '{{.*}}/c34' is bf16 but '{{.*}}/c34/libmuir_kernels.so' does not export muir_kernel_step_bf16 (package_abi.h)

#include "check.h"

#include <string.h>

int main(int argc, char **argv) {
  if (argc != 2)
    return 2;
  muir_package_t *package = NULL;
  if (strcmp(argv[1], "--null") == 0) {
    muir_status_t a = muir_package_open(NULL, &package);
    printf("open: %s: %s\n", muir_status_string(a), muir_last_error());
    muir_status_t b = muir_package_open("x", NULL);
    printf("open: %s: %s\n", muir_status_string(b), muir_last_error());
    return a == MUIR_ERROR_ARGUMENT && b == MUIR_ERROR_ARGUMENT ? 1 : 0;
  }
  muir_status_t status = muir_package_open(argv[1], &package);
  printf("open: %s: %s\n", muir_status_string(status), muir_last_error());
  // A failed open writes no handle.
  if (status != MUIR_OK && package != NULL)
    return 100;
  muir_package_release(package);
  return (int)status;
}
