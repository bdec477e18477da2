#include "sctp/redundancy.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "base/bytes.hpp"

namespace rtcpeer::sctp {

namespace {

// Chunk types (RFC 4960 §3.2; I-DATA: RFC 8260).
constexpr std::uint8_t kData = 0;
constexpr std::uint8_t kSack = 3;
constexpr std::uint8_t kIData = 64;
constexpr std::size_t kCommonHeader = 12;
constexpr std::size_t kSackFixedPart = 16;  // header, cumulative TSN, a_rwnd, two counts

}  // namespace

bool Redundancy::note_data_chunk(std::uint32_t tsn, bool& is_new) {
    // Serial number arithmetic (RFC 1982): TSNs wrap around.
    if (!sent_data_ || static_cast<std::int32_t>(tsn - highest_tsn_) > 0) {
        sent_data_ = true;
        highest_tsn_ = tsn;
        is_new = true;
        return false;
    }
    const auto remembered =
        retransmitted_.begin() + static_cast<std::ptrdiff_t>(retransmitted_count_);
    const bool repeat = std::find(retransmitted_.begin(), remembered, tsn) != remembered;
    if (!repeat) {
        retransmitted_[retransmitted_next_] = tsn;
        retransmitted_next_ = (retransmitted_next_ + 1) % retransmitted_.size();
        retransmitted_count_ = std::min(retransmitted_count_ + 1, retransmitted_.size());
    }
    repeat_share_ += ((repeat ? 1.0 : 0.0) - repeat_share_) / kRepeatWindow;
    return repeat || repeat_share_ > kFrequentRepeats;
}

bool Redundancy::enabled_by_environment() {
    const char* value = std::getenv("RTCPEER_LOSS_REPAIR");
    return value == nullptr || std::strcmp(value, "off") != 0;
}

int Redundancy::copies(const std::uint8_t* packet, std::size_t size) {
    if (!enabled_) return 1;
    bool double_retransmission = false;
    bool new_data = false;
    bool loss_report = false;
    bool sack = false;
    bool other_control = false;
    for (std::size_t at = kCommonHeader; at + 4 <= size;) {
        const std::uint8_t type = packet[at];
        const std::size_t length = bytes::get16(packet + at + 2);
        if (length < 4 || length > size - at) break;  // usrsctp's own output: never, in practice
        if ((type == kData || type == kIData) && length >= 8) {
            if (note_data_chunk(bytes::get32(packet + at + 4), new_data))
                double_retransmission = true;
        } else if (type == kSack && length >= kSackFixedPart) {
            sack = true;
            // Gap blocks: data is missing. Duplicate TSNs: the remote sent
            // again what we had, so a SACK of ours was lost.
            if (bytes::get16(packet + at + 12) != 0 || bytes::get16(packet + at + 14) != 0)
                loss_report = true;
        } else {
            other_control = true;
        }
        at += (length + 3) & ~std::size_t{3};
    }
    if (double_retransmission) return 2;
    if (new_data) return 1;
    if (loss_report) {
        sacks_to_double_ = kSacksAfterLoss;
        return 2;
    }
    if (sack && sacks_to_double_ > 0) {
        --sacks_to_double_;
        return 2;
    }
    return other_control ? 2 : 1;
}

}  // namespace rtcpeer::sctp
