"""What a person is shown about the browsers logged into their account (pure; no request access)."""

from __future__ import annotations

import ipaddress

# Order matters: Edge and Opera announce themselves as Chrome too, Chrome as Safari.
_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"),
             ("Safari/", "Safari"))
_SYSTEMS = (("Android", "Android"), ("iPhone", "iOS"), ("iPad", "iPadOS"), ("Windows", "Windows"),
            ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))


def describe_user_agent(user_agent: str | None) -> str | None:
    """A short name such as "Firefox · Windows", or None when the browser is not recognised."""
    text = user_agent or ""
    browser = next((name for marker, name in _BROWSERS if marker in text), None)
    system = next((name for marker, name in _SYSTEMS if marker in text), None)
    parts = [part for part in (browser, system) if part]
    return " · ".join(parts) or None


def mask_address(address: str | None) -> str | None:
    """The network, not the machine: an IPv4 /24 or an IPv6 /48, enough to recognise a place."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return None
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))
