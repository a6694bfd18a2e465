// minja render server: the engine llama.cpp used before b7756 (vendor/minja from an older
// node-llama-cpp bundle). One JSON request per stdin line, one JSON reply per stdout line:
//   {"template": "...", "context": {...}}  ->  {"ok": true, "output": "..."} | {"ok": false, "stage": "parse"|"render", "error": "..."}
// Built by scripts/build-minja.mjs. Crashes are the parent's business (it runs us in a pool with limits).
#include <minja/minja.hpp>
#include <chrono>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <sys/resource.h>

using json = nlohmann::ordered_json;

static json render_one(const json & req) {
    const std::string source = req.value("template", "");
    std::shared_ptr<minja::TemplateNode> root;
    try {
        // The options llama.cpp's minja::chat_template used.
        root = minja::Parser::parse(source, {/* trim_blocks */ true, /* lstrip_blocks */ true, /* keep_trailing_newline */ false});
    } catch (const std::exception & e) {
        return json{{"ok", false}, {"stage", "parse"}, {"error", e.what()}};
    }
    try {
        auto context = minja::Context::make(minja::Value(req.contains("context") ? req["context"] : json::object()));
        // chat_template::apply defines strftime_now; a fixed epoch keeps renders comparable across engines.
        context->set("strftime_now", minja::Value::callable([](const std::shared_ptr<minja::Context> &, minja::ArgumentsValue & args) {
            args.expectArgs("strftime_now", {1, 1}, {0, 0});
            auto format = args.args[0].get<std::string>();
            std::time_t t = 0;
            std::tm tm_utc = *std::gmtime(&t);
            std::ostringstream ss;
            ss << std::put_time(&tm_utc, format.c_str());
            return minja::Value(ss.str());
        }));
        return json{{"ok", true}, {"output", root->render(context)}};
    } catch (const std::exception & e) {
        return json{{"ok", false}, {"stage", "render"}, {"error", e.what()}};
    }
}

int main(int argc, char ** argv) {
    // Optional address-space cap in MiB (first argument): a runaway render then fails with bad_alloc.
    if (argc > 1) {
        rlim_t mib = std::strtoull(argv[1], nullptr, 10);
        if (mib > 0) {
            struct rlimit lim = {mib * 1024 * 1024, mib * 1024 * 1024};
            setrlimit(RLIMIT_AS, &lim);
        }
    }
    std::ios::sync_with_stdio(false);
    std::string line;
    while (std::getline(std::cin, line)) {
        json reply;
        try {
            reply = render_one(json::parse(line));
        } catch (const std::exception & e) {
            reply = json{{"ok", false}, {"stage", "request"}, {"error", e.what()}};
        }
        std::cout << reply.dump(-1, ' ', false, json::error_handler_t::replace) << "\n" << std::flush;
    }
    return 0;
}
