#include "sctp/sack_frequency.hpp"

#include "base/bytes.hpp"
#include "sctp/chunks.hpp"

namespace rtcpeer::sctp {

bool SackFrequency::carries_data(const std::uint8_t* packet, std::size_t size) {
    bool found = false;
    for_each_tsn(packet, size, [&](std::uint32_t) { found = true; });
    return found;
}

template <typename Visit>
void SackFrequency::for_each_tsn(const std::uint8_t* packet, std::size_t size, Visit visit) {
    // DATA usually comes first, or after a SACK bundled ahead of it.
    chunks::for_each(packet, size,
                     [&](std::uint8_t type, const std::uint8_t* chunk, std::size_t length) {
                         if (chunks::is_data(type, length)) visit(bytes::get32(chunk + 4));
                     });
}

std::uint32_t SackFrequency::on_packet(const std::uint8_t* packet, std::size_t size,
                                       std::int64_t now_ms) {
    bool data = false;
    for_each_tsn(packet, size, [&](std::uint32_t tsn) {
        // Serial number arithmetic (RFC 1982): TSNs wrap around.
        if (data_seen_ && tsn != highest_tsn_ + 1) lossy_until_ms_ = now_ms + kAfterLossMs;
        if (!data_seen_ || static_cast<std::int32_t>(tsn - highest_tsn_) > 0) highest_tsn_ = tsn;
        data_seen_ = true;
        data = true;
    });
    if (!data) return 0;
    if (!started_) {
        started_ = true;
        window_start_ms_ = now_ms;
    }
    std::uint32_t wanted = current_;
    const std::int64_t elapsed = now_ms - window_start_ms_;
    if (elapsed >= 2 * kWindowMs) {
        // A pause: whatever comes now may be a short run.
        wanted = kSlow;
        window_start_ms_ = now_ms;
        in_window_ = 0;
    } else if (elapsed >= kWindowMs) {
        if (in_window_ >= kFastFrom) wanted = kFast;
        if (in_window_ < kSlowBelow) wanted = kSlow;
        window_start_ms_ = now_ms;
        in_window_ = 0;
    }
    if (now_ms < lossy_until_ms_) wanted = kSlow;
    ++in_window_;
    if (wanted == current_) return 0;
    current_ = wanted;
    return wanted;
}

}  // namespace rtcpeer::sctp
