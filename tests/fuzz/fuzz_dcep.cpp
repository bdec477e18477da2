// DCEP messages from the remote. Property: an accepted OPEN rebuilds to a
// message that parses to the same channel.
#include <cstdint>

#include "datachannel/dcep.hpp"

using namespace rtcpeer::datachannel;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto parsed = parse(data, size);
    if (!parsed || parsed->type != MessageType::kOpen) return 0;
    const auto rebuilt = build_open(parsed->open);
    auto again = parse(rebuilt.data(), rebuilt.size());
    if (!again || again->open.label != parsed->open.label ||
        again->open.protocol != parsed->open.protocol ||
        again->open.channel_type != parsed->open.channel_type) {
        __builtin_trap();
    }
    return 0;
}
