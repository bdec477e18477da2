#include "base/error.hpp"

#include <netdb.h>

#include <cstddef>
#include <iterator>

namespace rtcpeer {

const char* to_string(ErrorCategory category) {
    // In the order of the enumeration.
    static constexpr const char* kNames[] = {"usage error",       "failure",
                                             "time-out",          "protocol error",
                                             "connection failed", "security failure"};
    static_assert(std::size(kNames) == static_cast<std::size_t>(ErrorCategory::kSecurity) + 1);
    return kNames[static_cast<std::size_t>(category)];
}

ErrorCategory name_lookup_category(int getaddrinfo_error) {
    switch (getaddrinfo_error) {
        case 0:  // resolved, but to nothing usable
        case EAI_NONAME:
        case EAI_NODATA:
        case EAI_ADDRFAMILY:
        case EAI_FAMILY:
        case EAI_SERVICE:
            return ErrorCategory::kUsage;
        default:
            return ErrorCategory::kRuntime;
    }
}

}  // namespace rtcpeer
