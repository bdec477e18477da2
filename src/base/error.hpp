// What went wrong, as every layer reports it: the stage that failed, why,
// and a category saying what kind of thing happened. The layers below app/
// know nothing of exit codes; app/exit_code.hpp maps a category to one.
#pragma once

#include <stdexcept>
#include <string>

namespace rtcpeer {

// Tables indexed by category (to_string, app/exit_code.cpp) follow this order.
enum class ErrorCategory {
    kUsage,       // the user gave a bad value (an option, a host name, a file)
    kRuntime,     // the program could not do something (a socket, a library call)
    kTimeout,     // a stage did not complete in time
    kProtocol,    // the remote sent something malformed (message, SDP, DCEP, SCTP)
    kConnection,  // the connection failed or ended (ICE, consent, DTLS alert, abort)
    kSecurity,    // the remote's certificate does not match its fingerprint
};

const char* to_string(ErrorCategory category);

class Error : public std::runtime_error {
  public:
    Error(ErrorCategory category, std::string stage, const std::string& why)
        : std::runtime_error(why), category_(category), stage_(std::move(stage)) {}

    ErrorCategory category() const { return category_; }
    const std::string& stage() const { return stage_; }
    // The one line printed on stderr, without the trailing newline.
    std::string line() const { return "rtcpeer: " + stage_ + ": " + what(); }

    // The user's setting that the error is about, named in the layer's own
    // words where it appears in what() ("STUN server"). Layers below app/
    // know no command-line flags; the app puts the flag in those words'
    // place when it reports (app/options.hpp, name_option).
    Error& about(std::string setting) {
        setting_ = std::move(setting);
        return *this;
    }
    const std::string& setting() const { return setting_; }

  private:
    ErrorCategory category_;
    std::string stage_;
    std::string setting_;
};

// The remote sent something malformed.
inline Error protocol_error(std::string stage, const std::string& why) {
    return Error(ErrorCategory::kProtocol, std::move(stage), why);
}

// One rule for every host name the user gives, from getaddrinfo's error: a
// name that the resolver says does not exist (or has no address of the
// family asked for) is a bad value (kUsage); a lookup that could not be
// made, such as no answer from the DNS server, is kRuntime.
ErrorCategory name_lookup_category(int getaddrinfo_error);

}  // namespace rtcpeer
