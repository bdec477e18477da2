// How rtcpeer's command line speaks: the layout of --help and the value
// checks shared by the option groups (options.cpp, channel_options.cpp,
// media_options.cpp). A check's message says what is wrong with the value;
// CLI11 puts "--option: " before it. Their names are empty so that the help
// shows only each option's metavariable.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace rtcpeer {

// CLI11 phrases some errors over several lines; the contract is one line.
std::string one_line(std::string text);

// One metavariable per option and its default in words, not CLI11's
// validator names ("ADDR:ADDR", "TEXT:MIN-MAX").
class HelpFormatter : public CLI::Formatter {
  public:
    HelpFormatter();
    std::string make_usage(const CLI::App*, std::string) const override;
    std::string make_option_opts(const CLI::Option* option) const override;
    std::string make_option_desc(const CLI::Option* option) const override;
};

CLI::Validator positive_seconds();  // > 0 and at most 1e6
CLI::Validator whole_number(unsigned long long low, unsigned long long high, const char* what);
CLI::Validator one_of(std::vector<std::string> choices);
CLI::Validator ip_address();     // IPv4 or IPv6, no name
CLI::Validator port_range();     // MIN-MAX
CLI::Validator existing_file();  // exists and is not a directory

}  // namespace rtcpeer
