// RTCP (RFC 3550 §6) and the feedback messages rtcpeer uses (RFC 4585 §6,
// RFC 5104 §4.3.1): splitting a compound packet into its packets with every
// length checked, parsing the ones rtcpeer acts on, and building them.
// Anything else (APP, XR, REMB, transport-cc, ...) stays an RtcpPacket whose
// bytes are intact, for whoever wants them. Pure functions over bytes.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rtp/types.hpp"

namespace rtcpeer::rtp {

// Packet types (RFC 3550 §12.1, RFC 4585 §6.1, RFC 3611).
enum class RtcpType : std::uint8_t {
    kSenderReport = 200,
    kReceiverReport = 201,
    kSdes = 202,
    kBye = 203,
    kApp = 204,
    kTransportFeedback = 205,  // RTPFB
    kPayloadFeedback = 206,    // PSFB
    kExtendedReport = 207,
};
std::string_view to_string(RtcpType type);

// Feedback message types, the FMT field of RTPFB and PSFB.
inline constexpr std::uint8_t kFmtGenericNack = 1;  // RTPFB, RFC 4585 §6.2.1
inline constexpr std::uint8_t kFmtPli = 1;          // PSFB, RFC 4585 §6.3.1
inline constexpr std::uint8_t kFmtFir = 4;          // PSFB, RFC 5104 §4.3.1

enum class RtcpError {
    kNone,
    kEmpty,
    kTooShort,       // under a 4-byte common header
    kBadVersion,     // V is not 2
    kLengthPastEnd,  // the length field runs past the datagram
    kBadPadding,     // P set with a count of 0 or more than the body
};
std::string_view to_string(RtcpError error);

// One packet of a compound packet: its 4-byte common header and its body.
struct RtcpPacket {
    std::uint8_t type = 0;                // RtcpType when known
    std::uint8_t count = 0;               // RC, SC or FMT: the low 5 bits of byte 0
    std::span<const std::uint8_t> bytes;  // the whole packet as on the wire, padding included
    std::span<const std::uint8_t> body;   // after the common header, padding removed
};

// Iterates the packets of a compound packet. next() is false at the end
// and at the first malformed packet, which error() then names; the packets
// before it were sound.
class CompoundReader {
  public:
    explicit CompoundReader(std::span<const std::uint8_t> datagram) : data_(datagram) {}
    bool next(RtcpPacket& packet);
    RtcpError error() const { return error_; }

  private:
    std::span<const std::uint8_t> data_;
    std::size_t offset_ = 0;
    RtcpError error_ = RtcpError::kNone;
};

// All packets of a compound packet, or the error if any of them is
// malformed (then `packets` holds the sound ones before it).
RtcpError parse_compound(std::span<const std::uint8_t> datagram, std::vector<RtcpPacket>& packets);

// RFC 3550 §6.4.1 report block.
struct ReportBlock {
    Ssrc source;
    std::uint8_t fraction_lost = 0;         // in 1/256
    std::int32_t cumulative_lost = 0;       // 24-bit signed on the wire
    std::uint32_t highest_sequence = 0;     // extended: cycles << 16 | highest
    std::uint32_t jitter = 0;               // in timestamp units
    std::uint32_t last_sr = 0;              // middle 32 bits of the last SR's NTP time
    std::uint32_t delay_since_last_sr = 0;  // in 1/65536 s
    friend bool operator==(const ReportBlock&, const ReportBlock&) = default;
};

inline constexpr std::size_t kMaxReportBlocks = 31;  // 5-bit RC

struct SenderReport {
    Ssrc sender;
    std::uint64_t ntp_time = 0;  // 32.32 fixed point seconds since 1900
    RtpTimestamp rtp_time;
    std::uint32_t packet_count = 0;
    std::uint32_t octet_count = 0;
    std::vector<ReportBlock> reports;
};

struct ReceiverReport {
    Ssrc sender;
    std::vector<ReportBlock> reports;
};

// SDES keeps only CNAME (item 1), the one item WebRTC uses (RFC 7022).
struct SdesChunk {
    Ssrc source;
    std::string cname;  // empty when the chunk has none
};

struct Bye {
    std::vector<Ssrc> sources;
    std::string reason;
};

// Generic NACK, expanded to the sequence numbers it asks for.
struct Nack {
    Ssrc sender;
    Ssrc media;
    std::vector<SequenceNumber> lost;
};

struct Pli {
    Ssrc sender;
    Ssrc media;
};

struct FirEntry {
    Ssrc source;
    std::uint8_t sequence = 0;  // command sequence number, new per request
};
struct Fir {
    Ssrc sender;
    std::vector<FirEntry> entries;
};

// Each parser is nullopt when the packet is not of its type or its body is
// too short for what its header announces.
std::optional<SenderReport> parse_sender_report(const RtcpPacket& packet);
std::optional<ReceiverReport> parse_receiver_report(const RtcpPacket& packet);
std::optional<std::vector<SdesChunk>> parse_sdes(const RtcpPacket& packet);
std::optional<Bye> parse_bye(const RtcpPacket& packet);
std::optional<Nack> parse_nack(const RtcpPacket& packet);
std::optional<Pli> parse_pli(const RtcpPacket& packet);
std::optional<Fir> parse_fir(const RtcpPacket& packet);

// Builders append one packet to `out`, so that a compound packet is a
// sequence of calls. Report blocks past 31 are left out (the caller sends
// them in another RR); a CNAME or reason past 255 bytes is cut.
void append_sender_report(std::vector<std::uint8_t>& out, const SenderReport& report);
void append_receiver_report(std::vector<std::uint8_t>& out, const ReceiverReport& report);
void append_sdes_cname(std::vector<std::uint8_t>& out, Ssrc source, std::string_view cname);
void append_bye(std::vector<std::uint8_t>& out, std::span<const Ssrc> sources,
                std::string_view reason = {});
void append_pli(std::vector<std::uint8_t>& out, Ssrc sender, Ssrc media);
void append_fir(std::vector<std::uint8_t>& out, Ssrc sender, std::span<const FirEntry> entries);

// A generic NACK's FCI entry: PID and a bitmask of the 16 that follow.
struct NackItem {
    SequenceNumber pid;
    std::uint16_t blp = 0;
    friend bool operator==(const NackItem&, const NackItem&) = default;
};
// The fewest items that ask for exactly `lost` (any order, duplicates
// allowed, across a wrap of the sequence space as long as the set spans
// less than half of it).
std::vector<NackItem> nack_items(std::span<const SequenceNumber> lost);
// Appends a NACK for `lost`; nothing when it is empty.
void append_nack(std::vector<std::uint8_t>& out, Ssrc sender, Ssrc media,
                 std::span<const SequenceNumber> lost);

// NTP time (RFC 3550 §4) from a time since the Unix epoch, and the middle
// 32 bits that report blocks echo as LSR.
std::uint64_t ntp_from_unix(std::chrono::microseconds since_epoch);
constexpr std::uint32_t ntp_middle(std::uint64_t ntp) {
    return static_cast<std::uint32_t>(ntp >> 16);
}

}  // namespace rtcpeer::rtp
