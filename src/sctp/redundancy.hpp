// Which outgoing SCTP packets go out twice.
//
// SCTP (RFC 4960, as usrsctp implements it) recovers most losses by fast
// retransmit, but some cost a retransmission time-out, which collapses the
// congestion window to one packet and doubles the timer for the next one:
//   - a retransmitted chunk that is lost again (a chunk is fast-retransmitted
//     once; after that only the timer recovers it);
//   - a SACK lost while the sender has little in flight, so no later SACK
//     comes to cover it;
//   - a control chunk sent on its own (handshake, stream reset, shutdown).
// On a path that drops a fifth of all datagrams at random, chains of such
// time-outs held a transfer to tens of kB/s. Sending these packets twice
// makes such a loss need both copies lost (p squared):
//   - SACKs that report loss (gap blocks or duplicate TSNs), and the SACKs
//     that follow one for a while; small packets on the return path;
//   - control packets that carry no data; a handful per association;
//   - a chunk's second and later retransmissions, and every retransmission
//     while such repeats are frequent. A retransmission lost again is the
//     mark of loss that is not the sender's own doing: after a loss the
//     sender halves its window, so a congested queue takes the
//     retransmission; a path that drops at random drops it like any other
//     packet. Measured through a 10 Mbit/s token bucket: 2 of 392
//     retransmissions repeated; at 20% random loss, about one in five.
//     Doubling every retransmission on the congested link instead added
//     1700 retransmissions and cost 15% of its throughput.
// New data is never doubled: congestion control still sees, and answers,
// every loss of it. On a clean path nothing but the few control packets is.
//
// Each copy is encrypted on its own, as a DTLS record with its own sequence
// number (dtls::Transport::send): the remote's SCTP discards the duplicate
// chunks (RFC 4960 §6.2) and its DTLS never sees a replayed record, which
// some stacks answer by reading no further.
//
// RTCPEER_LOSS_REPAIR=off in the environment sends every packet once, for
// comparison runs (README "Lossy links").
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace rtcpeer::sctp {

class Redundancy {
  public:
    // Disabled, every packet goes out once.
    explicit Redundancy(bool enabled = true) : enabled_(enabled) {}
    // False when RTCPEER_LOSS_REPAIR is "off" in the environment.
    static bool enabled_by_environment();

    // How many times to send this packet: 1 or 2. Takes the whole packet,
    // common header included, and notes the data chunks it carries.
    int copies(const std::uint8_t* packet, std::size_t size);

    // After a SACK that reports loss, this many further SACK-only packets are
    // doubled too: at one SACK per two packets, about 300 KB of data. While
    // the path keeps losing, nearly every SACK reports a gap, so this stays on.
    static constexpr int kSacksAfterLoss = 128;
    // Every retransmission is doubled while more than this share of the
    // recent ones (a moving average over about kRepeatWindow) were repeats.
    static constexpr double kFrequentRepeats = 0.05;
    static constexpr double kRepeatWindow = 64;

  private:
    // Notes one data chunk; true when it is a retransmission to double.
    bool note_data_chunk(std::uint32_t tsn, bool& is_new);

    bool enabled_;
    bool sent_data_ = false;
    std::uint32_t highest_tsn_ = 0;
    int sacks_to_double_ = 0;
    double repeat_share_ = 0;
    // The TSNs most recently retransmitted for the first time, oldest
    // overwritten: 512 covers a full 2 MiB window's worth of losses at 20%.
    std::array<std::uint32_t, 512> retransmitted_{};
    std::size_t retransmitted_next_ = 0;
    std::size_t retransmitted_count_ = 0;
};

}  // namespace rtcpeer::sctp
