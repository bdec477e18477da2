#include "app/exit_code.hpp"

namespace rtcpeer {

ExitCode exit_code(ErrorCategory category) {
    switch (category) {
        case ErrorCategory::kUsage:
            return ExitCode::kUsage;
        case ErrorCategory::kRuntime:
            return ExitCode::kFailure;
        case ErrorCategory::kTimeout:
            return ExitCode::kTimeout;
        case ErrorCategory::kProtocol:
            return ExitCode::kProtocol;
        case ErrorCategory::kConnection:
            return ExitCode::kConnection;
        case ErrorCategory::kSecurity:
            return ExitCode::kSecurity;
    }
    return ExitCode::kFailure;
}

}  // namespace rtcpeer
