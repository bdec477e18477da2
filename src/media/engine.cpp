// The media Engine's set-up and its RTP paths: binding the sources and
// sinks, starting the negotiated tracks, a source's datagrams rewritten and
// handed to the connection (sending), the remote's packets routed to a
// track and forwarded to its sink (receiving), the status for --stats, and
// the SDP for a player. RTCP (reports, NACK, PLI) is in engine_feedback.cpp;
// the per-track state in engine_track.hpp.
#include "media/engine.hpp"

#include <glib.h>

#include <algorithm>
#include <array>
#include <random>

#include "base/error.hpp"
#include "base/log.hpp"
#include "media/engine_track.hpp"
#include "rtp/packet.hpp"

namespace rtcpeer::media {

namespace {

using engine_detail::codec_text;
using engine_detail::hex;
using engine_detail::kind_name;
using engine_detail::kPliGap;

constexpr std::size_t kMaxLearnedSsrcs = 8;
constexpr std::size_t kMaxReadsPerWakeup = 256;
// Datagrams read from a source with one system call, each into a slot
// that holds the largest UDP payload.
constexpr std::size_t kReadBatch = 16;
constexpr std::size_t kReadSlot = 65536;

std::uint32_t random_word() {
    static std::random_device random;
    std::uint32_t value = 0;
    while (value == 0) value = random();
    return value;
}

}  // namespace

Engine::Engine(Config config, Output output, Scheduler& scheduler)
    : config_(std::move(config)),
      output_(std::move(output)),
      scheduler_(scheduler),
      receiver_ssrc_(random_word()),
      buffer_(kReadBatch * kReadSlot),
      report_timer_(scheduler),
      nack_timer_(scheduler) {
    const std::pair<sdp::MediaKind, std::pair<std::optional<Endpoint>*, std::optional<Endpoint>*>>
        kinds[] = {{sdp::MediaKind::kAudio, {&config_.send_audio, &config_.recv_audio}},
                   {sdp::MediaKind::kVideo, {&config_.send_video, &config_.recv_video}}};
    for (const auto& [kind, ends] : kinds) {
        if (!*ends.first && !*ends.second) continue;
        auto track = std::make_unique<Track>();
        Track* t = track.get();
        t->kind = kind;
        const std::string name = kind_name(kind);
        if (*ends.first) {
            t->source_endpoint = *ends.first;
            t->source =
                UdpSocket::bind(**ends.first, name + " source", [this, t] { read_source(*t); });
        }
        if (*ends.second) {
            const Endpoint& sink = **ends.second;
            t->sink_endpoint = sink;
            t->sink_rtp = UdpSocket::connect(sink, name + " sink");
            if (sink.port == 65535) {
                throw Error(ErrorCategory::kUsage, "media",
                            name + " sink " + sink.to_string() +
                                ": its port + 1 (for RTCP) is out of range")
                    .about(name + " sink");
            }
            t->sink_rtcp = UdpSocket::connect(
                Endpoint{sink.host, static_cast<std::uint16_t>(sink.port + 1)}, name + " sink");
        }
        tracks_.push_back(std::move(track));
    }
}

Engine::~Engine() = default;

std::chrono::microseconds Engine::now() const {
    return std::chrono::microseconds(g_get_monotonic_time());
}

std::uint16_t Engine::source_port(sdp::MediaKind kind) const {
    for (const auto& t : tracks_)
        if (t->kind == kind) return t->source.local_port();
    return 0;
}

std::vector<std::string> Engine::start(const std::vector<sdp::NegotiatedTrack>& negotiated) {
    std::vector<std::string> warnings;
    for (auto& t : tracks_) {
        const std::string name = kind_name(t->kind);
        for (const sdp::NegotiatedTrack& n : negotiated) {
            if (n.kind == t->kind && !t->negotiated) t->negotiated = n;
        }
        if (!t->negotiated) {
            warnings.push_back("no " + name + " track was negotiated; the " + name +
                               (t->source_endpoint ? " source" : " sink") + " stays idle");
            continue;
        }
        const sdp::NegotiatedTrack& n = *t->negotiated;
        t->sending = t->source.open() && sdp::sends(n.direction) && n.local_ssrc != 0;
        t->receiving = t->sink_rtp.open() && sdp::receives(n.direction);
        if (t->source.open() && !t->sending)
            warnings.push_back("the " + name + " track does not send; its source stays idle");
        if (t->sink_rtp.open() && !t->receiving)
            warnings.push_back("the " + name + " track does not receive; its sink stays idle");
        if (t->sending) {
            rtp::Rewriter::Config rc;
            rc.ssrc = rtp::Ssrc(n.local_ssrc);
            rc.first_sequence = rtp::SequenceNumber(static_cast<std::uint16_t>(random_word()));
            rc.first_timestamp = rtp::RtpTimestamp(random_word());
            rc.clock_rate = n.codec.clock_rate ? n.codec.clock_rate : 90000;
            t->rewriter.emplace(rc);
        }
        if (t->sending || t->receiving) {
            log::state(name + " track (mid " + n.mid + "): " + codec_text(n.codec) + ", " +
                       sdp::to_string(n.direction) +
                       (t->sending ? ", sending SSRC " + hex(n.local_ssrc) + " from " +
                                         t->source_endpoint->to_string()
                                   : "") +
                       (t->receiving ? ", to " + t->sink_endpoint->to_string() : "") +
                       (n.nack ? ", nack" : "") + (n.pli ? ", pli" : ""));
        }
    }
    started_ = true;
    report_timer_.start_repeating(config_.report_interval, [this] {
        send_reports();
        return true;
    });
    // The NACK timer runs only while a packet is missing or a PLI waits
    // (arm_checks): a clean stream wakes the loop for its packets only.
    return warnings;
}

void Engine::stop() {
    if (!started_) return;
    std::vector<rtp::Ssrc> sources;
    for (const auto& t : tracks_)
        if (t->sending && t->sent_any) sources.push_back(rtp::Ssrc(t->negotiated->local_ssrc));
    if (!sources.empty()) {
        std::vector<std::uint8_t> out;
        rtp::append_receiver_report(out, rtp::ReceiverReport{sources.front(), {}});
        rtp::append_bye(out, sources);
        send_rtcp(out);
    }
    report_timer_.reset();
    nack_timer_.reset();
    started_ = false;
}

// ---- Sending ----

void Engine::read_source(Track& track) {
    std::array<UdpSocket::Received, kReadBatch> received;
    for (std::size_t read = 0; read < kMaxReadsPerWakeup;) {
        const std::size_t n = track.source.receive_many(buffer_, kReadSlot, received);
        for (std::size_t i = 0; i < n; ++i) {
            ++track.counters.source_packets;
            if (received[i].truncated) {
                ++track.counters.source_malformed;
                continue;
            }
            forward(track,
                    std::span<std::uint8_t>(buffer_.data() + i * kReadSlot, received[i].size));
        }
        // Fewer than asked for: the queue is empty, no call needed to learn so.
        if (n < received.size()) return;
        read += n;
    }
}

void Engine::forward(Track& track, std::span<std::uint8_t> packet) {
    rtp::RtpPacket parsed;
    if (rtp::parse_rtp(packet, parsed) != rtp::RtpError::kNone) {
        ++track.counters.source_malformed;
        return;
    }
    if (!started_ || !track.sending) {
        ++track.counters.source_dropped;
        return;
    }
    const std::chrono::microseconds arrival = now();
    const auto mapped = track.rewriter->rewrite(
        packet, rtp::PayloadType(track.negotiated->codec.payload_type), arrival);
    if (!mapped) {
        ++track.counters.source_malformed;
        return;
    }
    if (!mapped->forward()) {
        ++track.counters.source_dropped;
        return;
    }
    if (mapped->outcome == rtp::Rewriter::Outcome::kNewSource && track.sent_any) {
        ++track.counters.source_restarts;
        log::state(std::string(kind_name(track.kind)) + " source restarted (SSRC " +
                   hex(parsed.ssrc.value()) + "); the track goes on");
    }
    track.history.store(mapped->sequence, packet);
    if (!output_.send_rtp(packet)) return;
    track.sent_any = true;
    ++track.counters.packets_sent;
    track.counters.bytes_sent += packet.size();
    track.last_timestamp = mapped->timestamp.value();
    track.last_arrival = arrival;
    ++track.packet_count;
    track.octet_count += static_cast<std::uint32_t>(parsed.payload.size());
}

// ---- Receiving ----

Engine::Track* Engine::route(std::span<const std::uint8_t> packet, std::uint32_t ssrc,
                             std::uint8_t payload_type) {
    auto known = by_ssrc_.find(ssrc);
    if (known != by_ssrc_.end()) return known->second;
    Track* chosen = nullptr;
    for (auto& t : tracks_) {
        if (!t->negotiated) continue;
        const auto& ssrcs = t->negotiated->remote_ssrcs;
        if (std::find(ssrcs.begin(), ssrcs.end(), ssrc) != ssrcs.end()) chosen = t.get();
    }
    if (chosen == nullptr) {
        rtp::RtpPacket parsed;
        rtp::parse_rtp(packet, parsed);
        for (auto& t : tracks_) {
            if (!t->negotiated || !t->negotiated->mid_extension) continue;
            const auto mid = rtp::find_extension(
                parsed, static_cast<std::uint8_t>(*t->negotiated->mid_extension));
            if (mid.found && std::string(mid.data.begin(), mid.data.end()) == t->negotiated->mid)
                chosen = t.get();
        }
    }
    if (chosen == nullptr) {
        int matches = 0;
        for (auto& t : tracks_) {
            if (t->negotiated && t->negotiated->codec.payload_type == payload_type) {
                chosen = t.get();
                ++matches;
            }
        }
        if (matches != 1) chosen = nullptr;
    }
    if (chosen == nullptr) return nullptr;
    if (by_ssrc_.size() >= kMaxLearnedSsrcs) by_ssrc_.clear();
    by_ssrc_[ssrc] = chosen;
    return chosen;
}

void Engine::on_rtp(std::span<const std::uint8_t> packet) {
    rtp::RtpPacket parsed;
    if (rtp::parse_rtp(packet, parsed) != rtp::RtpError::kNone) {
        ++malformed_rtp_;
        return;
    }
    Track* track = route(packet, parsed.ssrc.value(), parsed.payload_type.value());
    if (track == nullptr || !track->receiving) {
        ++unknown_rtp_;
        return;
    }
    receive(*track, packet, parsed.ssrc.value(), parsed.sequence.value(), parsed.timestamp.value());
}

void Engine::receive(Track& track, std::span<const std::uint8_t> packet, std::uint32_t ssrc,
                     std::uint16_t sequence, std::uint32_t timestamp) {
    TrackCounters& c = track.counters;
    if (!track.remote_ssrc || *track.remote_ssrc != ssrc) {
        rtp::ReceiveStatistics::Config config;
        config.clock_rate = track.negotiated->codec.clock_rate;
        track.stats.emplace(config);
        track.missing.clear();
        track.remote_ssrc = ssrc;
        log::state(std::string(kind_name(track.kind)) + " stream started: SSRC " + hex(ssrc) +
                   ", " + codec_text(track.negotiated->codec) + ", receiving");
        track.last_pli = -kPliGap;
        send_pli(track, "stream start");
    }
    const std::size_t missing_before = track.stats->missing_count();
    const auto verdict =
        track.stats->receive(rtp::SequenceNumber(sequence), rtp::RtpTimestamp(timestamp), now());
    if (track.negotiated->nack && track.stats->missing_count() > missing_before) arm_checks();
    if (verdict == rtp::ReceiveStatistics::Verdict::kDuplicate) {
        ++c.duplicates;
        return;
    }
    if (verdict == rtp::ReceiveStatistics::Verdict::kRecovered) {
        ++c.recovered;
        track.missing.erase(sequence);
    }
    ++c.packets_received;
    c.bytes_received += packet.size();
    if (!track.sink_rtp.send(packet)) {
        ++c.forward_failures;
        track.sink_refused = true;
    } else if (track.sink_refused) {
        // A player that starts after the stream needs a key frame to begin.
        track.sink_refused = false;
        send_pli(track, "the sink started listening");
    }
}

std::vector<TrackStatus> Engine::status() const {
    std::vector<TrackStatus> out;
    for (const auto& t : tracks_) {
        if (!t->negotiated) continue;
        TrackStatus s;
        s.track = *t->negotiated;
        if (t->sending) s.source = t->source_endpoint;
        if (t->receiving) s.sink = t->sink_endpoint;
        s.remote_ssrc = t->remote_ssrc;
        s.counters = t->counters;
        if (t->stats && t->stats->started()) {
            s.counters.lost = t->stats->lost();
            s.counters.jitter_ms =
                static_cast<double>(t->stats->jitter()) * 1000.0 / t->negotiated->codec.clock_rate;
        }
        out.push_back(std::move(s));
    }
    return out;
}

// ---- The player's SDP ----

std::string player_sdp(const std::vector<sdp::NegotiatedTrack>& tracks,
                       const std::optional<Endpoint>& recv_audio,
                       const std::optional<Endpoint>& recv_video) {
    std::string out = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=rtcpeer\r\nt=0 0\r\n";
    for (const sdp::NegotiatedTrack& t : tracks) {
        const std::optional<Endpoint>& sink =
            t.kind == sdp::MediaKind::kAudio ? recv_audio : recv_video;
        if (!sink || !sdp::receives(t.direction)) continue;
        const Address address = resolve(*sink, std::string(kind_name(t.kind)) + " sink");
        std::string host = address.to_string();
        host = host.substr(0, host.rfind(':'));
        if (!host.empty() && host.front() == '[') host = host.substr(1, host.size() - 2);
        const std::string pt = std::to_string(t.codec.payload_type);
        out += std::string("m=") + kind_name(t.kind) + " " + std::to_string(sink->port) +
               " RTP/AVP " + pt + "\r\n";
        out +=
            std::string("c=IN ") + (address.family() == AF_INET6 ? "IP6 " : "IP4 ") + host + "\r\n";
        out += "a=rtpmap:" + pt + " " + t.codec.name + "/" + std::to_string(t.codec.clock_rate);
        if (t.codec.channels > 1) out += "/" + std::to_string(t.codec.channels);
        out += "\r\n";
        const std::string fmtp = t.codec.fmtp();
        if (!fmtp.empty()) out += "a=fmtp:" + pt + " " + fmtp + "\r\n";
        out += "a=recvonly\r\n";
    }
    return out;
}

}  // namespace rtcpeer::media
