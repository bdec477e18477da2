"""Ports for servers and --port-range on the shared loopback: a block of
consecutive ports below the kernel's ephemeral range (so no connect() or
bind(0) anywhere on the machine is handed one of them), chosen at random and
checked free for UDP and TCP at the moment it is chosen."""

import random
import socket


def ephemeral_range():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low, high = (int(x) for x in f.read().split())
            return low, high
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default


def _free(port, address):
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind((address, port))
            except OSError:
                return False
    return True


def free_block(count, address="127.0.0.1"):
    """The first port of `count` consecutive ports, all free on address and
    all outside the ephemeral range."""
    low, _ = ephemeral_range()
    first, last = 10000, low - count  # below the registered services most hosts run
    if last <= first:
        first = 1024
    rng = random.SystemRandom()
    for _ in range(200):
        start = rng.randrange(first, last)
        if all(_free(start + i, address) for i in range(count)):
            return start
    raise RuntimeError(f"no {count} free consecutive ports below {low}")
