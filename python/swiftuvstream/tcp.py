"""TCP streams."""

from __future__ import annotations

import ctypes
import enum
import socket
from typing import Any, Callable, NamedTuple, Optional, Tuple, Union

from . import _ffi, error
from .error import StatusCodes
from .loop import Loop
from .request import ConnectRequest, _request_trampoline
from .stream import ConnectionCallback, ReadCallback, Stream

__all__ = ["TCP", "TCPFlags", "Address"]


class TCPFlags(enum.IntFlag):
    """Flags for :meth:`TCP.bind`."""

    IPV6ONLY = _ffi.UVS_TCP_IPV6ONLY
    """An IPv6 socket accepts IPv6 only (no IPv4-mapped addresses)."""


class Address(NamedTuple):
    """A socket address: compares equal to a plain ``(host, port)`` tuple. An IPv6
    address with a scope keeps it in ``host`` as ``"addr%scope"``."""

    host: str
    port: int


def _parse_address(address: Any) -> Tuple[bytes, int]:
    """``(ip, port)`` or ``(ip, port, flowinfo, scope_id)`` -> (ip bytes, port)."""
    if not isinstance(address, tuple) or len(address) not in (2, 4):
        raise TypeError("address must be a tuple (ip, port) or (ip, port, flowinfo, scope_id), not %r" % (address,))
    ip = address[0]
    if isinstance(ip, bytes):
        ip = ip.decode("ascii", "replace")
    if not isinstance(ip, str):
        raise TypeError("the address's ip must be a str, not %r" % type(ip).__name__)
    port = _ffi.c_int_arg(address[1], "port", 0, 65535)
    if len(address) == 4:
        scope_id = _ffi.c_int_arg(address[3], "scope_id", 0, 2**32 - 1)
        if scope_id and "%" not in ip:
            ip = "%s%%%d" % (ip, scope_id)
    if "\0" in ip:
        raise error.ArgumentError(error.StatusCodes.EINVAL, "the address contains a NUL character")
    return ip.encode("ascii", "replace"), port


class TCP(Stream):
    """``TCP(flags=0, loop=None, on_read=None, on_connection=None)``: a TCP stream.

    ``flags`` is an address family for creating the socket at once
    (``socket.AF_INET``/``AF_INET6``) or 0 to create it lazily in bind, connect or open.
    """

    def __init__(
        self,
        flags: int = 0,
        loop: Optional[Loop] = None,
        on_read: Optional[ReadCallback] = None,
        on_connection: Optional[ConnectionCallback] = None,
    ) -> None:
        flags = _ffi.c_int_arg(flags, "flags")
        super().__init__(loop, False, (flags,), on_read, on_connection)

    def _create(self, loop_pointer: int, *arguments: Any) -> int:
        (flags,) = arguments
        return _ffi.new_object(_ffi.lib.uvs_tcp_new, loop_pointer, flags)

    def open(self, fd: int) -> None:
        """Adopts an existing TCP socket (connected, or bound to listen); the handle owns
        it from then on. A descriptor that is not a socket raises ``NotSocketError``; a
        socket of another kind ``ArgumentError``."""
        fd = _ffi.c_int_arg(fd, "fd")
        _ffi.lib.uvs_tcp_open(self._open_ptr(), fd)

    def bind(self, address: Tuple[Any, ...], flags: int = 0) -> None:
        """Binds to ``address``: ``(ip, port)`` or ``(ip, port, flowinfo, scope_id)``
        with a numeric ip (port 0 picks a free port). ``flags`` is 0 or
        ``TCPFlags.IPV6ONLY``. A busy address is reported by ``listen`` or ``connect``
        (``AddressInUseError``), not here (libuv defers it)."""
        pointer = self._open_ptr()
        ip, port = _parse_address(address)
        flags = _ffi.c_int_arg(flags, "flags", 0, 2**32 - 1)
        _ffi.lib.uvs_tcp_bind(pointer, ip, port, flags)

    def connect(
        self, address: Tuple[Any, ...], on_connect: Optional[Callable[[ConnectRequest, Union[StatusCodes, int]], Any]] = None
    ) -> ConnectRequest:
        """Connects to ``address`` (a numeric ``(ip, port)`` tuple).
        ``on_connect(request, status)`` runs once: connection errors
        (``StatusCodes.ECONNREFUSED``, ...) arrive there. The stream is writable at once;
        writes wait for the connection (and are cancelled if it fails)."""
        return ConnectRequest(self, address, on_connect)

    def _connect(self, request_id: int, arguments: Any) -> None:
        address = arguments
        if isinstance(arguments, tuple) and len(arguments) == 1 and isinstance(arguments[0], tuple):
            address = arguments[0]
        pointer = self._open_ptr()
        ip, port = _parse_address(address)
        _ffi.lib.uvs_tcp_connect(pointer, ip, port, _request_trampoline, request_id)

    def _name(self, function: Any) -> Tuple[str, int, int]:
        buffer = ctypes.create_string_buffer(_ffi.UVS_IP_MAX)
        port = ctypes.c_int()
        family = ctypes.c_int()
        function(self._open_ptr(), buffer, _ffi.UVS_IP_MAX, ctypes.byref(port), ctypes.byref(family))
        return buffer.value.decode("ascii", "replace"), port.value, family.value

    @property
    def sockname(self) -> Address:
        """The local address as ``(host, port)``. Raises ``BadFileDescriptorError``
        before the socket exists."""
        host, port, _ = self._name(_ffi.lib.uvs_tcp_sockname)
        return Address(host, port)

    @property
    def peername(self) -> Address:
        """The peer's address as ``(host, port)``. Raises ``NotConnectedError`` when not
        connected."""
        host, port, _ = self._name(_ffi.lib.uvs_tcp_peername)
        return Address(host, port)

    @property
    def family(self) -> Optional[int]:
        """``socket.AF_INET`` or ``socket.AF_INET6`` once the socket exists; None before
        (and once closing)."""
        if self._closing or self._ptr is None:
            return None
        try:
            _, _, family = self._name(_ffi.lib.uvs_tcp_sockname)
        except error.UVError:
            return None
        try:
            return socket.AddressFamily(family)
        except ValueError:  # pragma: no cover
            return family

    def set_nodelay(self, enable: bool) -> None:
        """Enables (True) or disables TCP_NODELAY (Nagle's algorithm off when enabled).
        Before the socket exists the setting is remembered."""
        _ffi.lib.uvs_tcp_nodelay(self._open_ptr(), 1 if enable else 0)

    def set_keepalive(self, enable: bool, delay: int = 0) -> None:
        """Enables or disables TCP keep-alive; ``delay`` is the idle time in seconds
        before the first probe. Enabling needs ``delay`` >= 1 (the kernel rejects 0:
        ``ArgumentError``)."""
        delay = _ffi.c_int_arg(delay, "delay", 0, 2**32 - 1)
        _ffi.lib.uvs_tcp_keepalive(self._open_ptr(), 1 if enable else 0, delay)

    def set_simultaneous_accepts(self, enable: bool) -> None:
        """Enables or disables simultaneous asynchronous accepts (meaningful on Windows;
        accepted and ignored elsewhere)."""
        _ffi.lib.uvs_tcp_simultaneous_accepts(self._open_ptr(), 1 if enable else 0)
