// Human-facing output on stderr (stdout carries data only, DESIGN.md §2).
//   state():  -v only; timestamped state changes
//   warn():   unless -q; a tolerated problem ("rtcpeer: warning: ...")
//   error lines are printed by main() from a Failure.
#pragma once

#include <string>

namespace rtcpeer::log {

void configure(int verbosity, bool quiet);
bool verbose();
void state(const std::string& text);
void warn(const std::string& text);
void info(const std::string& text);  // unless -q, not timestamped (demo summaries)

}  // namespace rtcpeer::log
