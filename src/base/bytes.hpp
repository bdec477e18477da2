// Network byte order for the binary formats rtcpeer reads and writes itself
// (DCEP, mDNS, SCTP chunk headers, RTP, RTCP). Callers check bounds first.
#pragma once

#include <cstdint>
#include <vector>

namespace rtcpeer::bytes {

inline std::uint16_t get16(const std::uint8_t* p) {
    return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}
inline std::uint32_t get32(const std::uint8_t* p) {
    return static_cast<std::uint32_t>(get16(p)) << 16 | get16(p + 2);
}
// In-place writers, for rewriting fields of a packet that is already there
// (RTP header rewriting).
inline void set16(std::uint8_t* p, std::uint16_t v) {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
}
inline void set32(std::uint8_t* p, std::uint32_t v) {
    set16(p, static_cast<std::uint16_t>(v >> 16));
    set16(p + 2, static_cast<std::uint16_t>(v));
}
inline void put16(std::vector<std::uint8_t>& out, std::uint16_t v) {
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v));
}
inline void put32(std::vector<std::uint8_t>& out, std::uint32_t v) {
    put16(out, static_cast<std::uint16_t>(v >> 16));
    put16(out, static_cast<std::uint16_t>(v));
}

}  // namespace rtcpeer::bytes
