#include "app/options.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "app/channel_options.hpp"
#include "app/cli_checks.hpp"
#include "rtcpeer_config.hpp"

namespace rtcpeer {

Error name_option(const Error& error) {
    if (auto named = name_media_option(error)) return *named;
    static const std::pair<const char*, const char*> kOptions[] = {
        {"signaling host", "--signaling-host"},
        {"signaling path", "--signaling-path"},
        {"signaling input", "--signaling-input"},
        {"STUN server", "--stun"},
        {"TURN server", "--turn"},
        {"TURN CA file", "--turn-ca"},
        {"host address", "--host-address"},
        {"connect time-out", "--connect-timeout"},
    };
    for (const auto& [setting, option] : kOptions) {
        if (error.setting() != setting) continue;
        std::string why = error.what();
        const std::size_t at = why.find(setting);
        if (at == std::string::npos) break;
        why.replace(at, std::string_view(setting).size(), option);
        return Error(error.category(), error.stage(), why);
    }
    return error;
}

const char* to_string(Role role) { return role == Role::kOffer ? "offer" : "answer"; }

const char* to_string(SignalingKind kind) {
    switch (kind) {
        case SignalingKind::kCopyAndPaste:
            return "copy-and-paste";
        case SignalingKind::kTcpSocket:
            return "tcp-socket";
        case SignalingKind::kUnixSocket:
            return "unix-socket";
    }
    return "copy-and-paste";
}

namespace {

// A URL as typed may hold a password: never echo that part.
std::string redact(const std::string& url) {
    const std::size_t at = url.rfind('@');
    const std::size_t colon = url.find(':');
    if (at == std::string::npos || colon == std::string::npos || colon > at) return url;
    return url.substr(0, colon + 1) + "***@" + url.substr(at + 1);
}

struct Parsed {
    std::string signaling = "copy-and-paste";
    std::optional<bool> trickle;
    double signaling_timeout = 0;
    double eof_wait = 0;
    std::vector<std::string> stun_urls;
    std::vector<std::string> turn_urls;
    std::string turn_user;
    std::string turn_password;
    std::string transport_policy = "all";
    std::string port_range;
    bool ipv4_only = false;
    bool ipv6_only = false;
    ChannelFlags channel;
    ForwardFlags forward;
};

void add_run_options(CLI::App& command, Options& options, Parsed& parsed) {
    command.add_option("-s,--signaling", parsed.signaling, "signaling backend")
        ->check(one_of({"copy-and-paste", "tcp-socket", "unix-socket"}))
        // The choices in braces, as aiortc's argparse shows them; the
        // bash completion reads them from here too.
        ->type_name("{copy-and-paste,tcp-socket,unix-socket}")
        ->default_str("copy-and-paste");
    command
        .add_option("--signaling-host", options.signaling.host,
                    "tcp-socket: address to listen on (offer) or connect to (answer)")
        ->type_name("HOST")
        ->default_str("127.0.0.1");
    command.add_option("--signaling-port", options.signaling.port, "tcp-socket: port")
        ->check(whole_number(1, 65535, "a port number"))
        ->type_name("PORT")
        ->default_str("1234");
    command.add_option("--signaling-path", options.signaling.path, "unix-socket: socket path")
        ->type_name("PATH")
        ->default_str("aiortc.socket");
    command
        .add_option("--signaling-timeout", parsed.signaling_timeout,
                    "how long the connecting side retries (default 30) and the listening side "
                    "waits (default: no limit); given, it bounds both")
        ->check(positive_seconds())
        ->type_name("SEC");
    command
        .add_option("--signaling-input", options.signaling.input_file,
                    "copy-and-paste: read the remote's messages from FILE (a FIFO works) "
                    "instead of the terminal")
        ->type_name("FILE");
    command
        .add_option("--signaling-output", options.signaling.output_file,
                    "copy-and-paste: write the local messages to FILE (a FIFO works) "
                    "instead of stderr")
        ->type_name("FILE");
    command.add_flag_callback(
        "--trickle", [&parsed] { parsed.trickle = true; },
        "send candidates as they are found (default for the socket backends)");
    command.add_flag_callback(
        "--no-trickle", [&parsed] { parsed.trickle = false; },
        "gather all candidates before sending the description (default for copy-and-paste)");
    command
        .add_option("--connect-timeout", options.connect_timeout_seconds,
                    "deadline for ICE, DTLS, SCTP and the channel once signaling is up")
        ->check(positive_seconds())
        ->type_name("SEC")
        ->default_str("30");
    command
        .add_option(
            "--host-address", options.ice.host_addresses,
            "gather host candidates only on this local address (repeatable; e.g. 127.0.0.1)")
        ->check(ip_address())
        ->type_name("ADDR");
    command
        .add_option("--interface", options.ice.interfaces,
                    "gather host candidates only on this network interface (repeatable)")
        ->type_name("NAME");
    command.add_flag("-4", parsed.ipv4_only, "use IPv4 only");
    command.add_flag("-6", parsed.ipv6_only, "use IPv6 only");
    command.add_flag("--ice-tcp", options.ice.tcp, "also use ICE over TCP (RFC 6544)");
    command
        .add_option("--stun", parsed.stun_urls,
                    "STUN server, stun:HOST[:PORT] (repeatable; none by default)")
        ->type_name("URL");
    command
        .add_option("--turn", parsed.turn_urls,
                    "TURN server, turn:[USER:PASS@]HOST[:PORT][?transport=udp|tcp] or "
                    "turns:HOST[:PORT] (repeatable; none by default)")
        ->type_name("URL");
    command.add_option("--turn-user", parsed.turn_user, "TURN user name")->type_name("USER");
    command
        .add_option("--turn-password", parsed.turn_password,
                    std::string("TURN password (visible in ps; prefer the environment variable ") +
                        kTurnPasswordVariable + ")")
        ->type_name("PASS");
    command
        .add_option("--turn-ca", options.ice.turn_ca_file,
                    "PEM file of the certificates to trust for turns: servers (default: the "
                    "system's)")
        ->check(existing_file())
        ->type_name("FILE");
    command
        .add_option("--ice-transport-policy", parsed.transport_policy,
                    "all: every candidate; relay: only through TURN")
        ->check(one_of({"all", "relay"}))
        ->type_name("{all,relay}")
        ->default_str("all");
    command.add_option("--port-range", parsed.port_range, "local UDP/TCP ports for candidates")
        ->check(port_range())
        ->type_name("MIN-MAX");
    command.add_flag("--check", options.check,
                     "connectivity check: no data; connect, measure round trips, print JSON");
    command.add_option("--count", options.check_count, "--check: number of round trips to measure")
        ->check(whole_number(1, 10000, "a count"))
        ->type_name("N")
        ->default_str("5");
    command
        .add_option("--stats", options.stats_file,
                    "write a JSON summary at exit to FILE (- for stderr)")
        ->type_name("FILE");
    command.add_flag(
        "--lines", options.lines,
        "each stdin line is one text message; each message received is written with a newline");
    command
        .add_option("--message-size", options.message_size,
                    "stdin is sent in messages of at most this many bytes (capped by the remote's "
                    "a=max-message-size)")
        ->check(whole_number(1, 262144, "a message size"))
        ->default_str("65536")
        ->type_name("BYTES");
    command.add_option("--label", options.label, "label of the data channel the offerer opens")
        ->type_name("LABEL")
        ->default_str("rtcpeer");
    add_channel_options(command, parsed.channel);
    add_forward_options(command, parsed.forward, options.max_channels, options.once);
    command
        .add_option("--eof-wait", parsed.eof_wait,
                    "after our EOF, wait at most this long for the remote's (like nc -q; default: "
                    "no limit)")
        ->check(positive_seconds())
        ->type_name("SEC");
    command.add_flag("-v,--verbose", options.verbosity,
                     "print timestamped state changes on stderr");
    command.add_flag("-q,--quiet", options.quiet, "print nothing but errors on stderr");
}

// The ICE options that need more than a validator; returns why they are wrong.
std::optional<std::string> resolve_ice_options(const CLI::App& command, const Parsed& parsed,
                                               ice::Config& ice) {
    if (parsed.ipv4_only && parsed.ipv6_only) return "-4 and -6 exclude each other";
    ice.family = parsed.ipv4_only   ? ice::Family::kIpv4
                 : parsed.ipv6_only ? ice::Family::kIpv6
                                    : ice::Family::kAny;
    for (const std::string& address : ice.host_addresses) {
        const bool v6 = address.find(':') != std::string::npos;
        if ((v6 && parsed.ipv4_only) || (!v6 && parsed.ipv6_only))
            return "--host-address " + address + " is not of the family -4/-6 asks for";
    }
    for (const std::string& name : ice.interfaces) {
        if (name.empty() || name.size() >= 16)
            return "--interface \"" + name + "\" is not an interface name";
    }
    std::string why;
    for (const std::string& text : parsed.stun_urls) {
        auto url = ice::parse_server_url(text, why);
        if (!url) return "--stun " + text + ": " + why;
        if (url->kind != ice::ServerKind::kStun)
            return "--stun " + text + ": not a stun: URL (use --turn)";
        ice.stun_servers.push_back(*url);
    }
    // Credentials: the URL's own, else --turn-user/--turn-password, else the
    // password from the environment (keeps it out of ps and shell history).
    const char* environment_password = std::getenv(kTurnPasswordVariable);
    for (const std::string& text : parsed.turn_urls) {
        auto url = ice::parse_server_url(text, why);
        if (!url) return "--turn " + redact(text) + ": " + why;
        if (url->kind != ice::ServerKind::kTurn)
            return "--turn " + text + ": not a turn: or turns: URL (use --stun)";
        if (!url->username && !parsed.turn_user.empty()) url->username = parsed.turn_user;
        if (!url->password && command.count("--turn-password") > 0)
            url->password = parsed.turn_password;
        if (!url->password && environment_password != nullptr) url->password = environment_password;
        if (!url->username || !url->password) {
            return "--turn " + url->describe() +
                   " needs a user name and a password (user:pass@ in the URL, --turn-user, and "
                   "--turn-password or " +
                   kTurnPasswordVariable + ")";
        }
        ice.turn_servers.push_back(*url);
    }
    if ((command.count("--turn-user") > 0 || command.count("--turn-password") > 0) &&
        parsed.turn_urls.empty())
        return "--turn-user and --turn-password go with --turn";
    const bool any_tls =
        std::any_of(ice.turn_servers.begin(), ice.turn_servers.end(),
                    [](const auto& url) { return url.transport == ice::RelayTransport::kTls; });
    if (!ice.turn_ca_file.empty() && !any_tls) return "--turn-ca goes with a turns: server";
    ice.relay_only = parsed.transport_policy == "relay";
    if (ice.relay_only && ice.turn_servers.empty())
        return "--ice-transport-policy relay needs a --turn server";
    if (!parsed.port_range.empty()) {
        std::sscanf(parsed.port_range.c_str(), "%u-%u", &ice.port_min, &ice.port_max);
    }
    return std::nullopt;
}

}  // namespace

std::variant<Options, EarlyExit> parse_command_line(int argc, const char* const* argv) {
    Options options;
    Parsed parsed;
    CLI::App app{"rtcpeer: a WebRTC data-channel peer for the shell", "rtcpeer"};
    app.formatter(std::make_shared<HelpFormatter>());
    app.set_help_flag("-h,--help", "print this help and exit");
    app.set_version_flag("--version", std::string("rtcpeer ") + RTCPEER_VERSION,
                         "print the version and exit");
    // The options belong to the program, not to a role, so that they go
    // before or after it (aiortc's examples take both). Unknown words are
    // collected, not thrown, so that the error can name them.
    app.require_subcommand(0, 1);
    app.allow_extras(true);
    auto* offer =
        app.add_subcommand("offer", "send the offer: listens for signaling, opens the channel");
    auto* answer = app.add_subcommand("answer", "answer an offer: connects for signaling");
    for (auto* role : {offer, answer}) {
        role->fallthrough(true);
        role->set_help_flag();  // the program's --help applies
        role->group("Roles");
    }
    add_run_options(app, options, parsed);
    add_media_options(app, options.media);
    // CLI11 takes "-4" after a role for a number unless the role knows it.
    for (auto* role : {offer, answer}) {
        role->add_flag("-4", parsed.ipv4_only)->group("");
        role->add_flag("-6", parsed.ipv6_only)->group("");
    }

    auto usage = [](const std::string& why, const char* role = nullptr) {
        const std::string help =
            role ? std::string("rtcpeer ") + role + " --help" : "rtcpeer --help";
        return EarlyExit{2, {}, "rtcpeer: usage: " + why + " (see " + help + ")\n"};
    };
    // The program's help whether or not a role came first (App::help would
    // show the role's, which has no options of its own).
    auto help = [&app] {
        return EarlyExit{
            0, app.get_formatter()->make_help(&app, "rtcpeer", CLI::AppFormatMode::Normal), {}};
    };
    const char* role_name = nullptr;
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForVersion&) {
        return EarlyExit{0, std::string("rtcpeer ") + RTCPEER_VERSION + "\n", {}};
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return help();
        if (offer->parsed()) role_name = "offer";
        if (answer->parsed()) role_name = "answer";
        std::string why = one_line(e.what());
        // "--stun: 1 required URL missing": say it plainly.
        const std::size_t colon = why.find(':');
        if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) != nullptr &&
            why.find(" required ") != std::string::npos && colon != std::string::npos) {
            why = why.substr(0, colon) + " needs a value";
        }
        return usage(why, role_name);
    }
    if (offer->parsed()) role_name = "offer";
    if (answer->parsed()) role_name = "answer";
    std::vector<std::string> extras = app.remaining();
    for (auto* role : {offer, answer}) {
        for (const std::string& extra : role->remaining()) extras.push_back(extra);
    }
    if (!extras.empty()) {
        const std::string& first = extras.front();
        if (first.size() > 1 && first[0] == '-') return usage("unknown option " + first, role_name);
        if (role_name == nullptr)
            return usage("unknown role " + first + ": expected offer or answer");
        return usage("unexpected argument " + first, role_name);
    }
    if (role_name == nullptr) return usage("the role is missing: rtcpeer offer|answer [OPTIONS]");

    const bool is_offer = offer->parsed();
    CLI::App* command = &app;
    options.role = is_offer ? Role::kOffer : Role::kAnswer;

    if (parsed.signaling == "tcp-socket") options.signaling.kind = SignalingKind::kTcpSocket;
    if (parsed.signaling == "unix-socket") options.signaling.kind = SignalingKind::kUnixSocket;
    if (command->count("--signaling-timeout") > 0) {
        options.signaling.timeout_seconds = parsed.signaling_timeout;
    }
    if (command->count("--eof-wait") > 0) options.eof_wait_seconds = parsed.eof_wait;
    options.signaling.trickle =
        parsed.trickle.value_or(options.signaling.kind != SignalingKind::kCopyAndPaste);

    auto misuse = [](const std::string& why) {
        return EarlyExit{2, {}, "rtcpeer: usage: " + why + "\n"};
    };
    if (command->count("--trickle") > 0 && command->count("--no-trickle") > 0) {
        return misuse("--trickle and --no-trickle exclude each other");
    }
    if (options.quiet && options.verbosity > 0) {
        return misuse("--quiet and --verbose exclude each other");
    }
    // An option of another backend is a mistake, not a default to ignore:
    // the user meant something that would not happen.
    const struct {
        const char* option;
        SignalingKind kind;
    } backend_options[] = {
        {"--signaling-host", SignalingKind::kTcpSocket},
        {"--signaling-port", SignalingKind::kTcpSocket},
        {"--signaling-path", SignalingKind::kUnixSocket},
        {"--signaling-input", SignalingKind::kCopyAndPaste},
        {"--signaling-output", SignalingKind::kCopyAndPaste},
    };
    for (const auto& [option, kind] : backend_options) {
        if (command->count(option) > 0 && kind != options.signaling.kind) {
            return misuse(std::string(option) + " goes with -s " + to_string(kind) + ", not with " +
                          to_string(options.signaling.kind));
        }
    }
    if (options.label.size() > 65535) return misuse("--label is longer than 65535 bytes");
    if (auto why =
            resolve_forward_options(*command, parsed.forward, options.listen, options.connect))
        return misuse(*why);
    if (options.check && any_channel_option(*command))
        return misuse("--check uses a channel of its own; the channel options do not apply");
    if (auto why = resolve_channel_options(*command, parsed.channel, options.role == Role::kOffer,
                                           options.channel))
        return misuse(*why);
    if (options.signaling.kind == SignalingKind::kUnixSocket && options.signaling.path.empty()) {
        return misuse("--signaling-path must not be empty");
    }
    if (options.signaling.kind == SignalingKind::kTcpSocket && options.signaling.host.empty()) {
        return misuse("--signaling-host must not be empty");
    }
    if (auto why = resolve_ice_options(*command, parsed, options.ice)) return misuse(*why);
    if (command->count("--count") > 0 && !options.check) return misuse("--count goes with --check");
    if (options.check && (options.lines || command->count("--eof-wait") > 0)) {
        return misuse("--check moves no data; --lines and --eof-wait do not apply");
    }
    if (auto why = check_media_options(*command, options.media, options.check)) return misuse(*why);
    return options;
}

std::optional<EarlyExit> check_before_start(const Options& options) {
    if (!options.stats_file.empty() && options.stats_file != "-") {
        // Open it as the summary will be written, without truncating what is
        // there; a file made only for this check is removed again.
        const std::string& path = options.stats_file;
        struct stat st {};
        const bool existed = ::stat(path.c_str(), &st) == 0;
        if (existed && S_ISDIR(st.st_mode)) {
            return EarlyExit{2, {}, "rtcpeer: usage: --stats " + path + ": is a directory\n"};
        }
        // A FIFO is opened by the summary only at exit, when its reader is there.
        if (!existed || !S_ISFIFO(st.st_mode)) {
            const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_NOCTTY | O_CLOEXEC, 0666);
            if (fd < 0) {
                return EarlyExit{
                    2, {}, "rtcpeer: usage: --stats " + path + ": " + std::strerror(errno) + "\n"};
            }
            ::close(fd);
            if (!existed) ::unlink(path.c_str());
        }
    }
    if (!options.check) {
        struct stat st {};
        if (::fstat(STDIN_FILENO, &st) == 0 && S_ISDIR(st.st_mode)) {
            return EarlyExit{1, {}, "rtcpeer: stdin: cannot read: is a directory\n"};
        }
    }
    return std::nullopt;
}

}  // namespace rtcpeer
