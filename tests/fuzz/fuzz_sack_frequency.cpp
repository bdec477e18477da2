// SCTP packets from the remote (after DTLS), in the SACK frequency's view.
// The input is a run of records: a time step in ms (one byte), a length (one
// byte) and that many bytes of packet. Properties: a change is only ever to
// one of the two frequencies, a packet without data never changes it, and
// nothing is read past a packet's end (ASan).
#include <algorithm>
#include <cstdint>
#include <vector>

#include "sctp/sack_frequency.hpp"

using rtcpeer::sctp::SackFrequency;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    SackFrequency frequency;
    std::int64_t now_ms = 0;
    for (std::size_t at = 0; at + 2 <= size;) {
        now_ms += data[at];
        const std::size_t length = std::min<std::size_t>(data[at + 1], size - at - 2);
        // A copy of its own, so that ASan sees a read past the packet's end.
        const std::vector<std::uint8_t> packet(data + at + 2, data + at + 2 + length);
        at += 2 + length;
        const std::uint32_t change = frequency.on_packet(packet.data(), packet.size(), now_ms);
        if (change != 0 && change != SackFrequency::kSlow && change != SackFrequency::kFast)
            __builtin_trap();
        if (change != 0 && !SackFrequency::carries_data(packet.data(), packet.size()))
            __builtin_trap();
        if (frequency.current() != SackFrequency::kSlow &&
            frequency.current() != SackFrequency::kFast)
            __builtin_trap();
    }
    return 0;
}
