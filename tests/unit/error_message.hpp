// For tests of input that must be refused: the message of the rtcpeer::Error
// that `call` throws, after checking its category; a test failure naming
// `input` when it throws nothing.
#pragma once

#include <catch2/catch.hpp>
#include <string>

#include "base/error.hpp"

template <typename Call>
std::string error_message(rtcpeer::ErrorCategory category, const std::string& input, Call call) {
    try {
        call();
    } catch (const rtcpeer::Error& failure) {
        CHECK(failure.category() == category);
        return failure.what();
    }
    FAIL("no error for " << input);
    return {};
}
