"""WebSub publishing: tell the hub which feeds changed, so subscribers get them at once.

One `hub.mode=publish` request per changed feed and hub (WebSub section 7, as hubs such as
websubhub.com and Superfeedr accept it). A hub that cannot be reached is reported and never
stops a build or a server.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Sequence
from urllib.parse import urlencode

from feedsmith.model import Problem
from feedsmith.version import __version__

TIMEOUT = 10.0


def publish(hubs: Sequence[str], urls: Sequence[str], *, timeout: float = TIMEOUT) -> list[Problem]:
    """Notify every hub of every changed feed URL; returns what could not be delivered."""
    problems: list[Problem] = []
    for hub in hubs:
        for url in urls:
            body = urlencode({"hub.mode": "publish", "hub.url": url}).encode("ascii")
            request = urllib.request.Request(  # noqa: S310 - the hub URL is validated as http(s)
                hub,
                data=body,
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "User-Agent": f"feedsmith/{__version__}",
                },
                method="POST",
            )
            try:
                with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                    response.read(65536)
            except urllib.error.HTTPError as exc:
                problems.append(Problem(hub, f"hub refused {url}: HTTP {exc.code} {exc.reason}"))
            except (urllib.error.URLError, OSError, ValueError) as exc:
                reason = getattr(exc, "reason", exc)
                problems.append(Problem(hub, f"hub not reached for {url}: {reason}"))
    return problems
