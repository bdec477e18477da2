// The single place where what went wrong becomes an exit code (DESIGN.md §2).
//
// Every layer reports a failure as a Failure: which stage failed, why, and which
// of the documented exit codes that means. main() prints it as the one line
// "rtcpeer: <stage>: <why>" and exits with the code.
#pragma once

#include <stdexcept>
#include <string>

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

const char* to_string(ExitCode code);

class Failure : public std::runtime_error {
  public:
    Failure(ExitCode code, std::string stage, const std::string& why)
        : std::runtime_error(why), code_(code), stage_(std::move(stage)) {}

    ExitCode code() const { return code_; }
    const std::string& stage() const { return stage_; }
    // The one line printed on stderr, without the trailing newline.
    std::string line() const { return "rtcpeer: " + stage_ + ": " + what(); }

  private:
    ExitCode code_;
    std::string stage_;
};

// One rule for every host name given on the command line (--signaling-host,
// --stun, --turn), from getaddrinfo's error: a name that the resolver says
// does not exist (or has no address of the family asked for) is a bad value,
// exit 2; a lookup that could not be made, such as no answer from the DNS
// server, is a runtime failure, exit 1.
ExitCode name_lookup_exit_code(int getaddrinfo_error);

// A remote peer sent something malformed (exit 4).
inline Failure protocol_error(std::string stage, const std::string& why) {
    return Failure(ExitCode::kProtocol, std::move(stage), why);
}

}  // namespace rtcpeer
