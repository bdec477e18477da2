// The candidate grammar. Property: a parsed candidate prints back to text
// that parses to the same candidate.
#include <cstdint>
#include <string>

#include "sdp/candidate.hpp"
#include "text_round_trip.hpp"

using namespace rtcpeer::sdp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    check_text_round_trip(
        data, size, [](const std::string& text) { return parse_candidate(text); },
        [](const Candidate& candidate) { return to_string(candidate); },
        [](const Candidate&) { return true; });
    return 0;
}
