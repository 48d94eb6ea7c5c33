# The Python binding over the fixture package: the table and the manifest,
# views with the manifest's shapes that write through to the flat buffers,
# init and its shards, AdamW steps against numpy (torch.optim.AdamW's
# algorithm, written here), adopted numpy buffers, lifetimes.
#
# RUN: rm -rf %t && mkdir -p %t/pkg
# RUN: %muir_build_fixture -o %t/pkg/libmuir_kernels.so
# RUN: %python %s %t/pkg | FileCheck %s
# CHECK: package ok
# CHECK-NEXT: views ok
# CHECK-NEXT: init ok
# CHECK-NEXT: adamw ok
# CHECK-NEXT: adopt ok
# CHECK-NEXT: lifetime ok

import gc
import sys

import numpy as np

import muir

path = sys.argv[1]
pkg = muir.Package(path)

# The table through the C API, checked against the manifest.
assert pkg.model == "fixture" and pkg.optimizer == "adamw", pkg
assert pkg.num_states == 2 and pkg.buffer_elements == 48
assert pkg.alignment == 64 and pkg.abi_version == muir.package_abi_version()
assert muir.runtime_api_version() == 2
assert list(pkg.params_info) == ["blocks.w", "embed.weight", "unembed.weight"]
layout = {p["name"]: p for p in pkg.manifest["layout"]["params"]}
manifest = {p["name"]: p for p in pkg.manifest["report"]["params"]}
assert pkg.buffer_elements == pkg.manifest["layout"]["buffer_elements"]
for name, info in pkg.params_info.items():
    m = layout[name]
    assert info.copy_shape == tuple(m["shape"]), (name, info)
    expected = tuple(m["shape"]) if m["copies"] == 1 else (
        m["copies"],) + tuple(m["shape"])
    assert info.shape == expected, (name, info.shape)
    assert (info.offset, info.copies, info.stride, info.numel) == (
        m["offset"], m["copies"], m["stride"], m["numel"])
    assert info.tied_to == m["tied_to"]
    assert info.role == manifest[name]["role"]
    assert info.init == ("tied" if info.tied_to else manifest[name]["init"])
    assert pkg.find(name) == info
# The forward multipliers of the fixture's table: one per copy of a
# repeated parameter, else one number; the residual branch per block.
assert pkg.params_info["blocks.w"].multiplier == (1.0, 1.0)
assert pkg.params_info["embed.weight"].multiplier == 1.0
assert pkg.params_info["unembed.weight"].multiplier == 1.0 / 3.0
assert pkg.residuals == [muir.ResidualInfo(
    name="layers.residual0", depth="layers", index_in_block=0, copies=2,
    multiplier=(0.5, 0.25))], pkg.residuals
assert pkg.attention == [muir.AttentionInfo(
    name="layers.attention0", head_dim="d_head", head_dim_size=4,
    scale=0.25)], pkg.attention
print("package ok")

# Views: the manifest's shapes, writable, writing through to the flat buffer
# at the table's offsets; a tied parameter shares its owner's memory.
st = pkg.state()
assert st.device == "cpu"
for buffers in [st.params, st.grads] + list(st.states):
    assert {k: v.shape for k, v in buffers.items()} == {
        "blocks.w": (2, 4, 3), "embed.weight": (2, 3),
        "unembed.weight": (2, 3)}
    for v in buffers.values():
        assert v.dtype == np.float32 and v.flags.writeable
assert len(st.states) == 2 and len(st.flat_states) == 2
w = st.params["blocks.w"]
w[1, 2, 0] = 5.0
assert st.flat_params[16 + 2 * 3 + 0] == 5.0
w[0, 3, 2] = 6.0
assert st.flat_params[3 * 3 + 2] == 6.0
st.grads["embed.weight"] = np.arange(6, dtype=np.float32).reshape(2, 3)
assert list(st.flat_grads[32:38]) == [0, 1, 2, 3, 4, 5]
assert np.shares_memory(st.params["embed.weight"],
                        st.params["unembed.weight"])
st.flat_states[1][20] = 7.0
assert st.states[1]["blocks.w"][1, 1, 1] == 7.0
assert not np.shares_memory(st.flat_params, st.flat_grads)
try:
    st.grads["blocks.w"] = np.zeros((4, 3), dtype=np.float32)
    raise AssertionError("a wrong shape must not broadcast silently")
except ValueError as e:
    assert isinstance(e, muir.Error) and e.message == (
        "grads['blocks.w'] has shape (2, 4, 3); cannot assign shape (4, 3)"), e
st.grads["blocks.w"] = 0.5
assert (st.flat_grads[16:28] == 0.5).all()
print("views ok")

# Init: zero padding, deterministic, shards give the same bits.
st = pkg.state()
st.init(seed=42)
full = st.flat_params.copy()
padding = np.ones(48, dtype=bool)
padding[0:12] = padding[16:28] = padding[32:38] = False
assert (full[padding] == 0).all() and (full[~padding] != 0).all()
other = pkg.state()
for begin, end in [(30, 48), (0, 13), (13, 30)]:
    other.init_range(42, begin, end)
assert other.flat_params.tobytes() == full.tobytes()
other.init(seed=43)
assert other.flat_params.tobytes() != full.tobytes()
print("init ok")


def adamw(p, g, m, v, t, c, lr_factor):
    """torch.optim.AdamW for one tensor, float64, constants `c`."""
    lr = c["lr"] * lr_factor
    p = p * (1 - lr * c["weight_decay"])
    m = c["beta1"] * m + (1 - c["beta1"]) * g
    v = c["beta2"] * v + (1 - c["beta2"]) * g * g
    m_hat = m / (1 - c["beta1"] ** t)
    v_hat = v / (1 - c["beta2"] ** t)
    return p - lr * m_hat / (np.sqrt(v_hat) + c["eps"]), m, v


rng = np.random.default_rng(0)
owners = ["blocks.w", "embed.weight"]
ref = {n: [st.params[n].astype(np.float64), 0.0, 0.0] for n in owners}
for t, factor in [(1, 1.0), (2, 0.5), (3, 0.1)]:
    for n in owners:
        g = rng.standard_normal(st.grads[n].shape).astype(np.float32)
        st.grads[n][...] = g
        p, m, v = ref[n]
        ref[n] = list(adamw(p, g.astype(np.float64), m, v, t, manifest[n],
                            factor))
    st.step(t, lr_factor=factor)
    for n in owners:
        p, m, v = ref[n]
        np.testing.assert_allclose(st.params[n], p, rtol=2e-6, atol=1e-7)
        np.testing.assert_allclose(st.states[0][n], m, rtol=2e-6, atol=1e-7)
        np.testing.assert_allclose(st.states[1][n], v, rtol=2e-6, atol=1e-7)
# The tied parameter moved with its owner; padding stayed zero.
assert (st.params["unembed.weight"] == st.params["embed.weight"]).all()
assert (st.flat_params[padding] == 0).all()
print("adamw ok")

# Adopted numpy buffers compute the same bits as a created state.
bufs = [muir.aligned_zeros(48, 64) for _ in range(4)]
adopted = pkg.adopt(bufs[0], bufs[1], bufs[2:])
created = pkg.state()
for s in (adopted, created):
    s.init(7)
    s.flat_grads[:] = np.linspace(-1, 1, 48, dtype=np.float32)
    s.step(1)
    s.step(2, 0.5)
assert bufs[0].tobytes() == created.flat_params.tobytes()
assert bufs[3].tobytes() == created.flat_states[1].tobytes()
assert np.shares_memory(adopted.params["blocks.w"], bufs[0])
back = created.copy_to_host(muir.BUFFER_PARAMS)
assert back.tobytes() == created.flat_params.tobytes()
created.copy_from_host(muir.BUFFER_GRADS, np.ones(5), begin=3)
assert list(created.flat_grads[3:8]) == [1.0] * 5
print("adopt ok")

# Views keep their state alive; states keep their package alive.
view = muir.Package(path).state().params["blocks.w"]
gc.collect()
view[...] = 3.0
assert (view == 3.0).all()
del view
gc.collect()
print("lifetime ok")
