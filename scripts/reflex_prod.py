"""The Reflex CLI, with the production frontend build skipped when its inputs did not change.

Usage (any `reflex` command line works; only `run --env prod` and `export` build the frontend):

    .venv/bin/python scripts/reflex_prod.py run --env prod --frontend-port 3000 --backend-port 3000

`reflex run --env prod` always compiles the app into `.web/` (about a second) and then runs
`react-router build` (vite) into `.web/build/`, which is the slow part. The build is a pure
function of the compiled sources in `.web/` (pages, components, env.json with the port baked in,
package.json, bun.lock, vite config), so this wrapper hashes those sources right before the build
and:

- reuses `.web/build/` as it is when it was built from the same hash;
- otherwise restores it from `.web/.build-cache/<hash>/` when a build of that hash is cached
  (e.g. the same app served on another port in between);
- otherwise runs Reflex's own build and caches the result (the newest CACHE_KEEP builds are kept).

Everything else is Reflex's own `run`: init when `.web` is missing, compile, single-port serving.
`REFLEX_FORCE_BUILD=1` always rebuilds.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import sys
import time
from pathlib import Path

CACHE_KEEP = 4
STAMP_NAME = ".inputs-sha256"
# Not inputs of the build: its outputs, installed packages, react-router's generated types
# and reflex.json (timestamps of the last run and version check).
SKIP_DIRS = {"build", "node_modules", ".react-router", ".build-cache"}
SKIP_FILES = {"reflex.json"}

logger = logging.getLogger("reflex_prod")


def inputs_hash(web: Path) -> str:
    from reflex_base import constants

    digest = hashlib.sha256(f"reflex {constants.Reflex.VERSION}\0".encode())
    for root, dirs, files in os.walk(web):
        dirs[:] = sorted(d for d in dirs if not (Path(root) == web and d in SKIP_DIRS))
        for name in sorted(files):
            path = Path(root) / name
            if path.parent == web and name in SKIP_FILES:
                continue
            digest.update(path.relative_to(web).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _say(message: str) -> None:
    print(f"[reflex_prod] {message}", flush=True)


def _prune(cache: Path) -> None:
    entries = sorted(cache.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[CACHE_KEEP:]:
        shutil.rmtree(old, ignore_errors=True)


def install_cached_build() -> None:
    from reflex.utils import build as rx_build
    from reflex.utils import prerequisites
    from reflex_base import constants

    reflex_build = rx_build.build

    def build_cached() -> None:
        web = prerequisites.get_web_dir()
        out = web / constants.Dirs.BUILD_DIR
        index = web / constants.Dirs.STATIC / "index.html"
        stamp = out / STAMP_NAME
        cache = web / ".build-cache"
        key = inputs_hash(web)
        force = os.environ.get("REFLEX_FORCE_BUILD", "") not in ("", "0", "false")

        if not force and index.exists() and stamp.exists() and stamp.read_text() == key:
            _say(f"frontend unchanged ({key[:12]}): reusing {out}")
            return
        if not force and (cache / key / STAMP_NAME).exists():
            shutil.rmtree(out, ignore_errors=True)
            shutil.copytree(cache / key, out, symlinks=True)
            os.utime(cache / key)
            _say(f"frontend unchanged ({key[:12]}): restored {out} from {cache / key}")
            return

        started = time.monotonic()
        reflex_build()
        stamp.write_text(key)
        _say(f"frontend built in {time.monotonic() - started:.1f}s ({key[:12]})")
        cache.mkdir(exist_ok=True)
        tmp = cache / f".tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(out, tmp, symlinks=True)
        shutil.rmtree(cache / key, ignore_errors=True)
        tmp.rename(cache / key)
        _prune(cache)

    # setup_frontend_prod() looks `build` up in its module's globals at call time.
    rx_build.build = build_cached


def main() -> None:
    install_cached_build()
    from reflex.reflex import cli

    sys.argv[0] = "reflex"
    sys.exit(cli())


if __name__ == "__main__":
    main()
