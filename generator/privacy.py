"""Where does the text go? The add-on is private only while the server is on this machine or
the local network; the UI says so plainly when it is not."""
import ipaddress
import socket
from typing import Optional, Union
from urllib.parse import urlsplit

IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]

# Only these are "your local network": private (RFC 1918), link-local and unique-local ranges.
# ``ip.is_private`` would also count documentation (192.0.2.0/24, 198.51.100.0/24,
# 203.0.113.0/24) and benchmark (198.18.0.0/15) addresses, which may be anywhere.
LOCAL_RANGES = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",  # RFC 1918
    "169.254.0.0/16", "fe80::/10",  # link-local
    "fc00::/7",  # unique-local
))

THIS_MACHINE = "this machine"
LOCAL_NETWORK = "local network"
INTERNET = "internet"


def host_of(url: str) -> str:
    if "://" not in url:
        url = "http://" + url
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def url_scope(url: str, resolve: bool = False) -> str:
    """THIS_MACHINE, LOCAL_NETWORK or INTERNET for a server URL. Names are judged by their form
    (localhost, *.local, *.lan, single-label) unless ``resolve`` looks them up."""
    host = host_of(url)
    if not host:
        return INTERNET
    ip = _ip(host)
    if ip is None and resolve:
        ip = _resolve(host)
    if ip is None:
        if host == "localhost" or host.endswith(".localhost"):
            return THIS_MACHINE
        if "." not in host or host.endswith((".local", ".lan", ".home", ".internal", ".home.arpa")):
            return LOCAL_NETWORK
        return INTERNET
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback or ip.is_unspecified:
        return THIS_MACHINE
    if any(ip.version == net.version and ip in net for net in LOCAL_RANGES):
        return LOCAL_NETWORK
    return INTERNET


def privacy_note(url: str) -> str:
    """One line for the settings and the dialog; empty when nothing leaves the machine."""
    scope = url_scope(url)
    host = host_of(url) or url
    if scope == THIS_MACHINE:
        return ""
    if scope == LOCAL_NETWORK:
        return f"Your text is sent to {host} on your local network."
    return (f"Warning: {host} is not on this machine or your local network. Your text will be "
            "sent over the internet to that server.")


def mask_secret(secret: str) -> str:
    """An API key as it may be shown or logged: never in full."""
    if not secret:
        return ""
    if len(secret) <= 8:
        return "•" * len(secret)
    return secret[:3] + "…" + secret[-2:]


def _ip(host: str) -> Optional[IPAddress]:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _resolve(host: str) -> Optional[IPAddress]:
    try:
        return _ip(str(socket.getaddrinfo(host, None)[0][4][0]))
    except (OSError, IndexError):
        return None
