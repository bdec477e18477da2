// The media Engine's RTCP: sender and receiver reports (RFC 3550) on a
// timer; the remote's reports read for loss and round-trip time; generic
// NACK both ways (RFC 4585: missing packets asked for on a short timer that
// runs only while something is missing, the remote's answered from the send
// history within a budget); PLIs sent when a stream starts or a loss stays
// unrepaired, and the remote's PLIs and FIRs counted. The RTP paths are in
// engine.cpp; the per-track state in engine_track.hpp.
#include <glib.h>

#include <algorithm>
#include <set>

#include "base/log.hpp"
#include "media/engine.hpp"
#include "media/engine_track.hpp"
#include "rtp/packet.hpp"

namespace rtcpeer::media {

namespace {

using engine_detail::kHistoryPackets;
using engine_detail::kind_name;
using engine_detail::kPliGap;

constexpr std::size_t kMaxNackPerCheck = 200;
constexpr std::chrono::microseconds kReorderWait{5000};

}  // namespace

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

void Engine::arm_checks() {
    if (!started_ || nack_timer_.active()) return;
    nack_timer_.start_repeating(config_.nack_interval, [this] { return check_missing(); });
}

bool Engine::check_missing() {
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
    bool outstanding = false;
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
        for (const auto& [sequence, m] : t->missing) outstanding = outstanding || !m.given_up;
    }
    for (const auto& t : tracks_) outstanding = outstanding || (t->receiving && t->pli_pending);
    return outstanding;
}

void Engine::send_pli(Track& track, const char* why) {
    if (!track.negotiated->pli || !track.remote_ssrc) return;
    const std::chrono::microseconds at = now();
    if (at - track.last_pli < kPliGap) {
        track.pli_pending = why;  // sent when the gap has passed
        arm_checks();
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
        // Nothing sent or received yet: an empty receiver report (RFC 3550
        // §6.4.2) all the same, so that a media-only connection stays
        // audible to a remote that watches for silence (rtcpeer does).
        if (tracks_.empty()) return;
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

}  // namespace rtcpeer::media
