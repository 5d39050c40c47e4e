"""A model server's own Prometheus metrics, re-exported under the gateway's ``/metrics``.

llama-server (``--metrics``) reports slots busy, tokens/s, prompt and generation token
counts and deferred requests. The engine replica scrapes its process and labels every
sample with the model; the gateway appends the result to the node's Ray metrics, with
one ``# HELP``/``# TYPE`` per metric family however many engines report it.
"""

from __future__ import annotations

import re

#: ``name{labels} value`` or ``name value`` (then an optional timestamp).
_SAMPLE = re.compile(r"^(?P<name>[A-Za-z_:][A-Za-z0-9_:]*)(?:\{(?P<labels>.*)\})?(?P<rest>\s.*)$")


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def labelled(text: str, labels: dict[str, str]) -> str:
    """``text`` (Prometheus exposition format) with ``labels`` added to every sample."""
    extra = ",".join(f'{key}="{_escape(value)}"' for key, value in labels.items())
    lines = []
    for line in text.splitlines():
        match = _SAMPLE.match(line) if line and not line.startswith("#") else None
        if match is None:
            lines.append(line)
            continue
        own = match["labels"]
        joined = f"{own},{extra}" if own else extra
        lines.append(f"{match['name']}{{{joined}}}{match['rest']}")
    return "\n".join(lines) + "\n" if lines else ""


def merged(texts: list[str]) -> str:
    """Several expositions as one: each family's samples together, its HELP/TYPE once."""
    order: list[str] = []
    headers: dict[str, list[str]] = {}
    samples: dict[str, list[str]] = {}
    family = ""
    for text in texts:
        for line in text.splitlines():
            if line.startswith(("# HELP ", "# TYPE ")):
                family = line.split()[2]
                if family not in headers:
                    order.append(family)
                    headers[family], samples[family] = [], []
                if not any(h.split()[1] == line.split()[1] for h in headers[family]):
                    headers[family].append(line)
            elif line and not line.startswith("#"):
                if family not in samples:
                    order.append(family)
                    headers[family], samples[family] = [], []
                samples[family].append(line)
    return "".join("\n".join(headers[f] + samples[f]) + "\n" for f in order)
