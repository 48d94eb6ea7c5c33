//===- card_fuzzer.cpp - libFuzzer target: model cards --------------------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Feeds arbitrary bytes to the card reader (parseModelCard, with the strict
// JSON reader under it) and builds the model of every card it accepts. An
// input holding a line `---` is two cards, target above and base below, so
// the base/target compatibility checks are fuzzed too. The reader may reject
// anything; it may not crash, and the importer may not write IR the
// verifier rejects (that is reported as an importer bug, and aborts here).
//
//===----------------------------------------------------------------------===//

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "muir/Dialect/TP/IR/TPOps.h"
#include "muir/Import/ModelCard.h"
#include <cstdio>
#include <cstdlib>

using namespace mlir;

static MLIRContext &context() {
  static MLIRContext *ctx = [] {
    auto *c = new MLIRContext(MLIRContext::Threading::DISABLED);
    c->loadDialect<tp::TPDialect>();
    c->printOpOnDiagnostic(false);
    // The importer's verifier output goes into its error; nothing to print.
    c->getDiagEngine().registerHandler([](Diagnostic &) { return success(); });
    return c;
  }();
  return *ctx;
}

/// Fails loudly on an error that only a bug can produce.
static void check(llvm::Error error) {
  std::string message = llvm::toString(std::move(error));
  if (llvm::StringRef(message).contains("importer bug")) {
    std::fprintf(stderr, "%s\n", message.c_str());
    std::abort();
  }
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
  auto [targetText, baseText] = text.split("\n---\n");
  llvm::Expected<muir::ModelCard> target =
      muir::parseModelCard(targetText, "target.json");
  if (!target) {
    llvm::consumeError(target.takeError());
    return 0;
  }
  llvm::Expected<muir::ModelCard> base =
      baseText.empty() ? llvm::Expected<muir::ModelCard>(*target)
                       : muir::parseModelCard(baseText, "base.json");
  if (!base) {
    llvm::consumeError(base.takeError());
    return 0;
  }
  llvm::Expected<OwningOpRef<ModuleOp>> module =
      muir::buildModelFromCards(*target, *base, context());
  if (!module)
    check(module.takeError());
  return 0;
}
