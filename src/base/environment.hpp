// Switches in the environment that turn an optimisation off for comparison
// runs (scripts/profile, the README's figures): RTCPEER_UDP_GSO,
// RTCPEER_UDP_GRO, RTCPEER_UDP_RECV_BATCH, RTCPEER_LOSS_REPAIR.
#pragma once

#include <cstdlib>
#include <cstring>

namespace rtcpeer::environment {

// Whether `variable` is set to exactly "off".
inline bool turned_off(const char* variable) {
    const char* value = std::getenv(variable);
    return value != nullptr && std::strcmp(value, "off") == 0;
}

}  // namespace rtcpeer::environment
