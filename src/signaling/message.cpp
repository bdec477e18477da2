#include "signaling/message.hpp"

#include <nlohmann/json.hpp>

#include "base/error.hpp"

namespace rtcpeer::signaling {

namespace {

using nlohmann::json;

// Python's json.dumps(ensure_ascii=True) escapes exactly what nlohmann's dump
// escapes with ensure_ascii: control characters, '"', '\\', and everything from
// 0x7F up as lowercase \uXXXX (surrogate pairs above the BMP).
std::string json_string(std::string_view text) {
    return json(std::string(text)).dump(-1, ' ', true);
}

// Builds {"k1": v1, "k2": v2} from already-encoded values; keys must be given
// sorted, as json.dumps(sort_keys=True) orders them.
template <std::size_t N>
std::string object(const std::pair<const char*, std::string> (&fields)[N]) {
    std::string out = "{";
    for (std::size_t i = 0; i < N; ++i) {
        if (i > 0) out += ", ";
        out += json_string(fields[i].first);
        out += ": ";
        out += fields[i].second;
    }
    out += "}";
    return out;
}

[[noreturn]] void malformed(const std::string& why) {
    throw protocol_error("signaling", "malformed message: " + why);
}

const json& field(const json& message, const char* name) {
    auto it = message.find(name);
    if (it == message.end()) malformed(std::string("missing \"") + name + "\"");
    return *it;
}

std::string string_field(const json& message, const char* name) {
    const json& value = field(message, name);
    if (!value.is_string()) malformed(std::string("\"") + name + "\" is not a string");
    return value.get<std::string>();
}

}  // namespace

Message Message::offer(std::string sdp) {
    Message m;
    m.type = Type::kOffer;
    m.sdp = std::move(sdp);
    return m;
}

Message Message::answer(std::string sdp) {
    Message m;
    m.type = Type::kAnswer;
    m.sdp = std::move(sdp);
    return m;
}

Message Message::ice_candidate(std::string candidate, std::string mid, int mline_index) {
    Message m;
    m.type = Type::kCandidate;
    m.candidate = std::move(candidate);
    m.mid = std::move(mid);
    m.mline_index = mline_index;
    return m;
}

Message Message::bye() { return Message{}; }

const char* to_string(Message::Type type) {
    switch (type) {
        case Message::Type::kOffer:
            return "offer";
        case Message::Type::kAnswer:
            return "answer";
        case Message::Type::kCandidate:
            return "candidate";
        case Message::Type::kBye:
            return "bye";
        case Message::Type::kUnknown:
            return "unknown";
    }
    return "unknown";
}

std::string encode(const Message& message) {
    switch (message.type) {
        case Message::Type::kOffer:
        case Message::Type::kAnswer: {
            const std::pair<const char*, std::string> fields[] = {
                {"sdp", json_string(message.sdp)}, {"type", json_string(to_string(message.type))}};
            return object(fields);
        }
        case Message::Type::kCandidate: {
            const std::pair<const char*, std::string> fields[] = {
                {"candidate", json_string("candidate:" + message.candidate)},
                {"id", message.mid ? json_string(*message.mid) : "null"},
                {"label", message.mline_index ? std::to_string(*message.mline_index) : "null"},
                {"type", json_string("candidate")}};
            return object(fields);
        }
        case Message::Type::kBye:
        case Message::Type::kUnknown:
            break;
    }
    const std::pair<const char*, std::string> fields[] = {{"type", json_string("bye")}};
    return object(fields);
}

Message decode(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    // nlohmann validates UTF-8 inside strings, as Python's decode("utf8") does.
    json parsed = json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) malformed("not valid JSON");
    if (!parsed.is_object()) malformed("not a JSON object");

    const std::string type = string_field(parsed, "type");
    Message message;
    if (type == "offer" || type == "answer") {
        message.type = type == "offer" ? Message::Type::kOffer : Message::Type::kAnswer;
        message.sdp = string_field(parsed, "sdp");
    } else if (type == "candidate") {
        message.type = Message::Type::kCandidate;
        std::string text = string_field(parsed, "candidate");
        std::string_view value = text;
        if (value.rfind("a=", 0) == 0) value.remove_prefix(2);
        if (!value.empty()) {
            if (value.rfind("candidate:", 0) != 0)
                malformed("\"candidate\" does not start with \"candidate:\"");
            value.remove_prefix(10);
        }
        message.candidate = std::string(value);
        const json& mid = field(parsed, "id");
        if (mid.is_string()) {
            message.mid = mid.get<std::string>();
        } else if (!mid.is_null()) {
            malformed("\"id\" is neither a string nor null");
        }
        const json& label = field(parsed, "label");
        if (label.is_number_integer() && label.get<long long>() >= 0 &&
            label.get<long long>() <= 65535) {
            message.mline_index = label.get<int>();
        } else if (!label.is_null()) {
            malformed("\"label\" is not a small non-negative integer");
        }
    } else if (type == "bye") {
        message.type = Message::Type::kBye;
    } else {
        message.type = Message::Type::kUnknown;
        message.unknown_type = type;
    }
    return message;
}

}  // namespace rtcpeer::signaling
