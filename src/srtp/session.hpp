// SRTP and SRTCP (RFC 3711, RFC 7714) for one DTLS-SRTP connection, through
// libsrtp2: what this side sends is protected with its own key, what the
// remote sends is unprotected with the remote's, whatever the SSRC. The
// packet path never throws: every outcome is a Status. One thread only, as
// libsrtp's contexts are not safe to share.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "srtp/keying.hpp"

struct srtp_ctx_t_;

namespace rtcpeer::srtp {

// Makes libsrtp ready; once per process, any number of calls. Throws
// std::runtime_error when libsrtp cannot start (its self-tests failed).
void init();

enum class Status {
    kOk,
    kAuthFailure,     // tag mismatch: corrupted, forged, or the wrong key
    kReplay,          // an index seen already, or older than the window
    kBadPacket,       // too short or malformed for SRTP to read
    kBufferTooSmall,  // the output span cannot hold the result
    kFailure,         // anything else libsrtp reports
};
std::string_view to_string(Status status);

struct Result {
    Status status = Status::kFailure;
    std::size_t size = 0;  // bytes written to the output on kOk
    bool ok() const { return status == Status::kOk; }
};

class Session {
  public:
    // Room to leave after a packet for protect: the longest tag libsrtp
    // writes, its MKI, and SRTCP's E-flag and index word.
    static constexpr std::size_t kMaxOverhead = 16 + 128 + 4;
    // The largest packet accepted, protected or not: a UDP payload.
    static constexpr std::size_t kMaxPacket = 65535;
    // Replay window in packets. libsrtp's default of 128 is short for video:
    // a key frame is a burst of packets, and the answers to NACKs arrive
    // hundreds of packets late; each must still be accepted once.
    static constexpr unsigned long kReplayWindow = 1024;

    // Throws std::runtime_error when libsrtp refuses the profile or keys.
    Session(Profile profile, const Keys& keys);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    Profile profile() const { return profile_; }

    // Each reads `packet` and writes the result to `out`, which may be the
    // same memory. Protect needs packet.size() + kMaxOverhead bytes of
    // room; unprotect needs packet.size(). Unless the status is kOk, what
    // `out` holds is unspecified (libsrtp may have begun on it).
    Result protect_rtp(std::span<const std::uint8_t> packet, std::span<std::uint8_t> out) noexcept;
    Result unprotect_rtp(std::span<const std::uint8_t> packet,
                         std::span<std::uint8_t> out) noexcept;
    Result protect_rtcp(std::span<const std::uint8_t> packet, std::span<std::uint8_t> out) noexcept;
    Result unprotect_rtcp(std::span<const std::uint8_t> packet,
                          std::span<std::uint8_t> out) noexcept;

  private:
    enum class Operation { kProtectRtp, kUnprotectRtp, kProtectRtcp, kUnprotectRtcp };
    Result run(Operation operation, std::span<const std::uint8_t> packet,
               std::span<std::uint8_t> out) noexcept;

    Profile profile_;
    srtp_ctx_t_* outbound_ = nullptr;
    srtp_ctx_t_* inbound_ = nullptr;
};

}  // namespace rtcpeer::srtp
