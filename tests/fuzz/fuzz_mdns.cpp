// mDNS responses from anyone on the link.
#include <cstdint>

#include "ice/mdns_packet.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto addresses = rtcpeer::ice::mdns::parse_answers(data, size, "peer.local");
    if (addresses.size() > 16) __builtin_trap();
    return 0;
}
