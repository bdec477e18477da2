// The RTP fixed header (RFC 3550 §5.1), its CSRC list, header extension
// (RFC 3550 §5.3.1 with the RFC 8285 one-byte and two-byte element forms)
// and padding; and rewriting the fields a forwarder changes, in place.
// Pure functions over bytes: every length is checked against the datagram.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "rtp/types.hpp"

namespace rtcpeer::rtp {

inline constexpr std::size_t kFixedHeaderSize = 12;

enum class RtpError {
    kNone,
    kTooShort,          // under the 12-byte fixed header
    kBadVersion,        // V is not 2
    kCsrcPastEnd,       // CC counts more CSRCs than there are bytes
    kExtensionPastEnd,  // the extension's length runs past the datagram
    kBadPadding,        // P set with a count of 0 or more than the payload
};
std::string_view to_string(RtpError error);

// RFC 8285 forms of the header extension block, by its 16-bit profile field.
enum class ExtensionForm {
    kNone,     // X not set
    kOneByte,  // 0xBEDE (§4.2)
    kTwoByte,  // 0x100 in the top 12 bits, 4 application bits (§4.3)
    kOther,    // a profile-specific block, opaque
};
std::string_view to_string(ExtensionForm form);

// A parsed packet: views into the caller's datagram, valid while it is.
struct RtpPacket {
    bool marker = false;
    PayloadType payload_type;
    SequenceNumber sequence;
    RtpTimestamp timestamp;
    Ssrc ssrc;
    std::uint8_t csrc_count = 0;
    std::span<const std::uint8_t> csrcs;  // csrc_count * 4 bytes
    bool has_extension = false;
    std::uint16_t extension_profile = 0;
    std::span<const std::uint8_t> extension_data;  // the block after its 4-byte header
    std::size_t header_size = 0;                   // fixed header + CSRCs + extension
    std::uint8_t padding_size = 0;                 // 0 when P is not set
    std::span<const std::uint8_t> payload;         // between header and padding

    Ssrc csrc(std::size_t index) const;  // index < csrc_count
    ExtensionForm extension_form() const;
};

// Fills `packet` from `datagram` and returns kNone, or says what is wrong.
// An empty payload is valid (RFC 3550 allows it; keep-alives use it).
RtpError parse_rtp(std::span<const std::uint8_t> datagram, RtpPacket& packet);

// The header alone: everything but padding, the payload being the rest.
// For SRTP packets, whose payload and padding count are encrypted.
RtpError parse_rtp_header(std::span<const std::uint8_t> datagram, RtpPacket& packet);

// One element of an RFC 8285 header extension.
struct ExtensionElement {
    std::uint8_t id = 0;
    std::span<const std::uint8_t> data;
};

// Walks the elements of a one-byte or two-byte extension block, skipping
// padding bytes (id 0). next() is false at the end, and also when the
// block is malformed (an element past its end), which malformed() tells;
// an opaque block has no elements.
class ExtensionReader {
  public:
    explicit ExtensionReader(const RtpPacket& packet);
    bool next(ExtensionElement& element);
    bool malformed() const { return malformed_; }

  private:
    ExtensionForm form_;
    std::span<const std::uint8_t> data_;
    std::size_t offset_ = 0;
    bool malformed_ = false;
};

// The first element with `id`, or an empty span with found = false.
struct FoundExtension {
    bool found = false;
    std::span<const std::uint8_t> data;
};
FoundExtension find_extension(const RtpPacket& packet, std::uint8_t id);

// In-place rewriting of a packet's fixed header. Each is false, and changes
// nothing, when the datagram is shorter than the fixed header.
bool set_payload_type(std::span<std::uint8_t> datagram, PayloadType type);  // keeps M
bool set_marker(std::span<std::uint8_t> datagram, bool marker);
bool set_sequence(std::span<std::uint8_t> datagram, SequenceNumber sequence);
bool set_timestamp(std::span<std::uint8_t> datagram, RtpTimestamp timestamp);
bool set_ssrc(std::span<std::uint8_t> datagram, Ssrc ssrc);

}  // namespace rtcpeer::rtp
