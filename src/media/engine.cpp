#include "media/engine.hpp"

#include <glib.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <set>

#include "base/error.hpp"
#include "base/log.hpp"
#include "rtp/packet.hpp"

namespace rtcpeer::media {

namespace {

constexpr std::size_t kHistoryPackets = 1024;
constexpr std::size_t kHistoryBytes = 2 * 1024 * 1024;
constexpr std::size_t kMaxLearnedSsrcs = 8;
constexpr std::size_t kMaxNackPerCheck = 200;
constexpr std::chrono::microseconds kReorderWait{5000};
constexpr std::chrono::microseconds kPliGap{300000};
constexpr std::size_t kMaxReadsPerWakeup = 256;

const char* kind_name(sdp::MediaKind kind) { return sdp::to_string(kind); }

std::string hex(std::uint32_t value) {
    char text[16];
    std::snprintf(text, sizeof text, "%08x", value);
    return text;
}

std::uint32_t random_word() {
    static std::random_device random;
    std::uint32_t value = 0;
    while (value == 0) value = random();
    return value;
}

std::string codec_text(const sdp::Codec& codec) {
    std::string text = codec.name + "/" + std::to_string(codec.clock_rate);
    if (codec.channels > 1) text += "/" + std::to_string(codec.channels);
    return text + " pt " + std::to_string(codec.payload_type);
}

}  // namespace

struct Engine::Track {
    sdp::MediaKind kind = sdp::MediaKind::kVideo;
    std::optional<Endpoint> source_endpoint, sink_endpoint;
    UdpSocket source, sink_rtp, sink_rtcp;
    std::optional<sdp::NegotiatedTrack> negotiated;
    bool sending = false;
    bool receiving = false;
    TrackCounters counters;

    // Sending.
    std::optional<rtp::Rewriter> rewriter;
    rtp::SendHistory history{kHistoryPackets, kHistoryBytes};
    bool sent_any = false;
    std::uint32_t last_timestamp = 0;
    std::chrono::microseconds last_arrival{0};
    std::uint32_t packet_count = 0;
    std::uint32_t octet_count = 0;
    std::map<std::uint16_t, std::chrono::microseconds> resent_at;
    std::chrono::microseconds last_pli_log{-kPliGap};

    // Receiving.
    std::optional<std::uint32_t> remote_ssrc;
    std::optional<rtp::ReceiveStatistics> stats;
    struct Missing {
        int nacks = 0;
        std::chrono::microseconds since{0};
        std::chrono::microseconds last{0};
        bool given_up = false;
    };
    std::map<std::uint16_t, Missing> missing;
    std::chrono::microseconds last_pli{-kPliGap};
    const char* pli_pending = nullptr;  // why, when the last one was too recent
    bool sink_refused = false;          // nobody listened at the sink last time
    bool forward_rtcp = false;          // set while one compound packet is read
};

Engine::Engine(Config config, Output output, Scheduler& scheduler)
    : config_(std::move(config)),
      output_(std::move(output)),
      scheduler_(scheduler),
      receiver_ssrc_(random_word()),
      buffer_(65536),
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
    const bool receiving =
        std::any_of(tracks_.begin(), tracks_.end(), [](const auto& t) { return t->receiving; });
    if (receiving) {
        nack_timer_.start_repeating(config_.nack_interval, [this] {
            check_missing();
            return true;
        });
    }
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
    for (std::size_t i = 0; i < kMaxReadsPerWakeup; ++i) {
        const auto received = track.source.receive(buffer_);
        if (!received) return;
        ++track.counters.source_packets;
        if (received->truncated) {
            ++track.counters.source_malformed;
            continue;
        }
        forward(track, std::span<std::uint8_t>(buffer_.data(), received->size));
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

void Engine::on_nack(const rtp::Nack& nack) {
    for (auto& t : tracks_) {
        if (!t->sending || t->negotiated->local_ssrc != nack.media.value()) continue;
        ++t->counters.nacks_received;
        const std::chrono::microseconds at = now();
        const double elapsed = static_cast<double>((at - tokens_at_).count()) / 1e6;
        tokens_at_ = at;
        retransmit_tokens_ =
            std::min<double>(kRetransmitBudget, retransmit_tokens_ + elapsed * kRetransmitBudget);
        std::set<std::uint16_t> asked;
        for (rtp::SequenceNumber s : nack.lost) asked.insert(s.value());
        for (std::uint16_t sequence : asked) {
            auto resent = t->resent_at.find(sequence);
            if (resent != t->resent_at.end() && at - resent->second < kMinResendGap) continue;
            if (retransmit_tokens_ < 1) {
                ++t->counters.retransmit_refused;
                continue;
            }
            const auto packet = t->history.find(rtp::SequenceNumber(sequence));
            if (packet.empty()) {
                ++t->counters.retransmit_missed;
                continue;
            }
            retransmit_tokens_ -= 1;
            // The history's span lives until the next store: send a copy.
            std::vector<std::uint8_t> copy(packet.begin(), packet.end());
            if (output_.send_rtp(copy)) ++t->counters.retransmissions;
            t->resent_at[sequence] = at;
        }
        if (t->resent_at.size() > 2 * kHistoryPackets) {
            for (auto it = t->resent_at.begin(); it != t->resent_at.end();) {
                it = at - it->second > std::chrono::seconds(1) ? t->resent_at.erase(it)
                                                               : std::next(it);
            }
        }
        return;
    }
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
    const auto verdict =
        track.stats->receive(rtp::SequenceNumber(sequence), rtp::RtpTimestamp(timestamp), now());
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

void Engine::check_missing() {
    const std::chrono::microseconds at = now();
    std::chrono::microseconds retry{100000};
    for (const auto& t : tracks_) {
        if (t->counters.rtt_ms) {
            retry =
                std::chrono::microseconds(static_cast<std::int64_t>(*t->counters.rtt_ms * 1500));
            break;
        }
    }
    retry = std::clamp(retry, std::chrono::microseconds(30000), std::chrono::microseconds(500000));
    for (auto& t : tracks_) {
        if (t->pli_pending && t->receiving) send_pli(*t, t->pli_pending);
        if (!t->receiving || !t->stats || !t->negotiated->nack) continue;
        const std::vector<rtp::SequenceNumber> now_missing = t->stats->missing();
        std::set<std::uint16_t> current;
        for (rtp::SequenceNumber s : now_missing) current.insert(s.value());
        bool lost_for_good = false;
        for (auto it = t->missing.begin(); it != t->missing.end();) {
            if (current.count(it->first) == 0) {
                // Aged out of the window without arriving.
                if (!it->second.given_up) {
                    ++t->counters.unrepaired;
                    lost_for_good = true;
                }
                it = t->missing.erase(it);
            } else {
                ++it;
            }
        }
        std::vector<rtp::SequenceNumber> ask;
        for (std::uint16_t sequence : current) {
            auto [it, fresh] = t->missing.try_emplace(sequence);
            Track::Missing& m = it->second;
            if (fresh) m.since = at;
            if (m.given_up) continue;
            const bool due = m.nacks == 0 ? at - m.since >= kReorderWait : at - m.last >= retry;
            if (!due) continue;
            if (m.nacks >= kMaxNacks) {
                m.given_up = true;
                ++t->counters.unrepaired;
                lost_for_good = true;
                continue;
            }
            if (ask.size() >= kMaxNackPerCheck) continue;
            ++m.nacks;
            m.last = at;
            ask.push_back(rtp::SequenceNumber(sequence));
        }
        if (!ask.empty()) {
            std::vector<std::uint8_t> out;
            rtp::append_nack(out, rtp::Ssrc(reporting_ssrc()), rtp::Ssrc(*t->remote_ssrc), ask);
            if (send_rtcp(out)) {
                ++t->counters.nacks_sent;
                t->counters.nacked_packets += ask.size();
            }
        }
        if (lost_for_good) send_pli(*t, "loss NACK could not repair");
    }
}

void Engine::send_pli(Track& track, const char* why) {
    if (!track.negotiated->pli || !track.remote_ssrc) return;
    const std::chrono::microseconds at = now();
    if (at - track.last_pli < kPliGap) {
        track.pli_pending = why;  // sent when the gap has passed
        return;
    }
    track.pli_pending = nullptr;
    track.last_pli = at;
    std::vector<std::uint8_t> out;
    rtp::append_pli(out, rtp::Ssrc(reporting_ssrc()), rtp::Ssrc(*track.remote_ssrc));
    if (send_rtcp(out)) {
        ++track.counters.plis_sent;
        log::state(std::string("PLI sent for the ") + kind_name(track.kind) + " (" + why + ")");
    }
}

// ---- RTCP ----

std::uint32_t Engine::reporting_ssrc() const {
    for (const auto& t : tracks_)
        if (t->sending) return t->negotiated->local_ssrc;
    return receiver_ssrc_;
}

bool Engine::send_rtcp(const std::vector<std::uint8_t>& packet) {
    return output_.send_rtcp && output_.send_rtcp(packet);
}

void Engine::send_reports() {
    const std::chrono::microseconds at = now();
    std::vector<rtp::ReportBlock> blocks;
    for (auto& t : tracks_) {
        if (!t->receiving || !t->stats || !t->stats->started()) continue;
        blocks.push_back(t->stats->report_block(rtp::Ssrc(*t->remote_ssrc), at));
        t->counters.lost = t->stats->lost();
        t->counters.jitter_ms =
            static_cast<double>(t->stats->jitter()) * 1000.0 / t->negotiated->codec.clock_rate;
    }
    std::vector<std::uint8_t> out;
    bool first = true;
    const std::uint64_t ntp = rtp::ntp_from_unix(std::chrono::microseconds(g_get_real_time()));
    for (auto& t : tracks_) {
        if (!t->sending || !t->sent_any) continue;
        rtp::SenderReport sr;
        sr.sender = rtp::Ssrc(t->negotiated->local_ssrc);
        sr.ntp_time = ntp;
        const auto elapsed = static_cast<std::uint64_t>((at - t->last_arrival).count());
        sr.rtp_time = rtp::RtpTimestamp(
            t->last_timestamp +
            static_cast<std::uint32_t>(elapsed * t->negotiated->codec.clock_rate / 1000000u));
        sr.packet_count = t->packet_count;
        sr.octet_count = t->octet_count;
        if (first) sr.reports = blocks;
        first = false;
        rtp::append_sender_report(out, sr);
    }
    if (first) {
        if (blocks.empty()) return;
        rtp::append_receiver_report(out, rtp::ReceiverReport{rtp::Ssrc(reporting_ssrc()), blocks});
    }
    rtp::append_sdes_cname(out, rtp::Ssrc(reporting_ssrc()), config_.cname);
    send_rtcp(out);
}

void Engine::on_rtcp(std::span<const std::uint8_t> packet) {
    const std::chrono::microseconds at = now();
    for (auto& t : tracks_) t->forward_rtcp = false;
    auto receiving_track = [this](std::uint32_t ssrc) -> Track* {
        for (auto& t : tracks_)
            if (t->receiving && t->remote_ssrc && *t->remote_ssrc == ssrc) return t.get();
        return nullptr;
    };
    auto sending_track = [this](std::uint32_t ssrc) -> Track* {
        for (auto& t : tracks_)
            if (t->sending && t->negotiated->local_ssrc == ssrc) return t.get();
        return nullptr;
    };
    auto report_blocks = [&](const std::vector<rtp::ReportBlock>& blocks) {
        for (const rtp::ReportBlock& b : blocks) {
            Track* t = sending_track(b.source.value());
            if (t == nullptr) continue;
            t->counters.remote_fraction_lost = b.fraction_lost;
            t->counters.remote_lost = b.cumulative_lost;
            if (b.last_sr != 0) {
                const std::uint32_t now_middle = rtp::ntp_middle(
                    rtp::ntp_from_unix(std::chrono::microseconds(g_get_real_time())));
                const std::uint32_t rtt = now_middle - b.last_sr - b.delay_since_last_sr;
                if (rtt < (10u << 16)) t->counters.rtt_ms = rtt * 1000.0 / 65536.0;
            }
        }
    };
    rtp::CompoundReader reader(packet);
    rtp::RtcpPacket p;
    while (reader.next(p)) {
        switch (static_cast<rtp::RtcpType>(p.type)) {
            case rtp::RtcpType::kSenderReport:
                if (auto sr = rtp::parse_sender_report(p)) {
                    if (Track* t = receiving_track(sr->sender.value())) {
                        t->stats->on_sender_report(sr->ntp_time, at);
                        t->forward_rtcp = true;
                    }
                    report_blocks(sr->reports);
                }
                break;
            case rtp::RtcpType::kReceiverReport:
                if (auto rr = rtp::parse_receiver_report(p)) report_blocks(rr->reports);
                break;
            case rtp::RtcpType::kTransportFeedback:
                if (p.count == rtp::kFmtGenericNack) {
                    if (auto nack = rtp::parse_nack(p)) on_nack(*nack);
                }
                break;
            case rtp::RtcpType::kPayloadFeedback:
                if (p.count == rtp::kFmtPli) {
                    if (auto pli = rtp::parse_pli(p)) {
                        if (Track* t = sending_track(pli->media.value())) {
                            ++t->counters.plis_received;
                            if (at - t->last_pli_log >= std::chrono::seconds(1)) {
                                t->last_pli_log = at;
                                log::state(std::string("the remote asks for a ") +
                                           kind_name(t->kind) +
                                           " key frame (PLI); the source's key frame interval "
                                           "decides when one comes");
                            }
                        }
                    }
                } else if (p.count == rtp::kFmtFir) {
                    if (auto fir = rtp::parse_fir(p)) {
                        for (const rtp::FirEntry& e : fir->entries)
                            if (Track* t = sending_track(e.source.value()))
                                ++t->counters.firs_received;
                    }
                }
                break;
            default:
                break;
        }
    }
    if (reader.error() != rtp::RtcpError::kNone) ++malformed_rtcp_;
    for (auto& t : tracks_) {
        if (t->forward_rtcp && !t->sink_rtcp.send(packet)) ++t->counters.forward_failures;
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
