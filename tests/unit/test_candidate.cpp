#include <catch2/catch.hpp>

#include "base/error.hpp"
#include "error_message.hpp"
#include "sdp/candidate.hpp"

using namespace rtcpeer::sdp;

TEST_CASE("host, srflx and relay candidates parse and print back") {
    for (std::string line : {
             "1 1 udp 2130706431 10.0.0.1 5000 typ host",
             "842163049 1 udp 1677729535 203.0.113.7 61000 typ srflx raddr 10.0.0.1 rport 5000 "
             "generation 0 "
             "network-cost 999",
             "3 1 UDP 16777215 198.51.100.1 3478 typ relay raddr 203.0.113.7 rport 61000",
             "1876313031 1 tcp 1518288127 ::1 56529 typ host tcptype passive generation 0 "
             "network-id 2",
             "a 1 udp 2122260223 1f4712db-ea17-4bcf-a596-105139dfd8bf.local 54321 typ host "
             "generation 0 ufrag "
             "Ab12 network-id 1",
         }) {
        Candidate c = parse_candidate(line);
        CHECK(to_string(c) == line);
    }
}

TEST_CASE("candidate fields") {
    Candidate c = parse_candidate(
        "a=candidate:842163049 1 udp 1677729535 203.0.113.7 61000 typ srflx raddr 10.0.0.1 rport "
        "5000 tcptype "
        "active generation 0 ufrag Ab12 network-id 3 x-custom y");
    CHECK(c.foundation == "842163049");
    CHECK(c.component == 1);
    CHECK(c.is_udp());
    CHECK(c.priority == 1677729535u);
    CHECK(c.address == "203.0.113.7");
    CHECK(c.port == 61000);
    CHECK(c.type == "srflx");
    CHECK(c.related_address == "10.0.0.1");
    CHECK(c.related_port == 5000);
    CHECK(c.extension("tcptype") == "active");
    CHECK(c.extension("generation") == "0");
    CHECK(c.extension("ufrag") == "Ab12");
    CHECK(c.extension("network-id") == "3");
    CHECK(c.extension("x-custom") == "y");
    CHECK(!c.has_hostname());
    CHECK(parse_candidate("candidate:1 1 UDP 1 abc.local 9 typ host").has_hostname());
}

TEST_CASE("malformed candidates are protocol errors naming the field") {
    auto error = [](const std::string& line) {
        return error_message(rtcpeer::ErrorCategory::kProtocol, line,
                             [&] { parse_candidate(line); });
    };
    CHECK_THAT(error("1 1 udp 1 10.0.0.1 5000 typ"), Catch::Contains("fewer than 8"));
    CHECK_THAT(error("1 0 udp 1 10.0.0.1 5000 typ host"), Catch::Contains("component"));
    CHECK_THAT(error("1 1 udp 4294967296 10.0.0.1 5000 typ host"), Catch::Contains("priority"));
    CHECK_THAT(error("1 1 udp -1 10.0.0.1 5000 typ host"), Catch::Contains("priority"));
    CHECK_THAT(error("1 1 udp 1 10.0.0.1 65536 typ host"), Catch::Contains("port"));
    CHECK_THAT(error("1 1 udp 1 10.0.0.1 5000 type host"), Catch::Contains("typ"));
    CHECK_THAT(error("1 1 udp 1 10.0.0.1 5000 typ host generation"),
               Catch::Contains("without a value"));
    CHECK_THAT(error("1 1 udp 1 10.0.0.1 5000 typ host raddr"), Catch::Contains("without a value"));
    CHECK_THAT(error("1 1 tcp 1 10.0.0.1 5000 typ host tcptype sideways"),
               Catch::Contains("tcptype"));
    CHECK_THAT(error("1 1 udp 1 10.0.0.1/8 5000 typ host"), Catch::Contains("address"));
    CHECK_THAT(error(std::string(33, 'f') + " 1 udp 1 10.0.0.1 5000 typ host"),
               Catch::Contains("foundation"));
    // Found by fuzzing: "a=" would be taken for the attribute prefix when printed back.
    CHECK_THAT(error("candidate:a=7631 1 udp 1 ::1 5000 typ host"), Catch::Contains("foundation"));
    CHECK_THAT(error("f-1 1 udp 1 ::1 5000 typ host"), Catch::Contains("foundation"));
    CHECK(parse_candidate("ab+/Z9 1 udp 1 ::1 5000 typ host").foundation == "ab+/Z9");
    // Found by fuzzing: bytes RFC 8839 does not allow in extensions.
    CHECK_THAT(error(std::string("1 1 udp 1 ::1 5000 typ host x y\0z", 33)),
               Catch::Contains("NUL"));
    CHECK_THAT(error("1 1 udp 1 ::1 5000 typ host x y\rz"), Catch::Contains("NUL"));
}
