// The media engine on real loopback UDP sockets: a local source's RTP
// rewritten onto the negotiated track, forwarded to the other engine and out
// to a local sink; NACK, PLI and reports between two engines joined directly
// (no SRTP here: peer/connection's test covers it).
#include <arpa/inet.h>
#include <glib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "app/options.hpp"
#include "media/engine.hpp"
#include "rtp/packet.hpp"
#include "rtp/rtcp.hpp"
#include "rtp_test_packet.hpp"

using rtcpeer::media::Endpoint;
using rtcpeer::media::Engine;
namespace sdp = rtcpeer::sdp;
namespace rtp = rtcpeer::rtp;

namespace {

constexpr std::uint32_t kSendSsrc = 0x51e7d00d;

// A UDP socket on 127.0.0.1 for the test's side of a port.
struct TestSocket {
    int fd = -1;
    std::uint16_t port = 0;
    explicit TestSocket(std::uint16_t at = 0) {
        fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(at);
        if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
            ::close(fd);
            fd = -1;
            return;
        }
        socklen_t len = sizeof a;
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        port = ntohs(a.sin_port);
    }
    ~TestSocket() {
        if (fd >= 0) ::close(fd);
    }
    TestSocket(const TestSocket&) = delete;
    TestSocket& operator=(const TestSocket&) = delete;
    void send_to(std::uint16_t to, const std::vector<std::uint8_t>& data) const {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(to);
        ::sendto(fd, data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
    }
    std::vector<std::vector<std::uint8_t>> drain() const {
        std::vector<std::vector<std::uint8_t>> out;
        std::vector<std::uint8_t> buffer(65536);
        for (;;) {
            const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
            if (n < 0) return out;
            out.emplace_back(buffer.begin(), buffer.begin() + n);
        }
    }
};

// Two consecutive free ports: RTP and RTCP of a sink.
struct SinkPair {
    std::optional<TestSocket> rtp_socket, rtcp_socket;
    SinkPair() {
        for (int i = 0; i < 50; ++i) {
            rtp_socket.emplace();
            if (rtp_socket->port == 65535) continue;
            rtcp_socket.emplace(static_cast<std::uint16_t>(rtp_socket->port + 1));
            if (rtcp_socket->fd >= 0) return;
        }
        FAIL("no two consecutive free ports");
    }
};

std::vector<std::uint8_t> rtp_packet(std::uint8_t pt, std::uint32_t ssrc, std::uint16_t seq,
                                     std::uint32_t ts, std::size_t size) {
    std::vector<std::uint8_t> p = rtcpeer::testing::rtp_header(pt, seq, ts, ssrc);
    for (std::size_t i = 0; i < size; ++i) p.push_back(static_cast<std::uint8_t>(seq * 7 + i));
    return p;
}

sdp::NegotiatedTrack video_track(sdp::Direction direction) {
    sdp::NegotiatedTrack t;
    t.kind = sdp::MediaKind::kVideo;
    t.mid = "0";
    t.direction = direction;
    t.codec = sdp::offered_codec(sdp::VideoCodec::kVp8);
    t.nack = t.pli = true;
    if (sdp::sends(direction)) t.local_ssrc = kSendSsrc;
    if (sdp::receives(direction)) t.remote_ssrcs = {kSendSsrc};
    return t;
}

void spin(std::chrono::milliseconds duration) {
    const gint64 end = g_get_monotonic_time() + duration.count() * 1000;
    while (g_get_monotonic_time() < end) {
        while (g_main_context_iteration(nullptr, FALSE)) {
        }
        g_usleep(1000);
    }
}

// Sender A (a source port) and receiver B (a sink), joined in memory: A's
// RTP to B unless `drop` says no, RTCP both ways.
struct Link {
    SinkPair sink;
    TestSocket app;  // the local application that sends RTP to A's source port
    std::function<bool()> drop = [] { return false; };
    std::unique_ptr<Engine> a, b;

    Link() {
        Engine::Config ca;
        ca.send_video = Endpoint{"127.0.0.1", 0};
        ca.cname = "a";
        ca.report_interval = std::chrono::milliseconds(100);
        Engine::Config cb;
        cb.recv_video = Endpoint{"127.0.0.1", sink.rtp_socket->port};
        cb.cname = "b";
        cb.report_interval = std::chrono::milliseconds(100);
        a = std::make_unique<Engine>(ca, Engine::Output{[this](std::span<const std::uint8_t> p) {
                                                            if (!drop()) b->on_rtp(p);
                                                            return true;
                                                        },
                                                        [this](std::span<const std::uint8_t> p) {
                                                            b->on_rtcp(p);
                                                            return true;
                                                        }});
        b = std::make_unique<Engine>(
            cb, Engine::Output{[](std::span<const std::uint8_t>) { return true; },
                               [this](std::span<const std::uint8_t> p) {
                                   a->on_rtcp(p);
                                   return true;
                               }});
        CHECK(a->start({video_track(sdp::Direction::kSendonly)}).empty());
        CHECK(b->start({video_track(sdp::Direction::kRecvonly)}).empty());
    }
    std::uint16_t source() const { return a->source_port(sdp::MediaKind::kVideo); }
    // Drops the n-th RTP packet from A to B, and only that one.
    void drop_nth(int n) {
        drop = [n, seen = 0]() mutable { return ++seen == n; };
    }
    // A datagram from the local application to A's source port.
    void send(const std::vector<std::uint8_t>& datagram) const { app.send_to(source(), datagram); }
    // Packets `from` to `to` - 1 of one video stream, 2 ms apart.
    void send_paced(std::uint16_t from, std::uint16_t to) {
        for (std::uint16_t i = from; i < to; ++i) {
            send(rtp_packet(96, 0xaaaa, i, 3000 * i, 500));
            spin(std::chrono::milliseconds(2));
        }
    }
    rtcpeer::media::TrackCounters sent() const { return a->status()[0].counters; }
    rtcpeer::media::TrackCounters received() const { return b->status()[0].counters; }
};

}  // namespace

TEST_CASE("media: a source's RTP goes out on one stream, through a restart", "[media]") {
    Link link;
    std::vector<std::vector<std::uint8_t>> sent;
    for (std::uint16_t i = 0; i < 50; ++i) {
        sent.push_back(
            rtp_packet(100, 0xaaaa, static_cast<std::uint16_t>(65520 + i), 3000 * i, 100 + i));
        link.send(sent.back());
    }
    spin(std::chrono::milliseconds(100));
    // The source restarts: a new SSRC and numbering.
    for (std::uint16_t i = 0; i < 50; ++i) {
        sent.push_back(
            rtp_packet(100, 0xbbbb, static_cast<std::uint16_t>(7 + i), 99 + 3000 * i, 300 + i));
        link.send(sent.back());
    }
    link.send({0x80, 0x60, 0, 1});                          // short
    link.send({0x40, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1});  // version 1
    link.send(rtp_packet(96, 1, 1, 1, 20));                 // a third source's first
    spin(std::chrono::milliseconds(200));
    const auto got = link.sink.rtp_socket->drain();
    REQUIRE(got.size() == 101);
    rtp::RtpPacket first;
    REQUIRE(rtp::parse_rtp(got[0], first) == rtp::RtpError::kNone);
    for (std::size_t i = 0; i < 100; ++i) {
        INFO("packet " << i);
        rtp::RtpPacket p;
        REQUIRE(rtp::parse_rtp(got[i], p) == rtp::RtpError::kNone);
        CHECK(p.ssrc.value() == kSendSsrc);
        CHECK(p.payload_type.value() == 96);
        CHECK(p.sequence.value() == static_cast<std::uint16_t>(first.sequence.value() + i));
        rtp::RtpPacket original;
        REQUIRE(rtp::parse_rtp(sent[i], original) == rtp::RtpError::kNone);
        CHECK(std::vector<std::uint8_t>(p.payload.begin(), p.payload.end()) ==
              std::vector<std::uint8_t>(original.payload.begin(), original.payload.end()));
        if (i > 0 && i != 50) {
            rtp::RtpPacket prev;
            REQUIRE(rtp::parse_rtp(got[i - 1], prev) == rtp::RtpError::kNone);
            CHECK(p.timestamp.value() - prev.timestamp.value() == 3000u);
        }
    }
    const auto c = link.sent();
    CHECK(c.source_packets == 103);
    CHECK(c.source_malformed == 2);
    CHECK(c.source_restarts == 2);
    CHECK(c.packets_sent == 101);
    const auto r = link.received();
    CHECK(r.packets_received == 101);
    CHECK(r.lost == 0);
    // A PLI when the stream started, counted by the sender.
    CHECK(r.plis_sent == 1);
    CHECK(c.plis_received == 1);
}

TEST_CASE("media: a lost packet is asked for and resent; reports flow", "[media]") {
    Link link;
    link.drop_nth(10);
    link.send_paced(0, 30);
    spin(std::chrono::milliseconds(400));
    const auto got = link.sink.rtp_socket->drain();
    CHECK(got.size() == 30);
    const auto b = link.received();
    CHECK(b.nacks_sent >= 1);
    CHECK(b.nacked_packets >= 1);
    CHECK(b.recovered == 1);
    CHECK(b.lost == 0);
    CHECK(b.unrepaired == 0);
    const auto a = link.sent();
    CHECK(a.nacks_received >= 1);
    CHECK(a.retransmissions >= 1);
    // A's sender reports reached B's sink's RTCP port; B's receiver reports
    // gave A a round-trip time.
    const auto rtcp = link.sink.rtcp_socket->drain();
    REQUIRE_FALSE(rtcp.empty());
    rtp::CompoundReader reader(rtcp[0]);
    rtp::RtcpPacket p;
    REQUIRE(reader.next(p));
    CHECK(p.type == 200);
    CHECK(a.rtt_ms.has_value());
}

TEST_CASE("media: before any RTP both sides send reports, empty ones", "[media]") {
    // A media-only connection has nothing else to keep it audible: the
    // remote's liveness rule counts this (docs/ARCHITECTURE.md).
    std::vector<std::vector<std::uint8_t>> from_a, from_b;
    SinkPair sink;
    auto keep = [](std::vector<std::vector<std::uint8_t>>& into) {
        return [&into](std::span<const std::uint8_t> p) {
            into.emplace_back(p.begin(), p.end());
            return true;
        };
    };
    auto ignore = [](std::span<const std::uint8_t>) { return true; };
    Engine::Config ca;
    ca.send_video = Endpoint{"127.0.0.1", 0};
    ca.report_interval = std::chrono::milliseconds(50);
    Engine::Config cb;
    cb.recv_video = Endpoint{"127.0.0.1", sink.rtp_socket->port};
    cb.report_interval = std::chrono::milliseconds(50);
    Engine a(ca, Engine::Output{ignore, keep(from_a)});
    Engine b(cb, Engine::Output{ignore, keep(from_b)});
    REQUIRE(a.start({video_track(sdp::Direction::kSendonly)}).empty());
    REQUIRE(b.start({video_track(sdp::Direction::kRecvonly)}).empty());
    spin(std::chrono::milliseconds(300));
    for (const auto* sent : {&from_a, &from_b}) {
        REQUIRE(sent->size() >= 2);
        rtp::CompoundReader reader((*sent)[0]);
        rtp::RtcpPacket p;
        REQUIRE(reader.next(p));
        CHECK(p.type == 201);  // RR
        const auto rr = rtp::parse_receiver_report(p);
        REQUIRE(rr);
        CHECK(rr->reports.empty());
    }
}

TEST_CASE("media: the check for missing packets runs only while one is missing", "[media]") {
    Link link;
    link.drop_nth(20);
    link.send_paced(0, 10);
    spin(std::chrono::milliseconds(100));
    // A clean stream: the PLI at its start went out at once, nothing waits.
    CHECK(link.received().packets_received == 10);
    CHECK(link.received().plis_sent == 1);
    CHECK_FALSE(link.b->checking_missing());
    link.send_paced(10, 30);
    spin(std::chrono::milliseconds(400));
    // The gap was seen, asked for and filled; then the check stopped.
    const auto b = link.received();
    CHECK(b.nacks_sent >= 1);
    CHECK(b.recovered == 1);
    CHECK(b.lost == 0);
    CHECK_FALSE(link.b->checking_missing());
}

TEST_CASE("media: a hostile NACK cannot make the sender resend without bound", "[media]") {
    Link link;
    std::vector<std::vector<std::uint8_t>> got;
    for (std::uint16_t i = 0; i < 300; ++i) {
        link.send(rtp_packet(96, 0xaaaa, i, 3000 * i, 200));
        if (i % 50 == 49) {
            spin(std::chrono::milliseconds(50));
            for (auto& p : link.sink.rtp_socket->drain()) got.push_back(std::move(p));
        }
    }
    {
        const auto b = link.received();
        INFO("received " << b.packets_received << " dup " << b.duplicates << " failed "
                         << b.forward_failures << " unknown " << link.b->unknown_rtp());
        REQUIRE(link.sent().packets_sent == 300);
        REQUIRE(got.size() == 300);
    }
    // Ask for everything in the history, and much that is not, many times.
    rtp::RtpPacket first;
    REQUIRE(rtp::parse_rtp(got[0], first) == rtp::RtpError::kNone);
    std::vector<rtp::SequenceNumber> all;
    for (int i = -2000; i < 3000; ++i) all.push_back(first.sequence + i);
    const gint64 began = g_get_monotonic_time();
    for (int round = 0; round < 20; ++round) {
        std::vector<std::uint8_t> nack;
        rtp::append_nack(nack, rtp::Ssrc(1), rtp::Ssrc(kSendSsrc), all);
        link.a->on_rtcp(nack);
    }
    const double seconds = static_cast<double>(g_get_monotonic_time() - began) / 1e6;
    const auto a = link.sent();
    CHECK(a.nacks_received == 20);
    INFO("missed " << a.retransmit_missed << " refused " << a.retransmit_refused);
    // The budget, and what it refilled while the rounds ran.
    CHECK(a.retransmissions <= Engine::kRetransmitBudget * (1 + seconds) + 1);
    CHECK(a.retransmissions >= 250);
    CHECK(a.retransmit_refused > 0);
    // A NACK for another SSRC, and nonsense, change nothing.
    std::vector<std::uint8_t> other;
    rtp::append_nack(other, rtp::Ssrc(1), rtp::Ssrc(42), all);
    link.a->on_rtcp(other);
    link.a->on_rtcp(std::vector<std::uint8_t>{0x81, 205, 0, 9, 1, 2});
    CHECK(link.sent().nacks_received == 20);
    CHECK(link.a->malformed_rtcp() == 1);
}

TEST_CASE("media: the player's SDP names the sinks and the codec", "[media]") {
    std::vector<sdp::NegotiatedTrack> tracks = {video_track(sdp::Direction::kRecvonly)};
    sdp::NegotiatedTrack audio;
    audio.kind = sdp::MediaKind::kAudio;
    audio.direction = sdp::Direction::kSendrecv;
    audio.codec = sdp::offered_codec(sdp::AudioCodec::kOpus);
    tracks.push_back(audio);
    const std::string text = rtcpeer::media::player_sdp(tracks, Endpoint{"127.0.0.1", 5006},
                                                        Endpoint{"127.0.0.1", 5004});
    CHECK(text.find("m=video 5004 RTP/AVP 96\r\nc=IN IP4 127.0.0.1\r\na=rtpmap:96 VP8/90000\r\n") !=
          std::string::npos);
    CHECK(text.find("m=audio 5006 RTP/AVP 111\r\nc=IN IP4 127.0.0.1\r\na=rtpmap:111 "
                    "opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n") !=
          std::string::npos);
}

TEST_CASE("media: endpoints", "[media]") {
    using rtcpeer::media::parse_endpoint;
    CHECK(parse_endpoint("127.0.0.1:5004") == Endpoint{"127.0.0.1", 5004});
    CHECK(parse_endpoint("[::1]:9") == Endpoint{"::1", 9});
    CHECK(parse_endpoint("localhost:65535") == Endpoint{"localhost", 65535});
    for (const char* bad : {"", "5004", ":5004", "host:", "host:0", "host:65536", "::1:5", "h:5x"})
        CHECK_FALSE(parse_endpoint(bad));
}

namespace {

std::variant<rtcpeer::Options, rtcpeer::EarlyExit> parse(std::vector<const char*> args) {
    args.insert(args.begin(), "rtcpeer");
    return rtcpeer::parse_command_line(static_cast<int>(args.size()), args.data());
}

std::string usage_of(std::vector<const char*> args) {
    auto parsed = parse(std::move(args));
    REQUIRE(std::holds_alternative<rtcpeer::EarlyExit>(parsed));
    CHECK(std::get<rtcpeer::EarlyExit>(parsed).code == 2);
    return std::get<rtcpeer::EarlyExit>(parsed).stderr_text;
}

}  // namespace

TEST_CASE("media options: parsed, checked, and named in errors", "[media][options]") {
    auto parsed = parse({"offer", "--send-video", "127.0.0.1:5004", "--recv-audio", "[::1]:6000",
                         "--video-codec", "h264", "--no-data", "--duration", "2.5"});
    REQUIRE(std::holds_alternative<rtcpeer::Options>(parsed));
    const auto& media = std::get<rtcpeer::Options>(parsed).media;
    CHECK(media.send_video == Endpoint{"127.0.0.1", 5004});
    CHECK(media.recv_audio == Endpoint{"::1", 6000});
    CHECK_FALSE(media.send_audio);
    CHECK(media.video_codec == sdp::VideoCodec::kH264);
    CHECK(media.no_data);
    CHECK(media.duration_seconds == 2.5);
    const auto local = rtcpeer::local_media(media);
    REQUIRE(local);
    CHECK(local->video.send);
    CHECK_FALSE(local->video.receive);
    CHECK(local->audio.receive);
    CHECK_FALSE(local->data_channel);

    CHECK(usage_of({"offer", "--send-video", "5004"}) ==
          "rtcpeer: usage: --send-video: 5004 is not HOST:PORT (a name or address, and a port 1 "
          "to 65535) (see rtcpeer offer --help)\n");
    CHECK(usage_of({"offer", "--no-data"}) ==
          "rtcpeer: usage: --no-data needs --send-* or --recv-*\n");
    CHECK(usage_of({"answer", "--send-audio", "127.0.0.1:1", "--sdp-file", "x"}) ==
          "rtcpeer: usage: --sdp-file goes with --recv-video or --recv-audio\n");
    CHECK(usage_of({"offer", "--video-codec", "vp9"}) ==
          "rtcpeer: usage: --video-codec goes with --send-video or --recv-video\n");
    CHECK(usage_of({"offer", "--check", "--recv-video", "127.0.0.1:9"}) ==
          "rtcpeer: usage: --check measures the data channel; media options do not apply\n");

    // A port taken: the engine's error names the flag once the app reports it.
    TestSocket taken;
    Engine::Config config;
    config.send_video = Endpoint{"127.0.0.1", taken.port};
    try {
        Engine engine(config, Engine::Output{});
        FAIL("no error");
    } catch (const rtcpeer::Error& failure) {
        CHECK(failure.category() == rtcpeer::ErrorCategory::kUsage);
        CHECK(rtcpeer::name_option(failure).line() ==
              "rtcpeer: media: cannot bind --send-video 127.0.0.1:" + std::to_string(taken.port) +
                  ": Address already in use");
    }
}
