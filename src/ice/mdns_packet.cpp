#include "ice/mdns_packet.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include "base/bytes.hpp"
#include "base/text.hpp"

namespace rtcpeer::ice::mdns {

namespace {

constexpr std::uint16_t kTypeA = 1;
constexpr std::uint16_t kTypeAaaa = 28;
constexpr std::uint16_t kClassIn = 1;

using bytes::put16;

std::string_view trim_dot(std::string_view name) {
    if (!name.empty() && name.back() == '.') name.remove_suffix(1);
    return name;
}

// Reads a (possibly compressed) name at offset; advances offset past it.
// False on anything malformed, including pointer loops.
bool read_name(const std::uint8_t* data, std::size_t size, std::size_t& offset, std::string& name) {
    name.clear();
    std::size_t at = offset;
    bool jumped = false;
    for (int hops = 0; hops < 32; ++hops) {
        if (at >= size) return false;
        const std::uint8_t length = data[at];
        if (length == 0) {
            if (!jumped) offset = at + 1;
            return true;
        }
        if ((length & 0xC0) == 0xC0) {
            if (at + 1 >= size) return false;
            const std::size_t target = static_cast<std::size_t>(length & 0x3F) << 8 | data[at + 1];
            if (!jumped) offset = at + 2;
            jumped = true;
            at = target;
            continue;
        }
        if ((length & 0xC0) != 0 || at + 1 + length > size || name.size() + length > 255)
            return false;
        if (!name.empty()) name += '.';
        name.append(reinterpret_cast<const char*>(data + at + 1), length);
        at += 1 + length;
    }
    return false;
}

}  // namespace

std::vector<std::uint8_t> build_query(std::string_view name, std::uint16_t id) {
    std::vector<std::uint8_t> out;
    put16(out, id);
    put16(out, 0);  // a standard query
    put16(out, 2);  // two questions: A and AAAA
    put16(out, 0);
    put16(out, 0);
    put16(out, 0);
    std::vector<std::uint8_t> encoded;
    std::string_view rest = trim_dot(name);
    while (!rest.empty()) {
        const std::size_t dot = rest.find('.');
        std::string_view label = rest.substr(0, dot);
        if (label.empty() || label.size() > 63) return {};
        encoded.push_back(static_cast<std::uint8_t>(label.size()));
        encoded.insert(encoded.end(), label.begin(), label.end());
        rest = dot == std::string_view::npos ? std::string_view{} : rest.substr(dot + 1);
    }
    encoded.push_back(0);
    for (std::uint16_t type : {kTypeA, kTypeAaaa}) {
        out.insert(out.end(), encoded.begin(), encoded.end());
        put16(out, type);
        put16(out, kClassIn);
    }
    return out;
}

std::vector<std::string> parse_answers(const std::uint8_t* data, std::size_t size,
                                       std::string_view name) {
    std::vector<std::string> addresses;
    if (size < 12) return addresses;
    auto get16 = [&](std::size_t at) { return bytes::get16(data + at); };
    const std::uint16_t flags = get16(2);
    if (!(flags & 0x8000)) return addresses;  // not a response
    const unsigned questions = get16(4);
    const unsigned records = get16(6) + get16(8) + get16(10);
    std::size_t offset = 12;
    std::string owner;
    for (unsigned i = 0; i < questions; ++i) {
        if (!read_name(data, size, offset, owner) || offset + 4 > size) return {};
        offset += 4;
    }
    name = trim_dot(name);
    for (unsigned i = 0; i < records && addresses.size() < 16; ++i) {
        if (!read_name(data, size, offset, owner) || offset + 10 > size) return addresses;
        const std::uint16_t type = get16(offset);
        const std::uint16_t klass = get16(offset + 2) & 0x7FFF;  // top bit: cache-flush
        const std::uint16_t length = get16(offset + 8);
        offset += 10;
        if (offset + length > size) return addresses;
        if (klass == kClassIn && text::iequals(trim_dot(owner), name)) {
            char text[INET6_ADDRSTRLEN] = {};
            if (type == kTypeA && length == 4) {
                inet_ntop(AF_INET, data + offset, text, sizeof text);
                addresses.emplace_back(text);
            } else if (type == kTypeAaaa && length == 16) {
                inet_ntop(AF_INET6, data + offset, text, sizeof text);
                addresses.emplace_back(text);
            }
        }
        offset += length;
    }
    return addresses;
}

}  // namespace rtcpeer::ice::mdns
