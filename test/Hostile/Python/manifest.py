# A corrupt manifest.json is a muir.Error naming the file (status
# ERROR_FORMAT, or ERROR_IO when it is missing), never a bare JSONDecodeError,
# UnicodeDecodeError or RecursionError; the runtime reads it strictly (no
# duplicate keys, no NaN, nesting at most 64 deep), and Package.manifest is
# the manifest the runtime checked at open, not whatever the path holds
# later.
#
# RUN: rm -rf %t && mkdir -p %t/pkg
# RUN: %muir_build_fixture -o %t/pkg/libmuir_kernels.so
# RUN: %python %s %t | FileCheck %s

import json
import os
import shutil
import sys

import muir

root = sys.argv[1]
good = open(os.path.join(root, "pkg", "manifest.json"), "rb").read()


def variant(name, data):
    out = os.path.join(root, name)
    os.makedirs(out)
    shutil.copy(os.path.join(root, "pkg", "libmuir_kernels.so"), out)
    if data is not None:
        with open(os.path.join(out, "manifest.json"), "wb") as f:
            f.write(data)
    return out


def expect(name, data, status):
    path = variant(name, data)
    try:
        muir.Package(path)
    except muir.Error as e:
        assert e.status == status, (name, e)
        print("%s: %s" % (name, e))
        return
    raise AssertionError("%s: opened" % name)


S = muir.Status
# CHECK: missing: ERROR_IO: package '{{.*}}/missing' has no manifest.json (muirc writes it last: an unfinished build, or not a package)
expect("missing", None, S.ERROR_IO)
# CHECK-NEXT: not-json: ERROR_FORMAT: package '{{.*}}/not-json': manifest.json is not valid JSON: line 1, column 1: unexpected character
expect("not-json", b"<html>404</html>", S.ERROR_FORMAT)
# CHECK-NEXT: not-utf8: ERROR_FORMAT: package '{{.*}}/not-utf8': manifest.json is not valid JSON: line {{[0-9]+}}, column {{[0-9]+}}: invalid UTF-8 in a string
expect("not-utf8", good.replace(b'"fixture"', b'"fix\xfft"', 1), S.ERROR_FORMAT)
# CHECK-NEXT: deep: ERROR_FORMAT: package '{{.*}}/deep': manifest.json is not valid JSON: line 1, column 65: nested deeper than 64 levels
expect("deep", b"[" * 100000 + b"]" * 100000, S.ERROR_FORMAT)
# CHECK-NEXT: duplicate: ERROR_FORMAT: package '{{.*}}/duplicate': manifest.json line 1, column 1: model appears twice
expect("duplicate", good.replace(b'"model": "fixture",',
                                 b'"model": "fixture", "model": "x",', 1),
       S.ERROR_FORMAT)
# CHECK-NEXT: nan: ERROR_FORMAT: package '{{.*}}/nan': manifest.json is not valid JSON: line {{[0-9]+}}, column {{[0-9]+}}: unexpected character
expect("nan", good.replace(b'"lr": 0.01', b'"lr": NaN', 1), S.ERROR_FORMAT)
# CHECK-NEXT: truncated: ERROR_FORMAT: package '{{.*}}/truncated': manifest.json is not valid JSON: line {{[0-9]+}}, column {{[0-9]+}}: {{.+}}
expect("truncated", good[:-40], S.ERROR_FORMAT)

# Replaced after the open: the package keeps the manifest it was checked
# against.
path = variant("replaced", good)
pkg = muir.Package(path)
with open(os.path.join(path, "manifest.json"), "w") as f:
    json.dump({"replaced": True}, f)
assert pkg.manifest["package_hash"] == pkg.package_hash
assert pkg.manifest["layout"]["buffer_elements"] == pkg.buffer_elements == 48
# CHECK-NEXT: replaced: the manifest checked at open
print("replaced: the manifest checked at open")
