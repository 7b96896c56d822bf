"""`kgrec cache`, `kgrec embed publish` and `kgrec serve` as an operator uses them."""

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx

from kg.servers import free_port
from tests._support.cli import KGREC
from tests._support.cli import kgrec as _kgrec
from tests._support.embeddings import make_export


def test_cache_publish_serve_round_trip(tmp_path: Path) -> None:
    port = free_port()
    env = {"KGREC_CACHE__STATE_DIR": str(tmp_path / "redis"), "KGREC_CACHE__EXPORTS_DIR": str(tmp_path / "exp"),
           "KGREC_SERVE__PORT": str(port)}
    assert _kgrec("cache", "status", cwd=tmp_path, env=env).returncode == 1
    started = _kgrec("cache", "start", cwd=tmp_path, env=env)
    assert started.returncode == 0 and "running: pid" in started.stdout
    try:
        make_export(tmp_path / "exp", "2026-01-01", users=3, items=4, dim=2)
        missing = _kgrec("embed", "publish", "--version", "nope", cwd=tmp_path, env=env)
        assert missing.returncode == 2 and "no embedding export here" in missing.stderr
        published = _kgrec("embed", "publish", "--version", "2026-01-01", cwd=tmp_path, env=env)
        assert published.returncode == 0, published.stderr[-2000:]
        assert json.loads(published.stdout)["outcome"] == "published"
        again = _kgrec("embed", "publish", "--version", "2026-01-01", cwd=tmp_path, env=env)
        assert json.loads(again.stdout)["outcome"] == "already live"
        status = _kgrec("cache", "status", cwd=tmp_path, env=env)
        assert "live 2026-01-01" in status.stdout
        server = subprocess.Popen([*KGREC, "serve"], cwd=tmp_path, env={**os.environ, **env},
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            reply = None
            for _ in range(100):
                try:
                    reply = httpx.post(f"http://127.0.0.1:{port}/v1/items", json={"ids": ["i3"]})
                    break
                except httpx.ConnectError:
                    time.sleep(0.1)
            assert reply is not None and reply.json()["embeddings"] == [[3.0, 3.0]]
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=20)
    finally:
        assert _kgrec("cache", "stop", cwd=tmp_path, env=env).stdout.strip() == "stopped"
