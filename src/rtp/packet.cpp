#include "rtp/packet.hpp"

#include "base/bytes.hpp"

namespace rtcpeer::rtp {

namespace {
using bytes::get16;
using bytes::get32;
constexpr std::uint16_t kOneByteProfile = 0xBEDE;
// RFC 8285 §4.3: 0x100 followed by 4 bits the application may use.
constexpr bool is_two_byte_profile(std::uint16_t profile) { return (profile & 0xFFF0) == 0x1000; }
}  // namespace

std::string_view to_string(RtpError error) {
    switch (error) {
        case RtpError::kNone:
            return "ok";
        case RtpError::kTooShort:
            return "shorter than an RTP header";
        case RtpError::kBadVersion:
            return "not RTP version 2";
        case RtpError::kCsrcPastEnd:
            return "CSRC list past the end";
        case RtpError::kExtensionPastEnd:
            return "header extension past the end";
        case RtpError::kBadPadding:
            return "bad padding length";
    }
    return "?";
}

std::string_view to_string(ExtensionForm form) {
    switch (form) {
        case ExtensionForm::kNone:
            return "none";
        case ExtensionForm::kOneByte:
            return "one-byte";
        case ExtensionForm::kTwoByte:
            return "two-byte";
        case ExtensionForm::kOther:
            return "other";
    }
    return "?";
}

Ssrc RtpPacket::csrc(std::size_t index) const { return Ssrc(get32(csrcs.data() + 4 * index)); }

ExtensionForm RtpPacket::extension_form() const {
    if (!has_extension) return ExtensionForm::kNone;
    if (extension_profile == kOneByteProfile) return ExtensionForm::kOneByte;
    if (is_two_byte_profile(extension_profile)) return ExtensionForm::kTwoByte;
    return ExtensionForm::kOther;
}

RtpError parse_rtp_header(std::span<const std::uint8_t> datagram, RtpPacket& packet) {
    const std::uint8_t* p = datagram.data();
    const std::size_t size = datagram.size();
    if (size < kFixedHeaderSize) return RtpError::kTooShort;
    if (p[0] >> 6 != 2) return RtpError::kBadVersion;
    packet.has_extension = (p[0] & 0x10) != 0;
    packet.csrc_count = p[0] & 0x0F;
    packet.marker = (p[1] & 0x80) != 0;
    packet.payload_type = PayloadType(p[1] & 0x7F);
    packet.sequence = SequenceNumber(get16(p + 2));
    packet.timestamp = RtpTimestamp(get32(p + 4));
    packet.ssrc = Ssrc(get32(p + 8));

    std::size_t offset = kFixedHeaderSize;
    const std::size_t csrc_bytes = 4u * packet.csrc_count;
    if (size - offset < csrc_bytes) return RtpError::kCsrcPastEnd;
    packet.csrcs = datagram.subspan(offset, csrc_bytes);
    offset += csrc_bytes;

    packet.extension_profile = 0;
    packet.extension_data = {};
    if (packet.has_extension) {
        // RFC 3550 §5.3.1: 16-bit profile, 16-bit length in 32-bit words
        // not counting this 4-byte header.
        if (size - offset < 4) return RtpError::kExtensionPastEnd;
        packet.extension_profile = get16(p + offset);
        const std::size_t words = get16(p + offset + 2);
        offset += 4;
        if (size - offset < 4 * words) return RtpError::kExtensionPastEnd;
        packet.extension_data = datagram.subspan(offset, 4 * words);
        offset += 4 * words;
    }
    packet.header_size = offset;
    packet.padding_size = 0;
    packet.payload = datagram.subspan(offset);
    return RtpError::kNone;
}

RtpError parse_rtp(std::span<const std::uint8_t> datagram, RtpPacket& packet) {
    if (const RtpError error = parse_rtp_header(datagram, packet); error != RtpError::kNone) {
        return error;
    }
    const std::uint8_t* p = datagram.data();
    const std::size_t size = datagram.size();
    const std::size_t offset = packet.header_size;
    if ((p[0] & 0x20) != 0) {
        // RFC 3550 §5.1: the last octet counts the padding, itself included;
        // it may not reach into the header.
        const std::uint8_t count = p[size - 1];
        if (count == 0 || count > size - offset) return RtpError::kBadPadding;
        packet.padding_size = count;
    }
    packet.payload = datagram.subspan(offset, size - offset - packet.padding_size);
    return RtpError::kNone;
}

ExtensionReader::ExtensionReader(const RtpPacket& packet)
    : form_(packet.extension_form()), data_(packet.extension_data) {}

bool ExtensionReader::next(ExtensionElement& element) {
    if (form_ != ExtensionForm::kOneByte && form_ != ExtensionForm::kTwoByte) return false;
    while (offset_ < data_.size() && !malformed_) {
        const std::uint8_t first = data_[offset_];
        if (first == 0) {  // padding between or after elements (both forms)
            ++offset_;
            continue;
        }
        std::size_t id = 0;
        std::size_t length = 0;
        std::size_t header = 0;
        if (form_ == ExtensionForm::kOneByte) {
            id = first >> 4;
            // Id 0 is only ever a whole zero byte of padding (§4.2).
            if (id == 0) {
                malformed_ = true;
                return false;
            }
            // RFC 8285 §4.2: id 15 ends the processing of the whole block.
            if (id == 15) {
                offset_ = data_.size();
                return false;
            }
            length = (first & 0x0F) + 1u;  // L is length - 1
            header = 1;
        } else {
            if (data_.size() - offset_ < 2) {
                malformed_ = true;
                return false;
            }
            id = first;
            length = data_[offset_ + 1];
            header = 2;
        }
        if (data_.size() - offset_ - header < length) {
            malformed_ = true;
            return false;
        }
        element.id = static_cast<std::uint8_t>(id);
        element.data = data_.subspan(offset_ + header, length);
        offset_ += header + length;
        return true;
    }
    return false;
}

FoundExtension find_extension(const RtpPacket& packet, std::uint8_t id) {
    ExtensionReader reader(packet);
    ExtensionElement element;
    while (reader.next(element)) {
        if (element.id == id) return {true, element.data};
    }
    return {};
}

bool set_payload_type(std::span<std::uint8_t> datagram, PayloadType type) {
    if (datagram.size() < kFixedHeaderSize) return false;
    datagram[1] = static_cast<std::uint8_t>((datagram[1] & 0x80) | (type.value() & 0x7F));
    return true;
}

bool set_marker(std::span<std::uint8_t> datagram, bool marker) {
    if (datagram.size() < kFixedHeaderSize) return false;
    datagram[1] = static_cast<std::uint8_t>((datagram[1] & 0x7F) | (marker ? 0x80 : 0));
    return true;
}

bool set_sequence(std::span<std::uint8_t> datagram, SequenceNumber sequence) {
    if (datagram.size() < kFixedHeaderSize) return false;
    bytes::set16(datagram.data() + 2, sequence.value());
    return true;
}

bool set_timestamp(std::span<std::uint8_t> datagram, RtpTimestamp timestamp) {
    if (datagram.size() < kFixedHeaderSize) return false;
    bytes::set32(datagram.data() + 4, timestamp.value());
    return true;
}

bool set_ssrc(std::span<std::uint8_t> datagram, Ssrc ssrc) {
    if (datagram.size() < kFixedHeaderSize) return false;
    bytes::set32(datagram.data() + 8, ssrc.value());
    return true;
}

}  // namespace rtcpeer::rtp
