"""A burst of 200 requests at once, valid, malformed and huge mixed: every one gets a proper
HTTP answer, the work in progress stays bounded (503 beyond the limits, never a pile-up), and
the server still answers afterwards. Under wsgiref and under uvicorn."""

from __future__ import annotations

import io
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

from PIL import Image

from staticimg.compiler.endpoint import ImageEndpoint

from .conftest import CountingService, Reply, Start, make_config, request

REQUESTS = 200
SLOTS, QUEUE, MAX_REQUESTS = 2, 4, 48


def test_burst(tmp_path: Path, start: Start) -> None:
    root = tmp_path / "project"
    (root / "static").mkdir(parents=True)
    big = Image.effect_noise((2400, 1600), 60).convert("RGB")
    buffer = io.BytesIO()
    big.save(buffer, "JPEG", quality=85)
    (root / "static" / "big.jpg").write_bytes(buffer.getvalue())
    service = CountingService()
    endpoint = ImageEndpoint(
        make_config(root),
        service=service,
        max_concurrent=SLOTS,
        max_queue=QUEUE,
        max_requests=MAX_REQUESTS,
        queue_timeout=5,
    )
    port = start(endpoint)

    targets = []
    for index in range(REQUESTS):
        kind = index % 5
        if kind in (0, 1):  # distinct real work
            targets.append(f"/_image?href=/big.jpg&w={200 + index}&f=webp")
        elif kind == 2:  # the same work, many times
            targets.append("/_image?href=/big.jpg&w=640")
        elif kind == 3:  # malformed
            bad = ["w=abc&href=/big.jpg", "href=/../../etc/passwd", "href=", "f=svg&href=/big.jpg"]
            targets.append("/_image?" + bad[index % 4])
        else:  # huge
            targets.append(f"/_image?href=/big.jpg&w={9000 + index}&h=9000")

    started = time.monotonic()
    pool = ThreadPoolExecutor(64)
    try:
        futures = [pool.submit(request, port, target) for target in targets]
        _, pending = wait(futures, timeout=18)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    assert not pending, f"{len(pending)} requests got no answer in time"
    replies: list[Reply] = [future.result() for future in futures]
    assert time.monotonic() - started < 18

    statuses = Counter(reply.status for reply in replies)
    assert statuses[200] > 0
    for index, reply in enumerate(replies):
        valid = index % 5 in (0, 1, 2)
        allowed = {200, 503} if valid else {400, 403, 503}
        assert reply.status in allowed, (targets[index], reply.status, reply.body[:80])
    for reply in replies:
        if reply.status == 503:
            assert reply.headers["retry-after"] == "1"
        if reply.status == 200:
            assert reply.headers["content-type"] == "image/webp"
            assert Image.open(io.BytesIO(reply.body)).format == "WEBP"
        else:
            assert reply.headers["content-type"].startswith("text/plain")
    # Bounded: never more transforms at once than the slots, and the excess was refused
    # (503) rather than queued without limit.
    assert service.peak <= SLOTS
    assert statuses[503] > 0
    assert service.calls <= statuses[200]

    # Still answering, and the repeated transform was done once and then cached.
    after = request(port, "/_image?href=/big.jpg&w=640")
    assert after.status == 200
    calls = service.calls
    assert request(port, "/_image?href=/big.jpg&w=640").status == 200
    assert service.calls == calls
