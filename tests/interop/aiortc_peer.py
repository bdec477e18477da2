#!/usr/bin/python3
"""rtcpeer's aiortc test peer (Debian's python3-aiortc).

Behaves like aiortc's examples: it uses aiortc.contrib.signaling as they do,
with modes modelled on datachannel-filexfer (send/receive a file) and
datachannel-cli (ping/pong), plus a signaling-only mode. Network hygiene: no
STUN server, and only the loopback host address.

Every mode ends as the examples do: once its part is done (the file is in,
the pings are answered) it says bye, and it reads signaling until the
remote's bye, whoever said bye first.

Every raw signaling line it receives is checked for byte compatibility:
aiortc's object_to_string(object_from_string(line)) must give the line back.
A JSON report goes to --report (or stdout).
"""

import argparse
import asyncio
import hashlib
import json
import sys
import time

import aioice.ice
from aiortc import RTCConfiguration, RTCIceCandidate, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib import signaling as aiortc_signaling
from aiortc.contrib.signaling import BYE, add_signaling_arguments, create_signaling
from aiortc.sdp import candidate_from_sdp


report = {"received": [], "mismatches": [], "ice_states": [], "events": []}

_original_from_string = aiortc_signaling.object_from_string


def checked_object_from_string(message_str):
    line = message_str.rstrip("\n")
    obj = _original_from_string(message_str)
    report["received"].append(json.loads(line)["type"])
    if obj is not None:
        again = aiortc_signaling.object_to_string(obj)
        if again != line:
            report["mismatches"].append({"received": line, "aiortc": again})
    return obj


aiortc_signaling.object_from_string = checked_object_from_string


def event(text):
    report["events"].append(text)


async def send_description(signaling, description, trickle):
    """Sends a description; with trickle, its candidates follow as aiortc-encoded candidate messages."""
    if not trickle:
        await signaling.send(description)
        return
    lines = description.sdp.split("\r\n")
    candidates = [l[len("a=candidate:"):] for l in lines if l.startswith("a=candidate:")]
    kept = [l for l in lines if not l.startswith("a=candidate:") and l != "a=end-of-candidates"]
    await signaling.send(RTCSessionDescription(sdp="\r\n".join(kept), type=description.type))
    for text in candidates:
        candidate = candidate_from_sdp(text)
        candidate.sdpMid = "0"
        candidate.sdpMLineIndex = 0
        await signaling.send(candidate)
        event("candidate sent")


async def consume_signaling(pc, signaling, trickle=False):
    while True:
        obj = await signaling.receive()
        if isinstance(obj, RTCSessionDescription):
            await pc.setRemoteDescription(obj)
            event(f"{obj.type} received")
            if obj.type == "offer":
                await pc.setLocalDescription(await pc.createAnswer())
                await send_description(signaling, pc.localDescription, trickle)
                event("answer sent")
        elif isinstance(obj, RTCIceCandidate):
            await pc.addIceCandidate(obj)
        elif obj is BYE:
            event("bye received")
            return


async def run(args):
    signaling = create_signaling(args)
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    consumer = None
    said_bye = False

    @pc.on("iceconnectionstatechange")
    def on_ice_state():
        report["ice_states"].append(pc.iceConnectionState)

    async def say_bye():
        # Once its part is done, a peer says bye and, like aiortc's examples,
        # goes on reading signaling until the remote's bye.
        nonlocal said_bye
        if said_bye or consumer.done():
            return
        said_bye = True
        await signaling.send(BYE)
        event("bye sent")

    def finish():
        asyncio.ensure_future(say_bye())

    def attach(channel):
        if args.mode == "receive":
            out = open(args.file, "wb")
            sha = hashlib.sha256()
            state = {"octets": 0, "start": time.time()}

            @channel.on("message")
            async def on_message(message):
                if message:
                    state["octets"] += len(message)
                    sha.update(message)
                    out.write(message)
                else:
                    out.close()
                    elapsed = time.time() - state["start"]
                    report.update(octets=state["octets"], seconds=elapsed, sha256=sha.hexdigest())
                    await say_bye()  # as datachannel-filexfer does
        elif args.mode == "pong":
            @channel.on("message")
            def on_message(message):
                if isinstance(message, str) and message.startswith("ping"):
                    report.setdefault("pings", 0)
                    report["pings"] += 1
                    if args.answer_pings is None or report["pings"] <= args.answer_pings:
                        channel.send("pong" + message[4:])
                    if report["pings"] >= args.count:
                        asyncio.get_running_loop().call_later(0.5, finish)

    def channel_options():
        return dict(ordered=not args.unordered, maxRetransmits=args.max_retransmits,
                    maxPacketLifeTime=args.max_packet_lifetime, protocol=args.protocol,
                    negotiated=args.negotiated is not None, id=args.negotiated)

    attached = []

    def describe(channel):
        return dict(label=channel.label, protocol=channel.protocol, ordered=channel.ordered,
                    maxRetransmits=channel.maxRetransmits, maxPacketLifeTime=channel.maxPacketLifeTime,
                    negotiated=channel.negotiated, id=channel.id)

    if args.role == "answer" and args.negotiated is not None:
        # A negotiated channel is created on both sides and never announced.
        channel = pc.createDataChannel(args.label, **channel_options())
        attached.append(channel)
        attach(channel)

    if args.role == "offer":
        channel = pc.createDataChannel(args.label, **channel_options())
        attached.append(channel)
        if args.mode == "send":
            fp = open(args.file, "rb")
            state = {"done": False}

            def send_data():
                while channel.bufferedAmount <= channel.bufferedAmountLowThreshold and not state["done"]:
                    data = fp.read(args.chunk_size)
                    channel.send(data)
                    if not data:
                        state["done"] = True
                        event("eof sent")

            def on_open():
                # A hostile peer: DCEP opens for many channels besides the data channel.
                for i in range(args.extra_channels):
                    pc.createDataChannel(f"extra-{i}")
                if args.extra_channels:
                    event(f"{args.extra_channels} extra channels opened")
                send_data()

            channel.on("bufferedamountlow", send_data)
            channel.on("open", on_open)
        elif args.mode == "ping":
            pongs = []

            async def send_pings():
                await asyncio.sleep(args.ping_delay)
                for n in range(args.count):
                    channel.send(f"ping {n}")
                    await asyncio.sleep(0.05)

            @channel.on("open")
            def on_open():
                asyncio.ensure_future(send_pings())

            @channel.on("message")
            def on_message(message):
                pongs.append(message)
                report["pongs"] = pongs
                if len(pongs) >= args.count:
                    finish()
        else:
            attach(channel)
        await pc.setLocalDescription(await pc.createOffer())
        await send_description(signaling, pc.localDescription, args.trickle)
        event("offer sent")
    else:
        @pc.on("datachannel")
        def on_datachannel(channel):
            event(f"datachannel {channel.label}")
            attached.append(channel)
            attach(channel)

    consumer = asyncio.ensure_future(consume_signaling(pc, signaling, args.trickle))
    # Every mode ends at the remote's bye, whoever said bye first.
    await asyncio.wait([consumer], timeout=args.timeout)
    report["ice_connected"] = "completed" in report["ice_states"]
    report["finished"] = consumer.done()
    if attached:
        report["channel"] = describe(attached[0])
    consumer.cancel()
    await pc.close()
    await signaling.close()


def main():
    parser = argparse.ArgumentParser(description="aiortc test peer for rtcpeer")
    parser.add_argument("role", choices=["offer", "answer"])
    parser.add_argument("--mode", choices=["signaling", "send", "receive", "ping", "pong"], default="signaling")
    parser.add_argument("--file")
    parser.add_argument("--label", default="filexfer")
    parser.add_argument("--count", type=int, default=5)
    parser.add_argument("--answer-pings", type=int, help="pong: answer only this many pings")
    parser.add_argument("--ping-delay", type=float, default=0,
                        help="ping: seconds between the channel's opening and the first ping")
    parser.add_argument("--chunk-size", type=int, default=16384, help="send: bytes per message")
    parser.add_argument("--extra-channels", type=int, default=0, help="send: also open this many channels")
    parser.add_argument("--timeout", type=float, default=30)
    parser.add_argument("--unordered", action="store_true", help="the channel is unordered")
    parser.add_argument("--max-retransmits", type=int, help="the channel's maxRetransmits")
    parser.add_argument("--max-packet-lifetime", type=int, help="the channel's maxPacketLifeTime (ms)")
    parser.add_argument("--protocol", default="", help="the channel's protocol")
    parser.add_argument("--negotiated", type=int, metavar="ID",
                        help="both sides create the channel with this id (no DCEP)")
    parser.add_argument("--report")
    parser.add_argument("--trickle", action="store_true",
                        help="send candidates as separate candidate messages (aiortc's encoding)")
    add_signaling_arguments(parser)
    parser.add_argument("--host-address", action="append",
                        help="local address for host candidates (default 127.0.0.1)")
    args = parser.parse_args()
    # aiortc skips 127.0.0.1 when it lists host addresses; name them instead.
    addresses = args.host_address or ["127.0.0.1"]
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: addresses
    if args.signaling_port is not None:
        args.signaling_port = int(args.signaling_port)
    asyncio.run(run(args))
    text = json.dumps(report, indent=1)
    if args.report:
        with open(args.report, "w") as f:
            f.write(text)
    else:
        print(text)
    ok = report["finished"] and not report["mismatches"]
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
