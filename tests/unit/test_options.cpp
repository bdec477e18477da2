#include <netdb.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <vector>

#include "app/options.hpp"
#include "base/error.hpp"

using namespace rtcpeer;

namespace {
std::variant<Options, EarlyExit> parse(std::vector<const char*> args) {
    args.insert(args.begin(), "rtcpeer");
    return parse_command_line(static_cast<int>(args.size()), args.data());
}
Options ok(std::vector<const char*> args) {
    auto result = parse(std::move(args));
    if (auto* early = std::get_if<EarlyExit>(&result))
        FAIL("exit " << early->code << ": " << early->stderr_text);
    return std::get<Options>(result);
}
EarlyExit usage(std::vector<const char*> args) {
    auto result = parse(std::move(args));
    REQUIRE(std::holds_alternative<EarlyExit>(result));
    auto early = std::get<EarlyExit>(result);
    CHECK(early.code == 2);
    CHECK(early.stderr_text.rfind("rtcpeer: usage: ", 0) == 0);
    // One line (rtcpeer(1), EXIT STATUS).
    CHECK(early.stderr_text.find('\n') == early.stderr_text.size() - 1);
    return early;
}
}  // namespace

TEST_CASE("defaults follow aiortc's add_signaling_arguments") {
    Options o = ok({"offer"});
    CHECK(o.role == Role::kOffer);
    CHECK(o.signaling.kind == SignalingKind::kCopyAndPaste);
    CHECK(o.signaling.host == "127.0.0.1");
    CHECK(o.signaling.port == 1234);
    CHECK(o.signaling.path == "aiortc.socket");
    CHECK(!o.signaling.timeout_seconds);
    CHECK(o.connect_timeout_seconds == 30);
    CHECK(!o.signaling.trickle);  // copy-and-paste default
    CHECK(ok({"answer", "-s", "tcp-socket"}).signaling.trickle);
    CHECK(ok({"answer", "--signaling", "unix-socket"}).signaling.trickle);
    CHECK(!o.lines);
    CHECK(o.message_size == 65536);
    CHECK(o.label == "rtcpeer");
    CHECK(!o.eof_wait_seconds);
}

TEST_CASE("pipe options") {
    Options o =
        ok({"offer", "--lines", "--message-size", "1200", "--label", "files", "--eof-wait", "3"});
    CHECK(o.lines);
    CHECK(o.message_size == 1200);
    CHECK(o.label == "files");
    CHECK(o.eof_wait_seconds == 3);
    usage({"offer", "--message-size", "0"});
    usage({"offer", "--message-size", "262145"});
    usage({"offer", "--eof-wait", "0"});
}

TEST_CASE("options are parsed") {
    Options o =
        ok({"answer", "-s", "tcp-socket", "--signaling-host", "::1", "--signaling-port", "4000",
            "--signaling-timeout", "2.5", "--connect-timeout", "7", "--no-trickle", "-vv"});
    CHECK(o.role == Role::kAnswer);
    CHECK(o.signaling.host == "::1");
    CHECK(o.signaling.port == 4000);
    CHECK(o.signaling.timeout_seconds == 2.5);
    CHECK(o.connect_timeout_seconds == 7);
    CHECK(!o.signaling.trickle);
    CHECK(o.verbosity == 2);
    Options c = ok({"offer", "--signaling-input", "in.fifo", "--signaling-output", "out.fifo",
                    "--trickle", "-q"});
    CHECK(c.signaling.input_file == "in.fifo");
    CHECK(c.signaling.output_file == "out.fifo");
    CHECK(c.signaling.trickle);
    CHECK(c.quiet);
}

TEST_CASE("bad options are one-line usage errors") {
    usage({});
    usage({"connect"});
    usage({"offer", "--bogus"});
    CHECK_THAT(usage({"offer", "-s", "carrier-pigeon"}).stderr_text,
               Catch::Contains("carrier-pigeon"));
    usage({"offer", "--signaling-port", "0"});
    usage({"offer", "--signaling-port", "65536"});
    usage({"offer", "--signaling-port", "http"});
    usage({"offer", "--signaling-timeout", "-1"});
    usage({"offer", "--signaling-timeout", "soon"});
    usage({"offer", "--connect-timeout", "0"});
    usage({"offer", "--trickle", "--no-trickle"});
    usage({"offer", "-q", "-v"});
    usage({"offer", "-s", "tcp-socket", "--signaling-input", "x"});
    usage({"offer", "answer"});
    usage({"offer", "--host-address", "1.2.3"});
    usage({"offer", "--host-address", "fe80::zz"});
    CHECK(ok({"offer", "--host-address", "::1", "--host-address", "127.0.0.1"})
              .ice.host_addresses.size() == 2);
}

TEST_CASE("--help and --version exit 0 with text on stdout") {
    for (auto args : {std::vector<const char*>{"--help"},
                      {"offer", "--help"},
                      {"answer", "-h"},
                      {"--version"}}) {
        auto result = parse(args);
        REQUIRE(std::holds_alternative<EarlyExit>(result));
        CHECK(std::get<EarlyExit>(result).code == 0);
        CHECK(!std::get<EarlyExit>(result).stdout_text.empty());
    }
    auto help = std::get<EarlyExit>(parse({"offer", "--help"})).stdout_text;
    CHECK_THAT(help, Catch::Contains("--signaling-port"));
    CHECK_THAT(help, Catch::Contains("--connect-timeout"));
}

TEST_CASE("ICE server options") {
    unsetenv(kTurnPasswordVariable);
    Options o = ok({"offer"});
    CHECK(o.ice.stun_servers.empty());  // no server unless named (rtcpeer(1), DESCRIPTION)
    CHECK(o.ice.turn_servers.empty());
    CHECK(!o.ice.relay_only);
    CHECK(!o.ice.tcp);
    CHECK(o.ice.family == rtcpeer::ice::Family::kAny);

    o = ok({"offer", "--stun", "stun:10.0.0.1", "--stun", "stun:h:1", "--turn",
            "turn:u:p@10.0.0.2?transport=tcp", "--turn", "turns:t.example:443", "--turn-user", "v",
            "--turn-password", "w", "--ice-transport-policy", "relay"});
    REQUIRE(o.ice.stun_servers.size() == 2);
    REQUIRE(o.ice.turn_servers.size() == 2);
    CHECK(o.ice.turn_servers[0].username == "u");  // the URL's own come first
    CHECK(o.ice.turn_servers[0].password == "p");
    CHECK(o.ice.turn_servers[1].username == "v");
    CHECK(o.ice.turn_servers[1].password == "w");
    CHECK(o.ice.relay_only);

    setenv(kTurnPasswordVariable, "from-env", 1);
    o = ok({"answer", "--turn", "turn:10.0.0.2", "--turn-user", "u"});
    CHECK(o.ice.turn_servers[0].password == "from-env");
    unsetenv(kTurnPasswordVariable);

    CHECK(usage({"offer", "--turn", "turn:10.0.0.2"}).stderr_text.find("needs a user name") !=
          std::string::npos);
    CHECK(usage({"offer", "--turn", "turn:u:secret@h:99999"}).stderr_text.find("secret") ==
          std::string::npos);
    usage({"offer", "--stun", "turn:u:p@h"});
    usage({"offer", "--turn", "stun:h"});
    usage({"offer", "--stun", "stun:h:0"});
    usage({"offer", "--turn-user", "u"});
    CHECK(usage({"offer", "--ice-transport-policy", "relay"}).stderr_text.find("--turn") !=
          std::string::npos);
    usage({"offer", "--ice-transport-policy", "none"});
}

TEST_CASE("ICE network options") {
    Options o =
        ok({"offer", "--port-range", "40000-40010", "--interface", "eth0", "-4", "--ice-tcp"});
    CHECK(o.ice.port_min == 40000);
    CHECK(o.ice.port_max == 40010);
    CHECK(o.ice.interfaces == std::vector<std::string>{"eth0"});
    CHECK(o.ice.family == rtcpeer::ice::Family::kIpv4);
    CHECK(o.ice.tcp);
    CHECK(ok({"offer", "-6"}).ice.family == rtcpeer::ice::Family::kIpv6);
    usage({"offer", "-4", "-6"});
    usage({"offer", "--port-range", "5000"});
    usage({"offer", "--port-range", "6000-5000"});
    usage({"offer", "--port-range", "0-10"});
    usage({"offer", "--port-range", "1-65536"});
    usage({"offer", "--port-range", "1-2x"});
    usage({"offer", "-6", "--host-address", "127.0.0.1"});
    usage({"offer", "--interface", "a-name-far-too-long-for-linux"});
}

TEST_CASE("check and stats options") {
    Options o = ok({"offer", "--check"});
    CHECK(o.check);
    CHECK(o.check_count == 5);
    CHECK(ok({"answer", "--check", "--count", "20"}).check_count == 20);
    CHECK(ok({"answer", "--stats", "-"}).stats_file == "-");
    usage({"offer", "--count", "3"});
    usage({"offer", "--check", "--count", "0"});
    usage({"offer", "--check", "--lines"});
}

TEST_CASE("turns: certificate option") {
    usage({"offer", "--turn", "turn:u:p@h", "--turn-ca", "/etc/hostname"});
    usage({"offer", "--turn", "turns:u:p@h", "--turn-ca", "/nonexistent/ca.pem"});
    CHECK(ok({"offer", "--turn", "turns:u:p@h", "--turn-ca", "/etc/hostname"}).ice.turn_ca_file ==
          "/etc/hostname");
}

TEST_CASE("options go before or after the role as with aiortc examples") {
    Options before = ok({"-s", "tcp-socket", "--signaling-port", "4000", "answer", "-v"});
    CHECK(before.role == Role::kAnswer);
    CHECK(before.signaling.kind == SignalingKind::kTcpSocket);
    CHECK(before.signaling.port == 4000);
    CHECK(before.verbosity == 1);
    Options after = ok({"offer", "-s", "unix-socket", "--signaling-path", "x.sock", "-4"});
    CHECK(after.role == Role::kOffer);
    CHECK(after.signaling.kind == SignalingKind::kUnixSocket);
    CHECK(after.signaling.path == "x.sock");
    CHECK(after.ice.family == rtcpeer::ice::Family::kIpv4);
    CHECK(ok({"-6", "offer"}).ice.family == rtcpeer::ice::Family::kIpv6);
    usage({"-4", "offer", "-6"});
    usage({"offer", "answer"});
    usage({"answer", "-s", "tcp-socket", "offer"});
}

TEST_CASE("usage errors say what is wrong in one line") {
    auto text = [](std::vector<const char*> args) { return usage(std::move(args)).stderr_text; };
    CHECK(text({"answer", "--bogus"}) ==
          "rtcpeer: usage: unknown option --bogus (see rtcpeer answer --help)\n");
    CHECK(text({"offer", "--bogus"}) ==
          "rtcpeer: usage: unknown option --bogus (see rtcpeer offer --help)\n");
    CHECK(text({"--bogus"}) == "rtcpeer: usage: unknown option --bogus (see rtcpeer --help)\n");
    CHECK(text({"--bogus", "offer"}) ==
          "rtcpeer: usage: unknown option --bogus (see rtcpeer offer --help)\n");
    CHECK(text({"offre"}) ==
          "rtcpeer: usage: unknown role offre: expected offer or answer (see rtcpeer --help)\n");
    CHECK_THAT(text({}), Catch::Contains("the role is missing"));
    CHECK_THAT(text({"-v"}), Catch::Contains("the role is missing"));
    CHECK_THAT(text({"offer", "extra"}), Catch::Contains("unexpected argument extra"));
    CHECK_THAT(text({"offer", "-s", "tcp-socket", "--signaling-port", "abc"}),
               Catch::Contains("--signaling-port: abc is not a port number (1 to 65535)"));
    CHECK_THAT(text({"offer", "-s", "tcp-socket", "--signaling-port", "70000"}),
               Catch::Contains("70000 is not a port number"));
    CHECK_THAT(text({"offer", "-s", "pigeon"}),
               Catch::Contains("pigeon is not one of copy-and-paste, tcp-socket, unix-socket"));
    CHECK_THAT(text({"offer", "--check", "--count", "many"}),
               Catch::Contains("--count: many is not a count (1 to 10000)"));
    CHECK_THAT(text({"offer", "--eof-wait", "soon"}),
               Catch::Contains("soon is not a positive number of seconds"));
    CHECK(text({"offer", "-s"}) ==
          "rtcpeer: usage: --signaling needs a value (see rtcpeer offer --help)\n");
    CHECK(text({"answer", "--stun"}) ==
          "rtcpeer: usage: --stun needs a value (see rtcpeer answer --help)\n");
}

TEST_CASE("signaling options of another backend are refused") {
    CHECK(usage({"offer", "--signaling-port", "4000"}).stderr_text ==
          "rtcpeer: usage: --signaling-port goes with -s tcp-socket, not with copy-and-paste\n");
    usage({"offer", "--signaling-host", "::1"});
    usage({"offer", "-s", "unix-socket", "--signaling-host", "::1"});
    usage({"offer", "-s", "unix-socket", "--signaling-port", "4000"});
    usage({"answer", "--signaling-path", "x.sock"});
    usage({"answer", "-s", "tcp-socket", "--signaling-path", "x.sock"});
    usage({"answer", "-s", "unix-socket", "--signaling-output", "x"});
    // Defaults written out are still options of the backend.
    ok({"offer", "-s", "tcp-socket", "--signaling-host", "127.0.0.1", "--signaling-port", "1234"});
    ok({"offer", "-s", "unix-socket", "--signaling-path", "aiortc.socket"});
    ok({"offer", "-s", "copy-and-paste", "--signaling-input", "a", "--signaling-output", "b"});
    // Not tied to a backend.
    ok({"offer", "--signaling-timeout", "5"});
}

TEST_CASE("help shows one name per value and no validator clutter") {
    const std::string help = std::get<EarlyExit>(parse({"answer", "--help"})).stdout_text;
    CHECK(help == std::get<EarlyExit>(parse({"--help"})).stdout_text);
    for (const char* clutter : {"ADDR:ADDR", "FILE:FILE", "TEXT", "UINT", "FLOAT", ":{", " in ["}) {
        INFO(clutter);
        CHECK(help.find(clutter) == std::string::npos);
    }
    for (const char* shown :
         {"--signaling-port PORT", "--host-address ADDR", "--turn-ca FILE", "--port-range MIN-MAX",
          "-s,--signaling {copy-and-paste,tcp-socket,unix-socket}", "(default 1234)",
          "offer|answer", "before or after the role"}) {
        INFO(shown);
        CHECK(help.find(shown) != std::string::npos);
    }
}

TEST_CASE("what the command line names is checked before signaling starts") {
    Options o = ok({"offer"});
    CHECK(!check_before_start(o));  // stdin of the test run is no directory

    o.stats_file = "/nonexistent-directory/stats.json";
    auto problem = check_before_start(o);
    REQUIRE(problem);
    CHECK(problem->code == 2);
    CHECK(problem->stderr_text ==
          "rtcpeer: usage: --stats /nonexistent-directory/stats.json: No such file or directory\n");

    o.stats_file = "/tmp";
    problem = check_before_start(o);
    REQUIRE(problem);
    CHECK(problem->code == 2);
    CHECK_THAT(problem->stderr_text, Catch::Contains("is a directory"));

    // A new file is not left behind; an existing one is not truncated.
    char path[] = "/tmp/rtcpeer-stats-XXXXXX";
    const int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, "old", 3) == 3);
    close(fd);
    o.stats_file = path;
    CHECK(!check_before_start(o));
    struct stat st {};
    REQUIRE(stat(path, &st) == 0);
    CHECK(st.st_size == 3);
    unlink(path);
    CHECK(!check_before_start(o));
    CHECK(stat(path, &st) != 0);

    o.stats_file = "-";
    CHECK(!check_before_start(o));
}

TEST_CASE("a host name that does not resolve: one rule for every option") {
    CHECK(name_lookup_category(EAI_NONAME) == ErrorCategory::kUsage);
    CHECK(name_lookup_category(EAI_NODATA) == ErrorCategory::kUsage);
    CHECK(name_lookup_category(EAI_ADDRFAMILY) == ErrorCategory::kUsage);
    CHECK(name_lookup_category(EAI_AGAIN) == ErrorCategory::kRuntime);
    CHECK(name_lookup_category(EAI_FAIL) == ErrorCategory::kRuntime);
    CHECK(name_lookup_category(EAI_SYSTEM) == ErrorCategory::kRuntime);
}

TEST_CASE("channel options") {
    const Options plain = ok({"offer"});
    CHECK(plain.channel == datachannel::ChannelOptions{});
    Options o = ok({"offer", "--unordered", "--max-retransmits", "0", "--protocol", "chat"});
    CHECK(!o.channel.ordered);
    CHECK(o.channel.max_retransmits == 0u);
    CHECK(!o.channel.max_packet_lifetime_ms);
    CHECK(o.channel.protocol == "chat");
    CHECK(!o.channel.negotiated);
    o = ok({"offer", "--max-packet-lifetime", "250"});
    CHECK(o.channel.ordered);
    CHECK(o.channel.max_packet_lifetime_ms == 250u);
    // Negotiated: either role, and then the answerer's options count too.
    o = ok({"answer", "--negotiated", "7", "--unordered"});
    REQUIRE(o.channel.negotiated);
    CHECK(o.channel.negotiated->value() == 7);
    CHECK(!o.channel.ordered);
    CHECK(ok({"offer", "--negotiated", "0"}).channel.negotiated->value() == 0);

    CHECK(usage({"offer", "--max-retransmits", "1", "--max-packet-lifetime", "2"})
              .stderr_text.find("exclude each other") != std::string::npos);
    // Without --negotiated the answerer takes the remote's channel as it is.
    CHECK(usage({"answer", "--unordered"}).stderr_text.find("--unordered") != std::string::npos);
    CHECK(usage({"answer", "--protocol", "x"}).stderr_text.find("--protocol") != std::string::npos);
    usage({"offer", "--negotiated", "1024"});
    usage({"offer", "--negotiated", "-1"});
    usage({"offer", "--max-retransmits", "65536"});
    usage({"offer", "--max-packet-lifetime", "x"});
    usage({"offer", "--check", "--unordered"});
}
