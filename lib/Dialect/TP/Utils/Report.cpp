//===- Report.cpp - The parametrisation report of a model -----------------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The report reads everything from the IR (tp.parametrization, tp.instance,
// tp.role, tp.scaling, tp.values): what a person or a program sees is what
// the kernels will be built from.
//
//===----------------------------------------------------------------------===//

#include "muir/Dialect/TP/Utils/Report.h"
#include "muir/Dialect/TP/Utils/ForwardTable.h"
#include "muir/Dialect/TP/Utils/ParamTable.h"
#include "muir/Dialect/TP/Utils/Parametrization.h"
#include "muir/Support/Format.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InterleavedRange.h"
#include "llvm/Support/JSON.h"

using namespace mlir;
using namespace mlir::tp;
using muir::formatG;
namespace json = llvm::json;

/// Quantities in report order.
static constexpr const char *kQuantities[] = {
    "init_std", "multiplier", "lr", "weight_decay", "eps", "beta1", "beta2"};

namespace {
/// One instantiated quantity: a value (or one per block) and its monomial.
struct QuantityValue {
  std::vector<double> values;
  ScaleAttr scale;
};

struct Row {
  ParamInfo info;
  std::string module, leaf, role;
  std::map<std::string, QuantityValue> quantities;
};

/// One residual branch multiplier (one value, or one per block).
struct Residual {
  ResidualInfo info;
  QuantityValue multiplier;
};

struct Report {
  std::string model, scheme, optimizer, alpha, initStdRule;
  /// The optimizer with the options that differ from its defaults, and
  /// with all of them.
  std::string optimizerSpec, optimizerSpecAll;
  bool unscaledEps = false;
  double ratios[4] = {1, 1, 1, 1};
  std::vector<std::pair<std::string, double>> base;
  double stepsMultiplier = 1;
  std::vector<Row> rows;
  std::vector<Residual> residuals;
  std::vector<AttentionInfo> attentions;
};
} // namespace

static std::vector<double> valuesOf(DenseF64ArrayAttr values) {
  if (!values)
    return {};
  return std::vector<double>(values.asArrayRef().begin(),
                             values.asArrayRef().end());
}

static FailureOr<Report> collect(ModelOp model) {
  TPDialect &tp = tpDialect(model);
  ParametrizationAttr parametrization =
      tp.getParametrizationAttrHelper().getAttr(model);
  InstanceAttr instance = tp.getInstanceAttrHelper().getAttr(model);
  if (!parametrization || !instance)
    return model.emitError()
           << "the report needs an instantiated model; run tp-parametrize "
              "and tp-instantiate first";
  Report r;
  r.model = model.getSymName().str();
  r.scheme = stringifyScheme(parametrization.getScheme()).str();
  r.optimizer = stringifyOptimizer(parametrization.getOptimizer()).str();
  llvm::Expected<OptimizerSpec> spec = readOptimizerSpec(parametrization);
  if (!spec)
    return model.emitError() << llvm::toString(spec.takeError());
  r.optimizerSpec = spec->str();
  r.optimizerSpecAll = spec->str(/*all=*/true);
  r.alpha = parametrization.getAlpha().str();
  r.ratios[0] = instance.getWidth().convertToDouble();
  r.ratios[1] = instance.getDepth().convertToDouble();
  r.ratios[2] = instance.getBatch().convertToDouble();
  r.ratios[3] = instance.getDuration().convertToDouble();
  ValuesAttr base = instance.getBase();
  for (Quantity q : {Quantity::lr, Quantity::init_std, Quantity::weight_decay,
                     Quantity::eps, Quantity::beta1, Quantity::beta2})
    r.base.push_back({stringifyQuantity(q).str(), base.at(q, 0, 1.0)});
  r.initStdRule = stringifyInitStdRule(instance.getInitStdRule()).str();
  r.unscaledEps = parametrization.getUnscaledEps();
  r.stepsMultiplier = instance.getStepsMultiplier().convertToDouble();

  FailureOr<std::vector<ParamInfo>> params = collectParams(model);
  if (failed(params))
    return failure();
  for (ParamInfo &info : *params) {
    Row row;
    StringRef name = info.name;
    size_t dot = name.rfind('.');
    row.module = dot == StringRef::npos ? "" : name.take_front(dot).str();
    row.leaf =
        dot == StringRef::npos ? name.str() : name.drop_front(dot + 1).str();
    auto role = tpDialect(info.op).getRoleAttrHelper().getAttr(info.op);
    ScalingAttr scaling = tp.getScalingAttrHelper().getAttr(info.op);
    ValuesAttr values = tp.getValuesAttrHelper().getAttr(info.op);
    if (!role || !scaling || !values)
      return info.op.emitOpError()
             << "has no instantiated values; run tp-parametrize and "
                "tp-instantiate first";
    row.role = stringifyRole(role.getValue()).str();
    for (Quantity q : allEnumValues<Quantity>())
      if (ScaleAttr scale = scaling.getScale(q))
        row.quantities[stringifyQuantity(q).str()] = {
            valuesOf(values.getValue(q)), scale};
    row.info = std::move(info);
    r.rows.push_back(std::move(row));
  }
  FailureOr<ForwardTable> forward =
      collectForwardTable(model, ModelIndex(model));
  if (failed(forward))
    return failure();
  for (ResidualInfo &info : forward->residuals) {
    ScalingAttr scaling = tp.getScalingAttrHelper().getAttr(info.op);
    ValuesAttr values = tp.getValuesAttrHelper().getAttr(info.op);
    ScaleAttr scale = scaling ? scaling.getMultiplier() : ScaleAttr();
    if (!scale || !values)
      return info.op.emitOpError()
             << "has no instantiated multiplier; run tp-parametrize and "
                "tp-instantiate first";
    r.residuals.push_back({info, {valuesOf(values.getMultiplier()), scale}});
  }
  r.attentions = std::move(forward->attentions);
  return r;
}

/// `N^-1/2 L^-1`, or `1` for the constant monomial.
static std::string formatScale(ScaleAttr s) {
  std::vector<std::string> parts;
  Rational exps[4] = {s.getWidth(), s.getDepth(), s.getBatch(),
                      s.getDuration()};
  const char *axes[] = {"N", "L", "B", "D"};
  for (int i = 0; i < 4; ++i)
    if (!exps[i].isZero())
      parts.push_back(std::string(axes[i]) + "^" + exps[i].str());
  return parts.empty() ? "1" : llvm::join(parts, " ");
}

static std::string formatValues(const std::vector<double> &v) {
  if (v.empty())
    return "-";
  if (v.size() == 1)
    return formatG(v.front(), 4);
  return formatG(v.front(), 4) + ".." + formatG(v.back(), 4);
}

static std::string shapeOf(const std::vector<int64_t> &shape) {
  return llvm::interleaved_array(shape).str();
}

/// The init std only applies to random inits.
static bool usesStd(const ParamInfo &info) {
  return info.init == "normal" || info.init == "trunc_normal" ||
         info.init == "uniform";
}

static void printHeader(const Report &r, llvm::raw_ostream &os,
                        const char *prefix) {
  os << llvm::formatv("{0}model @{1}: scheme {2}{3}, optimizer {4}\n", prefix,
                      r.model, r.scheme,
                      r.alpha.empty() ? "" : " (alpha " + r.alpha + ")",
                      r.optimizerSpec);
  os << llvm::formatv("{0}ratios: width {1}, depth {2}, batch {3}, duration "
                      "{4}; steps x{5}\n",
                      prefix, formatG(r.ratios[0], 4), formatG(r.ratios[1], 4),
                      formatG(r.ratios[2], 4), formatG(r.ratios[3], 4),
                      formatG(r.stepsMultiplier, 4));
  std::vector<std::string> base;
  for (auto &[k, v] : r.base) {
    if (k == "init_std" && r.initStdRule == "fan_in")
      base.push_back("init_std " + formatG(v, 4) + "/sqrt(fan_in)");
    else if (k == "eps" && r.unscaledEps)
      base.push_back("eps " + formatG(v, 4) + " (unscaled)");
    else
      base.push_back(k + " " + formatG(v, 4));
  }
  os << prefix << "base: " << llvm::join(base, ", ") << "\n";
  // Each forward multiplier once: a weight's is in its row, so the readout's
  // (the output multiplier) is named here, not repeated as a number.
  std::vector<std::string> readouts;
  for (const Row &row : r.rows)
    if (row.role == "unembedding")
      readouts.push_back(row.info.name);
  os << prefix << "forward: weights x the multiplier column at every use";
  if (!readouts.empty())
    os << " (the output multiplier is " << llvm::join(readouts, "'s, ")
       << "'s)";
  os << "\n";
  std::vector<std::string> branches;
  for (const Residual &res : r.residuals)
    branches.push_back(res.info.name + " x" +
                       formatValues(res.multiplier.values));
  os << prefix << "  residual branches: "
     << (branches.empty() ? "none" : llvm::join(branches, ", ")) << "\n";
  std::vector<std::string> attention;
  for (const AttentionInfo &a : r.attentions)
    attention.push_back(a.rule.empty() ? a.name + " unscaled"
                                       : a.name + " x" + formatG(a.scale, 4) +
                                             (a.rule == "inv_head_dim"
                                                  ? " (1/d_head)"
                                                  : " (1/sqrt(d_head))"));
  os << prefix << "  attention logits: "
     << (attention.empty() ? "none" : llvm::join(attention, ", ")) << "\n";
}

/// Table cells of one row: value and, beside it, its monomial.
static std::vector<std::string> cells(const Row &row, bool withModule) {
  std::vector<std::string> c;
  if (withModule)
    c.push_back(row.module);
  c.push_back(row.leaf);
  c.push_back(row.role);
  std::string shape = shapeOf(row.info.shape);
  if (ParamOp(row.info.op).isRepeated())
    shape = std::to_string(row.info.copies) + " x " + shape;
  c.push_back(shape);
  c.push_back(row.info.init);
  for (const char *q : kQuantities) {
    auto it = row.quantities.find(q);
    if (it == row.quantities.end() ||
        (std::string(q) == "init_std" && !usesStd(row.info))) {
      c.push_back("-");
      continue;
    }
    c.push_back(formatValues(it->second.values) + " (" +
                formatScale(it->second.scale) + ")");
  }
  return c;
}

static const std::vector<std::string> kColumns = {
    "parameter", "role",         "shape", "init",  "init_std", "multiplier",
    "lr",        "weight_decay", "eps",   "beta1", "beta2"};

static void printTable(const Report &r, llvm::raw_ostream &os) {
  printHeader(r, os, "");
  muir::Columns columns;
  columns.addRow(kColumns);
  for (const Row &row : r.rows)
    columns.addRow(cells(row, /*withModule=*/false));
  os << "\n";
  columns.printRow(os, 0, "  ");
  std::string module = "\x01";
  for (size_t i = 0; i < r.rows.size(); ++i) {
    if (r.rows[i].module != module) {
      module = r.rows[i].module;
      os << (module.empty() ? "(top level)" : module) << "\n";
    }
    columns.printRow(os, i + 1, "  ");
  }
  os << "\nexponents in parentheses: N width, L depth, B batch, D duration "
        "ratio; beta columns scale 1-beta\n";
}

static void printMarkdown(const Report &r, llvm::raw_ostream &os) {
  os << "### Parametrisation report\n\n";
  printHeader(r, os, "- ");
  os << "\n| module | " << llvm::join(kColumns, " | ") << " |\n|";
  for (size_t i = 0; i <= kColumns.size(); ++i)
    os << " --- |";
  os << "\n";
  for (const Row &row : r.rows)
    os << "| " << llvm::join(cells(row, /*withModule=*/true), " | ") << " |\n";
}

static json::Value exponentsJson(ScaleAttr s) {
  auto rational = [](Rational r) -> json::Value {
    if (r.den == 1)
      return r.num;
    return r.str();
  };
  return json::Object{{"width", rational(s.getWidth())},
                      {"depth", rational(s.getDepth())},
                      {"batch", rational(s.getBatch())},
                      {"duration", rational(s.getDuration())}};
}

static json::Value valuesJson(const std::vector<double> &v) {
  if (v.size() == 1)
    return v.front();
  json::Array a;
  for (double d : v)
    a.push_back(d);
  return a;
}

/// Where each forward multiplier applies, stated once.
static constexpr const char *kAppliesWeights =
    "every use of a parameter reads multiplier * w, with the multiplier of "
    "params[].multiplier (one per block for a repeated parameter); a tied "
    "parameter's own multiplier applies at its own use. The readout's is "
    "the output multiplier and the embedding's the embedding multiplier: "
    "apply each once";
static constexpr const char *kAppliesResiduals =
    "each tp.residual computes stream + multiplier * branch; in block l of "
    "its tp.repeat a per-block list gives multiplier[l]";
static constexpr const char *kAppliesAttention =
    "each tp.attention computes softmax(scale * q.k) over every head";

static json::Value forwardJson(const Report &r) {
  json::Array residuals, attention;
  for (const Residual &res : r.residuals)
    residuals.push_back(
        json::Object{{"name", res.info.name},
                     {"depth", res.info.depth},
                     {"index_in_block", res.info.indexInBlock},
                     {"copies", res.info.copies},
                     {"multiplier", valuesJson(res.multiplier.values)},
                     {"exponents", exponentsJson(res.multiplier.scale)}});
  for (const AttentionInfo &a : r.attentions)
    attention.push_back(json::Object{
        {"name", a.name},
        {"head_dim", a.headDim},
        {"head_dim_size", a.headDimSize},
        {"rule", a.rule.empty() ? json::Value(nullptr) : json::Value(a.rule)},
        {"scale", a.scale}});
  return json::Object{
      {"applies", json::Object{{"weights", kAppliesWeights},
                               {"residuals", kAppliesResiduals},
                               {"attention", kAppliesAttention}}},
      {"residuals", std::move(residuals)},
      {"attention", std::move(attention)}};
}

/// The report in the schema of `--format json` and the manifest.
static json::Value toJson(const Report &r) {
  json::Object base;
  for (auto &[k, v] : r.base)
    base[k] = v;
  base["init_std_rule"] = r.initStdRule.empty() ? "fixed" : r.initStdRule;
  base["eps_rule"] = r.unscaledEps ? "unscaled" : "gradient";
  json::Array params;
  for (const Row &row : r.rows) {
    json::Object p{{"name", row.info.name},
                   {"module", row.module},
                   {"role", row.role},
                   {"dims", json::Array(row.info.dims)},
                   {"shape", json::Array(row.info.shape)},
                   {"base_shape", json::Array(row.info.baseShape)},
                   {"copies", row.info.copies},
                   {"init", row.info.init}};
    json::Object exponents;
    for (const char *q : kQuantities) {
      auto it = row.quantities.find(q);
      if (it == row.quantities.end() ||
          (std::string(q) == "init_std" && !usesStd(row.info))) {
        p[q] = nullptr;
        continue;
      }
      p[q] = valuesJson(it->second.values);
      exponents[q] = exponentsJson(it->second.scale);
    }
    p["exponents"] = std::move(exponents);
    params.push_back(std::move(p));
  }
  json::Object top{{"model", r.model},
                   {"scheme", r.scheme},
                   {"optimizer", r.optimizer},
                   {"optimizer_spec", r.optimizerSpecAll},
                   {"alpha", r.alpha},
                   {"ratios", json::Object{{"width", r.ratios[0]},
                                           {"depth", r.ratios[1]},
                                           {"batch", r.ratios[2]},
                                           {"duration", r.ratios[3]}}},
                   {"base", std::move(base)},
                   {"steps_multiplier", r.stepsMultiplier},
                   {"forward", forwardJson(r)},
                   {"params", std::move(params)}};
  return top;
}

/// Quotes a CSV field when it needs it.
static std::string csvField(const std::string &s) {
  if (s.find_first_of(",\"\n") == std::string::npos)
    return s;
  std::string q = "\"";
  for (char c : s)
    q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

static void printCsv(const Report &r, llvm::raw_ostream &os) {
  std::vector<std::string> header = {"name",  "module",     "role",
                                     "shape", "base_shape", "init"};
  for (const char *q : kQuantities)
    header.push_back(q);
  for (const char *q : kQuantities)
    header.push_back(std::string(q) + "_exponents");
  os << llvm::join(header, ",") << "\n";
  for (const Row &row : r.rows) {
    std::vector<std::string> f = {row.info.name,
                                  row.module,
                                  row.role,
                                  shapeOf(row.info.shape),
                                  shapeOf(row.info.baseShape),
                                  row.info.init};
    std::vector<std::string> exps;
    for (const char *q : kQuantities) {
      auto it = row.quantities.find(q);
      bool skip = it == row.quantities.end() ||
                  (std::string(q) == "init_std" && !usesStd(row.info));
      if (skip) {
        f.push_back("");
        exps.push_back("");
        continue;
      }
      f.push_back(muir::joinShortest(it->second.values, ";"));
      exps.push_back(formatScale(it->second.scale));
    }
    f.insert(f.end(), exps.begin(), exps.end());
    std::vector<std::string> quoted;
    for (auto &s : f)
      quoted.push_back(csvField(s));
    os << llvm::join(quoted, ",") << "\n";
  }
}

FailureOr<json::Value> mlir::tp::getReportJson(ModelOp model) {
  FailureOr<Report> report = collect(model);
  if (failed(report))
    return failure();
  return toJson(*report);
}

LogicalResult mlir::tp::printReport(ModelOp model, ReportFormat format,
                                    llvm::raw_ostream &os) {
  FailureOr<Report> report = collect(model);
  if (failed(report))
    return failure();
  switch (format) {
  case ReportFormat::table:
    printTable(*report, os);
    break;
  case ReportFormat::markdown:
    printMarkdown(*report, os);
    break;
  case ReportFormat::json:
    os << llvm::formatv("{0:2}", toJson(*report)) << "\n";
    break;
  case ReportFormat::csv:
    printCsv(*report, os);
    break;
  }
  return success();
}
