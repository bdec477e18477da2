// A remote's DTLS hello, as the handshake hook reads it before GnuTLS does.
// The first byte picks the message (even: ClientHello, odd: ServerHello),
// the rest is its body. Properties: a found extension lies inside the body;
// what parses as UseSRTPData builds back to the same bytes; a server's
// choice is one the client offered and the server prefers; an answer the
// client accepts names one profile it offered.
#include <algorithm>
#include <cstdint>
#include <iterator>
#include <span>
#include <vector>

#include "dtls/use_srtp.hpp"

using namespace rtcpeer::dtls::use_srtp;

namespace {

void check_data(std::span<const std::uint8_t> data) {
    const auto extension = parse(data);
    if (!extension) return;
    if (build(*extension) != std::vector<std::uint8_t>(data.begin(), data.end())) __builtin_trap();
    const std::span<const std::uint16_t> ours(kPreference);
    if (const auto chosen = choose(extension->profiles, ours)) {
        if (std::find(extension->profiles.begin(), extension->profiles.end(), *chosen) ==
                extension->profiles.end() ||
            std::find(ours.begin(), ours.end(), *chosen) == ours.end()) {
            __builtin_trap();
        }
    }
    const Answer answer = check_answer(data, ours);
    if (answer.profile) {
        if (extension->profiles.size() != 1 || extension->profiles[0] != *answer.profile ||
            !extension->mki.empty() || keying_material_length(*answer.profile) == 0) {
            __builtin_trap();
        }
    } else if (answer.error.empty()) {
        __builtin_trap();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const Hello kind = data[0] % 2 == 0 ? Hello::kClient : Hello::kServer;
    const std::span<const std::uint8_t> body(data + 1, size - 1);
    const Found found = find_extension(kind, body);
    if (found.status == Found::kPresent) {
        if (found.data.data() < body.data() ||
            found.data.data() + found.data.size() > body.data() + body.size()) {
            __builtin_trap();
        }
        check_data(found.data);
    } else if (!found.data.empty()) {
        __builtin_trap();
    }
    // The body as extension data on its own too, for inputs that never line
    // up as a hello.
    check_data(body);
    return 0;
}
