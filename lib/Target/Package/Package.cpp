//===- Package.cpp - Write a kernel package -------------------------------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// A package is everything a trainer needs and nothing from MLIR: the CPU
// kernels compiled to an object by LLVM, a C table of the parameters (data
// read from the IR), thin C wrappers with the ABI of package_abi.h, linked
// into one shared library; the manifest and a header for people and build
// systems.
//
//===----------------------------------------------------------------------===//

#include "muir/Target/Package.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "muir/Conversion/KernelTable.h"
#include "muir/Conversion/Optimizers.h"
#include "muir/Conversion/Passes.h"
#include "muir/Dialect/TP/IR/TPOps.h"
#include "muir/Dialect/TP/Utils/ForwardTable.h"
#include "muir/Dialect/TP/Utils/ParamTable.h"
#include "muir/Dialect/TP/Utils/Parametrization.h"
#include "muir/Dialect/TP/Utils/Report.h"
#include "muir/Support/Format.h"
#include "muir/package_abi.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/SHA256.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"

#include "PackageAbiText.inc"
#include "StagedDirectory.h"

using namespace mlir;
using namespace mlir::tp;

namespace {
/// What the C table needs of one parameter.
struct Entry {
  ParamInfo info;
  std::string role, tiedTo;
  int64_t offset = 0, stride = 0, numel = 0, copies = 1;
  /// The forward multiplier of each copy.
  std::vector<double> multiplier;
};

/// The forward multipliers besides each parameter's own.
struct Forward : ForwardTable {
  /// One value per block of each residual branch.
  std::vector<std::vector<double>> residualMultipliers;
};
} // namespace

/// Whether a package directory may hold a file called `name`: what
/// writePackage writes (the object file only while it builds).
static bool isPackageFile(StringRef name) {
  if (name.consume_front("kernels.sm_") && name.consume_back(".cubin"))
    return !name.empty() && llvm::all_of(name, llvm::isDigit);
  return llvm::is_contained({"libmuir_kernels.so", "manifest.json",
                             "muir_package.h", "package_abi.h",
                             "package_table.c", "kernels.ptx", "kernels.o"},
                            name);
}

/// The instantiated `multiplier` of `op` (its `tp.values`), one value per
/// copy: a single value repeats.
static FailureOr<std::vector<double>> multiplierPerCopy(Operation *op,
                                                        int64_t copies) {
  ValuesAttr values = tpDialect(op).getValuesAttrHelper().getAttr(op);
  DenseF64ArrayAttr value = values ? values.getMultiplier() : nullptr;
  std::vector<double> out;
  if (value && value.size() == 1)
    out.assign(size_t(copies), value[0]);
  else if (value)
    out.assign(value.asArrayRef().begin(), value.asArrayRef().end());
  if (out.empty() || int64_t(out.size()) != copies)
    return op->emitOpError() << "has no instantiated multiplier for its "
                             << copies << " copies; run tp-instantiate first";
  return out;
}

/// `{a, b, c}`, each in shortest round-trip form.
static std::string cDoubles(ArrayRef<double> values) {
  return "{" + muir::joinShortest(values, ", ") + "}";
}

/// A header value: one number, or a brace list of one per block when the
/// values differ per block.
static std::string headerValue(ArrayRef<double> values) {
  if (llvm::all_equal(values))
    return muir::formatG(values.front(), 17);
  return cDoubles(values);
}

/// `blocks.attn.q.weight` -> `BLOCKS_ATTN_Q_WEIGHT` for C identifiers.
static std::string macroName(StringRef name) {
  std::string out;
  for (char c : name)
    out += std::isalnum(static_cast<unsigned char>(c))
               ? char(std::toupper(static_cast<unsigned char>(c)))
               : '_';
  return out;
}

/// A C string literal of `s`: printable ASCII as itself except `"`, `\\`
/// and `?` (no trigraphs), escaped; every other byte (control characters,
/// UTF-8 sequences) as a three-digit octal escape, which no following digit
/// can extend.
static std::string cString(StringRef s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\' || c == '?')
      out += {'\\', char(c)};
    else if (c >= 0x20 && c < 0x7f)
      out += char(c);
    else
      llvm::raw_string_ostream(out) << llvm::format("\\%03o", c);
  }
  return out + "\"";
}

/// `s` for a C block comment: escaped as in cString (so no newline and no
/// trigraph), without the quotes, and with a backslash between `*` and `/`
/// so it can neither end the comment nor open a nested one.
static std::string commentText(StringRef s) {
  std::string escaped = cString(s), out;
  for (char c : StringRef(escaped).drop_front().drop_back()) {
    if (!out.empty() &&
        ((c == '/' && out.back() == '*') || (c == '*' && out.back() == '/')))
      out += '\\';
    out += c;
  }
  return out;
}

static LogicalResult writeFile(Operation *at, StringRef path,
                               StringRef contents) {
  std::string error;
  auto out = openOutputFile(path, &error);
  if (!out)
    return at->emitError() << "cannot write " << path << ": " << error;
  out->os() << contents;
  out->keep();
  return success();
}

/// The generated C table and the ABI wrappers around the kernels.
static std::string tableSource(ModelOp model, ArrayRef<Entry> entries,
                               const Forward &forward,
                               const OptimizerInfo &optimizer,
                               StringRef optimizerSpec,
                               const KernelTable &table, int64_t elements,
                               int64_t alignment, StringRef hash, bool bf16) {
  std::string s = "/* Generated by muirc package: the parameter table of "
                  "model @" +
                  commentText(model.getSymName()) +
                  " and the C ABI of package_abi.h. */\n"
                  "#include \"package_abi.h\"\n"
                  "/* Compiled with the table (-Wall -Werror), so a header "
                  "that does not compile fails the build. */\n"
                  "#include \"muir_package.h\"\n\n";
  s += "/* The kernels and their table (kernels.o, from the IR). */\n"
       "extern const muir_kernel_param_t " MUIR_KERNEL_PARAMS_SYMBOL "[];\n"
       "extern const muir_tensor_row_t " MUIR_TENSOR_ROWS_SYMBOL "[];\n"
       "void muir_generated_init(float *, int64_t, int64_t, int64_t, "
       "int64_t);\n"
       "void muir_generated_step(float *, const float *, float *, float *, "
       "int64_t, float, float, const double *);\n"
       "void muir_generated_step_rows(float *, const float *, float *, "
       "float *, int64_t, float, float, int64_t, int64_t, "
       "const muir_tensor_row_t *, const double *, int64_t);\n"
       "void muir_generated_step_telemetry(float *, const float *, float *, "
       "float *, int64_t, float, float, int64_t, int64_t, "
       "const muir_tensor_row_t *, const double *, int64_t, double *);\n"
       "void muir_generated_reduce(const float *, double *, int64_t, "
       "int64_t, int64_t);\n"
       "void muir_generated_reduce_units(float *, const float *, float *, "
       "float *, int64_t, float, float, const muir_tensor_row_t *, double *, "
       "int64_t, int64_t, int64_t);\n"
       "/* Passed for LionAR's unit partials where a step has none (never "
       "read). */\n"
       "static const double kNoUnitPartials[1] = {0.0};\n";
  if (bf16)
    s += "void muir_generated_step_bf16(float *, const uint16_t *, float *, "
         "float *, uint16_t *, int64_t, float, float, int64_t, int64_t, "
         "const muir_tensor_row_t *, const double *, int64_t, int64_t);\n"
         "void muir_generated_step_telemetry_bf16(float *, const uint16_t *, "
         "float *, float *, uint16_t *, int64_t, float, float, int64_t, "
         "int64_t, const muir_tensor_row_t *, const double *, int64_t, "
         "double *, int64_t);\n"
         "void muir_generated_reduce_bf16(const uint16_t *, double *, "
         "int64_t, int64_t, int64_t);\n";
  s += "\n";
  for (auto [i, e] : llvm::enumerate(entries))
    s += llvm::formatv("static const double kMultiplier{0}[] = {1};\n", i,
                       cDoubles(e.multiplier))
             .str();
  s += "\nstatic const muir_param_info_t kParams[] = {\n";
  for (auto [i, e] : llvm::enumerate(entries)) {
    std::string shape;
    for (size_t i = 0; i < MUIR_MAX_RANK; ++i)
      shape += (i ? ", " : "") +
               std::to_string(i < e.info.shape.size() ? e.info.shape[i] : 0);
    int init = e.tiedTo.empty() ? int(*symbolizeInitKind(e.info.init))
                                : int(MUIR_INIT_TIED);
    s += llvm::formatv("  {{{0}, {1}, {2}, {3}, {4}, {{{5}}, {6}, {7}, {8}, "
                       "{9}, kMultiplier{10}},\n",
                       cString(e.info.name), cString(e.role),
                       e.tiedTo.empty() ? "0" : cString(e.tiedTo), init,
                       e.info.shape.size(), shape, e.copies, e.offset, e.stride,
                       e.numel, i)
             .str();
  }
  s += "};\n\n";
  // C has no empty arrays: no residual or attention is a null table.
  std::string residuals = "0", attentions = "0";
  if (!forward.residuals.empty()) {
    for (auto [k, m] : llvm::enumerate(forward.residualMultipliers))
      s += llvm::formatv("static const double kResidual{0}[] = {1};\n", k,
                         cDoubles(m))
               .str();
    s += "static const muir_residual_info_t kResiduals[] = {\n";
    for (auto [k, r] : llvm::enumerate(forward.residuals))
      s += llvm::formatv("  {{{0}, {1}, {2}, {3}, kResidual{4}},\n",
                         cString(r.name), cString(r.depth), r.indexInBlock,
                         r.copies, k)
               .str();
    s += "};\n\n";
    residuals = "kResiduals";
  }
  if (!forward.attentions.empty()) {
    s += "static const muir_attention_info_t kAttentions[] = {\n";
    for (const AttentionInfo &a : forward.attentions)
      s += llvm::formatv("  {{{0}, {1}, {2}, {3}},\n", cString(a.name),
                         cString(a.headDim), a.headDimSize,
                         muir::formatShortest(a.scale))
               .str();
    s += "};\n\n";
    attentions = "kAttentions";
  }
  s += llvm::formatv("static const muir_package_info_t kInfo = {{\n"
                     "  MUIR_PACKAGE_ABI_VERSION, {0}, {1}, {2}, {3}, {4}, "
                     "kParams, {5}, {6},\n"
                     "  {7}, {8}, {9}, {10},\n"
                     "  {11}, {12}, {13}, {14}, {15}, {16},\n"
                     "  {17}, {18}, {19}};\n\n",
                     cString(model.getSymName()), cString(hash),
                     optimizer.abiCode, optimizer.numStates, entries.size(),
                     elements, alignment, forward.residuals.size(), residuals,
                     forward.attentions.size(), attentions, table.params.size(),
                     MUIR_KERNEL_PARAMS_SYMBOL, table.rows.size(),
                     MUIR_TENSOR_ROWS_SYMBOL, table.chunks, table.slots,
                     cString(optimizerSpec), table.units,
                     bf16 ? "MUIR_PRECISION_BF16" : "MUIR_PRECISION_FP32")
           .str();
  // The hash once more, as an ELF note the runtime reads before loading.
  s += "MUIR_PACKAGE_NOTE(" + cString(hash) + ");\n\n";
  s += "const muir_package_info_t *muir_package_info(void) { return &kInfo; "
       "}\n\n"
       "void muir_kernel_init(float *params, uint64_t seed, int64_t begin,\n"
       "                      int64_t end) {\n"
       "  muir_generated_init(params, (int64_t)seed, begin, end, 0);\n"
       "}\n\n"
       "void muir_kernel_init_shard(float *params, uint64_t seed,\n"
       "                            int64_t first, int64_t begin,\n"
       "                            int64_t end) {\n"
       "  muir_generated_init(params, (int64_t)seed, begin, end, first);\n"
       "}\n\n"
       "void muir_kernel_step(float *params, const float *grads,\n"
       "                      float *const *states, int64_t step,\n"
       "                      float lr_factor, float grad_scale) {\n";
  int32_t states = optimizer.numStates;
  std::string stateArgs = std::string(states > 0 ? "states[0]" : "0") + ", " +
                          (states > 1 ? "states[1]" : "0");
  s +=
      llvm::formatv(
          "  muir_generated_step(params, grads, {0}, step, lr_factor, "
          "grad_scale, kNoUnitPartials);\n}\n\n"
          "void muir_kernel_step_rows(float *params, const float *grads,\n"
          "                           float *const *states, int64_t step,\n"
          "                           float lr_factor, float grad_scale,\n"
          "                           const muir_tensor_row_t *rows) {{\n"
          "  muir_generated_step_rows(params, grads, {0}, step, lr_factor, "
          "grad_scale, 0, {1}, rows, kNoUnitPartials, 0);\n}\n\n"
          "void muir_kernel_step_shard(float *params, const float *grads,\n"
          "                            float *const *states, int64_t step,\n"
          "                            float lr_factor, float grad_scale,\n"
          "                            const muir_tensor_row_t *rows,\n"
          "                            int64_t begin, int64_t end,\n"
          "                            const double *unit_partials) {{\n"
          "  muir_generated_step_rows(params, grads, {0}, step, lr_factor, "
          "grad_scale, begin, end, rows,\n"
          "                           unit_partials ? unit_partials : "
          "kNoUnitPartials, unit_partials != 0);\n}\n\n"
          "void muir_kernel_step_telemetry(float *params, const float *grads,\n"
          "                                float *const *states, int64_t "
          "step,\n"
          "                                float lr_factor, float grad_scale,\n"
          "                                const muir_tensor_row_t *rows,\n"
          "                                double *partials, int64_t begin,\n"
          "                                int64_t end,\n"
          "                                const double *unit_partials) {{\n"
          "  muir_generated_step_telemetry(params, grads, {0}, step, "
          "lr_factor, grad_scale, begin, end, rows,\n"
          "                                unit_partials ? unit_partials : "
          "kNoUnitPartials, unit_partials != 0, partials);\n}\n\n"
          "void muir_kernel_reduce(const float *grads, double *partials,\n"
          "                        int64_t slot_begin, int64_t slot_end) {{\n"
          "  muir_generated_reduce(grads, partials, slot_begin, slot_end, 0);\n"
          "}\n\n"
          "void muir_kernel_reduce_shard(const float *grads, double "
          "*partials,\n"
          "                              int64_t first, int64_t slot_begin,\n"
          "                              int64_t slot_end) {{\n"
          "  muir_generated_reduce(grads, partials, slot_begin, slot_end, "
          "first);\n}\n\n"
          "void muir_kernel_reduce_units(float *params, const float *grads,\n"
          "                              float *const *states, int64_t step,\n"
          "                              float lr_factor, float grad_scale,\n"
          "                              const muir_tensor_row_t *rows,\n"
          "                              double *unit_partials, int64_t "
          "first,\n"
          "                              int64_t slot_begin, int64_t "
          "slot_end) {{\n"
          "  muir_generated_reduce_units(params, grads, {0}, step, lr_factor, "
          "grad_scale, rows,\n"
          "                              unit_partials, first, slot_begin, "
          "slot_end);\n}\n",
          stateArgs, elements)
          .str();
  if (bf16)
    s +=
        llvm::formatv(
            "\nvoid muir_kernel_step_bf16(float *params, const uint16_t "
            "*grads,\n"
            "                           float *const *states, uint16_t "
            "*params_bf16,\n"
            "                           int64_t step, float lr_factor,\n"
            "                           float grad_scale,\n"
            "                           const muir_tensor_row_t *rows,\n"
            "                           uint64_t seed, int64_t begin,\n"
            "                           int64_t end) {{\n"
            "  muir_generated_step_bf16(params, grads, {0}, params_bf16, step, "
            "lr_factor, grad_scale, begin, end, rows, kNoUnitPartials, 0, "
            "(int64_t)seed);\n}\n\n"
            "void muir_kernel_step_telemetry_bf16(\n"
            "    float *params, const uint16_t *grads, float *const *states,\n"
            "    uint16_t *params_bf16, int64_t step, float lr_factor,\n"
            "    float grad_scale, const muir_tensor_row_t *rows, double "
            "*partials,\n"
            "    uint64_t seed, int64_t begin, int64_t end) {{\n"
            "  muir_generated_step_telemetry_bf16(params, grads, {0}, "
            "params_bf16, step, lr_factor, grad_scale, begin, end, rows, "
            "kNoUnitPartials, 0, partials, (int64_t)seed);\n}\n\n"
            "void muir_kernel_reduce_bf16(const uint16_t *grads, double "
            "*partials,\n"
            "                             int64_t first, int64_t slot_begin,\n"
            "                             int64_t slot_end) {{\n"
            "  muir_generated_reduce_bf16(grads, partials, slot_begin, "
            "slot_end, "
            "first);\n}\n",
            stateArgs)
            .str();
  return s;
}

/// The kernels' table for the manifest: the values every state starts
/// with (muir_kernel_param_t and muir_tensor_row_t).
static llvm::json::Object tableJson(const KernelTable &table) {
  llvm::json::Array params, rows;
  for (auto [k, op] : llvm::zip(table.params, table.ops)) {
    const KernelParam &p = k;
    params.push_back(
        llvm::json::Object{{"name", ParamOp(op).getName()},
                           {"param", p.param},
                           {"offset", p.offset},
                           {"stride", p.stride},
                           {"numel", p.numel},
                           {"copies", p.copies},
                           {"first_chunk", p.firstChunk},
                           {"chunks_per_copy", p.chunksPerCopy},
                           {"first_slot", p.firstSlot},
                           {"slots_per_copy", p.slotsPerCopy},
                           {"chunks_per_slot", p.chunksPerSlot},
                           {"init", stringifyInitKind(InitKind(p.init))},
                           {"first_row", p.firstRow},
                           {"row_stride", p.rowStride},
                           {"unit_elements", p.unitElements},
                           {"first_unit", p.firstUnit}});
  }
  for (const TensorRow &r : table.rows)
    rows.push_back(llvm::json::Object{{"lr", r.lr},
                                      {"weight_decay", r.weightDecay},
                                      {"eps", r.eps},
                                      {"beta1", r.beta1},
                                      {"beta2", r.beta2},
                                      {"init_scale", r.initScale}});
  return llvm::json::Object{{"chunk_elements", kChunkElements},
                            {"chunks", table.chunks},
                            {"slots", table.slots},
                            {"units", table.units},
                            {"params", std::move(params)},
                            {"rows", std::move(rows)}};
}

/// The bytes per parameter of the package's mode (docs/Optimizers.md):
/// `memory`, the flat buffers a state holds (params and every state f32,
/// grads f32 or bf16, plus the bf16 copy), and `step`, what one step reads
/// and writes (params and the per-element states read and written, the
/// grads read, the bf16 copy written; LionAR's per-unit state is a few
/// values per row and not counted).
static llvm::json::Object bytesPerParam(const OptimizerInfo &optimizer,
                                        bool bf16) {
  int64_t states = optimizer.numStates;
  // LionAR's second state holds two values per unit: memory, not traffic.
  int64_t elementStates =
      optimizer.abiCode == MUIR_OPT_LION_AR ? states - 1 : states;
  int64_t grads = bf16 ? 2 : 4, copy = bf16 ? 2 : 0;
  return llvm::json::Object{{"memory", 4 + grads + copy + 4 * states},
                            {"step", 8 + grads + copy + 8 * elementStates}};
}

/// A C literal for a constant; fails for NaN and infinities, which C has no
/// literal for (the header would not compile).
static FailureOr<std::string> cNumber(double value) {
  if (!std::isfinite(value))
    return failure();
  return muir::formatG(value, 17);
}

/// The header a C/C++ trainer includes: the ABI plus named constants.
/// Parameter names reach C only escaped (commentText) or as macro names
/// (macroName), which can collide: `a.b` and `a_b` are both A_B. A collision
/// is an error naming both parameters, since code using one name would
/// silently get the other's offsets.
static FailureOr<std::string>
headerSource(ModelOp model, ArrayRef<Entry> entries, const Forward &forward,
             const OptimizerInfo &optimizer, StringRef optimizerSpec,
             const KernelTable &table, int64_t elements, int64_t alignment,
             StringRef hash, bool bf16) {
  std::string s =
      llvm::formatv(
          "/* Generated by muirc package for model @{0}. */\n"
          "#ifndef MUIR_PACKAGE_{1}_H\n#define MUIR_PACKAGE_{1}_H\n\n"
          "#include \"package_abi.h\"\n\n"
          "#define MUIR_MODEL {8}\n"
          "/* Compare with the opened package: muir_package_check_hash(). */\n"
          "#define MUIR_PACKAGE_HASH \"{7}\"\n"
          "#define MUIR_OPTIMIZER {2}\n"
          "#define MUIR_OPTIMIZER_SPEC {13}\n"
          "#define MUIR_NUM_STATES {3}\n"
          "#define MUIR_BUFFER_ELEMENTS {4}LL\n"
          "#define MUIR_ALIGNMENT {5}\n"
          "#define MUIR_NUM_PARAMS {6}\n"
          "#define MUIR_NUM_KERNEL_PARAMS {9}\n"
          "#define MUIR_NUM_TENSOR_ROWS {10}\n"
          "#define MUIR_NUM_CHUNKS {11}LL\n"
          "#define MUIR_NUM_SLOTS {12}LL\n"
          "#define MUIR_NUM_UNITS {14}LL\n"
          "#define MUIR_PRECISION {15}\n\n",
          commentText(model.getSymName()), macroName(model.getSymName()),
          cString(optimizer.name), optimizer.numStates, elements, alignment,
          entries.size(), hash.str(), cString(model.getSymName()),
          table.params.size(), table.rows.size(), table.chunks, table.slots,
          cString(optimizerSpec), table.units,
          bf16 ? "MUIR_PRECISION_BF16" : "MUIR_PRECISION_FP32")
          .str();
  // Which parameter defined each macro.
  llvm::StringMap<StringRef> owners;
  bool collided = false;
  auto define = [&](const Entry &e, const std::string &macro,
                    const std::string &value) {
    auto [it, inserted] = owners.try_emplace(macro, e.info.name);
    if (!inserted && !collided) {
      collided = true;
      model.emitError() << "parameters '" << it->second << "' and '"
                        << e.info.name << "' both give the C macro " << macro
                        << " in muir_package.h; rename one of them";
    }
    s += "#define " + macro + " " + value + "\n";
  };
  for (auto [i, e] : llvm::enumerate(entries)) {
    std::string m = "MUIR_PARAM_" + macroName(e.info.name);
    s += llvm::formatv("/* {0} ({1}) */\n", commentText(e.info.name),
                       commentText(e.role))
             .str();
    define(e, m + "_INDEX", std::to_string(i));
    define(e, m + "_OFFSET", std::to_string(e.offset) + "LL");
    define(e, m + "_NUMEL", std::to_string(e.numel) + "LL");
    define(e, m + "_COPIES", std::to_string(e.copies));
    define(e, m + "_STRIDE", std::to_string(e.stride) + "LL");
    // Its entry and rows in the kernels' table (none for a tied parameter).
    for (auto [k, entry] : llvm::enumerate(table.params))
      if (entry.param == int64_t(i)) {
        define(e, m + "_KERNEL_PARAM", std::to_string(k));
        define(e, m + "_FIRST_ROW", std::to_string(entry.firstRow));
        define(e, m + "_ROWS",
               std::to_string(entry.rowStride ? entry.copies : 1));
      }
    ValuesAttr values =
        tpDialect(e.info.op).getValuesAttrHelper().getAttr(e.info.op);
    for (Quantity q : allEnumValues<Quantity>()) {
      DenseF64ArrayAttr numbers = values ? values.getValue(q) : nullptr;
      if (!numbers)
        continue;
      StringRef quantity = stringifyQuantity(q);
      std::string macro = m + "_" + macroName(quantity);
      SmallVector<std::string> literals;
      for (double x : numbers.asArrayRef()) {
        FailureOr<std::string> literal = cNumber(x);
        if (failed(literal))
          return model.emitError()
                 << "parameter '" << e.info.name << "' has " << quantity
                 << " = " << x << ", which is not a finite number";
        literals.push_back(*literal);
      }
      define(e, macro,
             literals.size() == 1 ? literals.front()
                                  : "{" + llvm::join(literals, ", ") + "}");
    }
  }
  // The forward multipliers besides each parameter's own _MULTIPLIER
  // (applied at every use of the parameter: W = multiplier * w).
  s +=
      llvm::formatv("\n/* Residual branches: in block l, stream + "
                    "MUIR_RESIDUAL_<k>_MULTIPLIER[l] * branch (one number when "
                    "every block has the same). */\n"
                    "#define MUIR_NUM_RESIDUALS {0}\n",
                    forward.residuals.size())
          .str();
  for (auto [k, r] : llvm::enumerate(forward.residuals))
    s += llvm::formatv("#define MUIR_RESIDUAL_{0}_NAME {1}\n"
                       "#define MUIR_RESIDUAL_{0}_COPIES {2}\n"
                       "#define MUIR_RESIDUAL_{0}_MULTIPLIER {3}\n",
                       k, cString(r.name), r.copies,
                       headerValue(forward.residualMultipliers[k]))
             .str();
  s += llvm::formatv("/* Attention logits: softmax(MUIR_ATTENTION_<k>_SCALE * "
                     "q.k) over each head. */\n"
                     "#define MUIR_NUM_ATTENTIONS {0}\n",
                     forward.attentions.size())
           .str();
  for (auto [k, a] : llvm::enumerate(forward.attentions))
    s += llvm::formatv("#define MUIR_ATTENTION_{0}_NAME {1}\n"
                       "#define MUIR_ATTENTION_{0}_SCALE {2}\n",
                       k, cString(a.name), muir::formatG(a.scale, 17))
             .str();
  if (collided)
    return failure();
  s += "\n#endif\n";
  return s;
}

/// The package's identity (MUIR_PACKAGE_HASH_LENGTH in package_abi.h):
/// SHA-256 over what determines its kernels and table: the ABI version, the
/// target (the resolved CPU name, CUDA or not) and the laid-out, instantiated
/// module (model, layout, constants) in MLIR's generic form.
static std::string packageHash(ModuleOp module, const PackageOptions &options,
                               bool gpu) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "muir package\nabi " << MUIR_PACKAGE_ABI_VERSION << "\ncpu "
     << (options.cpu == "native" ? llvm::sys::getHostCPUName()
                                 : StringRef(options.cpu))
     << "\ngpu " << gpu << "\n";
  // fp32 packages keep the hashes they had before precisions existed.
  if (options.precision != "fp32")
    os << "precision " << options.precision << "\n";
  module->print(os, OpPrintingFlags().printGenericOpForm());
  llvm::SHA256 sha;
  sha.update(text);
  return llvm::toHex(sha.final(), /*LowerCase=*/true);
}

/// Names go into C strings, where a NUL byte would cut them short, and into
/// JSON, which holds only UTF-8: either would make the manifest and the
/// table disagree. Everything else is escaped where it is written.
static LogicalResult checkName(Operation *at, StringRef what, StringRef name) {
  if (name.contains('\0'))
    return at->emitError() << what << " '" << llvm::json::fixUTF8(name)
                           << "' contains a NUL byte";
  if (!llvm::json::isUTF8(name))
    return at->emitError() << what << " '" << llvm::json::fixUTF8(name)
                           << "' is not valid UTF-8";
  return success();
}

// The CPU is checked before any work is done: LLVM only warns about an
// unknown one, and may abort in codegen.
LogicalResult mlir::tp::checkPackageOptions(const PackageOptions &options,
                                            OptionErrorFn report) {
  bool ok = options.precision == "fp32" || options.precision == "bf16";
  if (!ok)
    report("precision", "'" + options.precision + "' is not fp32 or bf16");
  if (options.cpu == "native")
    return success(ok);
  llvm::InitializeNativeTarget();
  llvm::Triple triple(llvm::sys::getProcessTriple());
  std::string error;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  std::unique_ptr<llvm::MCSubtargetInfo> generic(
      target ? target->createMCSubtargetInfo(triple, "generic", "") : nullptr);
  if (generic && generic->isCPUStringValid(options.cpu))
    return success(ok);
  report("cpu", "'" + options.cpu + "' is not a CPU of " + triple.str() +
                    " (llc -mcpu=help lists them)");
  return failure();
}

/// Lowers the kernel functions of `kernels` to an object file at `path`.
static LogicalResult emitObject(ModuleOp kernels, StringRef path,
                                const PackageOptions &options) {
  PassManager pm(kernels.getContext());
  buildLowerToCPUPipeline(pm);
  if (failed(pm.run(kernels)))
    return failure();

  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  DialectRegistry registry;
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  kernels.getContext()->appendDialectRegistry(registry);
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(kernels, llvmContext, "muir_kernels");
  if (!llvmModule)
    return kernels.emitError() << "translation to LLVM IR failed";

  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder)
    return kernels.emitError() << "cannot target this machine: "
                               << llvm::toString(builder.takeError());
  if (options.cpu != "native") {
    builder->setCPU(options.cpu);
    builder->setFeatures("");
  }
  builder->setRelocationModel(llvm::Reloc::PIC_);
  builder->setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  auto machine = builder->createTargetMachine();
  if (!machine)
    return kernels.emitError()
           << "cannot create a target machine for CPU '" << options.cpu
           << "': " << llvm::toString(machine.takeError());
  llvmModule->setDataLayout((*machine)->createDataLayout());
  llvmModule->setTargetTriple((*machine)->getTargetTriple());
  for (llvm::Function &f : *llvmModule)
    if (!f.isDeclaration()) {
      f.addFnAttr("target-cpu", (*machine)->getTargetCPU());
      f.addFnAttr("target-features", (*machine)->getTargetFeatureString());
    }
  auto optimize = makeOptimizingTransformer(3, 0, machine->get());
  if (llvm::Error e = optimize(llvmModule.get()))
    return kernels.emitError()
           << "LLVM optimisation failed: " << llvm::toString(std::move(e));

  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec, llvm::sys::fs::OF_None);
  if (ec)
    return kernels.emitError()
           << "cannot write " << path << ": " << ec.message();
  llvm::legacy::PassManager codegen;
  if ((*machine)->addPassesToEmitFile(codegen, out, nullptr,
                                      llvm::CodeGenFileType::ObjectFile))
    return kernels.emitError() << "this target cannot emit object files";
  codegen.run(*llvmModule);
  return success();
}

/// The C compiler that links the library.
static std::string findCompiler(const PackageOptions &options) {
  if (!options.cc.empty())
    return options.cc;
  if (const char *env = std::getenv("MUIR_PACKAGE_CC"))
    return env;
  for (const char *name : {"clang-22", "clang", "cc"})
    if (auto path = llvm::sys::findProgramByName(name))
      return *path;
  return "";
}

/// ptxas: $MUIR_PTXAS if set (empty or not executable: none), else
/// $CUDA_HOME/bin (and the other toolkit variables, then /usr/local/cuda),
/// else PATH. Empty if there is none.
static std::string findPtxas() {
  if (const char *env = std::getenv("MUIR_PTXAS"))
    return llvm::sys::fs::can_execute(env) ? env : "";
  std::string toolkit = findCudaToolkit();
  if (!toolkit.empty()) {
    SmallString<256> path(toolkit);
    llvm::sys::path::append(path, "bin", "ptxas");
    if (llvm::sys::fs::can_execute(path))
      return std::string(path);
  }
  if (auto path = llvm::sys::findProgramByName("ptxas"))
    return *path;
  return "";
}

/// The chips the package has cubins for (the PTX targets the first).
static constexpr const char *kCubinChips[] = {"sm_80", "sm_90"};

/// Lowers the gpu.module of `kernels` to PTX, writes kernels.ptx and
/// assembles it with `ptxas` for every chip of kCubinChips.
static LogicalResult emitCuda(ModuleOp kernels, StringRef dir,
                              StringRef ptxas) {
  for (func::FuncOp f :
       llvm::make_early_inc_range(kernels.getOps<func::FuncOp>()))
    f.erase();
  LowerToNVVMOptions options;
  options.chip = kCubinChips[0];
  // libdevice from the toolkit that holds this ptxas (<toolkit>/bin/ptxas).
  options.toolkit =
      llvm::sys::path::parent_path(llvm::sys::path::parent_path(ptxas)).str();
  PassManager pm(kernels.getContext());
  buildLowerToNVVMPipeline(pm, options);
  if (failed(pm.run(kernels)))
    return failure();
  std::string ptx;
  kernels.walk([&](gpu::BinaryOp binary) {
    for (Attribute a : binary.getObjects())
      if (auto object = dyn_cast<gpu::ObjectAttr>(a))
        ptx = object.getObject().str();
  });
  if (ptx.empty())
    return kernels.emitError() << "the GPU lowering produced no PTX";
  if (StringRef(ptx).contains("__nv_"))
    return kernels.emitError()
           << "the PTX calls libdevice functions that were not linked; is "
           << options.toolkit << "/nvvm/libdevice/libdevice.10.bc there?";
  SmallString<256> ptxPath(dir);
  llvm::sys::path::append(ptxPath, "kernels.ptx");
  if (failed(writeFile(kernels, ptxPath, ptx)))
    return failure();
  for (const char *chip : kCubinChips) {
    SmallString<256> cubin(dir);
    llvm::sys::path::append(cubin, std::string("kernels.") + chip + ".cubin");
    SmallVector<StringRef> args = {ptxas,   "-arch", chip, "-O3",
                                   ptxPath, "-o",    cubin};
    std::string error;
    int rc =
        llvm::sys::ExecuteAndWait(ptxas, args, std::nullopt, {}, 0, 0, &error);
    if (rc != 0)
      return kernels.emitError()
             << "ptxas -arch " << chip << " " << ptxPath << " failed (exit "
             << rc << ")" << (error.empty() ? "" : ": " + error);
  }
  return success();
}

LogicalResult mlir::tp::writePackage(ModuleOp module, StringRef dir,
                                     const PackageOptions &options) {
  SmallVector<ModelOp> models(module.getOps<ModelOp>());
  if (models.size() != 1)
    return module.emitError()
           << "a package holds exactly one tp.model, found " << models.size();
  ModelOp model = models.front();
  TPDialect &tp = tpDialect(model);
  BufferAttr buffer = tp.getBufferAttrHelper().getAttr(model);
  ParametrizationAttr parametrization =
      tp.getParametrizationAttrHelper().getAttr(model);
  if (!buffer || !parametrization)
    return model.emitError() << "a package needs an instantiated, laid-out "
                                "model; run tp-parametrize, tp-instantiate "
                                "and tp-assign-layout first";
  int64_t elements = buffer.getElements();
  int64_t alignment = buffer.getAlignment();
  llvm::Expected<OptimizerSpec> spec = readOptimizerSpec(parametrization);
  if (!spec)
    return model.emitError() << llvm::toString(spec.takeError());
  const OptimizerInfo &optimizer = lookupOptimizer(spec->optimizer);
  std::string specText = spec->str(/*all=*/true);

  if (failed(checkPackageOptions(
          options, [&](StringRef option, const Twine &problem) {
            model.emitError() << option << " " << problem;
          })))
    return failure();
  if (failed(checkName(model, "model name", model.getSymName())))
    return failure();

  // The kernels' table; its limits are checked before anything is written.
  FailureOr<KernelTable> table = planKernelTable(model, *spec);
  if (failed(table))
    return failure();

  FailureOr<std::vector<ParamInfo>> params = collectParams(model);
  if (failed(params))
    return failure();
  for (const ParamInfo &p : *params)
    if (failed(checkName(p.op, "parameter name", p.name)))
      return failure();
  std::vector<Entry> entries;
  llvm::json::Array layout;
  for (ParamInfo &p : *params) {
    Entry e;
    LayoutAttr l = tp.getLayoutAttrHelper().getAttr(p.op);
    RoleAttr role = tp.getRoleAttrHelper().getAttr(p.op);
    if (!l || !role)
      return p.op.emitOpError() << "has no tp.layout or tp.role";
    e.offset = l.getOffset();
    e.stride = l.getStride();
    e.numel = l.getNumel();
    e.copies = l.getCopies();
    e.role = stringifyRole(role.getValue()).str();
    if (std::optional<StringRef> tied = p.op.getTied())
      e.tiedTo = tied->str();
    if (p.shape.size() > MUIR_MAX_RANK)
      return p.op.emitOpError() << "has rank " << p.shape.size()
                                << "; packages support up to " << MUIR_MAX_RANK;
    layout.push_back(llvm::json::Object{
        {"name", p.name},
        {"offset", e.offset},
        {"stride", e.stride},
        {"numel", e.numel},
        {"copies", e.copies},
        {"shape", llvm::json::Array(p.shape)},
        {"tied_to", e.tiedTo.empty() ? llvm::json::Value(nullptr)
                                     : llvm::json::Value(e.tiedTo)}});
    FailureOr<std::vector<double>> multiplier =
        multiplierPerCopy(p.op, e.copies);
    if (failed(multiplier))
      return failure();
    e.multiplier = std::move(*multiplier);
    e.info = std::move(p);
    entries.push_back(std::move(e));
  }
  FailureOr<ForwardTable> forwardTable =
      collectForwardTable(model, ModelIndex(model));
  if (failed(forwardTable))
    return failure();
  Forward forward{std::move(*forwardTable), {}};
  for (const ResidualInfo &r : forward.residuals) {
    FailureOr<std::vector<double>> m = multiplierPerCopy(r.op, r.copies);
    if (failed(m))
      return failure();
    forward.residualMultipliers.push_back(std::move(*m));
  }

  std::string ptxas;
  if (options.gpu != PackageOptions::GPU::off) {
    ptxas = findPtxas();
    if (ptxas.empty() && options.gpu == PackageOptions::GPU::on)
      return model.emitError()
             << "--gpu needs ptxas: set CUDA_HOME to a CUDA toolkit or put "
                "ptxas on PATH";
    if (ptxas.empty())
      llvm::errs() << "muirc: note: ptxas not found (set CUDA_HOME or put "
                      "it on PATH); the package has CPU kernels only\n";
  }
  bool gpu = !ptxas.empty();
  bool bf16 = options.precision == "bf16";

  // The report, as the manifest's core.
  FailureOr<llvm::json::Value> report = getReportJson(model);
  if (failed(report))
    return failure();
  llvm::json::Object kernelsEntry{
      {"cpu_library", "libmuir_kernels.so"},
      {"init", "void muir_kernel_init(float *params, uint64_t seed, "
               "int64_t begin, int64_t end)"},
      {"step", "void muir_kernel_step(float *params, const float "
               "*grads, float *const *states, int64_t step, float "
               "lr_factor, float grad_scale)"},
      {"step_rows",
       "void muir_kernel_step_rows(float *params, const float *grads, "
       "float *const *states, int64_t step, float lr_factor, float "
       "grad_scale, const muir_tensor_row_t *rows)"},
      {"step_telemetry",
       "void muir_kernel_step_telemetry(float *params, const float *grads, "
       "float *const *states, int64_t step, float lr_factor, float "
       "grad_scale, const muir_tensor_row_t *rows, double *partials, "
       "int64_t begin, int64_t end, const double *unit_partials)"},
      {"reduce", "void muir_kernel_reduce(const float *grads, double "
                 "*partials, int64_t slot_begin, int64_t slot_end)"},
      {"init_shard", "void muir_kernel_init_shard(float *params, uint64_t "
                     "seed, int64_t first, int64_t begin, int64_t end)"},
      {"step_shard",
       "void muir_kernel_step_shard(float *params, const float *grads, "
       "float *const *states, int64_t step, float lr_factor, float "
       "grad_scale, const muir_tensor_row_t *rows, int64_t begin, int64_t "
       "end, const double *unit_partials)"},
      {"reduce_shard",
       "void muir_kernel_reduce_shard(const float *grads, double *partials, "
       "int64_t first, int64_t slot_begin, int64_t slot_end)"},
      {"reduce_units",
       "void muir_kernel_reduce_units(float *params, const float *grads, "
       "float *const *states, int64_t step, float lr_factor, float "
       "grad_scale, const muir_tensor_row_t *rows, double *unit_partials, "
       "int64_t first, int64_t slot_begin, int64_t slot_end)"}};
  if (bf16) {
    kernelsEntry["step_bf16"] =
        "void muir_kernel_step_bf16(float *params, const uint16_t *grads, "
        "float *const *states, uint16_t *params_bf16, int64_t step, float "
        "lr_factor, float grad_scale, const muir_tensor_row_t *rows, "
        "uint64_t seed, int64_t begin, int64_t end)";
    kernelsEntry["step_telemetry_bf16"] =
        "void muir_kernel_step_telemetry_bf16(float *params, const uint16_t "
        "*grads, float *const *states, uint16_t *params_bf16, int64_t step, "
        "float lr_factor, float grad_scale, const muir_tensor_row_t *rows, "
        "double *partials, uint64_t seed, int64_t begin, int64_t end)";
    kernelsEntry["reduce_bf16"] =
        "void muir_kernel_reduce_bf16(const uint16_t *grads, double "
        "*partials, int64_t first, int64_t slot_begin, int64_t slot_end)";
  }
  if (gpu) {
    llvm::json::Object cubins;
    for (const char *chip : kCubinChips)
      cubins[chip] = std::string("kernels.") + chip + ".cubin";
    kernelsEntry["cuda_ptx"] = "kernels.ptx";
    kernelsEntry["cuda_ptx_target"] = kCubinChips[0];
    kernelsEntry["cuda_cubins"] = std::move(cubins);
    kernelsEntry["cuda_init"] =
        "muir_init_kernel(float *params, uint64_t seed, int64_t begin, "
        "int64_t end, int64_t first)";
    kernelsEntry["cuda_step"] =
        "muir_step_kernel(float *params, const float *grads, float *state0, "
        "float *state1, int64_t step, float lr_factor, float grad_scale, "
        "int64_t first, int64_t chunk_begin, int64_t chunk_end, int64_t end, "
        "const double *unit_partials, int64_t from_unit_partials)";
    kernelsEntry["cuda_reduce"] =
        "muir_reduce_kernel(const float *grads, double *partials, int64_t "
        "first, int64_t slot_begin), one block per slot";
    if (table->units > 0)
      kernelsEntry["cuda_reduce_units"] =
          "muir_reduce_units_kernel(float *params, const float *grads, float "
          "*state0, float *state1, int64_t step, float lr_factor, float "
          "grad_scale, double *unit_partials, int64_t first, int64_t "
          "slot_begin, int64_t slot_end), one thread per slot";
    if (bf16) {
      kernelsEntry["cuda_step_bf16"] =
          "muir_step_bf16_kernel(float *params, const uint16_t *grads, float "
          "*state0, float *state1, uint16_t *params_bf16, int64_t step, float "
          "lr_factor, float grad_scale, uint64_t seed, int64_t first, int64_t "
          "chunk_begin, int64_t chunk_end, int64_t end, const double "
          "*unit_partials, int64_t from_unit_partials)";
      kernelsEntry["cuda_reduce_bf16"] =
          "muir_reduce_bf16_kernel(const uint16_t *grads, double *partials, "
          "int64_t first, int64_t slot_begin), one block per slot";
    }
  }
  std::string hash = packageHash(module, options, gpu);
  llvm::json::Object manifest{
      {"abi_version", MUIR_PACKAGE_ABI_VERSION},
      {"package_hash", hash},
      {"model", model.getSymName()},
      {"optimizer", optimizer.name},
      {"optimizer_spec", specText},
      {"precision", options.precision},
      {"bytes_per_param", bytesPerParam(optimizer, bf16)},
      {"report", std::move(*report)},
      {"layout", llvm::json::Object{{"element_type", "f32"},
                                    {"buffer_elements", elements},
                                    {"alignment_bytes", alignment},
                                    {"num_states", optimizer.numStates},
                                    {"params", std::move(layout)}}},
      {"kernels", std::move(kernelsEntry)},
      {"kernel_table", tableJson(*table)}};

  // Everything is written into a staging directory beside `dir` and renamed
  // into place at the end, manifest.json last: a run that fails or is killed
  // leaves the previous package as it was.
  llvm::Expected<muir::StagedDirectory> staged =
      muir::StagedDirectory::create(dir, isPackageFile);
  if (!staged)
    return model.emitError() << llvm::toString(staged.takeError());
  StringRef stage = staged->path();
  auto at = [&](StringRef name) {
    SmallString<256> p(stage);
    llvm::sys::path::append(p, name);
    return std::string(p);
  };
  std::string manifestText;
  llvm::raw_string_ostream manifestOs(manifestText);
  manifestOs << llvm::formatv("{0:2}", llvm::json::Value(std::move(manifest)))
             << "\n";
  FailureOr<std::string> header =
      headerSource(model, entries, forward, optimizer, specText, *table,
                   elements, alignment, hash, bf16);
  if (failed(header) ||
      failed(writeFile(model, at("package_abi.h"), kPackageAbiText)) ||
      failed(writeFile(model, at("muir_package.h"), *header)) ||
      failed(writeFile(model, at("package_table.c"),
                       tableSource(model, entries, forward, optimizer, specText,
                                   *table, elements, alignment, hash, bf16))))
    return failure();

  // Kernels: generate on a clone, drop the model, lower, compile.
  OwningOpRef<ModuleOp> kernels = module.clone();
  {
    PassManager pm(module.getContext());
    ConvertTPToKernelsOptions convert;
    convert.gpu = gpu;
    convert.precision = options.precision;
    pm.addPass(createConvertTPToKernels(convert));
    if (failed(pm.run(*kernels)))
      return failure();
    for (ModelOp m : llvm::make_early_inc_range(kernels->getOps<ModelOp>()))
      m.erase();
  }
  if (gpu) {
    OwningOpRef<ModuleOp> cuda = kernels->clone();
    if (failed(emitCuda(*cuda, stage, ptxas)))
      return failure();
    for (auto m :
         llvm::make_early_inc_range(kernels->getOps<gpu::GPUModuleOp>()))
      m.erase();
    (*kernels)->removeAttr(gpu::GPUDialect::getContainerModuleAttrName());
  }
  if (failed(emitObject(*kernels, at("kernels.o"), options)))
    return failure();

  std::string cc = findCompiler(options);
  if (cc.empty())
    return model.emitError() << "no C compiler to link the package; install "
                                "clang-22 or set MUIR_PACKAGE_CC";
  std::string library = at("libmuir_kernels.so"),
              tableC = at("package_table.c"), object = at("kernels.o"),
              include = "-I" + stage.str();
  SmallVector<StringRef> args = {cc,      "-shared", "-fPIC", "-O2", "-std=c11",
                                 "-Wall", "-Werror", include, "-o",  library,
                                 tableC,  object,    "-lm"};
  std::string error;
  int rc = llvm::sys::ExecuteAndWait(cc, args, std::nullopt, {}, 0, 0, &error);
  if (rc != 0)
    return model.emitError()
           << "linking " << library << " with " << cc << " failed (exit " << rc
           << ")" << (error.empty() ? "" : ": " + error);
  llvm::sys::fs::remove(object);
  if (failed(writeFile(model, at("manifest.json"), manifestText)))
    return failure();
  if (llvm::Error e = staged->commit(isPackageFile))
    return model.emitError() << llvm::toString(std::move(e));
  return success();
}
