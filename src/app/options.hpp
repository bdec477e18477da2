// Everything the command line says (rtcpeer(1), OPTIONS), as plain data.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "app/forward_spec.hpp"
#include "app/media_options.hpp"
#include "base/error.hpp"
#include "datachannel/options.hpp"
#include "ice/config.hpp"
#include "signaling/config.hpp"

namespace rtcpeer {

enum class Role { kOffer, kAnswer };
using SignalingKind = signaling::Kind;

const char* to_string(Role role);
const char* to_string(SignalingKind kind);

// The signaling channel's configuration, and how the run uses it.
struct SignalingOptions : signaling::Config {
    bool trickle = true;  // resolved: --trickle/--no-trickle or the backend's default
};

// The environment variable that carries the TURN password out of sight of ps.
inline constexpr const char* kTurnPasswordVariable = "RTCPEER_TURN_PASSWORD";

struct Options {
    Role role = Role::kOffer;
    SignalingOptions signaling;
    double connect_timeout_seconds = 30;
    ice::Config ice;  // all but `controlling`, which the role decides

    // --check: measure the connection instead of piping data.
    bool check = false;
    unsigned check_count = 5;
    std::string stats_file;  // --stats: a JSON summary at exit; "-" is stderr

    // The pipe (rtcpeer(1), DATA).
    bool lines = false;
    std::size_t message_size = 65536;  // capped by the remote's a=max-message-size
    std::string label = "rtcpeer";
    datachannel::ChannelOptions channel;  // --unordered ... --negotiated (app/channel_options.hpp)
    std::optional<double> eof_wait_seconds;

    // Forwarding instead of stdin/stdout (rtcpeer(1), FORWARDING).
    std::vector<ForwardSpec> listen;
    std::vector<ForwardSpec> connect;
    // Each open connection may hold ~1 MiB of its input and ~1 MiB for its
    // socket: 64 bound that to ~128 MiB and leave most of our parity's 512
    // stream ids free.
    unsigned max_channels = 64;
    bool once = false;
    bool forwarding() const { return !listen.empty() || !connect.empty(); }
    int verbosity = 0;  // -v count
    bool quiet = false;

    MediaOptions media;  // app/media_options.hpp
};

// What parsing decided when it is not a run: print text and exit with code.
struct EarlyExit {
    int code = 0;
    std::string stdout_text;
    std::string stderr_text;
};

std::variant<Options, EarlyExit> parse_command_line(int argc, const char* const* argv);

// What the command line names but cannot check by itself, checked before
// signaling starts so that a mistake does not surface after connecting:
// a --stats file that cannot be written (exit 2, a bad value) and a
// standard input that cannot be read, such as a directory (exit 1).
std::optional<EarlyExit> check_before_start(const Options& options);

// The error as the user should read it: the words by which a layer named
// the setting it is about (Error::about) replaced by the option that gave it,
// "cannot resolve STUN server ..." becoming "cannot resolve --stun ...".
Error name_option(const Error& error);

}  // namespace rtcpeer
