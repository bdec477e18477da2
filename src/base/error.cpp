#include "base/error.hpp"

#include <netdb.h>

namespace rtcpeer {

const char* to_string(ErrorCategory category) {
    switch (category) {
        case ErrorCategory::kUsage:
            return "usage error";
        case ErrorCategory::kRuntime:
            return "failure";
        case ErrorCategory::kTimeout:
            return "time-out";
        case ErrorCategory::kProtocol:
            return "protocol error";
        case ErrorCategory::kConnection:
            return "connection failed";
        case ErrorCategory::kSecurity:
            return "security failure";
    }
    return "unknown";
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
