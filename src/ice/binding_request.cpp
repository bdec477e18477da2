#include "ice/binding_request.hpp"

#include <stun/stunagent.h>
#include <stun/usages/ice.h>

namespace rtcpeer::ice {

std::vector<std::uint8_t> make_binding_request(const BindingRequest& request) {
    StunAgent agent;
    stun_agent_init(&agent, STUN_ALL_KNOWN_ATTRIBUTES, STUN_COMPATIBILITY_RFC5389,
                    static_cast<StunAgentUsageFlags>(STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS |
                                                     STUN_AGENT_USAGE_USE_FINGERPRINT));
    // A request to the remote names its ufrag first (RFC 8445 §7.2.2).
    const std::string username = request.remote_ufrag + ":" + request.local_ufrag;
    std::vector<std::uint8_t> buffer(STUN_MAX_MESSAGE_SIZE_IPV6);
    StunMessage message{};
    const std::size_t length = stun_usage_ice_conncheck_create(
        &agent, &message, buffer.data(), buffer.size(),
        reinterpret_cast<const std::uint8_t*>(username.data()), username.size(),
        reinterpret_cast<const std::uint8_t*>(request.remote_pwd.data()), request.remote_pwd.size(),
        request.controlling, request.controlling, request.priority, request.tie_breaker, nullptr,
        STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
    buffer.resize(length);
    return buffer;
}

}  // namespace rtcpeer::ice
