"""Live video with pion (Debian's golang-github-pion-webrtc.v3-dev), through
the project's pion test peer in its media mode (tests/interop/pion/peer.go),
both ways at once on one sendrecv VP8 track, in both signaling roles:

- ffmpeg (test pattern, VP8) -> rtcpeer --send-video -> pion -> UDP -> a
  small RTP sink here that counts frames (one marker bit per frame);
- ffmpeg -> pion's track -> rtcpeer --recv-video -> ffmpeg recording from
  --sdp-file -> ffprobe counts the frames that decode.

pion offers SRTP_AEAD_AES_128_GCM first: rtcpeer must settle GCM (its -v log
names the profile). With pion restricted to SRTP_AES128_CM_HMAC_SHA1_80 the
same media must move on that. At least 90% of the frames sent must arrive.

Skipped (exit 77 for meson when every test is) when go or ffmpeg is missing."""

import json
import os
import re
import signal
import socket
import struct
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, HERE)
from harness import LOOPBACK, Proc, TestCase, free_tcp_port, main, wait_for  # noqa: E402
from ports import free_block  # noqa: E402
import test_media  # noqa: E402
import test_pion  # noqa: E402

SECONDS = 10
FPS = 30
FRAMES = SECONDS * FPS
GCM = "SRTP_AEAD_AES_128_GCM"
SHA1_80 = "SRTP_AES128_CM_HMAC_SHA1_80"


class RtpSink:
    """Counts the RTP that arrives on a UDP port: packets, and frames as the
    distinct timestamps of packets with the marker bit (the last packet of a
    VP8 frame), so that a retransmitted packet counts once."""

    def __init__(self, port):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", port))
        self.sock.settimeout(0.2)
        self.packets = 0
        self.frames = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                data = self.sock.recv(2048)
            except socket.timeout:
                continue
            if len(data) < 12 or data[0] >> 6 != 2:
                continue
            self.packets += 1
            if data[1] & 0x80:
                self.frames.add(struct.unpack("!I", data[4:8])[0])

    def close(self):
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


@unittest.skipIf(test_pion.go() is None, "go is not installed (Debian: golang-go, golang-github-pion-webrtc.v3-dev)")
@unittest.skipUnless(test_media.FFMPEG and test_media.FFPROBE, "ffmpeg and ffprobe are needed (Debian: ffmpeg)")
class PionMediaTest(TestCase):
    ffmpeg = test_media.MediaTest.ffmpeg

    @classmethod
    def setUpClass(cls):
        cls.peer = test_pion.pion_peer()

    def source(self, port, name):
        """FRAMES of a VP8 test pattern in real time, a keyframe every second."""
        return self.ffmpeg("-re", "-f", "lavfi", "-i", f"testsrc=size=320x240:rate={FPS}",
                           "-frames:v", str(FRAMES), *test_media.VIDEO_ENCODERS["vp8"],
                           "-g", str(FPS), "-f", "rtp", "-pkt_size", "1200",
                           f"rtp://127.0.0.1:{port}", name=name)

    def exchange(self, pion_role, srtp_profiles):
        ports = free_block(8)
        rtc_send, rtc_recv, pion_send, pion_recv = ports, ports + 2, ports + 4, ports + 6
        sink = RtpSink(pion_recv)
        self.addCleanup(sink.close)
        sdp_file = self.path("recv.sdp")
        port = str(free_tcp_port())
        rtc_role = "answer" if pion_role == "offer" else "offer"
        rtc_args = [rtc_role, "-s", "tcp-socket", "--signaling-port", port, *LOOPBACK, "-v",
                    "--send-video", f"127.0.0.1:{rtc_send}", "--recv-video", f"127.0.0.1:{rtc_recv}",
                    "--sdp-file", sdp_file, "--duration", str(SECONDS + 12),
                    "--stats", self.path("rtcpeer.json")]
        if rtc_role == "offer":
            rtc_args.append("--no-data")
        pion_args = [self.peer, pion_role, "--mode", "media", "--signaling-port", port,
                     "--timeout", "60", "--send-video", f"127.0.0.1:{pion_send}",
                     "--recv-video", f"127.0.0.1:{pion_recv}", "--srtp-profiles", srtp_profiles,
                     "--report", self.path("pion.json")]
        if pion_role == "offer":
            pion = Proc(pion_args)
            self.procs.append(pion)
            time.sleep(0.3)
            rtc = self.start(*rtc_args)
        else:
            rtc = self.start(*rtc_args)
            time.sleep(0.3)
            pion = Proc(pion_args)
            self.procs.append(pion)

        wait_for(lambda: os.path.exists(sdp_file), 20, "the SDP file")
        recording = self.path("recorded.mkv")
        recorder = self.ffmpeg("-protocol_whitelist", "file,udp,rtp", "-i", sdp_file, "-c", "copy",
                               "-y", recording, name="recorder")
        wait_for(lambda: "SRTP keyed" in rtc.stderr, 20, "SRTP keyed in rtcpeer")
        time.sleep(1.0)  # the recorder is listening
        to_rtcpeer = self.source(rtc_send, "to-rtcpeer")
        to_pion = self.source(pion_send, "to-pion")
        self.assertEqual(to_rtcpeer.wait(SECONDS + 40), 0, to_rtcpeer.stderr)
        self.assertEqual(to_pion.wait(SECONDS + 40), 0, to_pion.stderr)
        self.assertExit(rtc, 0, timeout=40)
        self.assertExit(pion, 0, timeout=20)
        time.sleep(0.5)
        recorder.signal(signal.SIGINT)
        if recorder.popen.returncode is None:  # else it gave up already, and send_signal reaped it
            recorder.wait(15)
        with open(self.path("pion.json")) as f:
            pion_report = json.load(f)
        keyed = re.search(r"SRTP keyed \((\S+),", rtc.stderr)
        result = {
            "profile": keyed.group(1) if keyed else None,
            "to_pion": len(sink.frames),
            "from_pion": test_media.count_frames(recording, "v:0"),
            "pion": pion_report,
        }
        print(f"\npion {pion_role}s, pion's SRTP profiles {srtp_profiles}: {result['profile']}; "
              f"rtcpeer -> pion {result['to_pion']}/{FRAMES} frames ({sink.packets} RTP), "
              f"pion -> rtcpeer {result['from_pion']}/{FRAMES} frames decoded "
              f"(pion sent {pion_report.get('rtp_sent')} RTP)")
        return result

    def check(self, result, profile):
        self.assertEqual(result["profile"], profile)
        self.assertGreaterEqual(result["to_pion"], 0.9 * FRAMES)
        self.assertGreaterEqual(result["from_pion"], 0.9 * FRAMES)
        self.assertGreater(result["pion"]["rtp_received"], FRAMES)
        self.assertGreater(result["pion"]["rtp_sent"], FRAMES)

    def test_pion_offers_gcm_first(self):
        self.check(self.exchange("offer", "all"), GCM)

    def test_pion_answers_with_gcm(self):
        self.check(self.exchange("answer", "all"), GCM)

    def test_pion_offers_sha1_80_only(self):
        self.check(self.exchange("offer", "sha1_80"), SHA1_80)

    def test_pion_answers_with_sha1_80_only(self):
        self.check(self.exchange("answer", "sha1_80"), SHA1_80)

    def test_source_starting_late_after_the_liveness_limit(self):
        """A media-only run whose source starts 17 s late stays up past the
        15 s liveness limit and then carries the video: nothing but RTCP
        crosses before (rtcpeer's empty receiver reports, pion's RTCP)."""
        ports = free_block(4)
        rtc_send, pion_recv = ports, ports + 2
        sink = RtpSink(pion_recv)
        self.addCleanup(sink.close)
        port = str(free_tcp_port())
        rtc = self.start("offer", "-s", "tcp-socket", "--signaling-port", port, *LOOPBACK, "-v",
                         "--no-data", "--send-video", f"127.0.0.1:{rtc_send}", "--duration", "40")
        time.sleep(0.3)
        pion = Proc([self.peer, "answer", "--mode", "media", "--signaling-port", port,
                     "--timeout", "60", "--recv-video", f"127.0.0.1:{pion_recv}",
                     "--report", self.path("pion.json")])
        self.procs.append(pion)
        wait_for(lambda: "SRTP keyed" in rtc.stderr, 20, "SRTP keyed in rtcpeer")
        time.sleep(17)
        self.assertIsNone(rtc.popen.poll(), rtc.stderr)
        self.assertIsNone(pion.popen.poll(), pion.stderr)
        frames = 3 * FPS
        late = self.ffmpeg("-re", "-f", "lavfi", "-i", f"testsrc=size=320x240:rate={FPS}",
                           "-frames:v", str(frames), *test_media.VIDEO_ENCODERS["vp8"],
                           "-g", str(FPS), "-f", "rtp", "-pkt_size", "1200",
                           f"rtp://127.0.0.1:{rtc_send}", name="late-source")
        self.assertEqual(late.wait(30), 0, late.stderr)
        wait_for(lambda: len(sink.frames) >= 0.9 * frames, 5,
                 f"{frames} frames at pion (got {len(sink.frames)})")
        rtc.signal(signal.SIGINT)
        self.assertExit(rtc, 130, timeout=10)
        self.assertExit(pion, 0, timeout=10)
        print(f"\nsource 17 s late: still up; then {len(sink.frames)}/{frames} frames")


if __name__ == "__main__":
    main()
