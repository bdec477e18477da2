#include "sctp/redundancy.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "base/bytes.hpp"
#include "base/environment.hpp"
#include "sctp/chunks.hpp"

namespace rtcpeer::sctp {

namespace {

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
    return !environment::turned_off("RTCPEER_LOSS_REPAIR");
}

int Redundancy::copies(const std::uint8_t* packet, std::size_t size) {
    if (!enabled_) return 1;
    bool double_retransmission = false;
    bool new_data = false;
    bool loss_report = false;
    bool sack = false;
    bool other_control = false;
    // A malformed length ends the walk: usrsctp's own output, never in practice.
    chunks::for_each(packet, size,
                     [&](std::uint8_t type, const std::uint8_t* chunk, std::size_t length) {
                         if (chunks::is_data(type, length)) {
                             if (note_data_chunk(bytes::get32(chunk + 4), new_data))
                                 double_retransmission = true;
                         } else if (type == chunks::kSack && length >= kSackFixedPart) {
                             sack = true;
                             // Gap blocks: data is missing. Duplicate TSNs: the remote sent
                             // again what we had, so a SACK of ours was lost.
                             if (bytes::get16(chunk + 12) != 0 || bytes::get16(chunk + 14) != 0)
                                 loss_report = true;
                         } else {
                             other_control = true;
                         }
                     });
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
