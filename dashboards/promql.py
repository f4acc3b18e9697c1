"""PromQL text shared by the rule file and the dashboards."""

from __future__ import annotations

from collections.abc import Iterable

JOB = "smm-pulse"  # the Prometheus job that scrapes the workers
# The recording rule holding each brand's benchmarks (labels brand and metric).
BENCHMARK = "brand:smm_benchmark:value"

_SHORT_ESCAPES = {"\\": "\\\\", '"': '\\"', "\a": "\\a", "\b": "\\b", "\f": "\\f",
                  "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}
# Hidden from Grafana, which would read "$name", "${name}" or "[[name]]" in a dashboard
# query as one of its variables and substitute it; Grafana has no escape for them.
_GRAFANA_ESCAPES = {"$": "\\x24", "[": "\\x5b"}
_RE2_META = frozenset("\\.+*?()|[]{}^$")


class Variable(str):
    """A Grafana dashboard variable as a label value (``Variable("window")``): written as
    ``"$window"`` for Grafana to fill in, where any other value is quoted to stay as it is."""


def _go_escape(char: str) -> str:
    """One character inside a Go string literal."""
    if char in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[char]
    code = ord(char)
    if 0xD800 <= code < 0xE000:
        raise ValueError(f"{char!r} is half a UTF-16 pair, not a character")
    # U+FFFD too: the PromQL lexer takes it for a decoding error and rejects the query.
    if char.isprintable() and char != "\ufffd":
        return char
    if code < 0x80:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def go_string(text: str) -> str:
    """``text`` as a double-quoted Go string literal, which PromQL and Go templates both
    read back exactly: quotes, backslashes, newlines and invisible characters (such as a
    right-to-left mark) escaped, other characters kept as they are for readability."""
    return '"' + "".join(_go_escape(char) for char in text) + '"'


def promql_string(text: str) -> str:
    """A PromQL string literal for any label value, also safe inside a Grafana query."""
    return go_string(text).translate(str.maketrans(_GRAFANA_ESCAPES))


def _re2_literal(text: str) -> str:
    """A regular expression that matches ``text`` only, with U+FFFD written as an escape."""
    return "".join("\\x{fffd}" if char == "\ufffd" else "\\" + char if char in _RE2_META
                   else char for char in text)


def matcher(name: str, value: str) -> str:
    """``name="value"``, matching ``value`` exactly (a ``Variable`` is left to Grafana).

    A value with a U+FFFD becomes a regex of it alone: before running a rule Prometheus
    prints its expression and parses it again, and it prints an equality matcher's U+FFFD
    raw, which its parser then rejects as bad UTF-8.
    """
    if isinstance(value, Variable):
        return f'{name}="${value}"'
    if "\ufffd" in value:
        return f"{name}=~{promql_string(_re2_literal(value))}"
    return f"{name}={promql_string(value)}"


def selector(metric: str, **labels: str) -> str:
    """``metric{name="value", ...}`` with every value quoted."""
    matchers = [matcher(name, value) for name, value in labels.items()]
    return f"{metric}{{{', '.join(matchers)}}}"


def any_brand(metric: str, brands: Iterable[str], **labels: str) -> str:
    """Series of ``metric`` for any of ``brands``: exact matchers joined by ``or``, so brand
    names need no regex escaping."""
    return " or ".join(selector(metric, brand=brand, **labels) for brand in brands)
