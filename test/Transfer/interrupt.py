# A sweep stops on SIGINT or SIGTERM sent to its parent process alone, even
# when its launcher ignored SIGINT (a shell script's background job, where
# it used to run on until killed): the parent exits with 128 + the signal
# within a bound, its --jobs 2 pool workers are gone, every line of
# results.jsonl is a whole record, and a rerun resumes and completes the
# grid without running a recorded point twice.
#
# REQUIRES: fashion-mnist, matplotlib
# RUN: rm -rf %t && mkdir -p %t
# RUN: %python %s %t | FileCheck %s
# CHECK: SIGINT: exit 130, workers gone, whole records
# CHECK-NEXT: SIGTERM: exit 143, workers gone, whole records
# CHECK-NEXT: resumed: 8 runs, each once

import json
import os
import signal
import subprocess
import sys
import time

OUT = os.path.join(sys.argv[1], "sweep")
RESULTS = os.path.join(OUT, "results.jsonl")
# 8 runs of about a second each on two workers.
SWEEP = [sys.executable, "-m", "muir.transfer", "sweep", "--model", "mlp",
         "--schemes", "mup", "--widths", "16,32", "--log2-values=-10:-9",
         "--seeds", "2", "--steps", "800", "--jobs", "2", "--out", OUT]
TOTAL = 8


def lines():
    if not os.path.exists(RESULTS):
        return []
    with open(RESULTS, "rb") as f:
        return f.read().split(b"\n")


def records():
    """Every record; the file ends with a newline (no torn last line)."""
    raw = lines()
    assert raw and raw[-1] == b"", raw[-1][:80]
    return [json.loads(line) for line in raw[:-1]]


def children(pid):
    out = []
    for entry in os.listdir("/proc"):
        try:
            with open("/proc/%s/stat" % entry) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if entry.isdigit() and int(fields[1]) == pid:
            out.append(int(entry))
    return out


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def stop_with(signum, expected_rc):
    before = len(records()) if os.path.exists(RESULTS) else 0
    # Launched as a script's background job is: SIGINT ignored.
    proc = subprocess.Popen(
        SWEEP, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        deadline = time.time() + 120
        while len([l for l in lines() if l]) <= before:
            assert proc.poll() is None, proc.communicate()
            assert time.time() < deadline, "no run finished in 120 s"
            time.sleep(0.05)
        workers = children(proc.pid)
        assert workers, "no pool workers"
        os.kill(proc.pid, signum)
        _, err = proc.communicate(timeout=30)
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    assert proc.returncode == expected_rc, (proc.returncode, err)
    assert "stopped by %s" % signal.Signals(signum).name in err, err
    assert "Traceback" not in err, err
    deadline = time.time() + 10
    while any(alive(w) for w in workers):
        assert time.time() < deadline, "workers still running: %s" % [
            w for w in workers if alive(w)]
        time.sleep(0.05)
    done = records()
    assert before < len(done) < TOTAL, (before, len(done))
    print("%s: exit %d, workers gone, whole records" % (
        signal.Signals(signum).name, proc.returncode))


stop_with(signal.SIGINT, 130)
stop_with(signal.SIGTERM, 143)
resumed = subprocess.run(SWEEP, capture_output=True, text=True, timeout=300)
assert resumed.returncode == 0, resumed.stderr
done = records()
keys = [r["key"] for r in done]
assert len(keys) == TOTAL and len(set(keys)) == TOTAL, len(keys)
print("resumed: %d runs, each once" % len(done))
