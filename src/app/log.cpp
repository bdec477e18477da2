#include "app/log.hpp"

#include <glib.h>

#include <cstdio>

namespace rtcpeer::log {

namespace {
int g_verbosity = 0;
bool g_quiet = false;
const gint64 g_start_us = g_get_monotonic_time();
}  // namespace

void configure(int verbosity, bool quiet) {
    g_verbosity = verbosity;
    g_quiet = quiet;
}

bool verbose() { return g_verbosity > 0; }

void state(const std::string& text) {
    if (g_verbosity <= 0) return;
    const double seconds = static_cast<double>(g_get_monotonic_time() - g_start_us) / 1e6;
    std::fprintf(stderr, "rtcpeer: [%8.3f] %s\n", seconds, text.c_str());
}

void warn(const std::string& text) {
    if (!g_quiet) std::fprintf(stderr, "rtcpeer: warning: %s\n", text.c_str());
}

void info(const std::string& text) {
    if (!g_quiet) std::fprintf(stderr, "rtcpeer: %s\n", text.c_str());
}

}  // namespace rtcpeer::log
