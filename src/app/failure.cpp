#include "app/failure.hpp"

#include <netdb.h>

namespace rtcpeer {

const char* to_string(ExitCode code) {
    switch (code) {
        case ExitCode::kSuccess:
            return "success";
        case ExitCode::kFailure:
            return "failure";
        case ExitCode::kUsage:
            return "usage error";
        case ExitCode::kTimeout:
            return "time-out";
        case ExitCode::kProtocol:
            return "protocol error";
        case ExitCode::kConnection:
            return "connection failed";
        case ExitCode::kSecurity:
            return "security failure";
        case ExitCode::kInterrupted:
            return "interrupted";
        case ExitCode::kTerminated:
            return "terminated";
    }
    return "unknown";
}

ExitCode name_lookup_exit_code(int getaddrinfo_error) {
    switch (getaddrinfo_error) {
        case 0:  // resolved, but to nothing usable
        case EAI_NONAME:
        case EAI_NODATA:
        case EAI_ADDRFAMILY:
        case EAI_FAMILY:
        case EAI_SERVICE:
            return ExitCode::kUsage;
        default:
            return ExitCode::kFailure;
    }
}

}  // namespace rtcpeer
