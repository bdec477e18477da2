#include <netinet/in.h>
#include <stun/stunmessage.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

#include "ice/binding_request.hpp"
#include "ice/datagram_reader.hpp"

using namespace rtcpeer::ice;

namespace {

BindingRequest ours(bool controlling) {
    BindingRequest request;
    request.local_ufrag = "ourU";
    request.remote_ufrag = "theirU";
    request.remote_pwd = "their-password-22chars";
    request.controlling = controlling;
    request.priority = (110u << 24) | 0x00abcdefu;
    request.tie_breaker = 0x0123456789abcdefull;
    return request;
}

// The remote's view: its ufrag is ours' "remote", and it signs with its password.
const StunIdentity kTheirs{"theirU", "their-password-22chars", "ourU", false};

StunMessage parsed(std::vector<std::uint8_t>& bytes) {
    StunMessage message{};
    message.buffer = bytes.data();
    message.buffer_len = bytes.size();
    return message;
}

StunOutcome answered_by(const StunIdentity& remote, std::vector<std::uint8_t>& bytes) {
    sockaddr_in from{};
    from.sin_family = AF_INET;
    from.sin_port = htons(5000);
    std::vector<std::uint8_t> reply(512);
    return answer_binding_request(bytes.data(), bytes.size(),
                                  reinterpret_cast<const sockaddr_storage&>(from), sizeof from,
                                  true, remote, reply.data(), reply.size());
}

}  // namespace

TEST_CASE("our check is a Binding request the remote validates and answers") {
    for (bool controlling : {false, true}) {
        std::vector<std::uint8_t> bytes = make_binding_request(ours(controlling));
        REQUIRE_FALSE(bytes.empty());
        StunIdentity remote = kTheirs;
        remote.controlling = !controlling;
        CHECK(answered_by(remote, bytes).verdict == StunVerdict::kAnswer);

        StunMessage message = parsed(bytes);
        CHECK(stun_message_get_class(&message) == STUN_REQUEST);
        CHECK(stun_message_get_method(&message) == STUN_BINDING);
        std::uint32_t priority = 0;
        REQUIRE(stun_message_find32(&message, STUN_ATTRIBUTE_PRIORITY, &priority) ==
                STUN_MESSAGE_RETURN_SUCCESS);
        CHECK(priority == ((110u << 24) | 0x00abcdefu));
        std::uint64_t tie = 0;
        const auto role =
            controlling ? STUN_ATTRIBUTE_ICE_CONTROLLING : STUN_ATTRIBUTE_ICE_CONTROLLED;
        REQUIRE(stun_message_find64(&message, role, &tie) == STUN_MESSAGE_RETURN_SUCCESS);
        CHECK(tie == 0x0123456789abcdefull);
        // Only the controlling side nominates.
        CHECK(stun_message_has_attribute(&message, STUN_ATTRIBUTE_USE_CANDIDATE) == controlling);
    }
}

TEST_CASE("our check signed with another password does not validate") {
    BindingRequest request = ours(false);
    request.remote_pwd = "not-their-password-000";
    std::vector<std::uint8_t> bytes = make_binding_request(request);
    StunIdentity remote = kTheirs;
    remote.controlling = true;
    CHECK(answered_by(remote, bytes).verdict == StunVerdict::kHandBack);
}

TEST_CASE("our check names the remote's ufrag first") {
    BindingRequest request = ours(false);
    std::swap(request.local_ufrag, request.remote_ufrag);
    std::vector<std::uint8_t> bytes = make_binding_request(request);
    StunIdentity remote = kTheirs;
    remote.controlling = true;
    CHECK(answered_by(remote, bytes).verdict == StunVerdict::kHandBack);
}
