// Text helpers for what comes from outside: case-insensitive comparison,
// hexadecimal numbers, and remote text made safe to print.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rtcpeer::text {

// ASCII case-insensitive equality (DNS names, SDP tokens).
bool iequals(std::string_view a, std::string_view b);

// The value of 1 to 8 hexadecimal digits, either case, and nothing else (no
// sign, prefix or space): SDP fingerprints and profile-level-id.
std::optional<std::uint32_t> parse_hex(std::string_view digits);

// Remote text made safe to print on a terminal: at most max bytes, anything
// but printable ASCII shown as '?', so that a hostile peer cannot inject
// escape sequences or cut a message short with NUL.
std::string printable(std::string_view text, std::size_t max = 120);

}  // namespace rtcpeer::text
