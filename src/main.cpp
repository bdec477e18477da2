// rtcpeer: a WebRTC data-channel peer for the shell. See man/rtcpeer.1.
#include <csignal>
#include <cstdio>
#include <variant>

#include "app/exit_code.hpp"
#include "app/options.hpp"
#include "app/run.hpp"

int main(int argc, char** argv) {
    // A peer that goes away must surface as EPIPE on write, not kill the process.
    std::signal(SIGPIPE, SIG_IGN);

    auto parsed = rtcpeer::parse_command_line(argc, argv);
    if (auto* early = std::get_if<rtcpeer::EarlyExit>(&parsed)) {
        std::fputs(early->stdout_text.c_str(), stdout);
        std::fputs(early->stderr_text.c_str(), stderr);
        return early->code;
    }
    if (auto problem = rtcpeer::check_before_start(std::get<rtcpeer::Options>(parsed))) {
        std::fputs(problem->stderr_text.c_str(), stderr);
        return problem->code;
    }
    try {
        rtcpeer::Run run(std::get<rtcpeer::Options>(std::move(parsed)));
        return static_cast<int>(run.run());
    } catch (const rtcpeer::Error& failure) {
        std::fprintf(stderr, "%s\n", rtcpeer::name_option(failure).line().c_str());
        return static_cast<int>(rtcpeer::exit_code(failure));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "rtcpeer: internal error: %s\n", e.what());
        return 1;
    }
}
