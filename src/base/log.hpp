// Human-facing output on stderr (stdout carries data only).
//   state():    -v only; timestamped state changes
//   warn():     unless -q; a tolerated problem ("rtcpeer: warning: ...")
//   info():     unless -q; not timestamped
//   progress(): a status line redrawn in place on a terminal (-v)
//   error lines are printed by main() from an Error.
#pragma once

#include <string>

namespace rtcpeer::log {

void configure(int verbosity, bool quiet);
bool verbose();
void state(const std::string& text);
void warn(const std::string& text);
void info(const std::string& text);  // unless -q, not timestamped (demo summaries)

// Shows `text` as the status line, replacing the previous one. Every other
// line printed here first clears it and then draws it again below, so that
// the two never run into each other.
void progress(const std::string& text);
// Ends the status line for good (a newline), before the last words of a run.
void end_progress();

}  // namespace rtcpeer::log
