// How rtcpeer's command line speaks (rtcpeer(1)): the help's layout and the
// validators every option group uses, each saying in words what is wrong
// with a value, on one line.
#include "app/cli_checks.hpp"

#include <arpa/inet.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace rtcpeer {

std::string one_line(std::string text) {
    for (char& c : text) {
        if (c == '\n') c = ' ';
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    return text;
}

HelpFormatter::HelpFormatter() { column_width(28); }

std::string HelpFormatter::make_usage(const CLI::App*, std::string) const {
    return "Usage: rtcpeer offer|answer [OPTIONS]\n"
           "       rtcpeer --version\n"
           "Options go before or after the role.\n";
}

std::string HelpFormatter::make_option_opts(const CLI::Option* option) const {
    if (option->get_type_size() == 0) return {};
    std::string type = option->get_type_name();
    const std::size_t colon = type.find(':');  // HOST:PORT is a metavariable
    if (colon != std::string::npos && type.compare(colon, 5, ":PORT") != 0)
        type = type.substr(0, colon);
    return " " + type;
}

std::string HelpFormatter::make_option_desc(const CLI::Option* option) const {
    std::string text = option->get_description();
    if (!option->get_default_str().empty()) text += " (default " + option->get_default_str() + ")";
    return text;
}

CLI::Validator positive_seconds() {
    return CLI::Validator(
        [](std::string& value) -> std::string {
            try {
                std::size_t used = 0;
                double seconds = std::stod(value, &used);
                if (used == value.size() && std::isfinite(seconds) && seconds > 0 && seconds <= 1e6)
                    return {};
            } catch (const std::exception&) {
            }
            return value + " is not a positive number of seconds";
        },
        "");
}

CLI::Validator whole_number(unsigned long long low, unsigned long long high, const char* what) {
    return CLI::Validator(
        [low, high, what](std::string& value) -> std::string {
            const bool digits = !value.empty() && value.size() <= 12 &&
                                std::all_of(value.begin(), value.end(),
                                            [](char c) { return c >= '0' && c <= '9'; });
            const unsigned long long number = digits ? std::stoull(value) : 0;
            if (digits && number >= low && number <= high) return {};
            return value + " is not " + what + " (" + std::to_string(low) + " to " +
                   std::to_string(high) + ")";
        },
        "");
}

CLI::Validator one_of(std::vector<std::string> choices) {
    return CLI::Validator(
        [choices](std::string& value) -> std::string {
            if (std::find(choices.begin(), choices.end(), value) != choices.end()) return {};
            std::string list;
            for (const std::string& choice : choices) list += (list.empty() ? "" : ", ") + choice;
            return value + " is not one of " + list;
        },
        "");
}

CLI::Validator ip_address() {
    return CLI::Validator(
        [](std::string& value) -> std::string {
            unsigned char buffer[sizeof(in6_addr)];
            const bool ok = inet_pton(AF_INET, value.c_str(), buffer) == 1 ||
                            inet_pton(AF_INET6, value.c_str(), buffer) == 1;
            return ok ? "" : value + " is not an IPv4 or IPv6 address";
        },
        "");
}

CLI::Validator port_range() {
    return CLI::Validator(
        [](std::string& value) -> std::string {
            unsigned low = 0, high = 0;
            char dash = 0, extra = 0;
            if (std::sscanf(value.c_str(), "%u%c%u%c", &low, &dash, &high, &extra) != 3 ||
                dash != '-' || low < 1 || high > 65535 || low > high) {
                return value + ": expected MIN-MAX with 1 <= MIN <= MAX <= 65535";
            }
            return {};
        },
        "");
}

CLI::Validator existing_file() {
    return CLI::Validator(
        [](std::string& value) -> std::string {
            struct stat st {};
            if (::stat(value.c_str(), &st) != 0) return value + ": " + std::strerror(errno);
            if (S_ISDIR(st.st_mode)) return value + ": is a directory";
            return {};
        },
        "");
}

}  // namespace rtcpeer
