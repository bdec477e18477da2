// The SDP parser. Property: an accepted offer can be answered, and the
// answer parses again with the offer's form and mid.
#include <cstdint>
#include <string>

#include "base/error.hpp"
#include "sdp/description.hpp"

using namespace rtcpeer::sdp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    SessionDescription offer;
    try {
        offer = parse(text);
    } catch (const rtcpeer::Error&) {
        return 0;
    }
    LocalParameters local;
    local.ice_ufrag = "fuzz";
    local.ice_pwd = "0123456789abcdefghijkl";
    local.fingerprint.algorithm = "sha-256";
    local.fingerprint.digest.assign(32, 0xAB);
    local.end_of_candidates = true;
    try {
        local.setup = answer_setup(offer.setup);
    } catch (const rtcpeer::Error&) {
        return 0;  // holdconn
    }
    const SessionDescription answer = parse(build_answer(local, offer));
    if (answer.form != offer.form || answer.mid != offer.mid) __builtin_trap();
    return 0;
}
