// RTP packets from a local source or, once decrypted, from the remote.
// Properties: a parsed packet's parts add up to the datagram; the extension
// walk stays inside its block; rewriting the fixed header changes exactly
// the fields rewritten. The same bytes, read as a run of (SSRC, sequence,
// timestamp, arrival) records, drive the rewriter and the receive
// statistics: a new source continues the outgoing numbering, the missing
// list stays bounded, and a NACK built from it asks for exactly it.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <set>
#include <vector>

#include "rtp/demux.hpp"
#include "rtp/packet.hpp"
#include "rtp/receive_statistics.hpp"
#include "rtp/rewriter.hpp"
#include "rtp/rtcp.hpp"

using namespace rtcpeer::rtp;

namespace {

void check_packet(const std::uint8_t* data, std::size_t size) {
    (void)classify({data, size});
    RtpPacket packet;
    if (parse_rtp({data, size}, packet) != RtpError::kNone) return;
    if (packet.header_size + packet.payload.size() + packet.padding_size != size) __builtin_trap();
    if (packet.csrcs.size() != 4u * packet.csrc_count) __builtin_trap();
    for (std::size_t i = 0; i < packet.csrc_count; ++i) (void)packet.csrc(i);
    ExtensionReader reader(packet);
    ExtensionElement element;
    const auto* begin = packet.extension_data.data();
    const auto* end = begin + packet.extension_data.size();
    while (reader.next(element)) {
        if (element.data.data() < begin || element.data.data() + element.data.size() > end) {
            __builtin_trap();
        }
    }

    std::vector<std::uint8_t> copy(data, data + size);
    const auto pt = PayloadType(static_cast<std::uint8_t>(packet.payload_type.value() ^ 0x55));
    set_payload_type(copy, PayloadType(pt.value() & 0x7F));
    set_sequence(copy, packet.sequence + 1);
    set_timestamp(copy, RtpTimestamp(~packet.timestamp.value()));
    set_ssrc(copy, Ssrc(packet.ssrc.value() + 1));
    RtpPacket again;
    if (parse_rtp(copy, again) != RtpError::kNone || again.marker != packet.marker ||
        again.payload_type.value() != (pt.value() & 0x7F) ||
        !(again.sequence == packet.sequence + 1) ||
        again.timestamp.value() != ~packet.timestamp.value() ||
        again.ssrc.value() != packet.ssrc.value() + 1 ||
        !std::equal(again.payload.begin(), again.payload.end(), packet.payload.begin(),
                    packet.payload.end())) {
        __builtin_trap();
    }
}

std::uint32_t read32(const std::uint8_t* p) {
    std::uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

void check_missing(const ReceiveStatistics& stats, std::size_t max_missing) {
    const auto missing = stats.missing();
    if (missing.size() > max_missing) __builtin_trap();
    if (missing.empty()) return;
    std::vector<std::uint8_t> nack;
    append_nack(nack, Ssrc(1), Ssrc(2), missing);
    std::vector<RtcpPacket> packets;
    if (parse_compound(nack, packets) != RtcpError::kNone || packets.size() != 1) __builtin_trap();
    const auto parsed = parse_nack(packets[0]);
    if (!parsed) __builtin_trap();
    std::set<std::uint16_t> asked, wanted;
    for (auto s : parsed->lost) asked.insert(s.value());
    for (auto s : missing) wanted.insert(s.value());
    if (asked != wanted || parsed->lost.size() != wanted.size()) __builtin_trap();
}

void check_streams(const std::uint8_t* data, std::size_t size) {
    Rewriter rewriter({Ssrc(1), SequenceNumber(65000), RtpTimestamp(0xFFFFFF00), 90000});
    ReceiveStatistics::Config config;
    config.missing_window = 300;
    config.max_missing = 100;
    ReceiveStatistics stats(config);
    std::int64_t now = 0;
    bool have_out = false;
    SequenceNumber highest_out;
    for (std::size_t at = 0; at + 8 <= size; at += 8) {
        const std::uint8_t* r = data + at;
        const Ssrc ssrc(r[0] & 3);  // a few sources, so that they come back
        const SequenceNumber sequence(static_cast<std::uint16_t>(r[1] << 8 | r[2]));
        const RtpTimestamp timestamp(read32(r + 3));
        now += r[7] * 1000;
        const auto arrival = std::chrono::microseconds(now);

        const auto mapped = rewriter.map(ssrc, sequence, timestamp, arrival);
        if (mapped.outcome == Rewriter::Outcome::kNewSource && have_out &&
            !(mapped.sequence == highest_out + 1)) {
            __builtin_trap();
        }
        if (mapped.forward() && (!have_out || is_newer(mapped.sequence, highest_out) ||
                                 mapped.outcome == Rewriter::Outcome::kNewSource)) {
            highest_out = mapped.sequence;
            have_out = true;
        }

        (void)stats.receive(sequence, timestamp, arrival);
        // The NACK check costs more than the rest: every 32 records and at
        // the end, which keeps the target fast enough to explore.
        if (at % 256 == 0 || at + 16 > size) check_missing(stats, config.max_missing);
    }
    (void)stats.report_block(Ssrc(9), std::chrono::microseconds(now));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    check_packet(data, size);
    check_streams(data, size);
    return 0;
}
