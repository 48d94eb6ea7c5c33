//===- multipliers_fuzzer.cpp - libFuzzer target: multipliers files -------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Feeds arbitrary bytes to the multipliers reader (Multipliers::parse, with
// the strict JSON reader under it); a file it accepts is checked against a
// GPT-2-like model (checkModel: every pattern matches a parameter or a
// residual branch, one depth factor per base block) and evaluated as
// tp-instantiate does (moduleFactor for every parameter and quantity,
// depthFactors at several depths). Nothing may crash, and an accepted file may
// only give finite, positive factors per module (weight decay may be 0) and per
// block.
//
//===----------------------------------------------------------------------===//

#include "muir/Parametrization/Multipliers.h"
#include <cmath>
#include <cstdio>
#include <cstdlib>

using namespace mlir::tp;

static const llvm::StringRef kParams[] = {"wte",
                                          "wpe",
                                          "blocks.ln_1.weight",
                                          "blocks.attn.q.weight",
                                          "blocks.attn.o.bias",
                                          "blocks.mlp.fc.weight",
                                          "ln_f.weight",
                                          "lm_head"};
static const llvm::StringRef kBranches[] = {"blocks.residual0",
                                            "blocks.residual1"};
static const llvm::StringRef kQuantities[] = {
    "init_std", "multiplier", "lr",    "weight_decay",
    "eps",      "beta1",      "beta2", "residual"};

static void fail(const char *what, llvm::StringRef quantity, double v) {
  std::fprintf(stderr, "%s of %s is %g\n", what, quantity.str().c_str(), v);
  std::abort();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
  llvm::Expected<Multipliers> m = Multipliers::parse(text, "fuzz.json");
  if (!m) {
    llvm::consumeError(m.takeError());
    return 0;
  }
  // Base models of 1 to 4 blocks, so that depth lists of those lengths pass.
  int64_t baseBlocks = std::max<int64_t>(1, m->depthListSize());
  if (llvm::Error e = m->checkModel(kParams, kBranches, baseBlocks))
    llvm::consumeError(std::move(e));
  for (llvm::StringRef quantity : kQuantities) {
    for (llvm::StringRef param : llvm::concat<const llvm::StringRef>(
             llvm::ArrayRef(kParams), llvm::ArrayRef(kBranches))) {
      double f = m->moduleFactor(param, quantity);
      // A product of finite factors can overflow; it may not be NaN or
      // negative.
      if (std::isnan(f) || f < 0)
        fail("module factor", quantity, f);
    }
    if (!m->hasDepth(quantity))
      continue;
    for (int64_t blocks : {1, 2, 3, 7, 48})
      for (double f : m->depthFactors(quantity, blocks))
        if (!std::isfinite(f) || !(f > 0))
          fail("depth factor", quantity, f);
  }
  return 0;
}
