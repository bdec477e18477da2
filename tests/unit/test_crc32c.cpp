#include <usrsctp.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <random>
#include <vector>

#include "sctp/crc32c.hpp"

using rtcpeer::sctp::crc32c;

TEST_CASE("crc32c matches usrsctp's for every length and alignment") {
    std::mt19937 random(42);
    std::vector<std::uint8_t> data(1300);
    for (auto& byte : data) byte = static_cast<std::uint8_t>(random());
    for (std::size_t offset = 0; offset < 8; ++offset) {
        for (std::size_t size : {0, 1, 7, 8, 9, 12, 63, 64, 65, 1188, 1200, 1291}) {
            INFO("offset " << offset << " size " << size);
            CHECK(crc32c(data.data() + offset, size) == usrsctp_crc32c(data.data() + offset, size));
        }
    }
}

TEST_CASE("crc32c check value and SCTP checksum field") {
    // The standard check value of CRC-32C, "123456789" -> 0xE3069283, is
    // stored little-endian in the SCTP header.
    const char* text = "123456789";
    const std::uint32_t value = crc32c(reinterpret_cast<const std::uint8_t*>(text), 9);
    std::uint8_t bytes[4];
    std::memcpy(bytes, &value, 4);
    CHECK(bytes[0] == 0x83);
    CHECK(bytes[1] == 0x92);
    CHECK(bytes[2] == 0x06);
    CHECK(bytes[3] == 0xE3);

    std::uint8_t packet[32] = {0x13, 0x88, 0x13, 0x88, 1, 2, 3, 4, 0xAA, 0xBB, 0xCC, 0xDD, 9, 9};
    rtcpeer::sctp::fill_checksum(packet, sizeof packet);
    std::uint8_t zeroed[32];
    std::memcpy(zeroed, packet, sizeof packet);
    std::memset(zeroed + 8, 0, 4);
    const std::uint32_t expected = usrsctp_crc32c(zeroed, sizeof zeroed);
    CHECK(std::memcmp(packet + 8, &expected, 4) == 0);
}
