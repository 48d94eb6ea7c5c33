//===- ModelCard.cpp - Import standard models from JSON cards -------------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Two stages: parseModelCard checks one card on its own (keys, types, sizes)
// and buildModelFromCards checks that two cards can share one program, then
// writes the tp.model the hand-written examples (examples/*.mlir) spell out,
// op for op and name for name, so an imported model and the example it
// matches print the same IR.
//
//===----------------------------------------------------------------------===//

#include "muir/Import/ModelCard.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "muir/Dialect/TP/IR/TPOps.h"
#include "muir/Support/JSON.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"

using namespace mlir;
using namespace muir;
namespace json = llvm::json;

StringRef muir::stringifyModelFamily(ModelFamily family) {
  switch (family) {
  case ModelFamily::MLP:
    return "mlp";
  case ModelFamily::GPT:
    return "gpt";
  case ModelFamily::Llama:
    return "llama";
  }
  llvm_unreachable("unknown model family");
}

//===----------------------------------------------------------------------===//
// Parsing and validating one card
//===----------------------------------------------------------------------===//

namespace {
enum class KeyType { Integer, Boolean, String, Number };

/// Bit masks over ModelFamily: which families accept a key.
enum : unsigned {
  kMLP = 1,
  kGPT = 2,
  kLlama = 4,
  kTransformer = kGPT | kLlama,
  kAll = kMLP | kGPT | kLlama
};

/// One key a card may hold.
struct KeySpec {
  llvm::StringLiteral name;
  KeyType type;
  unsigned families;
  bool required;
};
} // namespace

/// Every key, in the order their problems are reported.
static const KeySpec keySpecs[] = {
    {"family", KeyType::String, kAll, true},
    {"name", KeyType::String, kAll, false},
    {"d_in", KeyType::Integer, kMLP, true},
    {"d_hidden", KeyType::Integer, kMLP, true},
    {"d_out", KeyType::Integer, kMLP, true},
    {"d_model", KeyType::Integer, kTransformer, true},
    {"n_layer", KeyType::Integer, kAll, true},
    {"n_head", KeyType::Integer, kTransformer, true},
    {"n_kv_head", KeyType::Integer, kLlama, false},
    {"d_ff", KeyType::Integer, kTransformer, true},
    {"vocab", KeyType::Integer, kTransformer, true},
    {"seq_len", KeyType::Integer, kTransformer, true},
    {"tied_embeddings", KeyType::Boolean, kTransformer, true},
    {"bias", KeyType::Boolean, kAll, true},
    {"residual", KeyType::Boolean, kMLP, false},
    {"qk_norm", KeyType::Boolean, kTransformer, true},
    {"rope_theta", KeyType::Number, kLlama, false},
    {"batch", KeyType::Integer, kAll, false},
};

static unsigned familyBit(ModelFamily family) {
  switch (family) {
  case ModelFamily::MLP:
    return kMLP;
  case ModelFamily::GPT:
    return kGPT;
  case ModelFamily::Llama:
    return kLlama;
  }
  llvm_unreachable("unknown model family");
}

static std::optional<ModelFamily> symbolizeModelFamily(StringRef name) {
  return llvm::StringSwitch<std::optional<ModelFamily>>(name)
      .Case("mlp", ModelFamily::MLP)
      .Case("gpt", ModelFamily::GPT)
      .Case("llama", ModelFamily::Llama)
      .Default(std::nullopt);
}

/// `<file>:<line>:<col>: $.<key>: <message>` at `key` of an already parsed
/// card (at its start when the key is absent or empty), the shape of every
/// card error.
static llvm::Error cardError(const ModelCard &card, StringRef key,
                             const Twine &message) {
  auto it = card.keys.find(key);
  auto [line, column] =
      it == card.keys.end() ? std::make_pair(1u, 1u) : it->second;
  std::string path =
      key.empty() ? formatJSONPath({}) : formatJSONPath({JSONPathStep(key)});
  return llvm::make_error<JSONError>(card.path, line, column,
                                     path + ": " + message.str());
}

/// Describes a JSON value for a type error: its kind and a short rendering.
static std::string describe(const json::Value &value) {
  std::string text = llvm::formatv("{0}", value).str();
  if (text.size() > 40)
    text = text.substr(0, 37) + "...";
  switch (value.kind()) {
  case json::Value::Null:
    return "null";
  case json::Value::Boolean:
    return "a boolean (" + text + ")";
  case json::Value::Number:
    return "a number (" + text + ")";
  case json::Value::String:
    return "a string (" + text + ")";
  case json::Value::Array:
    return "an array";
  case json::Value::Object:
    return "an object";
  }
  llvm_unreachable("unknown JSON kind");
}

static StringRef describeType(KeyType type) {
  switch (type) {
  case KeyType::Integer:
    return "an integer";
  case KeyType::Boolean:
    return "true or false";
  case KeyType::String:
    return "a string";
  case KeyType::Number:
    return "a number";
  }
  llvm_unreachable("unknown key type");
}

/// The accepted key closest to `key` in edit distance, if it looks like a
/// typo of it.
static std::optional<StringRef> closestKey(StringRef key, unsigned family) {
  std::optional<StringRef> best;
  unsigned bestDistance = 3;
  for (const KeySpec &spec : keySpecs) {
    if (!(spec.families & family))
      continue;
    unsigned distance = key.edit_distance(spec.name, /*AllowReplacements=*/true,
                                          /*MaxEditDistance=*/bestDistance);
    if (distance < bestDistance) {
      best = spec.name;
      bestDistance = distance;
    }
  }
  return best;
}

/// Stores the value of `key`, already checked against its KeySpec, in
/// `card`.
static void store(ModelCard &card, StringRef key, const json::Value &value) {
  if (key == "name") {
    card.name = value.getAsString()->str();
    return;
  }
  if (key == "rope_theta") {
    card.ropeTheta = *value.getAsNumber();
    return;
  }
  if (std::optional<bool> flag = value.getAsBoolean()) {
    bool *field = llvm::StringSwitch<bool *>(key)
                      .Case("tied_embeddings", &card.tiedEmbeddings)
                      .Case("bias", &card.bias)
                      .Case("qk_norm", &card.qkNorm)
                      .Case("residual", &card.residual)
                      .Default(nullptr);
    if (field)
      *field = *flag;
    return;
  }
  int64_t *field = llvm::StringSwitch<int64_t *>(key)
                       .Case("d_in", &card.dIn)
                       .Case("d_hidden", &card.dHidden)
                       .Case("d_out", &card.dOut)
                       .Case("d_model", &card.dModel)
                       .Case("n_layer", &card.nLayer)
                       .Case("n_head", &card.nHead)
                       .Case("n_kv_head", &card.nKvHead)
                       .Case("d_ff", &card.dFF)
                       .Case("vocab", &card.vocab)
                       .Case("seq_len", &card.seqLen)
                       .Case("batch", &card.batch)
                       .Default(nullptr);
  if (field)
    *field = *value.getAsInteger();
}

/// Checks one key's value against `spec`; returns the problem, if any.
static std::optional<std::string> checkValue(const KeySpec &spec,
                                             const json::Value &value) {
  std::string expected = ("expected " + describeType(spec.type)).str();
  switch (spec.type) {
  case KeyType::Integer: {
    std::optional<int64_t> n = value.getAsInteger();
    if (!n)
      return expected + ", got " + describe(value);
    if (*n <= 0)
      return llvm::formatv("must be positive, got {0}", *n).str();
    return std::nullopt;
  }
  case KeyType::Number: {
    std::optional<double> x = value.getAsNumber();
    if (!x)
      return expected + ", got " + describe(value);
    if (!(*x > 0))
      return llvm::formatv("must be positive, got {0}", value).str();
    return std::nullopt;
  }
  case KeyType::Boolean:
    if (!value.getAsBoolean())
      return expected + ", got " + describe(value);
    return std::nullopt;
  case KeyType::String: {
    std::optional<StringRef> s = value.getAsString();
    if (!s)
      return expected + ", got " + describe(value);
    if (s->empty())
      return std::string("must not be empty");
    return std::nullopt;
  }
  }
  llvm_unreachable("unknown key type");
}

/// Unknown keys reported one by one; the rest are counted. A card has a few
/// keys, and each report looks its key up in the text.
static constexpr size_t kMaxUnknownKeys = 10;

static llvm::Expected<ModelCard> validateCard(const JSONDocument &doc) {
  const json::Object *object = doc.root().getAsObject();
  if (!object)
    return doc.error({}, "expected a JSON object, got " + describe(doc.root()));

  ModelCard card;
  card.path = doc.file().str();
  for (const KeySpec &spec : keySpecs)
    if (object->get(spec.name))
      card.keys[spec.name] = doc.position({spec.name});
  const json::Value *familyValue = object->get("family");
  if (!familyValue)
    return doc.error({"family"}, "missing required key; expected \"mlp\", "
                                 "\"gpt\" or \"llama\"");
  std::optional<StringRef> familyName = familyValue->getAsString();
  if (!familyName)
    return doc.error({"family"},
                     "expected a string, got " + describe(*familyValue));
  std::optional<ModelFamily> family = symbolizeModelFamily(*familyName);
  if (!family)
    return doc.error({"family"}, "unknown family \"" + *familyName +
                                     "\"; expected \"mlp\", \"gpt\" or "
                                     "\"llama\"");
  card.family = *family;
  card.name = stringifyModelFamily(*family).str();
  unsigned bit = familyBit(*family);
  StringRef familyLabel = stringifyModelFamily(*family);

  // Report every problem of the card at once: one run shows them all.
  llvm::Error errors = llvm::Error::success();
  auto report = [&](StringRef key, const Twine &message) {
    errors = llvm::joinErrors(std::move(errors), doc.error({key}, message));
  };
  for (const KeySpec &spec : keySpecs) {
    if (!(spec.families & bit))
      continue;
    const json::Value *value = object->get(spec.name);
    if (!value) {
      if (spec.required)
        report(spec.name,
               "missing required key for family \"" + familyLabel + "\"");
      continue;
    }
    if (std::optional<std::string> problem = checkValue(spec, *value)) {
      report(spec.name, *problem);
      continue;
    }
    store(card, spec.name, *value);
  }
  // Unknown keys in sorted order, since json::Object's order is unspecified.
  SmallVector<StringRef> unknown;
  for (const auto &entry : *object)
    if (!llvm::any_of(keySpecs, [&](const KeySpec &spec) {
          return (spec.families & bit) && spec.name == StringRef(entry.first);
        }))
      unknown.push_back(entry.first);
  llvm::sort(unknown);
  for (StringRef key : ArrayRef(unknown).take_front(kMaxUnknownKeys)) {
    std::string hint;
    auto other = llvm::find_if(
        keySpecs, [&](const KeySpec &spec) { return spec.name == key; });
    if (other != std::end(keySpecs))
      hint = " (it belongs to cards of another family)";
    else if (std::optional<StringRef> near = closestKey(key, bit))
      hint = ("; did you mean \"" + *near + "\"?").str();
    else
      hint = " (a typo?)";
    report(key, "unknown key for family \"" + familyLabel + "\"" + hint);
  }
  if (unknown.size() > kMaxUnknownKeys)
    report(unknown[kMaxUnknownKeys],
           llvm::formatv("and {0} more unknown keys",
                         unknown.size() - kMaxUnknownKeys)
               .str());
  if (errors)
    return std::move(errors);

  if (card.family == ModelFamily::MLP)
    return card;
  // Size constraints between keys; each names the key to change.
  if (card.dModel % card.nHead != 0)
    return cardError(card, "n_head",
                     llvm::formatv("d_model {0} is not divisible by n_head "
                                   "{1}; heads split d_model evenly",
                                   card.dModel, card.nHead));
  if (!card.nKvHead)
    card.nKvHead = card.nHead;
  if (card.nHead % card.nKvHead != 0)
    return cardError(card, "n_kv_head",
                     llvm::formatv("n_head {0} is not divisible by n_kv_head "
                                   "{1}; each key/value head serves a whole "
                                   "group of query heads",
                                   card.nHead, card.nKvHead));
  if (card.family == ModelFamily::Llama && card.dHead() % 2 != 0)
    return cardError(card, "n_head",
                     llvm::formatv("RoPE rotates feature pairs, so d_head = "
                                   "d_model / n_head must be even; got {0} / "
                                   "{1} = {2}",
                                   card.dModel, card.nHead, card.dHead()));
  return card;
}

llvm::Expected<ModelCard> muir::parseModelCard(StringRef text, StringRef path) {
  llvm::Expected<JSONDocument> doc = JSONDocument::parse(text, path);
  if (!doc)
    return doc.takeError();
  return validateCard(*doc);
}

llvm::Expected<ModelCard> muir::readModelCard(StringRef path) {
  llvm::Expected<JSONDocument> doc = JSONDocument::read(path, "the card");
  if (!doc)
    return doc.takeError();
  return validateCard(*doc);
}

//===----------------------------------------------------------------------===//
// Building the tp.model
//===----------------------------------------------------------------------===//

/// Checks that `base` and `target` can share one program: same family, same
/// fixed dims and same switches. Errors name the base card.
static llvm::Error checkCompatible(const ModelCard &target,
                                   const ModelCard &base) {
  if (base.family != target.family)
    return cardError(base, "family",
                     "the base card has family \"" +
                         stringifyModelFamily(base.family) +
                         "\" but the target card has family \"" +
                         stringifyModelFamily(target.family) +
                         "\"; both must describe the same architecture");
  auto valueIn = [](const ModelCard &card, StringRef key,
                    const json::Value &value) {
    return llvm::formatv("{0}{1}", value,
                         card.keys.count(key) ? "" : " (the default)")
        .str();
  };
  auto checkSame = [&](StringRef key, auto baseValue, auto targetValue,
                       StringRef why) -> llvm::Error {
    if (baseValue == targetValue)
      return llvm::Error::success();
    return cardError(
        base, key,
        "is " + valueIn(base, key, baseValue) + " in the base card but " +
            valueIn(target, key, targetValue) + " in the target card; " + why);
  };
  StringRef fixed = "it is a fixed dim, so base and target must agree";
  StringRef shared =
      "base and target are one program, so they share the architecture";
  // Report every mismatch at once, like the card checks.
  llvm::Error errors = llvm::Error::success();
  auto add = [&](llvm::Error e) {
    errors = llvm::joinErrors(std::move(errors), std::move(e));
  };
  add(checkSame("batch", base.batch, target.batch, fixed));
  if (target.family == ModelFamily::MLP) {
    add(checkSame("d_in", base.dIn, target.dIn, fixed));
    add(checkSame("d_out", base.dOut, target.dOut, fixed));
    add(checkSame("bias", base.bias, target.bias, shared));
    add(checkSame("residual", base.residual, target.residual, shared));
    return errors;
  }
  add(checkSame("vocab", base.vocab, target.vocab, fixed));
  add(checkSame("seq_len", base.seqLen, target.seqLen, fixed));
  add(checkSame("tied_embeddings", base.tiedEmbeddings, target.tiedEmbeddings,
                shared));
  add(checkSame("bias", base.bias, target.bias, shared));
  add(checkSame("qk_norm", base.qkNorm, target.qkNorm, shared));
  add(checkSame("rope_theta", base.ropeTheta, target.ropeTheta, shared));
  return errors;
}

namespace {
/// Writes the tp.model of a target card and its base card, in the order and
/// with the names of the hand-written examples.
class ModelBuilder {
public:
  ModelBuilder(const ModelCard &target, const ModelCard &base,
               MLIRContext &context)
      : target(target), base(base), context(context), builder(&context),
        f32(Float32Type::get(&context)), i32(IntegerType::get(&context, 32)),
        modelLoc(keyLoc("family")) {}

  OwningOpRef<ModuleOp> build() {
    OwningOpRef<ModuleOp> module =
        ModuleOp::create(FileLineColLoc::get(&context, target.path, 1, 1));
    builder.setInsertionPointToEnd(module->getBody());
    auto model = tp::ModelOp::create(builder, modelLoc, target.name);
    builder.setInsertionPointToEnd(&model.getBody().emplaceBlock());
    switch (target.family) {
    case ModelFamily::MLP:
      buildMLP();
      break;
    case ModelFamily::GPT:
    case ModelFamily::Llama:
      buildTransformer();
      break;
    }
    return module;
  }

private:
  /// Where `key` is written in the target card (the card's start if absent).
  Location keyLoc(StringRef key) {
    auto it = target.keys.find(key);
    if (it == target.keys.end())
      return FileLineColLoc::get(&context, target.path, 1, 1);
    return FileLineColLoc::get(&context, target.path, it->second.first,
                               it->second.second);
  }
  /// A location naming the module path of a parameter or layer.
  Location at(StringRef modulePath) {
    return NameLoc::get(StringAttr::get(&context, modulePath), modelLoc);
  }

  tp::NamedTensorType tensor(ArrayRef<StringRef> dims, Type element) {
    SmallVector<StringAttr> names = llvm::map_to_vector(
        dims, [&](StringRef d) { return StringAttr::get(&context, d); });
    return tp::NamedTensorType::get(&context, names, element);
  }
  tp::NamedTensorType tensor(ArrayRef<StringRef> dims) {
    return tensor(dims, f32);
  }

  void fixedDim(StringRef name, int64_t size, StringRef key) {
    tp::DimOp::create(builder, keyLoc(key), name, tp::DimKind::fixed,
                      IntegerAttr(), builder.getI64IntegerAttr(size),
                      ArrayAttr());
  }
  void scaledDim(StringRef name, tp::DimKind kind, int64_t baseSize,
                 int64_t size, StringRef key) {
    tp::DimOp::create(builder, keyLoc(key), name, kind,
                      builder.getI64IntegerAttr(baseSize),
                      builder.getI64IntegerAttr(size), ArrayAttr());
  }
  /// A width dim, or a fixed one when `fixed` (a head count or head size
  /// that does not carry the width growth).
  void widthOrFixedDim(StringRef name, bool fixed, int64_t baseSize,
                       int64_t size, StringRef key) {
    if (fixed)
      fixedDim(name, size, key);
    else
      scaledDim(name, tp::DimKind::width, baseSize, size, key);
  }
  void productDim(StringRef name, StringRef lhs, StringRef rhs, StringRef key) {
    tp::DimOp::create(
        builder, keyLoc(key), name, tp::DimKind::product, IntegerAttr(),
        IntegerAttr(),
        builder.getArrayAttr({FlatSymbolRefAttr::get(&context, lhs),
                              FlatSymbolRefAttr::get(&context, rhs)}));
  }

  Value input(StringRef name, tp::NamedTensorType type) {
    return tp::InputOp::create(builder, at(name), type, name);
  }
  Value param(StringRef name, tp::InitKind init, tp::NamedTensorType type) {
    return tp::ParamOp::create(builder, at(name), type, name,
                               tp::InitKindAttr::get(&context, init),
                               StringAttr());
  }
  /// A bias of `dims` when the card asks for biases, else null.
  Value optionalBias(StringRef name, ArrayRef<StringRef> dims) {
    return target.bias ? param(name, tp::InitKind::zeros, tensor(dims))
                       : Value();
  }
  Value linear(StringRef where, Value x, Value w, Value b,
               tp::NamedTensorType type) {
    return tp::LinearOp::create(builder, at(where), type, x, w, b);
  }

  /// Starts a tp.repeat over `depth` carrying `init`; returns the block
  /// argument. finishRepeat yields and returns the repeat's result.
  Value startRepeat(StringRef depth, StringRef where, Value init) {
    Type type = init.getType();
    repeat = tp::RepeatOp::create(builder, at(where), ArrayRef<Type>(type),
                                  depth, ValueRange{init});
    Block &body = repeat.getBody().emplaceBlock();
    afterRepeat = builder.saveInsertionPoint();
    builder.setInsertionPointToEnd(&body);
    return body.addArgument(init.getType(), repeat.getLoc());
  }
  Value finishRepeat(Value result) {
    tp::YieldOp::create(builder, repeat.getLoc(), ValueRange{result});
    builder.restoreInsertionPoint(afterRepeat);
    return repeat.getResult(0);
  }

  void buildMLP();
  void buildTransformer();

  const ModelCard &target, &base;
  MLIRContext &context;
  OpBuilder builder;
  Type f32, i32;
  /// The model's location, which every module path is nested in.
  Location modelLoc;
  tp::RepeatOp repeat;
  OpBuilder::InsertPoint afterRepeat;
};
} // namespace

/// examples/mlp.mlir: input layer, n_layer hidden-to-hidden layers (plain
/// stacking, no residual), readout, cross-entropy. With "residual": true,
/// examples/mlp-residual.mlir: each hidden layer is a pre-activation
/// residual block h + W relu(h) + b (the one-layer block of Depth-muP,
/// x + L^-alpha W phi(x)), so depth-wise transfer applies.
void ModelBuilder::buildMLP() {
  fixedDim("batch", target.batch, "batch");
  fixedDim("features", target.dIn, "d_in");
  fixedDim("classes", target.dOut, "d_out");
  scaledDim("hidden", tp::DimKind::width, base.dHidden, target.dHidden,
            "d_hidden");
  scaledDim("n_hidden", tp::DimKind::depth, base.nLayer, target.nLayer,
            "n_layer");

  auto in = tensor({"batch", "features"}), h = tensor({"batch", "hidden"}),
       out = tensor({"batch", "classes"});
  Value x = input("images", in);
  Value y = input("labels", tensor({"batch"}, i32));

  Value w0 = param("input.weight", tp::InitKind::normal,
                   tensor({"hidden", "features"}));
  Value b0 = optionalBias("input.bias", {"hidden"});
  Value z0 = linear("input", x, w0, b0, h);
  Value h0 = tp::ReluOp::create(builder, at("input"), h, z0);

  Value a = startRepeat("n_hidden", "hidden", h0);
  Value w = param("hidden.weight", tp::InitKind::normal,
                  tensor({"hidden", "hidden"}));
  Value b = optionalBias("hidden.bias", {"hidden"});
  Value r;
  if (target.residual) {
    Value act = tp::ReluOp::create(builder, at("hidden"), h, a);
    Value z = linear("hidden", act, w, b, h);
    r = tp::ResidualOp::create(builder, at("hidden"), h, a, z);
  } else {
    Value z = linear("hidden", a, w, b, h);
    r = tp::ReluOp::create(builder, at("hidden"), h, z);
  }
  Value hL = finishRepeat(r);

  Value wo = param("readout.weight", tp::InitKind::normal,
                   tensor({"classes", "hidden"}));
  Value bo = optionalBias("readout.bias", {"classes"});
  Value logits = linear("readout", hL, wo, bo, out);
  Value loss =
      tp::CrossEntropyOp::create(builder, at("loss"), tensor({}), logits, y);
  tp::OutputOp::create(builder, modelLoc, ValueRange{loss});
}

/// examples/gpt2.mlir and examples/llama.mlir: one builder, since the two
/// share the skeleton (embeddings, a repeated pre-norm block with attention
/// and MLP branches, a final norm, the unembedding, cross-entropy).
void ModelBuilder::buildTransformer() {
  bool llama = target.family == ModelFamily::Llama;
  // Which of n_head and d_head carries the width growth: an unchanged d_head
  // means width grows by adding heads (muP's usual choice); an unchanged
  // n_head means heads grow wider; when both change both scale.
  bool dHeadFixed = base.dHead() == target.dHead();
  bool nHeadFixed = !dHeadFixed && base.nHead == target.nHead;
  bool nKvHeadFixed = !dHeadFixed && base.nKvHead == target.nKvHead;
  // Separate key/value dims only for grouped-query attention; with one kv
  // head per query head k and v have q's dims.
  bool gqa = target.nKvHead != target.nHead || base.nKvHead != base.nHead;
  StringRef dQ = llama ? "d_q" : "d_attn";
  StringRef dKV = gqa ? "d_kv" : dQ;

  fixedDim("batch", target.batch, "batch");
  fixedDim("seq", target.seqLen, "seq_len");
  fixedDim("vocab", target.vocab, "vocab");
  widthOrFixedDim("d_head", dHeadFixed, base.dHead(), target.dHead(), "n_head");
  scaledDim("d_model", tp::DimKind::width, base.dModel, target.dModel,
            "d_model");
  widthOrFixedDim("n_head", nHeadFixed, base.nHead, target.nHead, "n_head");
  if (gqa)
    widthOrFixedDim("n_kv_head", nKvHeadFixed, base.nKvHead, target.nKvHead,
                    "n_kv_head");
  scaledDim("d_ff", tp::DimKind::width, base.dFF, target.dFF, "d_ff");
  productDim(dQ, "n_head", "d_head", "n_head");
  if (gqa)
    productDim(dKV, "n_kv_head", "d_head", "n_kv_head");
  scaledDim("layers", tp::DimKind::depth, base.nLayer, target.nLayer,
            "n_layer");

  auto x = tensor({"batch", "seq", "d_model"});
  auto q = tensor({"batch", "seq", dQ}), kv = tensor({"batch", "seq", dKV});
  auto ff = tensor({"batch", "seq", "d_ff"});
  auto vec = tensor({"d_model"}), table = tensor({"vocab", "d_model"});
  auto ids = tensor({"batch", "seq"}, i32);
  auto headGain = tensor({"d_head"});
  // Norms: LayerNorm with gain (+ bias) in GPT-2, RMSNorm with gain in
  // Llama; `prefix` is the module path of the norm's parameters.
  auto norm = [&](StringRef prefix, Value input) -> Value {
    Value gain = param((prefix + ".weight").str(), tp::InitKind::ones, vec);
    if (llama)
      return tp::RMSNormOp::create(builder, at(prefix), x, input, gain,
                                   FloatAttr());
    Value bias = optionalBias((prefix + ".bias").str(), {"d_model"});
    return tp::LayerNormOp::create(builder, at(prefix), x, input, gain, bias,
                                   FloatAttr());
  };

  Value tokens = input("tokens", ids);
  Value targets = input("targets", ids);
  StringRef embedName = llama ? "embed_tokens.weight" : "wte";
  Value embed = param(embedName, tp::InitKind::normal, table);
  // GPT-2's learned positions: a [seq, d_model] table added to every
  // sequence (trailing broadcast); Llama's enter through RoPE instead.
  Value wpe =
      llama ? Value()
            : param("wpe", tp::InitKind::normal, tensor({"seq", "d_model"}));
  Value x0 = tp::EmbeddingOp::create(builder, at(embedName), x, tokens, embed);
  if (wpe)
    x0 = tp::AddOp::create(builder, at("wpe"), x, x0, wpe);

  StringRef blocks = llama ? "layers" : "blocks";
  auto path = [&](StringRef suffix) { return (blocks + "." + suffix).str(); };
  Value h = startRepeat("layers", blocks, x0);

  // Attention branch.
  Value aIn = norm(path(llama ? "input_layernorm" : "ln_1"), h);
  StringRef attn = llama ? "self_attn" : "attn";
  auto proj = [&](StringRef name) {
    return path((attn + "." + name + (llama ? "_proj" : "")).str());
  };
  auto wIn = [&](StringRef dim) { return tensor({dim, "d_model"}); };
  Value wq = param(proj("q") + ".weight", tp::InitKind::normal, wIn(dQ));
  Value bq = optionalBias(proj("q") + ".bias", {dQ});
  Value wk = param(proj("k") + ".weight", tp::InitKind::normal, wIn(dKV));
  Value bk = optionalBias(proj("k") + ".bias", {dKV});
  Value wv = param(proj("v") + ".weight", tp::InitKind::normal, wIn(dKV));
  Value bv = optionalBias(proj("v") + ".bias", {dKV});
  Value vq = linear(proj("q"), aIn, wq, bq, q);
  Value vk = linear(proj("k"), aIn, wk, bk, kv);
  Value vv = linear(proj("v"), aIn, wv, bv, kv);
  if (target.qkNorm) {
    // Per-head RMSNorm: the gain's dim is the last factor of d_q / d_kv.
    std::string qNorm = path((attn + ".q_norm").str());
    std::string kNorm = path((attn + ".k_norm").str());
    Value gq = param(qNorm + ".weight", tp::InitKind::ones, headGain);
    Value gk = param(kNorm + ".weight", tp::InitKind::ones, headGain);
    vq = tp::RMSNormOp::create(builder, at(qNorm), q, vq, gq, FloatAttr());
    vk = tp::RMSNormOp::create(builder, at(kNorm), kv, vk, gk, FloatAttr());
  }
  std::string attnPath = path(attn);
  if (llama) {
    // The op's default theta is left implicit so the IR prints like the
    // examples.
    FloatAttr theta;
    if (target.ropeTheta != 10000.0)
      theta = builder.getF64FloatAttr(target.ropeTheta);
    auto headDim = FlatSymbolRefAttr::get(&context, "d_head");
    vq = tp::RoPEOp::create(builder, at(attnPath), q, vq, headDim, theta);
    vk = tp::RoPEOp::create(builder, at(attnPath), kv, vk, headDim, theta);
  }
  // No `scale`: the parametrisation picks 1/sqrt(d_head) or 1/d_head.
  Value att =
      tp::AttentionOp::create(builder, at(attnPath), q, vq, vk, vv, "d_head",
                              /*causal=*/true, tp::AttentionScaleAttr());
  Value wo = param(proj("o") + ".weight", tp::InitKind::normal,
                   tensor({"d_model", dQ}));
  Value bo = optionalBias(proj("o") + ".bias", {"d_model"});
  Value aOut = linear(proj("o"), att, wo, bo, x);
  Value h1 = tp::ResidualOp::create(builder, at(attnPath), x, h, aOut);

  // MLP branch: GELU in GPT-2, SwiGLU in Llama.
  Value mIn = norm(path(llama ? "post_attention_layernorm" : "ln_2"), h1);
  auto wUp = tensor({"d_ff", "d_model"}), wDown = tensor({"d_model", "d_ff"});
  Value mOut;
  std::string mlpPath = path("mlp");
  if (llama) {
    std::string gate = path("mlp.gate_proj"), up = path("mlp.up_proj"),
                down = path("mlp.down_proj");
    Value wgate = param(gate + ".weight", tp::InitKind::normal, wUp);
    Value bgate = optionalBias(gate + ".bias", {"d_ff"});
    Value wup = param(up + ".weight", tp::InitKind::normal, wUp);
    Value bup = optionalBias(up + ".bias", {"d_ff"});
    Value wdown = param(down + ".weight", tp::InitKind::normal, wDown);
    Value bdown = optionalBias(down + ".bias", {"d_model"});
    Value vgate = linear(gate, mIn, wgate, bgate, ff);
    Value vup = linear(up, mIn, wup, bup, ff);
    Value act = tp::SiluOp::create(builder, at(mlpPath), ff, vgate);
    Value glu = tp::MulOp::create(builder, at(mlpPath), ff, act, vup);
    mOut = linear(down, glu, wdown, bdown, x);
  } else {
    std::string fc = path("mlp.fc"), projOut = path("mlp.proj");
    Value wfc = param(fc + ".weight", tp::InitKind::normal, wUp);
    Value bfc = optionalBias(fc + ".bias", {"d_ff"});
    Value vfc = linear(fc, mIn, wfc, bfc, ff);
    Value act = tp::GeluOp::create(builder, at(mlpPath), ff, vfc);
    Value wproj = param(projOut + ".weight", tp::InitKind::normal, wDown);
    Value bproj = optionalBias(projOut + ".bias", {"d_model"});
    mOut = linear(projOut, act, wproj, bproj, x);
  }
  Value h2 = tp::ResidualOp::create(builder, at(mlpPath), x, h1, mOut);
  Value xL = finishRepeat(h2);

  // Final norm and the unembedding. A tied head owns no tensor, so it is
  // named by its module alone (as nanoGPT's lm_head).
  Value xf = norm(llama ? "norm" : "ln_f", xL);
  Value head = target.tiedEmbeddings
                   ? tp::ParamOp::create(builder, at("lm_head"), table,
                                         "lm_head", tp::InitKindAttr(),
                                         builder.getStringAttr(embedName))
                   : param("lm_head.weight", tp::InitKind::normal, table);
  auto logitsType = tensor({"batch", "seq", "vocab"});
  Value logits = linear("lm_head", xf, head, Value(), logitsType);
  Value loss = tp::CrossEntropyOp::create(builder, at("loss"), tensor({}),
                                          logits, targets);
  tp::OutputOp::create(builder, modelLoc, ValueRange{loss});
}

llvm::Expected<OwningOpRef<ModuleOp>>
muir::buildModelFromCards(const ModelCard &target, const ModelCard &base,
                          MLIRContext &context) {
  if (llvm::Error e = checkCompatible(target, base))
    return std::move(e);
  context.getOrLoadDialect<tp::TPDialect>();
  OwningOpRef<ModuleOp> module = ModelBuilder(target, base, context).build();

  // The importer should only write valid IR; if it does not, say so with the
  // verifier's own words instead of printing a broken module.
  std::string diagnostics;
  {
    ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
      llvm::raw_string_ostream os(diagnostics);
      os << "\n  " << diag.getLocation() << ": " << diag;
      for (const Diagnostic &note : diag.getNotes())
        os << "\n  " << note.getLocation() << ": note: " << note;
      return success();
    });
    if (succeeded(verify(*module)))
      return std::move(module);
  }
  return cardError(target, "",
                   "the imported model does not verify (an importer bug):" +
                       diagnostics);
}

llvm::Expected<OwningOpRef<ModuleOp>>
muir::importModelCard(StringRef targetPath, StringRef basePath,
                      MLIRContext &context) {
  llvm::Expected<ModelCard> target = readModelCard(targetPath);
  if (!target)
    return target.takeError();
  if (basePath.empty())
    return buildModelFromCards(*target, *target, context);
  llvm::Expected<ModelCard> base = readModelCard(basePath);
  if (!base)
    return base.takeError();
  return buildModelFromCards(*target, *base, context);
}
