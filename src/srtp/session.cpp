#include "srtp/session.hpp"

#include <srtp2/srtp.h>

#include <cstring>
#include <stdexcept>
#include <string>

#include "rtp/packet.hpp"

namespace rtcpeer::srtp {

static_assert(Session::kMaxOverhead >= SRTP_MAX_TRAILER_LEN + 4);

namespace {

srtp_profile_t to_libsrtp(Profile profile) {
    switch (profile) {
        case Profile::kAes128CmHmacSha1_80:
            return srtp_profile_aes128_cm_sha1_80;
        case Profile::kAes128CmHmacSha1_32:
            return srtp_profile_aes128_cm_sha1_32;
        case Profile::kAeadAes128Gcm:
            return srtp_profile_aead_aes_128_gcm;
        case Profile::kAeadAes256Gcm:
            return srtp_profile_aead_aes_256_gcm;
    }
    return srtp_profile_reserved;
}

Status from_libsrtp(srtp_err_status_t status) {
    switch (status) {
        case srtp_err_status_ok:
            return Status::kOk;
        case srtp_err_status_auth_fail:
            return Status::kAuthFailure;
        case srtp_err_status_replay_fail:
        case srtp_err_status_replay_old:
            return Status::kReplay;
        case srtp_err_status_bad_param:
        case srtp_err_status_parse_err:
        case srtp_err_status_bad_mki:
            return Status::kBadPacket;
        default:
            return Status::kFailure;
    }
}

// libsrtp reads the RTP header (CSRCs, extension) or the RTCP header before
// it checks anything else; make sure they are there, whatever its version.
// The RTCP header is the 8 bytes that hold the sender's SSRC.
bool header_fits(std::span<const std::uint8_t> packet, bool rtp) {
    if (!rtp) return packet.size() >= 8 && packet[0] >> 6 == 2;
    rtp::RtpPacket header;
    return rtp::parse_rtp_header(packet, header) == rtp::RtpError::kNone;
}

srtp_t create(Profile profile, const std::vector<std::uint8_t>& key, srtp_ssrc_type_t direction) {
    if (key.size() != key_length(profile) + salt_length(profile)) {
        throw std::runtime_error(std::string("SRTP key of the wrong length for ") +
                                 std::string(to_string(profile)));
    }
    srtp_policy_t policy;
    std::memset(&policy, 0, sizeof policy);
    if (srtp_crypto_policy_set_from_profile_for_rtp(&policy.rtp, to_libsrtp(profile)) !=
            srtp_err_status_ok ||
        srtp_crypto_policy_set_from_profile_for_rtcp(&policy.rtcp, to_libsrtp(profile)) !=
            srtp_err_status_ok) {
        throw std::runtime_error(std::string("libsrtp does not support ") +
                                 std::string(to_string(profile)));
    }
    // A wildcard SSRC: every stream in this direction uses the one key, as
    // DTLS-SRTP keys the whole 5-tuple rather than each SSRC.
    policy.ssrc.type = direction;
    policy.key = const_cast<unsigned char*>(key.data());  // libsrtp copies it
    policy.window_size = Session::kReplayWindow;
    // Answering a NACK sends the very packet again with its sequence
    // number; libsrtp refuses that as a replay unless told. Same index and
    // same payload give the same ciphertext, so nothing leaks.
    policy.allow_repeat_tx = direction == ssrc_any_outbound ? 1 : 0;
    policy.next = nullptr;
    srtp_t session = nullptr;
    const srtp_err_status_t status = srtp_create(&session, &policy);
    if (status != srtp_err_status_ok) {
        throw std::runtime_error("libsrtp refused the " + std::string(to_string(profile)) +
                                 " keys (error " + std::to_string(status) + ")");
    }
    return session;
}

}  // namespace

void init() {
    // srtp_init fills libsrtp's process-wide crypto kernel (its table of
    // ciphers and hashes, after self-tests). It must precede every other
    // call, is not thread-safe, and srtp_shutdown would tear the table down
    // under any session still alive. So: once per process through a
    // function-local static (initialised once, thread-safely, by C++), and
    // never shut down; the process's exit releases it.
    static const srtp_err_status_t status = srtp_init();
    if (status != srtp_err_status_ok) {
        throw std::runtime_error("libsrtp failed to initialise (error " + std::to_string(status) +
                                 ")");
    }
}

std::string_view to_string(Status status) {
    switch (status) {
        case Status::kOk:
            return "ok";
        case Status::kAuthFailure:
            return "authentication failure";
        case Status::kReplay:
            return "replayed packet";
        case Status::kBadPacket:
            return "malformed packet";
        case Status::kBufferTooSmall:
            return "output buffer too small";
        case Status::kFailure:
            return "SRTP failure";
    }
    return "?";
}

Session::Session(Profile profile, const Keys& keys) : profile_(profile) {
    init();
    outbound_ = create(profile, keys.local, ssrc_any_outbound);
    try {
        inbound_ = create(profile, keys.remote, ssrc_any_inbound);
    } catch (...) {
        srtp_dealloc(outbound_);
        throw;
    }
}

Session::~Session() {
    srtp_dealloc(outbound_);
    srtp_dealloc(inbound_);
}

Result Session::run(Operation operation, std::span<const std::uint8_t> packet,
                    std::span<std::uint8_t> out) noexcept {
    const bool protect =
        operation == Operation::kProtectRtp || operation == Operation::kProtectRtcp;
    const bool rtp = operation == Operation::kProtectRtp || operation == Operation::kUnprotectRtp;
    if (packet.size() > kMaxPacket || !header_fits(packet, rtp)) return {Status::kBadPacket, 0};
    if (out.size() < packet.size() + (protect ? kMaxOverhead : 0)) {
        return {Status::kBufferTooSmall, 0};
    }
    // libsrtp works in place; the caller's input stays untouched unless it
    // is the output. memmove: the two may overlap.
    if (out.data() != packet.data()) std::memmove(out.data(), packet.data(), packet.size());
    int length = static_cast<int>(packet.size());
    srtp_err_status_t status = srtp_err_status_fail;
    switch (operation) {
        case Operation::kProtectRtp:
            status = srtp_protect(outbound_, out.data(), &length);
            break;
        case Operation::kUnprotectRtp:
            status = srtp_unprotect(inbound_, out.data(), &length);
            break;
        case Operation::kProtectRtcp:
            status = srtp_protect_rtcp(outbound_, out.data(), &length);
            break;
        case Operation::kUnprotectRtcp:
            status = srtp_unprotect_rtcp(inbound_, out.data(), &length);
            break;
    }
    const Status result = from_libsrtp(status);
    if (result != Status::kOk) return {result, 0};
    if (length < 0) return {Status::kFailure, 0};
    return {Status::kOk, static_cast<std::size_t>(length)};
}

Result Session::protect_rtp(std::span<const std::uint8_t> packet,
                            std::span<std::uint8_t> out) noexcept {
    return run(Operation::kProtectRtp, packet, out);
}
Result Session::unprotect_rtp(std::span<const std::uint8_t> packet,
                              std::span<std::uint8_t> out) noexcept {
    return run(Operation::kUnprotectRtp, packet, out);
}
Result Session::protect_rtcp(std::span<const std::uint8_t> packet,
                             std::span<std::uint8_t> out) noexcept {
    return run(Operation::kProtectRtcp, packet, out);
}
Result Session::unprotect_rtcp(std::span<const std::uint8_t> packet,
                               std::span<std::uint8_t> out) noexcept {
    return run(Operation::kUnprotectRtcp, packet, out);
}

}  // namespace rtcpeer::srtp
