// How many data packets the receiver takes in before it acknowledges them:
// every second (RFC 4960 §6.2) while data comes slowly, every fourth while it
// streams in.
//
// Each SACK is a DTLS datagram to encrypt, send, receive and decrypt, and
// SACK processing is a large part of usrsctp's work on the sending side
// (perf). A SACK every fourth packet cut the CPU time of a clean bulk
// transfer by 9-12% on each side and raised its rate by 10-25% (128 MiB over
// veth, alternating runs). Every fourth packet always made lossy paths
// slower: with a window of a few packets, the last ones wait for the
// delayed-SACK time (20 MB at 20% random loss: 0.89-1.03 MB/s against
// 1.14-1.38 with every second). So the frequency follows the arrival rate:
// at 2,000 data packets a second or more (one every half millisecond), the
// fourth packet of a run comes long before the 20 ms timer; below 1,000, or
// after a pause, every second packet is acknowledged again.
//
// And it stays at every second packet for half a second after data came
// out of order (a TSN other than the next: a loss, or its repair). On a
// path that loses packets at random, every fourth made the window grow
// back more slowly after each loss, although out-of-order data is
// acknowledged at once whatever the frequency (RFC 4960 §6.7): 20 MB at 5%
// loss, 6 runs each, 21-26 MB/s median against 31-34.
//
// The sender's side of the bargain is set for the whole stack
// (sctp/stack.cpp): a max burst of 8 packets and slow start counting up to
// 4 packets a SACK, so that a SACK of 4 packets releases 4 new ones and the
// window still grows as fast as with a SACK every second packet.
//
// I/O-free: it reads the packet and the time it is given, and says when the
// frequency should change; the Association applies it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rtcpeer::sctp {

class SackFrequency {
  public:
    static constexpr std::uint32_t kSlow = 2;  // packets per SACK, RFC 4960
    static constexpr std::uint32_t kFast = 4;
    // Data packets per window that switch to kFast (2,000 a second) and back
    // to kSlow (below 1,000 a second).
    static constexpr std::int64_t kWindowMs = 20;
    static constexpr std::uint32_t kFastFrom = 40;
    static constexpr std::uint32_t kSlowBelow = 20;
    // How long data out of order keeps the frequency at kSlow.
    static constexpr std::int64_t kAfterLossMs = 500;

    // Notes one incoming SCTP packet (common header included) at now_ms, and
    // returns the frequency to apply before usrsctp reads it, or 0 to leave
    // the current one. Packets without DATA or I-DATA chunks do not count;
    // their TSNs tell data out of order.
    std::uint32_t on_packet(const std::uint8_t* packet, std::size_t size, std::int64_t now_ms);
    std::uint32_t current() const { return current_; }

    // Whether an SCTP packet carries a DATA or I-DATA chunk.
    static bool carries_data(const std::uint8_t* packet, std::size_t size);

  private:
    // Calls visit(tsn) for each DATA and I-DATA chunk, in order.
    template <typename Visit>
    static void for_each_tsn(const std::uint8_t* packet, std::size_t size, Visit visit);

    std::uint32_t current_ = kSlow;
    bool data_seen_ = false;
    std::uint32_t highest_tsn_ = 0;
    std::int64_t lossy_until_ms_ = 0;
    bool started_ = false;
    std::int64_t window_start_ms_ = 0;
    std::uint32_t in_window_ = 0;
};

}  // namespace rtcpeer::sctp
