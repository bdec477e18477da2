#include "rtp/rtcp.hpp"

#include <algorithm>

#include "base/bytes.hpp"

namespace rtcpeer::rtp {

namespace {
using bytes::get16;
using bytes::get32;
using bytes::put16;
using bytes::put32;

constexpr std::size_t kReportBlockSize = 24;
constexpr std::uint8_t kSdesEnd = 0;
constexpr std::uint8_t kSdesCname = 1;

// Starts a packet: the common header with a length to be set by finish().
std::size_t begin(std::vector<std::uint8_t>& out, std::uint8_t count, RtcpType type) {
    const std::size_t start = out.size();
    out.push_back(static_cast<std::uint8_t>(0x80 | (count & 0x1F)));
    out.push_back(static_cast<std::uint8_t>(type));
    put16(out, 0);
    return start;
}

// Pads the packet to a 32-bit boundary with zeros and sets its length in
// words minus one (RFC 3550 §6.4.1).
void finish(std::vector<std::uint8_t>& out, std::size_t start) {
    while ((out.size() - start) % 4 != 0) out.push_back(0);
    const std::size_t words = (out.size() - start) / 4 - 1;
    bytes::set16(out.data() + start + 2, static_cast<std::uint16_t>(words));
}

ReportBlock read_report_block(const std::uint8_t* p) {
    ReportBlock block;
    block.source = Ssrc(get32(p));
    block.fraction_lost = p[4];
    // 24-bit two's complement: sign-extend.
    std::uint32_t lost = static_cast<std::uint32_t>(p[5]) << 16 | get16(p + 6);
    if (lost & 0x800000) lost |= 0xFF000000;
    block.cumulative_lost = static_cast<std::int32_t>(lost);
    block.highest_sequence = get32(p + 8);
    block.jitter = get32(p + 12);
    block.last_sr = get32(p + 16);
    block.delay_since_last_sr = get32(p + 20);
    return block;
}

void write_report_block(std::vector<std::uint8_t>& out, const ReportBlock& block) {
    put32(out, block.source.value());
    out.push_back(block.fraction_lost);
    const std::int32_t lost = std::clamp<std::int32_t>(block.cumulative_lost, -0x800000, 0x7FFFFF);
    const auto bits = static_cast<std::uint32_t>(lost) & 0xFFFFFF;
    out.push_back(static_cast<std::uint8_t>(bits >> 16));
    put16(out, static_cast<std::uint16_t>(bits));
    put32(out, block.highest_sequence);
    put32(out, block.jitter);
    put32(out, block.last_sr);
    put32(out, block.delay_since_last_sr);
}

bool read_report_blocks(std::span<const std::uint8_t> blocks, std::size_t count,
                        std::vector<ReportBlock>& reports) {
    if (blocks.size() < count * kReportBlockSize) return false;
    reports.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        reports.push_back(read_report_block(blocks.data() + i * kReportBlockSize));
    }
    return true;
}

bool is_feedback(const RtcpPacket& packet, RtcpType type, std::uint8_t fmt) {
    return packet.type == static_cast<std::uint8_t>(type) && packet.count == fmt &&
           packet.body.size() >= 8;
}
}  // namespace

std::string_view to_string(RtcpType type) {
    switch (type) {
        case RtcpType::kSenderReport:
            return "SR";
        case RtcpType::kReceiverReport:
            return "RR";
        case RtcpType::kSdes:
            return "SDES";
        case RtcpType::kBye:
            return "BYE";
        case RtcpType::kApp:
            return "APP";
        case RtcpType::kTransportFeedback:
            return "RTPFB";
        case RtcpType::kPayloadFeedback:
            return "PSFB";
        case RtcpType::kExtendedReport:
            return "XR";
    }
    return "unknown";
}

std::string_view to_string(RtcpError error) {
    switch (error) {
        case RtcpError::kNone:
            return "ok";
        case RtcpError::kEmpty:
            return "empty";
        case RtcpError::kTooShort:
            return "shorter than an RTCP header";
        case RtcpError::kBadVersion:
            return "not RTCP version 2";
        case RtcpError::kLengthPastEnd:
            return "length past the end";
        case RtcpError::kBadPadding:
            return "bad padding length";
    }
    return "?";
}

bool CompoundReader::next(RtcpPacket& packet) {
    if (error_ != RtcpError::kNone) return false;
    if (offset_ == data_.size()) {
        if (data_.empty()) error_ = RtcpError::kEmpty;
        return false;
    }
    const std::size_t left = data_.size() - offset_;
    const std::uint8_t* p = data_.data() + offset_;
    if (left < 4) {
        error_ = RtcpError::kTooShort;
        return false;
    }
    if (p[0] >> 6 != 2) {
        error_ = RtcpError::kBadVersion;
        return false;
    }
    const std::size_t size = (static_cast<std::size_t>(get16(p + 2)) + 1) * 4;
    if (size > left) {
        error_ = RtcpError::kLengthPastEnd;
        return false;
    }
    std::size_t padding = 0;
    if (p[0] & 0x20) {
        // RFC 3550 §6.4.1: the last octet counts the padding, itself
        // included, and the padding is inside the length.
        padding = p[size - 1];
        if (padding == 0 || padding > size - 4) {
            error_ = RtcpError::kBadPadding;
            return false;
        }
    }
    packet.type = p[1];
    packet.count = p[0] & 0x1F;
    packet.bytes = data_.subspan(offset_, size);
    packet.body = data_.subspan(offset_ + 4, size - 4 - padding);
    offset_ += size;
    return true;
}

RtcpError parse_compound(std::span<const std::uint8_t> datagram, std::vector<RtcpPacket>& packets) {
    packets.clear();
    CompoundReader reader(datagram);
    RtcpPacket packet;
    while (reader.next(packet)) packets.push_back(packet);
    return reader.error();
}

std::optional<SenderReport> parse_sender_report(const RtcpPacket& packet) {
    if (packet.type != static_cast<std::uint8_t>(RtcpType::kSenderReport) ||
        packet.body.size() < 24) {
        return std::nullopt;
    }
    const std::uint8_t* p = packet.body.data();
    SenderReport report;
    report.sender = Ssrc(get32(p));
    report.ntp_time = static_cast<std::uint64_t>(get32(p + 4)) << 32 | get32(p + 8);
    report.rtp_time = RtpTimestamp(get32(p + 12));
    report.packet_count = get32(p + 16);
    report.octet_count = get32(p + 20);
    if (!read_report_blocks(packet.body.subspan(24), packet.count, report.reports)) {
        return std::nullopt;
    }
    return report;
}

std::optional<ReceiverReport> parse_receiver_report(const RtcpPacket& packet) {
    if (packet.type != static_cast<std::uint8_t>(RtcpType::kReceiverReport) ||
        packet.body.size() < 4) {
        return std::nullopt;
    }
    ReceiverReport report;
    report.sender = Ssrc(get32(packet.body.data()));
    if (!read_report_blocks(packet.body.subspan(4), packet.count, report.reports)) {
        return std::nullopt;
    }
    return report;
}

std::optional<std::vector<SdesChunk>> parse_sdes(const RtcpPacket& packet) {
    if (packet.type != static_cast<std::uint8_t>(RtcpType::kSdes)) return std::nullopt;
    const auto body = packet.body;
    std::vector<SdesChunk> chunks;
    std::size_t offset = 0;
    for (std::size_t i = 0; i < packet.count; ++i) {
        // RFC 3550 §6.5: SSRC, items (type, length, text) up to an END
        // item, then zeros to the next 32-bit boundary.
        if (body.size() - offset < 4) return std::nullopt;
        SdesChunk chunk;
        chunk.source = Ssrc(get32(body.data() + offset));
        offset += 4;
        while (true) {
            if (offset >= body.size()) return std::nullopt;
            const std::uint8_t item = body[offset];
            if (item == kSdesEnd) {
                ++offset;
                break;
            }
            if (body.size() - offset < 2) return std::nullopt;
            const std::size_t length = body[offset + 1];
            if (body.size() - offset - 2 < length) return std::nullopt;
            if (item == kSdesCname) {
                chunk.cname.assign(reinterpret_cast<const char*>(body.data() + offset + 2), length);
            }
            offset += 2 + length;
        }
        offset = (offset + 3) / 4 * 4;
        if (offset > body.size()) return std::nullopt;
        chunks.push_back(std::move(chunk));
    }
    return chunks;
}

std::optional<Bye> parse_bye(const RtcpPacket& packet) {
    if (packet.type != static_cast<std::uint8_t>(RtcpType::kBye)) return std::nullopt;
    const auto body = packet.body;
    const std::size_t ssrc_bytes = 4u * packet.count;
    if (body.size() < ssrc_bytes) return std::nullopt;
    Bye bye;
    for (std::size_t i = 0; i < packet.count; ++i) {
        bye.sources.emplace_back(get32(body.data() + 4 * i));
    }
    // RFC 3550 §6.6: an optional reason, a length octet and text.
    if (body.size() > ssrc_bytes) {
        const std::size_t length = body[ssrc_bytes];
        if (body.size() - ssrc_bytes - 1 < length) return std::nullopt;
        bye.reason.assign(reinterpret_cast<const char*>(body.data() + ssrc_bytes + 1), length);
    }
    return bye;
}

std::optional<Nack> parse_nack(const RtcpPacket& packet) {
    if (!is_feedback(packet, RtcpType::kTransportFeedback, kFmtGenericNack)) return std::nullopt;
    const auto body = packet.body;
    if (body.size() < 12) return std::nullopt;  // RFC 4585 §6.2.1: at least one FCI entry
    Nack nack;
    nack.sender = Ssrc(get32(body.data()));
    nack.media = Ssrc(get32(body.data() + 4));
    for (std::size_t offset = 8; offset + 4 <= body.size(); offset += 4) {
        const SequenceNumber pid(get16(body.data() + offset));
        const std::uint16_t blp = get16(body.data() + offset + 2);
        nack.lost.push_back(pid);
        for (int bit = 0; bit < 16; ++bit) {
            if (blp & (1u << bit)) nack.lost.push_back(pid + (bit + 1));
        }
    }
    return nack;
}

std::optional<Pli> parse_pli(const RtcpPacket& packet) {
    if (!is_feedback(packet, RtcpType::kPayloadFeedback, kFmtPli)) return std::nullopt;
    return Pli{Ssrc(get32(packet.body.data())), Ssrc(get32(packet.body.data() + 4))};
}

std::optional<Fir> parse_fir(const RtcpPacket& packet) {
    if (!is_feedback(packet, RtcpType::kPayloadFeedback, kFmtFir)) return std::nullopt;
    const auto body = packet.body;
    // RFC 5104 §4.3.1.2: media source SSRC 0; each FCI entry an SSRC, a
    // sequence number and 24 reserved bits.
    if (body.size() < 16) return std::nullopt;
    Fir fir;
    fir.sender = Ssrc(get32(body.data()));
    for (std::size_t offset = 8; offset + 8 <= body.size(); offset += 8) {
        fir.entries.push_back({Ssrc(get32(body.data() + offset)), body[offset + 4]});
    }
    return fir;
}

void append_sender_report(std::vector<std::uint8_t>& out, const SenderReport& report) {
    const std::size_t count = std::min(report.reports.size(), kMaxReportBlocks);
    const std::size_t start = begin(out, static_cast<std::uint8_t>(count), RtcpType::kSenderReport);
    put32(out, report.sender.value());
    put32(out, static_cast<std::uint32_t>(report.ntp_time >> 32));
    put32(out, static_cast<std::uint32_t>(report.ntp_time));
    put32(out, report.rtp_time.value());
    put32(out, report.packet_count);
    put32(out, report.octet_count);
    for (std::size_t i = 0; i < count; ++i) write_report_block(out, report.reports[i]);
    finish(out, start);
}

void append_receiver_report(std::vector<std::uint8_t>& out, const ReceiverReport& report) {
    const std::size_t count = std::min(report.reports.size(), kMaxReportBlocks);
    const std::size_t start =
        begin(out, static_cast<std::uint8_t>(count), RtcpType::kReceiverReport);
    put32(out, report.sender.value());
    for (std::size_t i = 0; i < count; ++i) write_report_block(out, report.reports[i]);
    finish(out, start);
}

void append_sdes_cname(std::vector<std::uint8_t>& out, Ssrc source, std::string_view cname) {
    const std::size_t start = begin(out, 1, RtcpType::kSdes);
    put32(out, source.value());
    const std::size_t length = std::min<std::size_t>(cname.size(), 255);
    out.push_back(kSdesCname);
    out.push_back(static_cast<std::uint8_t>(length));
    out.insert(out.end(), cname.begin(), cname.begin() + static_cast<std::ptrdiff_t>(length));
    // The END item, then finish() pads the chunk with more zeros (§6.5).
    out.push_back(kSdesEnd);
    finish(out, start);
}

void append_bye(std::vector<std::uint8_t>& out, std::span<const Ssrc> sources,
                std::string_view reason) {
    const std::size_t count = std::min<std::size_t>(sources.size(), 31);
    const std::size_t start = begin(out, static_cast<std::uint8_t>(count), RtcpType::kBye);
    for (std::size_t i = 0; i < count; ++i) put32(out, sources[i].value());
    if (!reason.empty()) {
        const std::size_t length = std::min<std::size_t>(reason.size(), 255);
        out.push_back(static_cast<std::uint8_t>(length));
        out.insert(out.end(), reason.begin(), reason.begin() + static_cast<std::ptrdiff_t>(length));
    }
    finish(out, start);
}

void append_pli(std::vector<std::uint8_t>& out, Ssrc sender, Ssrc media) {
    const std::size_t start = begin(out, kFmtPli, RtcpType::kPayloadFeedback);
    put32(out, sender.value());
    put32(out, media.value());
    finish(out, start);
}

void append_fir(std::vector<std::uint8_t>& out, Ssrc sender, std::span<const FirEntry> entries) {
    const std::size_t start = begin(out, kFmtFir, RtcpType::kPayloadFeedback);
    put32(out, sender.value());
    put32(out, 0);  // RFC 5104 §4.3.1.2: media source SSRC unused, 0
    for (const auto& entry : entries) {
        put32(out, entry.source.value());
        out.push_back(entry.sequence);
        out.push_back(0);
        put16(out, 0);
    }
    finish(out, start);
}

std::vector<NackItem> nack_items(std::span<const SequenceNumber> lost) {
    std::vector<std::uint16_t> sorted;
    sorted.reserve(lost.size());
    for (auto s : lost) sorted.push_back(s.value());
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    std::vector<NackItem> items;
    if (sorted.empty()) return items;
    // On the circle of sequence numbers the loss begins after the widest
    // gap between neighbours: 65534, 65535, 0, 1 starts at 65534.
    std::size_t first = 0;
    std::uint32_t widest = 0;
    for (std::size_t i = 0; i < sorted.size(); ++i) {
        const std::uint16_t previous = sorted[(i + sorted.size() - 1) % sorted.size()];
        const auto gap = static_cast<std::uint16_t>(sorted[i] - previous);
        const std::uint32_t width = gap == 0 ? 0x10000u : gap;  // a single value: the whole circle
        if (width > widest) {
            widest = width;
            first = i;
        }
    }
    for (std::size_t k = 0; k < sorted.size(); ++k) {
        const SequenceNumber s(sorted[(first + k) % sorted.size()]);
        if (!items.empty()) {
            const auto offset = static_cast<std::uint16_t>(s.value() - items.back().pid.value());
            if (offset >= 1 && offset <= 16) {
                items.back().blp =
                    static_cast<std::uint16_t>(items.back().blp | 1u << (offset - 1));
                continue;
            }
        }
        items.push_back({s, 0});
    }
    return items;
}

void append_nack(std::vector<std::uint8_t>& out, Ssrc sender, Ssrc media,
                 std::span<const SequenceNumber> lost) {
    const auto items = nack_items(lost);
    if (items.empty()) return;
    const std::size_t start = begin(out, kFmtGenericNack, RtcpType::kTransportFeedback);
    put32(out, sender.value());
    put32(out, media.value());
    for (const auto& item : items) {
        put16(out, item.pid.value());
        put16(out, item.blp);
    }
    finish(out, start);
}

std::uint64_t ntp_from_unix(std::chrono::microseconds since_epoch) {
    // RFC 3550 §4: seconds since 1900-01-01 in the high 32 bits, the
    // fraction in the low 32; 2208988800 s lie between 1900 and 1970.
    constexpr std::uint64_t kEpochOffset = 2208988800u;
    const auto us = static_cast<std::uint64_t>(since_epoch.count());
    const std::uint64_t seconds = us / 1'000'000u + kEpochOffset;
    const std::uint64_t fraction = ((us % 1'000'000u) << 32) / 1'000'000u;
    return seconds << 32 | fraction;
}

}  // namespace rtcpeer::rtp
