#include "app/failure.hpp"

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

}  // namespace rtcpeer
