// The last packets sent on one RTP stream, by sequence number, to answer
// the remote's generic NACKs (RFC 4585 §6.2.1) by sending them again.
// Bounded by count and by bytes, whichever comes first, so that a stream of
// large video packets cannot hold unbounded memory. I/O-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <vector>

#include "rtp/types.hpp"

namespace rtcpeer::rtp {

class SendHistory {
  public:
    SendHistory(std::size_t max_packets, std::size_t max_bytes);

    // Keeps a copy of `packet`, forgetting the oldest ones to stay within
    // the bounds. A packet larger than max_bytes alone is not kept.
    void store(SequenceNumber sequence, std::span<const std::uint8_t> packet);

    // The packet sent with `sequence`, or an empty span when it is no longer
    // (or never was) here. Valid until the next store().
    std::span<const std::uint8_t> find(SequenceNumber sequence) const;

    std::size_t size() const { return packets_.size(); }
    std::size_t bytes() const { return bytes_; }
    void clear();

  private:
    struct Entry {
        SequenceNumber sequence;
        std::vector<std::uint8_t> packet;
    };
    std::size_t max_packets_;
    std::size_t max_bytes_;
    std::size_t bytes_ = 0;
    std::deque<Entry> packets_;  // in the order sent
};

}  // namespace rtcpeer::rtp
