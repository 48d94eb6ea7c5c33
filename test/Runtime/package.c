// Opening the fixture package: versions, the table as the runtime hands it
// out, its hash, the manifest it was checked against, finding parameters by
// name, reference counting.
//
// RUN: rm -rf %t && mkdir -p %t/pkg
// RUN: %muir_build_fixture -o %t/pkg/libmuir_kernels.so
// RUN: %muir_cc -std=c11 -Wall -Werror -I%muir_rt_include -I%S/Inputs %s %muir_rt_link -o %t/test
// RUN: %t/test %t/pkg | FileCheck %s

#include "check.h"

#include <string.h>

int main(int argc, char **argv) {
  CHECK(argc == 2);
  // CHECK: api 2 abi 2
  printf("api %u abi %u\n", muir_runtime_api_version(),
         muir_runtime_package_abi_version());
  CHECK(muir_runtime_api_version() == MUIR_RUNTIME_API_VERSION);

  muir_package_t *package = NULL;
  CHECK_OK(muir_package_open(argv[1], &package));
  CHECK(strcmp(muir_package_dir(package), argv[1]) == 0);
  // A successful call leaves no message behind.
  CHECK(muir_last_error()[0] == '\0');

  const muir_package_info_t *info = NULL;
  CHECK_OK(muir_package_get_info(package, &info));
  // CHECK-NEXT: model fixture optimizer 3 states 2 params 3 elements 48 alignment 64
  printf("model %s optimizer %d states %d params %lld elements %lld "
         "alignment %lld\n",
         info->model, info->optimizer, info->num_states,
         (long long)info->num_params, (long long)info->buffer_elements,
         (long long)info->alignment);
  // CHECK-NEXT: blocks.w hidden - init 0 shape [4,3] copies 2 offset 0 stride 16 numel 12 multiplier 1 1
  // CHECK-NEXT: embed.weight embedding - init 0 shape [2,3] copies 1 offset 32 stride 6 numel 6 multiplier 1
  // CHECK-NEXT: unembed.weight unembedding embed.weight init 5 shape [2,3] copies 1 offset 32 stride 6 numel 6 multiplier 0.333333
  for (int64_t i = 0; i < info->num_params; ++i) {
    const muir_param_info_t *p = &info->params[i];
    printf("%s %s %s init %d shape [", p->name, p->role,
           p->tied_to ? p->tied_to : "-", p->init);
    for (int32_t d = 0; d < p->rank; ++d)
      printf("%s%lld", d ? "," : "", (long long)p->shape[d]);
    printf("] copies %lld offset %lld stride %lld numel %lld multiplier",
           (long long)p->copies, (long long)p->offset, (long long)p->stride,
           (long long)p->numel);
    for (int64_t l = 0; l < p->copies; ++l)
      printf(" %g", p->multiplier[l]);
    printf("\n");
  }
  // The forward multipliers besides each parameter's own.
  // CHECK-NEXT: residual layers.residual0 depth layers index 0 copies 2 multiplier 0.5 0.25
  // CHECK-NEXT: attention layers.attention0 head_dim d_head 4 scale 0.25
  for (int64_t k = 0; k < info->num_residuals; ++k) {
    const muir_residual_info_t *r = &info->residuals[k];
    printf("residual %s depth %s index %lld copies %lld multiplier", r->name,
           r->depth, (long long)r->index_in_block, (long long)r->copies);
    for (int64_t l = 0; l < r->copies; ++l)
      printf(" %g", r->multiplier[l]);
    printf("\n");
  }
  for (int64_t k = 0; k < info->num_attentions; ++k) {
    const muir_attention_info_t *a = &info->attentions[k];
    printf("attention %s head_dim %s %lld scale %g\n", a->name, a->head_dim,
           (long long)a->head_dim_size, a->scale);
  }

  const char *names[] = {"blocks.w", "embed.weight", "unembed.weight"};
  for (int64_t i = 0; i < 3; ++i) {
    int64_t index = -1;
    CHECK_OK(muir_package_find_param(package, names[i], &index));
    CHECK(index == i);
  }

  // The identity: the hash of the fixture's table, which its soname and
  // manifest repeat; checking it against the expected value and another.
  // CHECK-NEXT: hash f16d05ec6b29248d2c61adb1e9263f78e4f7bace1b955014a2d17872cfe4064d
  printf("hash %s\n", info->package_hash);
  CHECK_OK(muir_package_check_hash(package, info->package_hash));
  CHECK(muir_package_check_hash(package, "0123") == MUIR_ERROR_VERSION);
  // CHECK-NEXT: package '{{.*}}' (model 'fixture') has package_hash f16d05ec6b29248d2c61adb1e9263f78e4f7bace1b955014a2d17872cfe4064d, not the expected 0123: it was rebuilt since the code that expects it (a muir_package.h) was compiled
  printf("%s\n", muir_last_error());
  CHECK(muir_package_check_hash(package, NULL) == MUIR_ERROR_ARGUMENT);

  // The manifest as checked at open.
  const char *manifest = NULL;
  size_t manifestSize = 0;
  CHECK_OK(muir_package_get_manifest(package, &manifest, &manifestSize));
  CHECK(manifestSize == strlen(manifest) &&
        strstr(manifest, "\"package_hash\": \"f16d05ec") != NULL);

  // A second open of the same directory is independent: its own private
  // copy of the library (so a rebuilt package would load anew), with a table
  // of the same contents at another address.
  muir_package_t *again = NULL;
  CHECK_OK(muir_package_open(argv[1], &again));
  CHECK(again != package);
  const muir_package_info_t *againInfo = NULL;
  CHECK_OK(muir_package_get_info(again, &againInfo));
  CHECK(againInfo != info && againInfo->num_params == info->num_params &&
        strcmp(againInfo->package_hash, info->package_hash) == 0);
  muir_package_release(again);

  // States keep their package alive after the caller releases it.
  muir_state_t *state = NULL;
  CHECK_OK(muir_state_create(package, MUIR_DEVICE_CPU, &state));
  CHECK(muir_state_package(state) == package);
  muir_package_release(package);
  CHECK_OK(muir_state_init(state, 1));
  CHECK_OK(muir_package_get_info(muir_state_package(state), &info));
  CHECK(strcmp(info->model, "fixture") == 0);
  muir_state_release(state);

  // Releasing NULL is a no-op.
  muir_package_release(NULL);
  muir_state_release(NULL);

  // CHECK-NEXT: ok io format version size not_found argument no_device cuda memory unknown
  for (int s = MUIR_OK; s <= MUIR_ERROR_MEMORY + 1; ++s)
    printf("%s%s", s ? " " : "", muir_status_string((muir_status_t)s));
  printf("\n");
  return 0;
}
