// The candidate grammar. Property: a parsed candidate prints back to text
// that parses to the same candidate.
#include <cstdint>
#include <string>

#include "base/error.hpp"
#include "sdp/candidate.hpp"

using namespace rtcpeer::sdp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    Candidate candidate;
    try {
        candidate = parse_candidate(text);
    } catch (const rtcpeer::Error&) {
        return 0;
    }
    const std::string printed = to_string(candidate);
    if (to_string(parse_candidate(printed)) != printed) __builtin_trap();
    return 0;
}
