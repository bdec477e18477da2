// Multicast DNS messages (RFC 6762) for the ".local" names of host
// candidates: the query rtcpeer sends and the answers it reads. Pure
// functions over bytes, fuzzed (tests/fuzz/fuzz_mdns.cpp); the sockets are
// in ice/mdns.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rtcpeer::ice::mdns {

// A query for the A and AAAA records of name ("host.local").
std::vector<std::uint8_t> build_query(std::string_view name, std::uint16_t id);

// The IPv4 and IPv6 addresses a DNS message gives for name (answer and
// additional sections), as text. Malformed messages yield nothing.
std::vector<std::string> parse_answers(const std::uint8_t* data, std::size_t size,
                                       std::string_view name);

}  // namespace rtcpeer::ice::mdns
