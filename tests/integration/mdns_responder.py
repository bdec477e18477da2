"""A minimal mDNS responder for tests: answers A queries for one name with one
IPv4 address, by unicast to the querier (RFC 6762 §6.7), on loopback."""

import socket
import struct
import sys


def encode_name(name):
    return b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"


def main():
    name, address = sys.argv[1], sys.argv[2]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", 5353))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                 socket.inet_aton("224.0.0.251") + socket.inet_aton("127.0.0.1"))
    s.settimeout(60)
    wanted = encode_name(name).lower()
    print("ready", flush=True)
    while True:
        try:
            data, peer = s.recvfrom(9000)
        except socket.timeout:
            return
        if len(data) < 12 or data[2] & 0x80 or wanted not in data.lower():
            continue
        qid = data[:2]
        question = encode_name(name) + struct.pack("!HH", 1, 1)
        answer = encode_name(name) + struct.pack("!HHIH", 1, 0x8001, 120, 4) + socket.inet_aton(address)
        reply = qid + struct.pack("!HHHHH", 0x8400, 1, 1, 0, 0) + question + answer
        s.sendto(reply, peer)


if __name__ == "__main__":
    main()
