"""cProfile of the installed target on N new participants (tap | target, outside Meltano, private sandboxes).

    .venv/bin/python benchmarks/profile_target.py --participants 2000 --latency 50 --output target.prof
    .venv/bin/python -c "import pstats; pstats.Stats('target.prof').sort_stats('cumulative').print_stats(30)"
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

from run import Sandboxes
from writeback_pipeline import TAP, TARGET, configs


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=2000)
    parser.add_argument("--latency", type=int, default=50)
    parser.add_argument("--output", type=Path, default=Path("target.prof"))
    args = parser.parse_args(argv)
    with TemporaryDirectory(prefix="bench-prof-") as tmp, Sandboxes(Path(tmp) / "sandbox") as sandboxes:
        tap_config, target_config = configs(sandboxes, Path(tmp))
        sandboxes.reset_and_load(args.participants)
        sandboxes.both("POST", "latency", {"ms": args.latency})
        started = time.monotonic()
        tap = subprocess.Popen([str(TAP / "tap-eventmaker"), "--config", str(tap_config)],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        target = subprocess.run(
            [str(TARGET / "python"), "-m", "cProfile", "-o", str(args.output.resolve()),
             str(TARGET / "target-salesforce-campaign"), "--config", str(target_config)],
            stdin=tap.stdout, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        tap.stdout.close()
        exit_code = tap.wait() or target.returncode
        print(f"{time.monotonic() - started:.1f} s, exit={exit_code}, profile in {args.output}")
    return exit_code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
