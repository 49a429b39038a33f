"""The Host allow-list of textrisk's local web surfaces (``textrisk dashboard``, ``textrisk serve``).

A page the user visits in a browser can make the browser send requests to a server on the user's machine under a
name the page controls (DNS rebinding) and read the answers. Such requests carry the attacker's name in the
``Host`` header, so both servers answer only requests whose ``Host`` is on an allow-list and refuse the rest with
400. The default list is the local names (``localhost``, ``127.0.0.1``, ``::1``) and the address the server is
bound to (unless that is a wildcard such as ``0.0.0.0``); ``--allowed-hosts`` adds names (comma-separated;
``*.example.com`` matches its subdomains; ``*`` alone turns the check off).
"""

from __future__ import annotations

from collections.abc import Iterable

from ..errors import ConfigError

__all__ = ["LOCAL_HOSTS", "allowed_hosts", "host_allowed", "refusal"]

#: Names that always reach this machine.
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
_WILDCARD_BINDS = ("", "0.0.0.0", "::", "*")


def _name(value: str) -> str:
    return value.strip().lower().rstrip(".").removeprefix("[").removesuffix("]")


def allowed_hosts(bind: str, extra: str | Iterable[str] | None = None) -> tuple[str, ...]:
    """The allow-list of a server bound to ``bind``: :data:`LOCAL_HOSTS`, ``bind`` (unless a wildcard) and
    ``extra`` (a comma-separated string or names).

    Raises:
        ConfigError: an empty name in ``extra``.
    """
    names = list(LOCAL_HOSTS)
    if _name(bind) not in _WILDCARD_BINDS:
        names.append(_name(bind))
    items = extra.split(",") if isinstance(extra, str) else list(extra or [])
    for item in items:
        name = _name(item)
        if not name or name == "*.":
            raise ConfigError(f"allowed hosts: empty host name in {extra!r} (a comma-separated list of names)")
        names.append(name)
    return tuple(dict.fromkeys(names))


def _host_of(header: str) -> str:
    header = header.strip()
    if header.startswith("["):  # [::1]:8000
        return _name(header.partition("]")[0])
    if header.count(":") == 1:  # name:port (a bare IPv6 address has several colons)
        header = header.partition(":")[0]
    return _name(header)


def host_allowed(header: str | None, allowed: Iterable[str]) -> bool:
    """Whether a request whose ``Host`` header is ``header`` may be answered under ``allowed``."""
    allowed = tuple(allowed)
    if "*" in allowed:
        return True
    if not header:
        return False
    host = _host_of(header)
    return any(host == name or (name.startswith("*.") and host.endswith(name[1:])) for name in allowed)


def refusal(header: str | None) -> str:
    """The message a refused request gets."""
    return (f"host {header!r} is not allowed: this server answers requests for its local names and bind address "
            "only (start it with --allowed-hosts NAME to add a name)")
