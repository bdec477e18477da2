// What the SDP tests share: the captured descriptions of real peers
// (tests/fixtures/sdp, see its README.md) and one set of local parameters.
#pragma once

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <string>

#include "base/error.hpp"
#include "sdp/description.hpp"

namespace rtcpeer::sdp::testing {

inline std::string fixture(const std::string& name) {
    std::ifstream in(std::string(RTCPEER_FIXTURES) + "/sdp/" + name, std::ios::binary);
    REQUIRE(in);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// ICE credentials, a fingerprint and one host candidate, gathering complete.
inline LocalParameters local_parameters() {
    LocalParameters local;
    local.ice_ufrag = "uFrA";
    local.ice_pwd = "0123456789abcdefghijkl";
    local.fingerprint = *parse_fingerprint(
        "sha-256 "
        "AA:9E:FF:30:84:B0:56:59:35:2F:20:C6:37:3D:29:92:4E:8E:76:C7:4F:C2:78:CA:38:EC:69:B5:71:AE:"
        "9A:A6");
    local.candidates.push_back(parse_candidate("1 1 udp 2015363327 127.0.0.1 40000 typ host"));
    local.end_of_candidates = true;
    local.session_id = 42;
    return local;
}

// The message of the protocol error (stage "sdp") that reading throws.
template <typename Read>
std::string protocol_error(Read&& read) {
    try {
        read();
    } catch (const Error& failure) {
        CHECK(failure.category() == ErrorCategory::kProtocol);
        CHECK(failure.stage() == "sdp");
        return failure.what();
    }
    FAIL("no error");
    return {};
}

}  // namespace rtcpeer::sdp::testing
