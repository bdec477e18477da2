// The property of a text grammar that both parses and prints: the input,
// read as text, either fails to parse with an rtcpeer::Error (a correct
// answer to garbage) or parses to a value that prints to text which parses
// and prints the same again. `keep` passes over values that have no printed
// form to compare.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "base/error.hpp"

template <typename Parse, typename Print, typename Keep>
void check_text_round_trip(const std::uint8_t* data, std::size_t size, Parse parse, Print print,
                           Keep keep) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    std::optional<decltype(parse(text))> value;
    try {
        value = parse(text);
    } catch (const rtcpeer::Error&) {
        return;
    }
    if (!keep(*value)) return;
    const std::string printed = print(*value);
    if (print(parse(printed)) != printed) __builtin_trap();
}
