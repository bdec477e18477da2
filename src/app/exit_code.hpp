// The process's exit codes (man/rtcpeer.1, EXIT STATUS), and the one place
// where an error's category becomes one.
#pragma once

#include "base/error.hpp"

namespace rtcpeer {

enum class ExitCode : int {
    kSuccess = 0,
    kFailure = 1,        // other runtime failure
    kUsage = 2,          // bad option or value
    kTimeout = 3,        // signaling, ICE, DTLS or SCTP did not complete in time
    kProtocol = 4,       // malformed message, SDP or DCEP from the remote side
    kConnection = 5,     // ICE failed, consent lost, DTLS alert, SCTP abort, remote left
    kSecurity = 6,       // remote certificate does not match the SDP fingerprint
    kInterrupted = 130,  // SIGINT
    kTerminated = 143,   // SIGTERM
};

ExitCode exit_code(ErrorCategory category);
inline ExitCode exit_code(const Error& error) { return exit_code(error.category()); }

}  // namespace rtcpeer
