//===- TorchGraph.cpp - Import traced PyTorch models ----------------------===//
//
// Part of the muir project, under the Apache License v2.0 with LLVM
// Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Four stages, each in its own class:
//
//   GraphReader   the JSON document -> two Traces, every field checked;
//   Folder        a Trace -> a FoldedTrace: the calls of repeated blocks
//                 folded into one body, every tensor named by a FoldedRef
//                 (where it is computed in the folded program), the blocks
//                 checked against each other;
//                 then the two FoldedTraces are compared call by call;
//   Recognizer    the residual adds and attention logit scales of the target;
//   ModelWriter   the tp.model, dims named by comparing the two traces, and
//                 the binding a trainer uses to run the user's module.
//
//===----------------------------------------------------------------------===//

#include "muir/Import/TorchGraph.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "muir/Dialect/TP/IR/ModelIndex.h"
#include "muir/Dialect/TP/IR/TPOps.h"
#include "muir/Dialect/TP/Utils/ForwardTable.h"
#include "muir/Support/JSON.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include <cmath>
#include <functional>
#include <map>
#include <set>

using namespace mlir;
using namespace muir;
namespace json = llvm::json;

//===----------------------------------------------------------------------===//
// The traces
//===----------------------------------------------------------------------===//

namespace {
/// One argument of a call: a tensor (by index), a number, a list, or any
/// other Python value as text.
struct Arg {
  enum class Kind { tensor, number, list, text } kind = Kind::text;
  int64_t tensor = -1;
  double number = 0;
  std::vector<Arg> list;
  std::string text;
};

/// One PyTorch call of a forward pass, or a pseudo-call that brings a value
/// in (`input`, `param`, `buffer`, `constant`, with `name`).
struct Call {
  size_t index = 0;
  std::string op, name, module, file, kind;
  int64_t line = 0, ordinal = -1;
  bool inplace = false;
  std::vector<Arg> args;
  std::vector<std::pair<std::string, Arg>> kwargs;
  std::vector<int64_t> results;

  bool isPseudo() const { return ordinal < 0; }
};

struct Tensor {
  std::vector<int64_t> shape;
  std::string dtype;
  /// The call that computes it and which of its results it is.
  size_t call = 0;
  unsigned result = 0;
};

/// The blocks of one container, each with the tensors its forward took and
/// returned.
struct Repeat {
  std::string path;
  struct Block {
    std::string child;
    std::vector<int64_t> inputs, outputs;
  };
  std::vector<Block> blocks;
};

struct ParamEntry {
  std::string init, tiedTo;
};

/// One traced forward pass (the target's or the base's).
struct Trace {
  std::string which;
  std::vector<Call> calls;
  std::vector<Tensor> tensors;
  llvm::StringMap<ParamEntry> params;
  std::vector<std::string> unused;
  std::vector<Repeat> repeats;
  int64_t loss = -1;
};

using Path = std::vector<JSONPathStep>;

/// Reads the document into two traces, checking every field: the importer
/// trusts nothing in a file a user (or a bug) may have edited.
class GraphReader {
public:
  explicit GraphReader(const JSONDocument &doc) : doc(doc) {}

  llvm::Error read(std::string &model, Trace &target, Trace &base) {
    const json::Object *root = doc.root().getAsObject();
    if (!root)
      return doc.error({}, "a torch graph is a JSON object");
    std::string format;
    int64_t version = 0;
    if (llvm::Error e = string(*root, {}, "format", format))
      return e;
    if (format != kTorchGraphFormat)
      return doc.error({"format"}, "expected \"" + kTorchGraphFormat.str() +
                                       "\", got \"" + format + "\"");
    if (llvm::Error e = integer(*root, {}, "version", version))
      return e;
    if (version != kTorchGraphVersion)
      return doc.error({"version"},
                       llvm::formatv("this muirc reads version {0}, the file "
                                     "has version {1}; trace the model again "
                                     "with the muir.torch beside this muirc",
                                     kTorchGraphVersion, version));
    if (llvm::Error e = string(*root, {}, "model", model))
      return e;
    if (model.empty())
      return doc.error({"model"}, "the model's name is empty");
    for (StringRef key : {"target", "base"}) {
      Trace &trace = key == "target" ? target : base;
      trace.which = key.str();
      if (llvm::Error e = readTrace(*root, key, trace))
        return e;
    }
    for (const auto &[key, value] : *root)
      if (!llvm::is_contained({"format", "version", "model", "target", "base"},
                              key.str()))
        return doc.error({key.str()}, "unknown key");
    return llvm::Error::success();
  }

private:
  const json::Value *member(const json::Object &o, const Path &at,
                            StringRef key, llvm::Error &error) {
    const json::Value *v = o.get(key);
    if (!v)
      error = doc.error(at, "missing key '" + key + "'");
    return v;
  }

  llvm::Error string(const json::Object &o, Path at, StringRef key,
                     std::string &out) {
    llvm::Error error = llvm::Error::success();
    const json::Value *v = member(o, at, key, error);
    if (!v)
      return error;
    at.push_back(key);
    std::optional<StringRef> s = v->getAsString();
    if (!s)
      return doc.error(at, "expected a string");
    out = s->str();
    return llvm::Error::success();
  }

  llvm::Error integer(const json::Object &o, Path at, StringRef key,
                      int64_t &out) {
    llvm::Error error = llvm::Error::success();
    const json::Value *v = member(o, at, key, error);
    if (!v)
      return error;
    at.push_back(key);
    std::optional<int64_t> i = v->getAsInteger();
    if (!i)
      return doc.error(at, "expected an integer");
    out = *i;
    return llvm::Error::success();
  }

  llvm::Error array(const json::Object &o, Path at, StringRef key,
                    const json::Array *&out) {
    llvm::Error error = llvm::Error::success();
    const json::Value *v = member(o, at, key, error);
    if (!v)
      return error;
    at.push_back(key);
    out = v->getAsArray();
    if (!out)
      return doc.error(at, "expected an array");
    return llvm::Error::success();
  }

  llvm::Error indices(const json::Object &o, Path at, StringRef key,
                      std::vector<int64_t> &out, const Trace &trace) {
    const json::Array *a;
    if (llvm::Error e = array(o, at, key, a))
      return e;
    at.push_back(key);
    for (auto [i, v] : llvm::enumerate(*a)) {
      std::optional<int64_t> t = v.getAsInteger();
      at.push_back(i);
      if (!t || *t < 0 || *t >= int64_t(trace.tensors.size()))
        return doc.error(at, llvm::formatv("expected a tensor index in [0, "
                                           "{0})",
                                           trace.tensors.size()));
      at.pop_back();
      out.push_back(*t);
    }
    return llvm::Error::success();
  }

  llvm::Error readArg(const json::Value &v, Path at, Arg &out,
                      const Trace &trace, size_t call) {
    const json::Object *o = v.getAsObject();
    if (!o || o->size() != 1)
      return doc.error(at, "an argument is an object with one key: tensor, "
                           "number, list or value");
    const auto &[key, value] = *o->begin();
    at.push_back(key.str());
    if (key == "tensor") {
      std::optional<int64_t> t = value.getAsInteger();
      if (!t || *t < 0 || *t >= int64_t(trace.tensors.size()))
        return doc.error(at, "expected a tensor index");
      if (trace.tensors[*t].call >= call)
        return doc.error(at, llvm::formatv("tensor {0} is used before the "
                                           "call that computes it",
                                           *t));
      out.kind = Arg::Kind::tensor;
      out.tensor = *t;
      return llvm::Error::success();
    }
    if (key == "number") {
      out.kind = Arg::Kind::number;
      if (std::optional<double> d = value.getAsNumber()) {
        out.number = *d;
        return llvm::Error::success();
      }
      std::optional<StringRef> s = value.getAsString();
      if (s && (*s == "inf" || *s == "-inf" || *s == "nan")) {
        out.number = *s == "nan" ? NAN : *s == "inf" ? INFINITY : -INFINITY;
        return llvm::Error::success();
      }
      return doc.error(at, "expected a number (or \"inf\", \"-inf\", "
                           "\"nan\")");
    }
    if (key == "list") {
      const json::Array *a = value.getAsArray();
      if (!a)
        return doc.error(at, "expected an array");
      out.kind = Arg::Kind::list;
      for (auto [i, item] : llvm::enumerate(*a)) {
        Path inner = at;
        inner.push_back(i);
        out.list.emplace_back();
        if (llvm::Error e = readArg(item, inner, out.list.back(), trace, call))
          return e;
      }
      return llvm::Error::success();
    }
    if (key == "value") {
      std::optional<StringRef> s = value.getAsString();
      if (!s)
        return doc.error(at, "expected a string");
      out.text = s->str();
      return llvm::Error::success();
    }
    return doc.error(at, "unknown argument kind");
  }

  llvm::Error readTrace(const json::Object &root, StringRef key, Trace &trace) {
    Path at = {key};
    const json::Object *t = root.getObject(key);
    if (!t)
      return doc.error(at,
                       root.get(key) ? "expected an object" : "missing trace");
    // Tensors first: calls refer to them.
    const json::Array *tensors;
    if (llvm::Error e = array(*t, at, "tensors", tensors))
      return e;
    for (auto [i, v] : llvm::enumerate(*tensors)) {
      Path tat = at;
      tat.push_back("tensors");
      tat.push_back(i);
      const json::Object *o = v.getAsObject();
      if (!o)
        return doc.error(tat, "expected an object");
      Tensor tensor;
      tensor.call = SIZE_MAX;
      const json::Array *shape;
      if (llvm::Error e = array(*o, tat, "shape", shape))
        return e;
      if (shape->size() > 16)
        return doc.error(tat, "more than 16 dims");
      for (const json::Value &d : *shape) {
        std::optional<int64_t> size = d.getAsInteger();
        if (!size || *size < 1 || *size > (int64_t(1) << 40))
          return doc.error(tat, "every size must be an integer in [1, 2^40]");
        tensor.shape.push_back(*size);
      }
      if (llvm::Error e = string(*o, tat, "dtype", tensor.dtype))
        return e;
      trace.tensors.push_back(std::move(tensor));
    }
    const json::Array *calls;
    if (llvm::Error e = array(*t, at, "calls", calls))
      return e;
    for (auto [i, v] : llvm::enumerate(*calls)) {
      Path cat = at;
      cat.push_back("calls");
      cat.push_back(i);
      const json::Object *o = v.getAsObject();
      if (!o)
        return doc.error(cat, "expected an object");
      Call call;
      call.index = i;
      for (auto [k, out] : {std::pair<StringRef, std::string *>{"op", &call.op},
                            {"module", &call.module},
                            {"file", &call.file},
                            {"kind", &call.kind}})
        if (llvm::Error e = string(*o, cat, k, *out))
          return e;
      if (!llvm::is_contained({"opaque", "elementwise", "reshape"}, call.kind))
        return doc.error(cat, "kind must be opaque, elementwise or reshape");
      if (llvm::Error e = integer(*o, cat, "line", call.line))
        return e;
      if (llvm::Error e = integer(*o, cat, "ordinal", call.ordinal))
        return e;
      if (call.isPseudo()) {
        if (llvm::Error e = string(*o, cat, "name", call.name))
          return e;
        if (!llvm::is_contained({"input", "param", "buffer", "constant"},
                                call.op))
          return doc.error(cat, "a call without an ordinal brings a value "
                                "in: op must be input, param, buffer or "
                                "constant, got '" +
                                    call.op + "'");
        if (call.name.empty())
          return doc.error(cat, "empty name");
      }
      if (const json::Value *inplace = o->get("inplace"))
        call.inplace = inplace->getAsBoolean().value_or(false);
      if (llvm::Error e = indices(*o, cat, "results", call.results, trace))
        return e;
      if (call.results.empty())
        return doc.error(cat, "a call has at least one result");
      if (call.isPseudo() && call.results.size() != 1)
        return doc.error(cat, "'" + call.op + "' has one result");
      for (auto [r, tensor] : llvm::enumerate(call.results)) {
        Tensor &info = trace.tensors[tensor];
        if (info.call != SIZE_MAX)
          return doc.error(cat, llvm::formatv("tensor {0} is computed twice, "
                                              "by calls {1} and {2}",
                                              tensor, info.call, i));
        info.call = i;
        info.result = r;
      }
      const json::Array *args;
      if (llvm::Error e = array(*o, cat, "args", args))
        return e;
      for (auto [a, arg] : llvm::enumerate(*args)) {
        Path aat = cat;
        aat.push_back("args");
        aat.push_back(a);
        call.args.emplace_back();
        if (llvm::Error e = readArg(arg, aat, call.args.back(), trace, i))
          return e;
      }
      if (const json::Object *kwargs = o->getObject("kwargs")) {
        for (const auto &[name, arg] : *kwargs) {
          Path kat = cat;
          kat.push_back("kwargs");
          kat.push_back(name.str());
          call.kwargs.emplace_back(name.str(), Arg());
          if (llvm::Error e =
                  readArg(arg, kat, call.kwargs.back().second, trace, i))
            return e;
        }
      }
      trace.calls.push_back(std::move(call));
    }
    for (auto [i, tensor] : llvm::enumerate(trace.tensors))
      if (tensor.call == SIZE_MAX)
        return doc.error(at, llvm::formatv("no call computes tensor {0}", i));

    const json::Object *params = t->getObject("params");
    if (!params)
      return doc.error(at, "missing object 'params'");
    for (const auto &[name, v] : *params) {
      Path pat = at;
      pat.push_back("params");
      pat.push_back(name.str());
      const json::Object *o = v.getAsObject();
      if (!o)
        return doc.error(pat, "expected an object");
      ParamEntry entry;
      if (llvm::Error e = string(*o, pat, "init", entry.init))
        return e;
      if (!llvm::is_contained({"normal", "zeros", "ones"}, entry.init))
        return doc.error(pat, "init must be normal, zeros or ones");
      if (o->get("tied_to"))
        if (llvm::Error e = string(*o, pat, "tied_to", entry.tiedTo))
          return e;
      trace.params[name.str()] = entry;
    }
    if (const json::Array *unused = t->getArray("unused_params"))
      for (const json::Value &u : *unused)
        if (std::optional<StringRef> s = u.getAsString())
          trace.unused.push_back(s->str());

    const json::Array *repeats;
    if (llvm::Error e = array(*t, at, "repeats", repeats))
      return e;
    for (auto [i, v] : llvm::enumerate(*repeats)) {
      Path rat = at;
      rat.push_back("repeats");
      rat.push_back(i);
      const json::Object *o = v.getAsObject();
      if (!o)
        return doc.error(rat, "expected an object");
      Repeat repeat;
      if (llvm::Error e = string(*o, rat, "path", repeat.path))
        return e;
      const json::Array *blocks;
      if (llvm::Error e = array(*o, rat, "blocks", blocks))
        return e;
      if (blocks->empty())
        return doc.error(rat, "a container without blocks");
      for (auto [b, bv] : llvm::enumerate(*blocks)) {
        Path bat = rat;
        bat.push_back("blocks");
        bat.push_back(b);
        const json::Object *bo = bv.getAsObject();
        if (!bo)
          return doc.error(bat, "expected an object");
        Repeat::Block block;
        if (llvm::Error e = string(*bo, bat, "child", block.child))
          return e;
        if (llvm::Error e = indices(*bo, bat, "inputs", block.inputs, trace))
          return e;
        if (llvm::Error e = indices(*bo, bat, "outputs", block.outputs, trace))
          return e;
        repeat.blocks.push_back(std::move(block));
      }
      trace.repeats.push_back(std::move(repeat));
    }
    if (llvm::Error e = integer(*t, at, "loss", trace.loss))
      return e;
    if (trace.loss < 0 || trace.loss >= int64_t(trace.tensors.size()))
      return doc.error(Path{key, "loss"}, "expected a tensor index");
    return llvm::Error::success();
  }

  const JSONDocument &doc;
};
} // namespace

//===----------------------------------------------------------------------===//
// Errors at the user's source
//===----------------------------------------------------------------------===//

/// `model.py:57: in module 'h.0.attn', call 'mul': <message>`.
static llvm::Error callError(const Call &call, const Twine &message) {
  std::string where =
      call.line > 0 ? llvm::formatv("{0}:{1}: ", call.file, call.line).str()
                    : "";
  std::string module = call.module.empty() ? "<model>" : call.module;
  std::string what = call.isPseudo()
                         ? llvm::formatv("{0} '{1}'", call.op, call.name).str()
                         : "call '" + call.op + "'";
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 where + "in module '" + module + "', " + what +
                                     ": " + message.str());
}

static llvm::Error plainError(const Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message.str());
}

//===----------------------------------------------------------------------===//
// Folding repeated blocks
//===----------------------------------------------------------------------===//

namespace {
/// Where a value is computed in the folded program: result `result` of the
/// call at `pos` of item `item` (a model-level call, pos 0, or a repeat's
/// body), or argument / result `result` of the repeat `item`.
struct FoldedRef {
  static constexpr int32_t kArg = -1, kResult = -2;
  int32_t item = 0, pos = 0, result = 0;
  bool operator==(const FoldedRef &o) const {
    return item == o.item && pos == o.pos && result == o.result;
  }
  bool operator<(const FoldedRef &o) const {
    return std::tie(item, pos, result) < std::tie(o.item, o.pos, o.result);
  }
};

/// A model-level call, or the blocks of a repeat (one list of calls each).
struct Item {
  int64_t call = -1;
  int64_t repeat = -1;
  std::vector<std::vector<size_t>> blocks;
  /// Values carried from block to block (the blocks' outputs).
  size_t carried = 0;
};

/// A trace with its repeated blocks folded.
struct FoldedTrace {
  const Trace *trace = nullptr;
  std::vector<Item> items;
  /// Per call: its item, block (-1 at model level) and position.
  std::vector<int32_t> itemOf, blockOf, posOf;
  /// The block-0 tensor of every FoldedRef that names a computed value, and
  /// of each repeat's arguments and results.
  std::map<FoldedRef, int64_t> tensorOf;
};

class Folder {
public:
  explicit Folder(const Trace &trace) : trace(trace) { folded.trace = &trace; }

  llvm::Expected<FoldedTrace> run() {
    if (llvm::Error e = partition())
      return std::move(e);
    for (auto [i, item] : llvm::enumerate(folded.items))
      if (item.repeat >= 0)
        if (llvm::Error e = checkBlocks(i))
          return std::move(e);
    return std::move(folded);
  }

  /// The folded name of a parameter or buffer of block `block` of repeat
  /// `repeat`: its block prefix `path.child.` becomes `path.*.`.
  static std::string foldName(const Trace &trace, int64_t repeat, int32_t block,
                              StringRef name) {
    if (repeat < 0 || block < 0)
      return name.str();
    const Repeat &r = trace.repeats[repeat];
    std::string prefix = r.path + "." + r.blocks[block].child + ".";
    if (!name.starts_with(prefix))
      return name.str();
    return r.path + ".*." + name.drop_front(prefix.size()).str();
  }

  /// Resolves tensor `t` used by a call of item `item`, block `block` (-1 at
  /// model level) to its FoldedRef, or fails naming `user`.
  static llvm::Expected<FoldedRef> resolve(const FoldedTrace &f, int64_t t,
                                           int32_t item, int32_t block,
                                           const Call &user) {
    const Trace &trace = *f.trace;
    size_t producer = trace.tensors[t].call;
    unsigned result = trace.tensors[t].result;
    int32_t pItem = f.itemOf[producer], pBlock = f.blockOf[producer];
    if (block >= 0) {
      const Item &it = f.items[item];
      const Repeat &r = trace.repeats[it.repeat];
      const Repeat::Block &b = r.blocks[block];
      if (pItem == item && pBlock == block)
        return FoldedRef{item, f.posOf[producer], int32_t(result)};
      for (size_t i = 0; i < it.carried; ++i)
        if (b.inputs[i] == t)
          return FoldedRef{item, FoldedRef::kArg, int32_t(i)};
      if (pBlock < 0)
        return FoldedRef{pItem, 0, int32_t(result)};
      return callError(
          user, llvm::formatv("reads a value computed in block {0} of "
                              "'{1}' that is not what the previous block "
                              "returned; muir folds blocks that pass only "
                              "their outputs on",
                              pBlock, r.path));
    }
    if (pBlock < 0)
      return FoldedRef{pItem, 0, int32_t(result)};
    const Item &it = f.items[pItem];
    const Repeat &r = trace.repeats[it.repeat];
    if (pBlock == int32_t(r.blocks.size()) - 1)
      for (size_t i = 0; i < it.carried; ++i)
        if (r.blocks.back().outputs[i] == t)
          return FoldedRef{pItem, FoldedRef::kResult, int32_t(i)};
    return callError(user,
                     llvm::formatv("reads a value computed inside block {0} of "
                                   "'{1}' that the block does not return; "
                                   "only the last block's outputs may be used "
                                   "after the blocks",
                                   pBlock, r.path));
  }

private:
  /// The repeat and block a call belongs to, by its module path.
  std::pair<int64_t, int32_t> blockOfCall(const Call &call) {
    for (auto [r, repeat] : llvm::enumerate(trace.repeats))
      for (auto [b, block] : llvm::enumerate(repeat.blocks)) {
        std::string prefix = repeat.path + "." + block.child;
        if (call.module == prefix ||
            StringRef(call.module).starts_with(prefix + "."))
          return {int64_t(r), int32_t(b)};
      }
    return {-1, -1};
  }

  llvm::Error partition() {
    size_t n = trace.calls.size();
    folded.itemOf.assign(n, -1);
    folded.blockOf.assign(n, -1);
    folded.posOf.assign(n, 0);
    llvm::DenseSet<int64_t> closed;
    int64_t open = -1;
    for (const Call &call : trace.calls) {
      auto [r, b] = blockOfCall(call);
      if (r != open && open >= 0) {
        Item &item = folded.items.back();
        const Repeat &repeat = trace.repeats[open];
        if (item.blocks.size() != repeat.blocks.size())
          return callError(
              call, llvm::formatv("comes after block {0} of '{1}' but before "
                                  "block {2}; muir folds blocks that are "
                                  "called one after another",
                                  item.blocks.size() - 1, repeat.path,
                                  item.blocks.size()));
        closed.insert(open);
        open = -1;
      }
      if (r < 0) {
        Item item;
        item.call = call.index;
        folded.items.push_back(item);
        folded.itemOf[call.index] = folded.items.size() - 1;
        continue;
      }
      const Repeat &repeat = trace.repeats[r];
      if (closed.contains(r))
        return callError(call,
                         llvm::formatv("belongs to block {0} of '{1}', whose "
                                       "blocks were left before; muir folds "
                                       "blocks that are called one after "
                                       "another",
                                       b, repeat.path));
      if (open != r) {
        Item item;
        item.repeat = r;
        folded.items.push_back(item);
        open = r;
      }
      Item &item = folded.items.back();
      if (int32_t(item.blocks.size()) == b + 1) {
        // Still in the current block.
      } else if (int32_t(item.blocks.size()) == b) {
        item.blocks.emplace_back();
      } else {
        return callError(call, llvm::formatv("belongs to block {0} of '{1}', "
                                             "but block {2} ran last; the "
                                             "blocks must run in order",
                                             b, repeat.path,
                                             int64_t(item.blocks.size()) - 1));
      }
      folded.itemOf[call.index] = folded.items.size() - 1;
      folded.blockOf[call.index] = b;
      folded.posOf[call.index] = item.blocks.back().size();
      item.blocks.back().push_back(call.index);
    }
    if (open >= 0 &&
        folded.items.back().blocks.size() != trace.repeats[open].blocks.size())
      return plainError("the " + trace.which + " model's blocks of '" +
                        trace.repeats[open].path + "' end early");
    for (size_t r = 0; r < trace.repeats.size(); ++r)
      if (!llvm::any_of(folded.items,
                        [&](const Item &i) { return i.repeat == int64_t(r); }))
        return plainError("the " + trace.which + " model's blocks of '" +
                          trace.repeats[r].path + "' make no PyTorch call");
    // Carried values and the FoldedRefs of computed values.
    for (auto [i, item] : llvm::enumerate(folded.items)) {
      if (item.repeat < 0) {
        const Call &call = trace.calls[item.call];
        for (auto [r, t] : llvm::enumerate(call.results))
          folded.tensorOf[{int32_t(i), 0, int32_t(r)}] = t;
        continue;
      }
      const Repeat &repeat = trace.repeats[item.repeat];
      item.carried = repeat.blocks[0].outputs.size();
      for (auto [b, block] : llvm::enumerate(repeat.blocks)) {
        if (block.outputs.size() != item.carried ||
            block.inputs.size() < item.carried)
          return plainError(llvm::formatv(
              "the {0} model's block {1} of '{2}' takes {3} tensors and "
              "returns {4}; muir folds blocks that return what the next "
              "block takes first",
              trace.which, b, repeat.path, block.inputs.size(),
              block.outputs.size()));
        if (b > 0)
          for (size_t c = 0; c < item.carried; ++c)
            if (block.inputs[c] != repeat.blocks[b - 1].outputs[c])
              return plainError(llvm::formatv(
                  "the {0} model's block {1} of '{2}' does not take as "
                  "argument #{3} what block {4} returned",
                  trace.which, b, repeat.path, c, b - 1));
      }
      for (size_t p = 0; p < item.blocks[0].size(); ++p) {
        const Call &call = trace.calls[item.blocks[0][p]];
        for (auto [r, t] : llvm::enumerate(call.results))
          folded.tensorOf[{int32_t(i), int32_t(p), int32_t(r)}] = t;
      }
      for (size_t c = 0; c < item.carried; ++c) {
        folded.tensorOf[{int32_t(i), FoldedRef::kArg, int32_t(c)}] =
            repeat.blocks[0].inputs[c];
        folded.tensorOf[{int32_t(i), FoldedRef::kResult, int32_t(c)}] =
            repeat.blocks.back().outputs[c];
      }
    }
    return llvm::Error::success();
  }

  /// Every block of the repeat `itemIndex` makes the calls block 0 makes,
  /// on values computed at the same places, with results of the same shapes.
  llvm::Error checkBlocks(size_t itemIndex) {
    const Item &item = folded.items[itemIndex];
    const Repeat &repeat = trace.repeats[item.repeat];
    for (size_t b = 1; b < item.blocks.size(); ++b) {
      const std::vector<size_t> &first = item.blocks[0], &mine = item.blocks[b];
      for (size_t p = 0; p < std::max(first.size(), mine.size()); ++p) {
        if (p >= first.size() || p >= mine.size()) {
          const Call &extra = trace.calls[p < mine.size() ? mine[p] : first[p]];
          return callError(
              extra, llvm::formatv("block {0} of '{1}' makes {2} calls "
                                   "and block 0 makes {3}; muir folds "
                                   "blocks that compute alike",
                                   b, repeat.path, mine.size(), first.size()));
        }
        const Call &a = trace.calls[first[p]], &c = trace.calls[mine[p]];
        if (llvm::Error e = sameCall(a, 0, c, b, itemIndex))
          return e;
        for (auto [r, t] : llvm::enumerate(c.results)) {
          const Tensor &x = trace.tensors[a.results[r]], &y = trace.tensors[t];
          if (x.shape != y.shape || x.dtype != y.dtype)
            return callError(
                c, llvm::formatv("result #{0} has another shape or type in "
                                 "block {1} of '{2}' than in block 0",
                                 r, b, repeat.path));
        }
      }
      for (size_t o = 0; o < item.carried; ++o) {
        auto ref = [&](size_t block) {
          int64_t t = repeat.blocks[block].outputs[o];
          const Call &producer = trace.calls[trace.tensors[t].call];
          return resolve(folded, t, itemIndex, block, producer);
        };
        llvm::Expected<FoldedRef> r0 = ref(0), rb = ref(b);
        if (!r0)
          return r0.takeError();
        if (!rb)
          return rb.takeError();
        if (!(*r0 == *rb))
          return plainError(llvm::formatv(
              "block {0} of '{1}' returns as output #{2} a value computed "
              "elsewhere than block 0's",
              b, repeat.path, o));
      }
    }
    return llvm::Error::success();
  }

  llvm::Error sameArgs(const Arg &a, int32_t blockA, const Arg &b,
                       int32_t blockB, int32_t item, const Call &callA,
                       const Call &callB) {
    if (a.kind != b.kind ||
        (a.kind == Arg::Kind::list && a.list.size() != b.list.size()))
      return callError(callB,
                       llvm::formatv("its arguments differ from those of the "
                                     "same call in block {0}",
                                     blockA));
    if (a.kind == Arg::Kind::tensor) {
      llvm::Expected<FoldedRef> ra =
          resolve(folded, a.tensor, item, blockA, callA);
      if (!ra)
        return ra.takeError();
      llvm::Expected<FoldedRef> rb =
          resolve(folded, b.tensor, item, blockB, callB);
      if (!rb)
        return rb.takeError();
      if (!(*ra == *rb))
        return callError(callB, llvm::formatv("reads another value than the "
                                              "same call in block {0}",
                                              blockA));
    }
    for (size_t i = 0; i < a.list.size(); ++i)
      if (llvm::Error e = sameArgs(a.list[i], blockA, b.list[i], blockB, item,
                                   callA, callB))
        return e;
    return llvm::Error::success();
  }

  llvm::Error sameCall(const Call &a, int32_t blockA, const Call &b,
                       int32_t blockB, int32_t item) {
    const Repeat &repeat = trace.repeats[folded.items[item].repeat];
    if (a.op != b.op || a.inplace != b.inplace ||
        a.results.size() != b.results.size() ||
        a.args.size() != b.args.size() || a.kwargs.size() != b.kwargs.size())
      return callError(b, llvm::formatv("block {0} of '{1}' makes this call "
                                        "where block {2} calls '{3}' (in "
                                        "module '{4}'); muir folds blocks "
                                        "that compute alike",
                                        blockB, repeat.path, blockA, a.op,
                                        a.module));
    if (a.isPseudo() &&
        foldName(trace, folded.items[item].repeat, blockA, a.name) !=
            foldName(trace, folded.items[item].repeat, blockB, b.name))
      return callError(b, llvm::formatv("block {0} of '{1}' brings in '{2}' "
                                        "where block {3} brings in '{4}'",
                                        blockB, repeat.path, b.name, blockA,
                                        a.name));
    for (size_t i = 0; i < a.args.size(); ++i)
      if (llvm::Error e =
              sameArgs(a.args[i], blockA, b.args[i], blockB, item, a, b))
        return e;
    for (size_t i = 0; i < a.kwargs.size(); ++i)
      if (llvm::Error e = sameArgs(a.kwargs[i].second, blockA,
                                   b.kwargs[i].second, blockB, item, a, b))
        return e;
    return llvm::Error::success();
  }

  const Trace &trace;
  FoldedTrace folded;
};
} // namespace

//===----------------------------------------------------------------------===//
// Comparing the base and target traces
//===----------------------------------------------------------------------===//

/// The FoldedRef of tensor `t` read by `user` in `f`.
static llvm::Expected<FoldedRef> refOf(const FoldedTrace &f, int64_t t,
                                       const Call &user) {
  return Folder::resolve(f, t, f.itemOf[user.index], f.blockOf[user.index],
                         user);
}

static llvm::Error compareArgs(const FoldedTrace &target, const Arg &a,
                               const Call &callA, const FoldedTrace &base,
                               const Arg &b, const Call &callB) {
  auto differ = [&](StringRef what) {
    return callError(callA, "the base model makes this call with other " +
                                what + " (base: " + callB.file + ":" +
                                Twine(callB.line) +
                                "); muir compares two sizes of one "
                                "architecture");
  };
  if (a.kind != b.kind ||
      (a.kind == Arg::Kind::list && a.list.size() != b.list.size()))
    return differ("arguments");
  if (a.kind == Arg::Kind::tensor) {
    llvm::Expected<FoldedRef> ra = refOf(target, a.tensor, callA);
    if (!ra)
      return ra.takeError();
    llvm::Expected<FoldedRef> rb = refOf(base, b.tensor, callB);
    if (!rb)
      return rb.takeError();
    if (!(*ra == *rb))
      return differ("tensors");
    if (target.trace->tensors[a.tensor].shape.size() !=
        base.trace->tensors[b.tensor].shape.size())
      return differ("tensor ranks");
  }
  for (size_t i = 0; i < a.list.size(); ++i)
    if (llvm::Error e =
            compareArgs(target, a.list[i], callA, base, b.list[i], callB))
      return e;
  return llvm::Error::success();
}

static llvm::Error compareCalls(const FoldedTrace &target, const Call &a,
                                const FoldedTrace &base, const Call &b) {
  auto name = [](const FoldedTrace &f, const Call &c) {
    int32_t item = f.itemOf[c.index];
    return Folder::foldName(*f.trace, f.items[item].repeat, f.blockOf[c.index],
                            c.name);
  };
  if (a.op != b.op || a.inplace != b.inplace || a.isPseudo() != b.isPseudo() ||
      (a.isPseudo() && name(target, a) != name(base, b)))
    return callError(a, llvm::formatv("the base model makes another call here: "
                                      "{0} '{1}' in module '{2}' ({3}:{4}); "
                                      "muir compares two sizes of one "
                                      "architecture, whose calls must match "
                                      "one for one",
                                      b.isPseudo() ? b.op : "call",
                                      b.isPseudo() ? b.name : b.op, b.module,
                                      b.file, b.line));
  if (a.results.size() != b.results.size() || a.args.size() != b.args.size() ||
      a.kwargs.size() != b.kwargs.size())
    return callError(a, "the base model makes this call with other arguments "
                        "or results; muir compares two sizes of one "
                        "architecture");
  for (size_t r = 0; r < a.results.size(); ++r) {
    const Tensor &x = target.trace->tensors[a.results[r]],
                 &y = base.trace->tensors[b.results[r]];
    if (x.shape.size() != y.shape.size() || x.dtype != y.dtype)
      return callError(a, llvm::formatv("result #{0} has rank {1} ({2}) in the "
                                        "target and {3} ({4}) in the base",
                                        r, x.shape.size(), x.dtype,
                                        y.shape.size(), y.dtype));
  }
  for (size_t i = 0; i < a.args.size(); ++i)
    if (llvm::Error e = compareArgs(target, a.args[i], a, base, b.args[i], b))
      return e;
  for (size_t i = 0; i < a.kwargs.size(); ++i)
    if (llvm::Error e = compareArgs(target, a.kwargs[i].second, a, base,
                                    b.kwargs[i].second, b))
      return e;
  return llvm::Error::success();
}

static llvm::Error compareTraces(const FoldedTrace &target,
                                 const FoldedTrace &base) {
  const Trace &t = *target.trace, &b = *base.trace;
  for (size_t i = 0; i < target.items.size(); ++i) {
    const Item &x = target.items[i];
    if (i >= base.items.size()) {
      const Call &call =
          t.calls[x.repeat < 0 ? x.call : int64_t(x.blocks[0][0])];
      return callError(call, "the base model stops before this call; muir "
                             "compares two sizes of one architecture");
    }
    const Item &y = base.items[i];
    if ((x.repeat < 0) != (y.repeat < 0) ||
        (x.repeat >= 0 &&
         t.repeats[x.repeat].path != b.repeats[y.repeat].path)) {
      const Call &call =
          t.calls[x.repeat < 0 ? x.call : int64_t(x.blocks[0][0])];
      return callError(
          call, x.repeat >= 0
                    ? "starts the blocks of '" + t.repeats[x.repeat].path +
                          "', which the base model does not have here"
                    : Twine("the base model runs repeated blocks here; muir "
                            "compares two sizes of one architecture"));
    }
    if (x.repeat < 0) {
      if (llvm::Error e =
              compareCalls(target, t.calls[x.call], base, b.calls[y.call]))
        return e;
      continue;
    }
    if (x.carried != y.carried)
      return plainError(llvm::formatv(
          "the blocks of '{0}' return {1} tensors in the target and {2} in "
          "the base",
          t.repeats[x.repeat].path, x.carried, y.carried));
    const std::vector<size_t> &bx = x.blocks[0], &by = y.blocks[0];
    for (size_t p = 0; p < bx.size(); ++p) {
      if (p >= by.size())
        return callError(t.calls[bx[p]], "the base model's blocks stop "
                                         "before this call");
      if (llvm::Error e =
              compareCalls(target, t.calls[bx[p]], base, b.calls[by[p]]))
        return e;
    }
    if (by.size() > bx.size())
      return callError(b.calls[by[bx.size()]],
                       "the base model's blocks make this call, which the "
                       "target's do not");
  }
  if (base.items.size() > target.items.size())
    return plainError("the base model makes calls after the target's last "
                      "one; muir compares two sizes of one architecture");
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// Recognising residual branches and attention logit scales
//===----------------------------------------------------------------------===//

namespace {
/// What the target's calls are, beyond their PyTorch names.
struct Recognized {
  /// Residual adds: call index -> which operand (0 or 1) is the stream.
  llvm::DenseMap<size_t, unsigned> residualStream;
  /// Attention logit scales: call index -> (head dim tensor axis: the
  /// tensor whose last dim is the head dim, the scale the source applies).
  struct Scale {
    int64_t query;
    tp::AttentionScale source;
  };
  llvm::DenseMap<size_t, Scale> scales;
};

class Recognizer {
public:
  Recognizer(const FoldedTrace &target, const FoldedTrace &base)
      : target(target), base(base), trace(*target.trace) {}

  llvm::Expected<Recognized> run() {
    for (const Item &item : target.items)
      if (item.repeat >= 0)
        findResiduals(item);
    for (const Call &call : trace.calls)
      if (call.op == "softmax" && target.blockOf[call.index] <= 0)
        if (llvm::Error e = findAttention(call))
          return std::move(e);
    return std::move(out);
  }

private:
  /// The tensors a call reads, in argument order.
  static void tensorsOf(const Arg &a, SmallVectorImpl<int64_t> &out) {
    if (a.kind == Arg::Kind::tensor)
      out.push_back(a.tensor);
    for (const Arg &x : a.list)
      tensorsOf(x, out);
  }

  const Call &producer(int64_t t) const {
    return trace.calls[trace.tensors[t].call];
  }

  /// A plain `a + b` of two tensors of one shape (no alpha, not a
  /// parameter): what a residual connection is.
  bool isPlainAdd(const Call &c) const {
    if (c.op != "add" || c.args.size() != 2 || !c.kwargs.empty() ||
        c.args[0].kind != Arg::Kind::tensor ||
        c.args[1].kind != Arg::Kind::tensor)
      return false;
    const Tensor &a = trace.tensors[c.args[0].tensor],
                 &b = trace.tensors[c.args[1].tensor];
    return a.shape == b.shape && a.dtype == b.dtype &&
           producer(c.args[0].tensor).op != "param" &&
           producer(c.args[1].tensor).op != "param";
  }

  /// Walks back from each value block 0 returns to its argument: the plain
  /// adds on that path, each adding a branch to the stream, are the
  /// residual connections. A path through anything else (a post-norm
  /// block) has none.
  void findResiduals(const Item &item) {
    const Repeat &repeat = trace.repeats[item.repeat];
    const std::vector<size_t> &body = item.blocks[0];
    llvm::DenseSet<size_t> inBody(body.begin(), body.end());
    for (size_t c = 0; c < item.carried; ++c) {
      int64_t arg = repeat.blocks[0].inputs[c];
      llvm::DenseMap<int64_t, bool> memo;
      std::function<bool(int64_t)> isStream = [&](int64_t t) -> bool {
        if (t == arg)
          return true;
        auto it = memo.find(t);
        if (it != memo.end())
          return it->second;
        memo[t] = false;
        const Call &p = producer(t);
        bool stream =
            inBody.contains(p.index) && isPlainAdd(p) &&
            (isStream(p.args[0].tensor) || isStream(p.args[1].tensor));
        memo[t] = stream;
        return stream;
      };
      SmallVector<std::pair<size_t, unsigned>> found;
      int64_t v = repeat.blocks[0].outputs[c];
      while (v != arg) {
        const Call &p = producer(v);
        if (!inBody.contains(p.index) || !isPlainAdd(p))
          break;
        bool s0 = isStream(p.args[0].tensor), s1 = isStream(p.args[1].tensor);
        if (s0 == s1)
          break;
        unsigned stream = s0 ? 0 : 1;
        found.push_back({p.index, stream});
        v = p.args[stream].tensor;
      }
      if (v == arg)
        for (auto [call, stream] : found)
          out.residualStream[call] = stream;
    }
  }

  /// Ops a softmax's input may pass through between the logits matmul and
  /// the softmax: masks, dropout, casts, and the scale.
  static bool passesLogits(const Call &c) {
    return llvm::is_contained({"masked_fill", "add", "sub", "dropout", "float",
                               "to", "type_as", "half", "bfloat16", "double",
                               "contiguous", "mul", "div"},
                              c.op);
  }

  static std::optional<double> numberArg(const Call &c) {
    for (const Arg &a : c.args)
      if (a.kind == Arg::Kind::number)
        return a.number;
    return std::nullopt;
  }

  /// A `* c` or `/ c` of a tensor by a Python number.
  static bool isConstantScale(const Call &c) {
    if ((c.op != "mul" && c.op != "div") || c.args.size() != 2 ||
        !c.kwargs.empty())
      return false;
    bool tensor0 = c.args[0].kind == Arg::Kind::tensor,
         tensor1 = c.args[1].kind == Arg::Kind::tensor;
    bool number0 = c.args[0].kind == Arg::Kind::number,
         number1 = c.args[1].kind == Arg::Kind::number;
    return (tensor0 && number1) || (c.op == "mul" && number0 && tensor1);
  }

  struct LogitsPath {
    size_t matmul;
    SmallVector<size_t> scales;
  };

  /// Every path back from `t` through passesLogits ops to a matmul of two
  /// computed tensors (the q.k^T of an attention).
  void findMatmuls(int64_t t, SmallVector<size_t> &scales,
                   SmallVector<LogitsPath> &paths, unsigned depth) {
    const Call &c = producer(t);
    if (c.op == "matmul" || c.op == "einsum") {
      SmallVector<int64_t> operands;
      for (const Arg &a : c.args)
        tensorsOf(a, operands);
      if (operands.size() == 2 && llvm::none_of(operands, [&](int64_t x) {
            return producer(x).isPseudo();
          }))
        paths.push_back({c.index, scales});
      return;
    }
    if (depth > 12 || !passesLogits(c))
      return;
    bool scale = isConstantScale(c);
    if (scale)
      scales.push_back(c.index);
    SmallVector<int64_t> operands;
    for (const Arg &a : c.args)
      tensorsOf(a, operands);
    for (int64_t x : operands)
      findMatmuls(x, scales, paths, depth + 1);
    if (scale)
      scales.pop_back();
  }

  /// The call in `f` at the place of target call `c`.
  const Call &counterpart(const FoldedTrace &f, const Call &c) const {
    int32_t item = target.itemOf[c.index], pos = target.posOf[c.index];
    const Item &it = f.items[item];
    return f.trace->calls[it.repeat < 0 ? it.call : int64_t(it.blocks[0][pos])];
  }

  llvm::Error findAttention(const Call &softmax) {
    if (softmax.args.empty() || softmax.args[0].kind != Arg::Kind::tensor)
      return llvm::Error::success();
    SmallVector<size_t> scales;
    SmallVector<LogitsPath> paths;
    findMatmuls(softmax.args[0].tensor, scales, paths, 0);
    if (paths.empty())
      return llvm::Error::success(); // a softmax that is not attention
    if (paths.size() > 1)
      return callError(softmax, "its input comes from several matrix "
                                "products; muir cannot tell which are the "
                                "attention logits whose scale transfers");
    const LogitsPath &path = paths.front();
    const Call &matmul = trace.calls[path.matmul];
    if (path.scales.empty())
      return callError(
          matmul, "computes attention logits that are never multiplied by a "
                  "constant before the softmax; muir applies the scheme's "
                  "logit scale (1/d_head under muP) where the model "
                  "multiplies by its own, so write the scale as "
                  "'(q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(d_head))'");
    if (path.scales.size() > 1)
      return callError(trace.calls[path.scales[1]],
                       "is a second constant the attention logits are "
                       "multiplied by; muir replaces one scale and cannot "
                       "tell which");
    const Call &scale = trace.calls[path.scales[0]];
    SmallVector<int64_t> operands;
    for (const Arg &a : matmul.args)
      tensorsOf(a, operands);
    int64_t query = operands[0];
    std::optional<tp::AttentionScale> kind;
    for (const FoldedTrace *f : {&target, &base}) {
      const Call &m = counterpart(*f, matmul), &s = counterpart(*f, scale);
      SmallVector<int64_t> ops;
      for (const Arg &a : m.args)
        tensorsOf(a, ops);
      const Tensor &q = f->trace->tensors[ops[0]];
      if (q.shape.empty())
        return plainError("attention query without dims");
      double d = double(q.shape.back());
      std::optional<double> c = numberArg(s);
      if (!c)
        return callError(scale, "expected a number");
      double value = s.op == "div" ? 1.0 / *c : *c;
      std::optional<tp::AttentionScale> mine;
      if (std::abs(value * std::sqrt(d) - 1.0) < 1e-5)
        mine = tp::AttentionScale::inv_sqrt_head_dim;
      else if (std::abs(value * d - 1.0) < 1e-5)
        mine = tp::AttentionScale::inv_head_dim;
      if (!mine || (kind && kind != mine))
        return callError(
            scale,
            llvm::formatv("scales the attention logits by {0} in the {1} "
                          "model, where the head dim (the last dim of the "
                          "query) is {2}: neither 1/sqrt(d_head) = {3} nor "
                          "1/d_head = {4}, so muir cannot tell which scale "
                          "to transfer",
                          llvm::format("%g", value), f->trace->which,
                          int64_t(d), llvm::format("%g", 1.0 / std::sqrt(d)),
                          llvm::format("%g", 1.0 / d)));
      kind = mine;
    }
    out.scales[scale.index] = {query, *kind};
    return llvm::Error::success();
  }

  const FoldedTrace &target, &base;
  const Trace &trace;
  Recognized out;
};
} // namespace

//===----------------------------------------------------------------------===//
// Building the tp.model
//===----------------------------------------------------------------------===//

namespace {
class ModelWriter {
public:
  ModelWriter(const FoldedTrace &target, const FoldedTrace &base,
              const Recognized &recognized, StringRef modelName,
              MLIRContext &context)
      : target(target), base(base), trace(*target.trace),
        recognized(recognized), modelName(modelName), context(context),
        b(&context) {}

  llvm::Expected<TorchImport> run() {
    if (llvm::Error e = nameDims())
      return std::move(e);
    TorchImport result;
    result.module = ModuleOp::create(UnknownLoc::get(&context));
    b.setInsertionPointToEnd(result.module->getBody());
    auto model = tp::ModelOp::create(b, UnknownLoc::get(&context), modelName);
    Block *body = b.createBlock(&model.getBody());
    b.setInsertionPointToEnd(body);
    declareDims();
    for (auto [i, item] : llvm::enumerate(target.items))
      if (llvm::Error e = item.repeat < 0 ? emitCall(trace.calls[item.call])
                                          : emitRepeat(item, int32_t(i)))
        return std::move(e);
    Value loss = lossRef ? valueAt(*lossRef) : Value();
    const Call &lossCall = trace.calls[trace.tensors[trace.loss].call];
    if (!loss || cast<tp::NamedTensorType>(loss.getType()).getRank() != 0)
      return callError(lossCall, "computes the loss, which must be a scalar "
                                 "computed at model level");
    tp::OutputOp::create(b, loc(lossCall), ValueRange{loss});
    if (llvm::Error e = checkReachesLoss(model))
      return std::move(e);
    if (llvm::Error e = verifyModule(*result.module))
      return std::move(e);
    llvm::Expected<json::Value> binding = makeBinding(model);
    if (!binding)
      return binding.takeError();
    result.binding = std::move(*binding);
    return std::move(result);
  }

private:
  /// The ref the loss has in the folded program (set when its call is
  /// emitted at model level).
  std::optional<FoldedRef> lossRef;

  //--- Dims -----------------------------------------------------------------

  /// The base-trace tensor at the place of target tensor `t`.
  int64_t baseTensor(int64_t t) const {
    const Tensor &info = trace.tensors[t];
    const Call &call = trace.calls[info.call];
    int32_t item = target.itemOf[call.index], pos = target.posOf[call.index];
    int32_t block = target.blockOf[call.index];
    FoldedRef ref{item, block >= 0 ? pos : 0, int32_t(info.result)};
    return base.tensorOf.at(ref);
  }

  /// Sizes per axis of a target tensor: (base, target).
  SmallVector<std::pair<int64_t, int64_t>> sizesOf(int64_t t) const {
    const std::vector<int64_t> &ts = trace.tensors[t].shape;
    const std::vector<int64_t> &bs = base.trace->tensors[baseTensor(t)].shape;
    SmallVector<std::pair<int64_t, int64_t>> out;
    for (size_t i = 0; i < ts.size(); ++i)
      out.push_back({bs[i], ts[i]});
    return out;
  }

  llvm::Error nameDims() {
    std::set<std::pair<int64_t, int64_t>> sizes;
    for (const Call &call : trace.calls) {
      if (target.blockOf[call.index] > 0)
        continue;
      for (int64_t t : call.results)
        for (auto s : sizesOf(t))
          sizes.insert(s);
    }
    llvm::StringMap<int> widthTargets;
    for (auto [base, size] : sizes)
      if (base != size)
        ++widthTargets[std::to_string(size)];
    bool anyWidth = false;
    for (auto [base, size] : sizes) {
      std::string name;
      if (base == size) {
        name = "f" + std::to_string(size);
      } else {
        anyWidth = true;
        name = "w" + std::to_string(size);
        if (widthTargets[std::to_string(size)] > 1)
          name += "_" + std::to_string(base);
      }
      dimNames[{base, size}] = name;
      dimOrder.push_back({base, size});
    }
    llvm::sort(dimOrder, [](auto a, auto b) {
      return std::make_tuple(a.first != a.second, a.second, a.first) <
             std::make_tuple(b.first != b.second, b.second, b.first);
    });
    if (!anyWidth)
      return plainError("no tensor has another size in the base model than "
                        "in the target: muir finds the width dims by "
                        "comparing the two, so give a base model of another "
                        "width");
    return llvm::Error::success();
  }

  void declareDims() {
    Location unknown = UnknownLoc::get(&context);
    auto kind = [&](tp::DimKind k) {
      return tp::DimKindAttr::get(&context, k);
    };
    for (auto [base, size] : dimOrder) {
      bool width = base != size;
      tp::DimOp::create(b, unknown, b.getStringAttr(dimNames[{base, size}]),
                        kind(width ? tp::DimKind::width : tp::DimKind::fixed),
                        width ? b.getI64IntegerAttr(base) : IntegerAttr(),
                        b.getI64IntegerAttr(size), ArrayAttr());
    }
    llvm::StringSet<> used;
    for (auto &[key, name] : dimNames)
      used.insert(name);
    for (auto [i, item] : llvm::enumerate(target.items)) {
      if (item.repeat < 0)
        continue;
      const Repeat &r = trace.repeats[item.repeat];
      const Item &baseItem = base.items[i];
      std::string name = r.path;
      while (!used.insert(name).second)
        name += "_";
      depthNames[item.repeat] = name;
      tp::DimOp::create(b, unknown, b.getStringAttr(name),
                        kind(tp::DimKind::depth),
                        b.getI64IntegerAttr(baseItem.blocks.size()),
                        b.getI64IntegerAttr(item.blocks.size()), ArrayAttr());
    }
  }

  llvm::Expected<Type> elementType(const Call &call, StringRef dtype) {
    Type f32 = b.getF32Type(), f64 = b.getF64Type();
    Type t = llvm::StringSwitch<Type>(dtype)
                 .Case("float32", f32)
                 .Case("float64", f64)
                 .Case("float16", b.getF16Type())
                 .Case("bfloat16", b.getBF16Type())
                 .Case("int64", b.getI64Type())
                 .Case("int32", b.getI32Type())
                 .Case("int16", b.getI16Type())
                 .Case("int8", b.getI8Type())
                 .Case("uint8", b.getIntegerType(8, /*isSigned=*/false))
                 .Case("bool", b.getI1Type())
                 .Case("complex64", ComplexType::get(f32))
                 .Case("complex128", ComplexType::get(f64))
                 .Default(Type());
    if (!t)
      return callError(call, "has a result of type '" + dtype +
                                 "', which muir does not know");
    return t;
  }

  llvm::Expected<tp::NamedTensorType> typeOf(const Call &call, int64_t t) {
    llvm::Expected<Type> element = elementType(call, trace.tensors[t].dtype);
    if (!element)
      return element.takeError();
    SmallVector<StringAttr> dims;
    for (auto s : sizesOf(t))
      dims.push_back(b.getStringAttr(dimNames.at(s)));
    return tp::NamedTensorType::get(&context, dims, *element);
  }

  //--- Values and locations -------------------------------------------------

  Location loc(const Call &call) {
    Location file = FileLineColLoc::get(&context, call.file,
                                        std::max<int64_t>(call.line, 0), 1);
    int32_t item = target.itemOf[call.index];
    // Fold the block index of the module path like a parameter's.
    std::string module =
        Folder::foldName(trace, target.items[item].repeat,
                         target.blockOf[call.index], call.module + ".");
    module.pop_back();
    return NameLoc::get(b.getStringAttr(module.empty() ? "<model>" : module),
                        file);
  }

  llvm::Expected<Value> operand(int64_t t, const Call &user) {
    llvm::Expected<FoldedRef> ref = refOf(target, t, user);
    if (!ref)
      return ref.takeError();
    Value v = valueAt(*ref);
    if (!v)
      return callError(user, llvm::formatv("reads tensor {0}, which is not "
                                           "computed where the call runs",
                                           t));
    return v;
  }

  Value valueAt(const FoldedRef &ref) const {
    auto it = values.find(ref);
    return it == values.end() ? Value() : it->second;
  }

  /// The tp.param `v` is, if any.
  static tp::ParamOp paramOf(Value v) { return v.getDefiningOp<tp::ParamOp>(); }

  void define(const Call &call, ValueRange results) {
    int32_t item = target.itemOf[call.index];
    int32_t pos =
        target.blockOf[call.index] >= 0 ? target.posOf[call.index] : 0;
    for (auto [r, v] : llvm::enumerate(results))
      values[{item, pos, int32_t(r)}] = v;
    for (auto [r, t] : llvm::enumerate(call.results))
      if (t == trace.loss && target.blockOf[call.index] < 0)
        lossRef = FoldedRef{item, pos, int32_t(r)};
  }

  //--- Calls ----------------------------------------------------------------

  llvm::Error emitRepeat(const Item &item, int32_t index) {
    const Repeat &repeat = trace.repeats[item.repeat];
    SmallVector<Value> inits;
    SmallVector<Type> types;
    const Call &first = trace.calls[item.blocks[0][0]];
    for (size_t c = 0; c < item.carried; ++c) {
      int64_t t = repeat.blocks[0].inputs[c];
      llvm::Expected<FoldedRef> ref = Folder::resolve(
          target, t, target.itemOf[trace.tensors[t].call], -1, first);
      if (!ref)
        return ref.takeError();
      Value v = valueAt(*ref);
      if (!v)
        return callError(first, "the blocks' argument is not computed before "
                                "them");
      inits.push_back(v);
      types.push_back(v.getType());
    }
    auto op = tp::RepeatOp::create(b, loc(first), types,
                                   depthNames[item.repeat], inits);
    // createBlock moves the insertion point into the body: the calls after
    // the blocks go after the tp.repeat again.
    OpBuilder::InsertionGuard guard(b);
    Block *body = b.createBlock(&op.getBody());
    for (auto [c, type] : llvm::enumerate(types))
      values[{index, FoldedRef::kArg, int32_t(c)}] =
          body->addArgument(type, loc(first));
    for (size_t call : item.blocks[0])
      if (llvm::Error e = emitCall(trace.calls[call]))
        return e;
    // Block 0 stands for every block; the binding maps each block's own
    // parameters (`h.3.fc.weight`) to their copy of the folded one.
    for (auto [block, calls] : llvm::enumerate(item.blocks))
      for (size_t call : calls)
        if (trace.calls[call].op == "param")
          paramCopies[trace.calls[call].name] = {
              Folder::foldName(trace, item.repeat, block,
                               trace.calls[call].name),
              int32_t(block)};
    SmallVector<Value> yields;
    for (size_t c = 0; c < item.carried; ++c) {
      int64_t t = repeat.blocks[0].outputs[c];
      llvm::Expected<FoldedRef> ref =
          Folder::resolve(target, t, index, 0, first);
      if (!ref)
        return ref.takeError();
      yields.push_back(valueAt(*ref));
    }
    tp::YieldOp::create(b, loc(first), yields);
    for (auto [c, v] : llvm::enumerate(op.getResults()))
      values[{index, FoldedRef::kResult, int32_t(c)}] = v;
    return llvm::Error::success();
  }

  llvm::Error emitPseudo(const Call &call) {
    int64_t t = call.results[0];
    llvm::Expected<tp::NamedTensorType> type = typeOf(call, t);
    if (!type)
      return type.takeError();
    int32_t item = target.itemOf[call.index];
    int32_t block = target.blockOf[call.index];
    std::string name =
        Folder::foldName(trace, target.items[item].repeat, block, call.name);
    Value v;
    if (call.op == "input") {
      if (block >= 0)
        return callError(call, "is an input of the model read first inside "
                               "the blocks");
      v = tp::InputOp::create(b, loc(call), *type, name);
    } else if (call.op == "param") {
      auto it = trace.params.find(call.name);
      if (it == trace.params.end())
        return callError(call, "is not listed in the trace's params");
      if (type->getRank() > 4)
        return callError(call, "has more than 4 dims; muir's packages hold "
                               "tensors of rank 0 to 4");
      if (!isa<FloatType>(type->getElementType()))
        return callError(call, "is not a floating-point tensor");
      const ParamEntry &entry = it->second;
      tp::InitKindAttr init;
      StringAttr tied;
      if (entry.tiedTo.empty()) {
        init =
            tp::InitKindAttr::get(&context, *tp::symbolizeInitKind(entry.init));
      } else {
        tied = b.getStringAttr(Folder::foldName(
            trace, target.items[item].repeat, block, entry.tiedTo));
      }
      v = tp::ParamOp::create(b, loc(call), *type, name, init, tied);
      paramCopies[call.name] = {name, std::max(block, 0)};
    } else {
      std::string source = call.op + " " + name;
      auto op = tp::GenericOp::create(
          b, loc(call), TypeRange{*type}, b.getStringAttr(source), ValueRange{},
          tp::GenericKindAttr(), b.getArrayAttr({}));
      v = op.getResult(0);
    }
    define(call, {v});
    return llvm::Error::success();
  }

  /// The tensors and parameters among a call's arguments.
  llvm::Error operands(const Call &call, const Arg &arg,
                       SmallVectorImpl<Value> &out) {
    if (arg.kind == Arg::Kind::tensor) {
      llvm::Expected<Value> v = operand(arg.tensor, call);
      if (!v)
        return v.takeError();
      out.push_back(*v);
    }
    for (const Arg &x : arg.list)
      if (llvm::Error e = operands(call, x, out))
        return e;
    return llvm::Error::success();
  }

  /// The value of argument `i` when it is a tensor, null when absent or
  /// None, failure when it is something else.
  llvm::Expected<Value> tensorArg(const Call &call, size_t i) {
    if (i >= call.args.size() || call.args[i].kind == Arg::Kind::text)
      return Value();
    if (call.args[i].kind != Arg::Kind::tensor)
      return callError(call, llvm::formatv("argument #{0} is not a tensor", i));
    return operand(call.args[i].tensor, call);
  }

  llvm::Error emitCall(const Call &call) {
    if (call.isPseudo())
      return emitPseudo(call);
    SmallVector<Value> inputs;
    for (const Arg &a : call.args)
      if (llvm::Error e = operands(call, a, inputs))
        return e;
    for (auto &[name, a] : call.kwargs)
      if (llvm::Error e = operands(call, a, inputs))
        return e;
    SmallVector<Type> types;
    for (int64_t t : call.results) {
      llvm::Expected<tp::NamedTensorType> type = typeOf(call, t);
      if (!type)
        return type.takeError();
      types.push_back(*type);
    }
    bool hasParam = llvm::any_of(inputs, [](Value v) { return paramOf(v); });
    Operation *op = nullptr;
    if (hasParam) {
      llvm::Expected<Operation *> made = emitParamUse(call, inputs, types);
      if (!made)
        return made.takeError();
      op = *made;
    } else if (auto it = recognized.residualStream.find(call.index);
               it != recognized.residualStream.end()) {
      Value stream = inputs[it->second], branch = inputs[1 - it->second];
      op = tp::ResidualOp::create(b, loc(call), types[0], stream, branch);
      residualCalls[op] = call.index;
    } else if (auto it = recognized.scales.find(call.index);
               it != recognized.scales.end()) {
      llvm::Expected<tp::NamedTensorType> query =
          typeOf(call, it->second.query);
      if (!query)
        return query.takeError();
      op = tp::AttentionScaleOp::create(
          b, loc(call), types[0], inputs[0],
          FlatSymbolRefAttr::get(&context, query->getDim(-1)),
          tp::AttentionScaleAttr::get(&context, it->second.source),
          tp::AttentionScaleAttr());
      scaleCalls[op] = call.index;
    } else {
      op = emitGeneric(call, inputs, types);
    }
    define(call, op->getResults());
    return llvm::Error::success();
  }

  Operation *emitGeneric(const Call &call, ValueRange inputs, TypeRange types) {
    // Flowing dims: those every result has and some operand has.
    SmallVector<Attribute> flows;
    auto first = cast<tp::NamedTensorType>(types[0]);
    for (StringAttr dim : first.getDims()) {
      auto has = [&](Type t) {
        return llvm::is_contained(cast<tp::NamedTensorType>(t).getDims(), dim);
      };
      if (llvm::all_of(types, has) &&
          llvm::any_of(inputs, [&](Value v) { return has(v.getType()); }) &&
          !llvm::is_contained(flows, FlatSymbolRefAttr::get(dim)))
        flows.push_back(FlatSymbolRefAttr::get(dim));
    }
    tp::GenericKind kind = *tp::symbolizeGenericKind(call.kind);
    // The shape contract holds for the tensor operands Python classified;
    // a call that reads a tensor beyond them (x.view_as(y)) is opaque.
    if ((kind == tp::GenericKind::reshape && inputs.size() != 1) ||
        (kind != tp::GenericKind::opaque && types.size() != 1) ||
        inputs.empty())
      kind = tp::GenericKind::opaque;
    return tp::GenericOp::create(b, loc(call), types, b.getStringAttr(call.op),
                                 inputs,
                                 kind == tp::GenericKind::opaque
                                     ? tp::GenericKindAttr()
                                     : tp::GenericKindAttr::get(&context, kind),
                                 b.getArrayAttr(flows));
  }

  llvm::Expected<Operation *> emitParamUse(const Call &call, ValueRange inputs,
                                           TypeRange types) {
    auto unsupported = [&](const Twine &why) {
      std::string params;
      for (Value v : inputs)
        if (tp::ParamOp p = paramOf(v))
          params += (params.empty() ? "'" : ", '") + p.getName().str() + "'";
      return callError(call,
                       "uses parameter " + params + " " + why +
                           "; muir derives a parameter's role from a use by "
                           "F.linear / nn.Linear (weight and bias), "
                           "F.embedding / nn.Embedding (table), F.layer_norm "
                           "(weight and bias), or a tensor added to or "
                           "multiplied by it elementwise");
    };
    auto rank = [](Value v) {
      return cast<tp::NamedTensorType>(v.getType()).getRank();
    };
    Location l = loc(call);
    if (call.op == "linear") {
      llvm::Expected<Value> x = tensorArg(call, 0), w = tensorArg(call, 1),
                            bias = tensorArg(call, 2);
      if (!x || !w || !bias) {
        llvm::consumeError(x.takeError());
        llvm::consumeError(w.takeError());
        llvm::consumeError(bias.takeError());
        return unsupported("with arguments F.linear does not take");
      }
      if (*x && *w && paramOf(*w) && !paramOf(*x) && rank(*w) == 2 &&
          (!*bias || (paramOf(*bias) && rank(*bias) == 1)))
        return tp::LinearOp::create(b, l, types[0], *x, *w, *bias)
            .getOperation();
      return unsupported("as the input or as a non-parameter weight of "
                         "F.linear");
    }
    if (call.op == "embedding") {
      llvm::Expected<Value> ids = tensorArg(call, 0),
                            table = tensorArg(call, 1);
      if (ids && table && *ids && *table && paramOf(*table) && !paramOf(*ids) &&
          rank(*table) == 2 &&
          isa<IntegerType>(
              cast<tp::NamedTensorType>(ids->getType()).getElementType()))
        return tp::EmbeddingOp::create(b, l, types[0], *ids, *table)
            .getOperation();
      if (!ids)
        llvm::consumeError(ids.takeError());
      if (!table)
        llvm::consumeError(table.takeError());
      return unsupported("other than as the table of F.embedding");
    }
    if (call.op == "layer_norm") {
      llvm::Expected<Value> x = tensorArg(call, 0), g = tensorArg(call, 2),
                            bias = tensorArg(call, 3);
      bool lastDimOnly = call.args.size() > 1 &&
                         call.args[1].kind == Arg::Kind::list &&
                         call.args[1].list.size() == 1;
      double eps =
          call.args.size() > 4 && call.args[4].kind == Arg::Kind::number
              ? call.args[4].number
              : 1e-5;
      if (x && g && bias && *x && !paramOf(*x) && *g && paramOf(*g) &&
          (!*bias || paramOf(*bias)) && lastDimOnly) {
        return tp::LayerNormOp::create(b, l, types[0], *x, *g, *bias,
                                       b.getF64FloatAttr(eps))
            .getOperation();
      }
      if (!x)
        llvm::consumeError(x.takeError());
      if (!g)
        llvm::consumeError(g.takeError());
      if (!bias)
        llvm::consumeError(bias.takeError());
      return unsupported("in an F.layer_norm muir cannot read (normalised "
                         "over more than the last dim, or a non-parameter "
                         "input)");
    }
    if ((call.op == "add" || call.op == "mul") && inputs.size() == 2 &&
        call.kwargs.empty() && call.args.size() == 2 && !call.inplace) {
      Value p = paramOf(inputs[0]) ? inputs[0] : inputs[1];
      Value x = p == inputs[0] ? inputs[1] : inputs[0];
      auto xt = cast<tp::NamedTensorType>(x.getType()),
           pt = cast<tp::NamedTensorType>(p.getType());
      // tp.add and tp.mul broadcast a parameter over the leading dims of
      // the activations only.
      bool suffix = pt.getRank() <= xt.getRank() &&
                    xt.getDims().take_back(pt.getRank()) == pt.getDims() &&
                    types[0] == xt;
      if (!paramOf(x) && suffix) {
        Operation *op =
            call.op == "add"
                ? tp::AddOp::create(b, l, types[0], x, p).getOperation()
                : tp::MulOp::create(b, l, types[0], x, p).getOperation();
        if (cast<tp::ParamUseOpInterface>(op).getParamUse(op->getOpOperand(1)))
          return op;
        op->erase();
      }
      return unsupported(call.op == "add"
                             ? Twine("in an add that is neither a bias over "
                                     "the features nor a [positions, "
                                     "features] table")
                             : Twine("in a product that is neither a scalar "
                                     "nor a gain over the features"));
    }
    return unsupported("in a call that says nothing about its role");
  }

  //--- Checks ---------------------------------------------------------------

  /// Every parameter must reach the loss: a role comes from the path to it.
  llvm::Error checkReachesLoss(tp::ModelOp model) {
    llvm::DenseSet<Operation *> reached;
    SmallVector<Value> work = {model.getOutput().getOperand(0)};
    llvm::DenseSet<Value> seen;
    while (!work.empty()) {
      Value v = work.pop_back_val();
      if (!seen.insert(v).second)
        continue;
      if (auto arg = dyn_cast<BlockArgument>(v)) {
        if (auto repeat = dyn_cast<tp::RepeatOp>(arg.getOwner()->getParentOp()))
          work.push_back(repeat.getInits()[arg.getArgNumber()]);
        continue;
      }
      Operation *op = v.getDefiningOp();
      reached.insert(op);
      if (auto repeat = dyn_cast<tp::RepeatOp>(op)) {
        auto yield =
            cast<tp::YieldOp>(repeat.getBody().front().getTerminator());
        work.push_back(yield.getValues()[cast<OpResult>(v).getResultNumber()]);
        continue;
      }
      for (Value x : op->getOperands())
        work.push_back(x);
    }
    if (!trace.unused.empty())
      return plainError("parameter '" + trace.unused.front() +
                        "' is not used by the forward pass, so muir cannot "
                        "derive its role; remove it, or freeze it "
                        "(requires_grad=False) to keep it out of the package");
    llvm::Error error = llvm::Error::success();
    model.walk([&](tp::ParamOp param) {
      if (reached.contains(param) || error)
        return;
      error = plainError(llvm::formatv(
          "parameter '{0}' (first used in module '{1}') does "
          "not reach the loss: muir derives roles from the "
          "paths to the loss; leave it out of the loss's "
          "computation only if it is frozen "
          "(requires_grad=False)",
          param.getName(), cast<NameLoc>(param.getLoc()).getName().str()));
    });
    return error;
  }

  llvm::Error verifyModule(ModuleOp module) {
    std::string diagnostics;
    {
      ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
        llvm::raw_string_ostream os(diagnostics);
        os << "\n  " << diag.getLocation() << ": " << diag;
        for (const Diagnostic &note : diag.getNotes())
          os << "\n  " << note.getLocation() << ": note: " << note;
        return success();
      });
      if (succeeded(verify(module)))
        return llvm::Error::success();
    }
    return plainError("the imported program does not verify:" + diagnostics);
  }

  //--- The binding ----------------------------------------------------------

  /// Where block `block`'s counterpart of body call `call` is.
  json::Value sites(size_t call) {
    json::Array out;
    int32_t item = target.itemOf[call];
    const Item &it = target.items[item];
    auto site = [&](const Call &c) {
      json::Object s{
          {"module", c.module}, {"ordinal", c.ordinal}, {"op", c.op}};
      for (const Arg &a : c.args)
        if (a.kind == Arg::Kind::number && std::isfinite(a.number))
          s["constant"] = a.number;
      return s;
    };
    if (it.repeat < 0) {
      out.push_back(site(trace.calls[call]));
      return out;
    }
    int32_t pos = target.posOf[call];
    for (const std::vector<size_t> &block : it.blocks)
      out.push_back(site(trace.calls[block[pos]]));
    return out;
  }

  llvm::Expected<json::Value> makeBinding(tp::ModelOp model) {
    tp::ModelIndex index(model);
    // Diagnostics of the forward table would name undeclared dims, which a
    // verified model does not have.
    FailureOr<tp::ForwardTable> table = tp::collectForwardTable(model, index);
    if (failed(table))
      return plainError("cannot list the imported model's residuals and "
                        "attentions");
    json::Object params;
    for (auto &[user, where] : paramCopies)
      params[user] =
          json::Object{{"param", where.first}, {"copy", where.second}};
    json::Array residuals, attentions;
    for (const tp::ResidualInfo &r : table->residuals) {
      size_t call = residualCalls.lookup(r.op);
      residuals.push_back(json::Object{
          {"name", r.name},
          {"stream", int64_t(recognized.residualStream.lookup(call))},
          {"sites", sites(call)}});
    }
    for (const tp::AttentionInfo &a : table->attentions) {
      tp::LogitScaleOpInterface attention = a.op;
      auto op = dyn_cast<tp::AttentionScaleOp>(attention.getOperation());
      if (!op)
        continue;
      attentions.push_back(json::Object{
          {"name", a.name},
          {"from", tp::stringifyAttentionScale(op.getSourceScale())},
          {"sites", sites(scaleCalls.lookup(op))}});
    }
    return json::Object{{"format", kTorchBindingFormat},
                        {"version", kTorchGraphVersion},
                        {"model", modelName},
                        {"params", std::move(params)},
                        {"residuals", std::move(residuals)},
                        {"attentions", std::move(attentions)}};
  }

  const FoldedTrace &target, &base;
  const Trace &trace;
  const Recognized &recognized;
  std::string modelName;
  MLIRContext &context;
  OpBuilder b;
  std::map<std::pair<int64_t, int64_t>, std::string> dimNames;
  std::vector<std::pair<int64_t, int64_t>> dimOrder;
  llvm::DenseMap<int64_t, std::string> depthNames;
  std::map<FoldedRef, Value> values;
  std::map<std::string, std::pair<std::string, int32_t>> paramCopies;
  llvm::DenseMap<Operation *, size_t> residualCalls, scaleCalls;
};
} // namespace

llvm::Expected<TorchImport> muir::importTorchGraph(StringRef path,
                                                   MLIRContext &context) {
  llvm::Expected<JSONDocument> doc =
      JSONDocument::read(path, "torch graph", kMaxTorchGraphBytes);
  if (!doc)
    return doc.takeError();
  std::string model;
  Trace target, base;
  if (llvm::Error e = GraphReader(*doc).read(model, target, base))
    return std::move(e);
  llvm::Expected<FoldedTrace> foldedTarget = Folder(target).run();
  if (!foldedTarget)
    return foldedTarget.takeError();
  llvm::Expected<FoldedTrace> foldedBase = Folder(base).run();
  if (!foldedBase)
    return foldedBase.takeError();
  if (llvm::Error e = compareTraces(*foldedTarget, *foldedBase))
    return std::move(e);
  llvm::Expected<Recognized> recognized =
      Recognizer(*foldedTarget, *foldedBase).run();
  if (!recognized)
    return recognized.takeError();
  context.getOrLoadDialect<tp::TPDialect>();
  return ModelWriter(*foldedTarget, *foldedBase, *recognized, model, context)
      .run();
}
