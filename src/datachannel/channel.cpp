#include "datachannel/channel.hpp"

#include "base/log.hpp"
#include "base/text.hpp"

namespace rtcpeer::datachannel {

namespace {
constexpr std::uint8_t kEmptyPayload = 0;
}

Channel::Channel(sctp::Association& association, bool dtls_client, Callbacks callbacks)
    : association_(association), dtls_client_(dtls_client), callbacks_(std::move(callbacks)) {}

void Channel::open(const std::string& label) {
    // RFC 8832 §6: the DTLS client takes even stream ids, the server odd ones.
    stream_ = dtls_client_ ? 0 : 1;
    label_ = label;
    Open open;
    open.label = label;
    const auto message = build_open(open);
    if (association_.send(*stream_, static_cast<std::uint32_t>(Ppid::kDcep), message.data(),
                          message.size()) != sctp::Association::SendResult::kSent) {
        throw Error(ErrorCategory::kConnection, "channel", "cannot send DATA_CHANNEL_OPEN");
    }
    log::state("channel \"" + label + "\" opened on stream " + std::to_string(*stream_));
    // An ordered channel may carry data before the ACK (RFC 8832 §6).
    if (callbacks_.on_open) callbacks_.on_open();
}

void Channel::on_dcep(std::uint16_t stream, std::string_view data) {
    auto parsed = parse(reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
    if (!parsed) {
        throw protocol_error("channel",
                             "malformed DCEP message on stream " + std::to_string(stream));
    }
    if (parsed->type == MessageType::kAck) {
        if (stream_ && stream == *stream_ && !acked_) {
            acked_ = true;
            log::state("channel acknowledged by the remote");
        }
        return;
    }
    if (stream_) {
        // One channel per run: refuse the others, with a bounded amount of noise.
        if (stream == *stream_)
            throw protocol_error("channel", "a second DATA_CHANNEL_OPEN on the channel's stream");
        if (refused_++ < 3) {
            log::warn("refusing extra data channel \"" + text::printable(parsed->open.label, 60) +
                      "\" (stream " + std::to_string(stream) + ")");
        }
        association_.reset_stream(stream);
        return;
    }
    if ((stream % 2 == 0) == dtls_client_) {
        log::warn("the remote opened stream " + std::to_string(stream) +
                  ", which has our DTLS role's parity");
    }
    if (!parsed->open.ordered() || static_cast<std::uint8_t>(parsed->open.channel_type) & 0x03) {
        log::warn(
            "the remote's channel is not reliable and ordered; bytes may be lost or reordered");
    }
    stream_ = stream;
    label_ = parsed->open.label;
    const auto ack = build_ack();
    association_.send(stream, static_cast<std::uint32_t>(Ppid::kDcep), ack.data(), ack.size());
    acked_ = true;
    log::state("channel \"" + label_ + "\" opened by the remote on stream " +
               std::to_string(stream));
    if (callbacks_.on_open) callbacks_.on_open();
}

void Channel::on_sctp_message(std::uint16_t stream, std::uint32_t ppid, std::string_view data) {
    if (ppid == static_cast<std::uint32_t>(Ppid::kDcep)) return on_dcep(stream, data);
    if (!stream_ || stream != *stream_ || closed_) {
        if (!warned_stray_) {
            warned_stray_ = true;
            log::warn("ignoring data on stream " + std::to_string(stream) +
                      ", which carries no open channel");
        }
        return;
    }
    switch (static_cast<Ppid>(ppid)) {
        case Ppid::kString:
        case Ppid::kStringPartial:
            return callbacks_.on_message(data, false);
        case Ppid::kBinary:
        case Ppid::kBinaryPartial:
            return callbacks_.on_message(data, true);
        case Ppid::kStringEmpty:
            return callbacks_.on_message({}, false);
        case Ppid::kBinaryEmpty:
            return callbacks_.on_message({}, true);
        default:
            throw protocol_error("channel", "unknown payload protocol id " + std::to_string(ppid));
    }
}

void Channel::on_incoming_reset(std::uint16_t stream) {
    if (!stream_ || stream != *stream_ || closed_) return;
    closed_ = true;
    log::state("channel closed by the remote");
    // RFC 8831 §6.7: answer the remote's reset with ours.
    association_.reset_stream(stream);
    if (callbacks_.on_remote_close) callbacks_.on_remote_close();
}

sctp::Association::SendResult Channel::send(std::string_view data, bool binary) {
    if (!is_open()) return sctp::Association::SendResult::kFailed;
    if (data.empty()) {
        const auto ppid = binary ? Ppid::kBinaryEmpty : Ppid::kStringEmpty;
        return association_.send(*stream_, static_cast<std::uint32_t>(ppid), &kEmptyPayload, 1);
    }
    const auto ppid = binary ? Ppid::kBinary : Ppid::kString;
    return association_.send(*stream_, static_cast<std::uint32_t>(ppid),
                             reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
}

void Channel::close() {
    if (!stream_ || closed_) return;
    closed_ = true;
    association_.reset_stream(*stream_);
}

}  // namespace rtcpeer::datachannel
