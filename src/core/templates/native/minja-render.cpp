// minja render server: the engine llama.cpp used before b7756 (vendor/minja from an older
// node-llama-cpp bundle). One JSON request per stdin line, one JSON reply per stdout line:
//   {"id": n, "template": "...", "contexts": [{...}, ...]}
//   -> {"id": n, "results": [{"ok": true, "output": "..."} | {"ok": false, "stage": "parse"|"render"|"limit", "error": "..."}, ...]}
// Built by scripts/build-minja.mjs. Crashes are the parent's business (it runs us in a pool with limits).
#include <minja/minja.hpp>
#include <chrono>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <sys/resource.h>

using json = nlohmann::ordered_json;

static json error_reply(const char * stage, const std::string & message) {
    return json{{"ok", false}, {"stage", stage}, {"error", message}};
}

static const size_t MAX_OUTPUT_BYTES = 1 << 20;

// Parses once, renders every context of the batch.
static json render_batch(const json & req) {
    const std::string source = req.value("template", "");
    json results = json::array();
    const json contexts = req.contains("contexts") ? req["contexts"] : json::array();
    std::shared_ptr<minja::TemplateNode> root;
    try {
        // The options llama.cpp's minja::chat_template used.
        root = minja::Parser::parse(source, {/* trim_blocks */ true, /* lstrip_blocks */ true, /* keep_trailing_newline */ false});
    } catch (const std::exception & e) {
        for (size_t i = 0; i < contexts.size(); i++) results.push_back(error_reply("parse", e.what()));
        return json{{"id", req.value("id", 0)}, {"results", results}};
    }
    for (const auto & ctx : contexts) {
        try {
            auto context = minja::Context::make(minja::Value(ctx));
            // chat_template::apply defines strftime_now (local time now), as the new native engine does.
            context->set("strftime_now", minja::Value::callable([](const std::shared_ptr<minja::Context> &, minja::ArgumentsValue & args) {
                args.expectArgs("strftime_now", {1, 1}, {0, 0});
                auto format = args.args[0].get<std::string>();
                std::time_t t = std::time(nullptr);
                std::tm tm_local = *std::localtime(&t);
                std::ostringstream ss;
                ss << std::put_time(&tm_local, format.c_str());
                return minja::Value(ss.str());
            }));
            auto output = root->render(context);
            if (output.size() > MAX_OUTPUT_BYTES) results.push_back(error_reply("limit", "output exceeds 1 MiB"));
            else results.push_back(json{{"ok", true}, {"output", output}});
        } catch (const std::exception & e) {
            results.push_back(error_reply("render", e.what()));
        }
    }
    return json{{"id", req.value("id", 0)}, {"results", results}};
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
            reply = render_batch(json::parse(line));
        } catch (const std::exception & e) {
            reply = json{{"id", 0}, {"error", e.what()}};
        }
        std::cout << reply.dump(-1, ' ', false, json::error_handler_t::replace) << "\n" << std::flush;
    }
    return 0;
}
