"""Runs a command and prints one JSON line: wall seconds and the CPU seconds
(user + sys) it and its children used, from wait4's rusage.

    python timed.py --json OUT.json [--stdout FILE] -- COMMAND ...

The child's stdout goes to FILE (default: inherited); its stderr is inherited.
"""
import json
import os
import sys
import time

args = sys.argv[1:]
out = None
report = None
while args[:1] in (["--stdout"], ["--json"]):
    if args[0] == "--stdout":
        out = args[1]
    else:
        report = args[1]
    args = args[2:]
if args[:1] == ["--"]:
    args = args[1:]
t0 = time.time()
pid = os.fork()
if pid == 0:
    if out:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(fd, 1)
    try:
        os.execvp(args[0], args)
    finally:
        os._exit(127)
_, status, ru = os.wait4(pid, 0)
t1 = time.time()
result = json.dumps({"start": t0, "end": t1, "wall": t1 - t0, "cpu": ru.ru_utime + ru.ru_stime,
                     "rc": os.waitstatus_to_exitcode(status)})
if report:
    with open(report, "w") as f:
        f.write(result + "\n")
else:
    print(result, file=sys.stderr, flush=True)
sys.exit(0)
