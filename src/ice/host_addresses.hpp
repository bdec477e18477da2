// The local addresses ICE gathers host candidates on: --host-address as
// given, or, when -4/-6 or --interface narrow the choice, the matching
// addresses of the machine's interfaces (libnice's own choice otherwise:
// an empty list). Split from agent.cpp, which hands the list to libnice.
#pragma once

#include <string>
#include <vector>

#include "ice/config.hpp"

namespace rtcpeer::ice {

// Whether an address (text) is of the family asked for.
bool family_allowed(Family family, const std::string& address);

// Throws Error (kRuntime) when the interfaces cannot be listed or none
// has a usable address.
std::vector<std::string> host_addresses(const Config& config);

}  // namespace rtcpeer::ice
