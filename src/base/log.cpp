#include "base/log.hpp"

#include <glib.h>

#include <cstdio>

namespace rtcpeer::log {

namespace {
int g_verbosity = 0;
bool g_quiet = false;
const gint64 g_start_us = g_get_monotonic_time();
std::string g_progress;  // the status line on screen, if any

// "\r\033[K": back to the start of the line and clear it.
void print_line(const char* format, const std::string& text) {
    if (!g_progress.empty()) std::fputs("\r\033[K", stderr);
    std::fprintf(stderr, format, text.c_str());
    if (!g_progress.empty()) std::fprintf(stderr, "%s\033[K", g_progress.c_str());
    std::fflush(stderr);
}
}  // namespace

void configure(int verbosity, bool quiet) {
    g_verbosity = verbosity;
    g_quiet = quiet;
}

bool verbose() { return g_verbosity > 0; }

void state(const std::string& text) {
    if (g_verbosity <= 0) return;
    const double seconds = static_cast<double>(g_get_monotonic_time() - g_start_us) / 1e6;
    char stamp[32];
    std::snprintf(stamp, sizeof stamp, "[%8.3f] ", seconds);
    print_line("rtcpeer: %s\n", stamp + text);
}

void warn(const std::string& text) {
    if (!g_quiet) print_line("rtcpeer: warning: %s\n", text);
}

void info(const std::string& text) {
    if (!g_quiet) print_line("rtcpeer: %s\n", text);
}

void progress(const std::string& text) {
    if (text.empty()) return;
    g_progress = text;
    std::fprintf(stderr, "\r%s\033[K", g_progress.c_str());
    std::fflush(stderr);
}

void end_progress() {
    if (g_progress.empty()) return;
    g_progress.clear();
    std::fputs("\n", stderr);
}

}  // namespace rtcpeer::log
