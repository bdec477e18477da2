// Text helpers for what comes from outside: case-insensitive comparison and
// remote text made safe to print.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace rtcpeer::text {

// ASCII case-insensitive equality (DNS names, SDP tokens).
bool iequals(std::string_view a, std::string_view b);

// Remote text made safe to print on a terminal: at most max bytes, anything
// but printable ASCII shown as '?', so that a hostile peer cannot inject
// escape sequences or cut a message short with NUL.
std::string printable(std::string_view text, std::size_t max = 120);

}  // namespace rtcpeer::text
