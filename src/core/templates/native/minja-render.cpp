// minja render server: the engine llama.cpp used before b7756 (vendor/minja from an older
// node-llama-cpp bundle). One JSON request per stdin line, one JSON reply per stdout line:
//   {"id": n, "template": "...", "contexts": [{...}, ...]}
//   -> {"id": n, "results": [{"ok": true, "output": "..."} | {"ok": false, "stage": "parse"|"render"|"limit", "error": "..."}, ...]}
// Built by scripts/build-minja.mjs. Crashes are the parent's business (it runs us in a pool with limits).
// Arguments: [memory cap MiB] [render time limit ms]. The limits also hold inside this process, for
// when the parent is gone or stalled: RLIMIT_AS for memory, and a watchdog thread that ends the
// process when the parent dies (plus PR_SET_PDEATHSIG on Linux) or a batch runs past 2x the limit
// + 11 s (later than the parent's own limit, which allows 10 s more for a fresh process; see engineWatchdog.ts).
#include <minja/minja.hpp>
#include <atomic>
#include <chrono>
#include <csignal>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <thread>
#include <sys/resource.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

using json = nlohmann::ordered_json;

static json error_reply(const char * stage, const std::string & message) {
    return json{{"ok", false}, {"stage", stage}, {"error", message}};
}

static const size_t MAX_OUTPUT_BYTES = 1 << 20;

// Start of the batch in progress (steady-clock ms), 0 when idle.
static std::atomic<long long> g_batch_started_ms{0};

static long long now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

static void start_watchdog(long long timeout_ms) {
    const pid_t parent = getppid();
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
    const long long deadline_ms = timeout_ms > 0 ? 2 * timeout_ms + 11000 : 0;
    std::thread([parent, deadline_ms]() {
        for (;;) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            const long long started = g_batch_started_ms.load();
            if (getppid() != parent || (deadline_ms > 0 && started > 0 && now_ms() - started > deadline_ms)) {
                raise(SIGKILL);
            }
        }
    }).detach();
}

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
    start_watchdog(argc > 2 ? std::strtoll(argv[2], nullptr, 10) : 0);
    std::ios::sync_with_stdio(false);
    std::string line;
    while (std::getline(std::cin, line)) {
        json reply;
        g_batch_started_ms.store(now_ms());
        try {
            reply = render_batch(json::parse(line));
        } catch (const std::exception & e) {
            reply = json{{"id", 0}, {"error", e.what()}};
        }
        g_batch_started_ms.store(0);
        std::cout << reply.dump(-1, ' ', false, json::error_handler_t::replace) << "\n" << std::flush;
    }
    return 0;
}
