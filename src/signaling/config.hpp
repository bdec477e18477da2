// What the signaling channel is told: which backend, and where. The app
// fills it from the command line; nothing here knows the command line.
#pragma once

#include <optional>
#include <string>

namespace rtcpeer::signaling {

enum class Kind { kCopyAndPaste, kTcpSocket, kUnixSocket };

struct Config {
    Kind kind = Kind::kCopyAndPaste;
    std::string host = "127.0.0.1";
    unsigned port = 1234;
    std::string path = "aiortc.socket";
    // Unset: the connecting side retries for kDefaultConnectRetrySeconds and
    // the listening side waits without limit (like nc -l). Set: bounds both.
    std::optional<double> timeout_seconds;
    std::string input_file;   // copy-and-paste: instead of /dev/tty
    std::string output_file;  // copy-and-paste: instead of stderr
};

inline constexpr double kDefaultConnectRetrySeconds = 30;

}  // namespace rtcpeer::signaling
