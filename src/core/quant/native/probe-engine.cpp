// gguf-studio-probe: the optimizer's probe engine. Loads the base model ONCE (CPU, CUDA or Metal),
// computes the base model's log-probabilities on the probe text once, then answers requests on
// stdin (one JSON object per line) with one JSON reply per line on stdout:
//
//   {"id":1,"op":"eval","tensors":[{"name":"blk.3.ffn_down.weight","type":"q4_K"}, ...]}
//     quantizes those tensors in memory with ggml's own quantization (the imatrix rows when given),
//     converts them back to their storage type in place, evaluates the probe chunks, replies with
//     mean KLD and its statistics, and restores the originals. No file is written.
//   {"id":2,"op":"weight-error","tensors":[...names],"types":[...],"maxRows":256}
//     (imatrix-weighted) squared quantization error per tensor and type, on a row sample.
//   {"op":"quit"}
//
// KLD follows llama-perplexity --kl-divergence: chunks of n_ctx tokens, the first replaced by BOS
// when the vocabulary adds one, and only the second half of each chunk scored. The base side keeps
// the top-k log-probabilities and the residual mass per scored token (k configurable), and the full
// distribution only on request (--full: used to measure what top-k loses).
//
// Built against the libllama/ggml that scripts/build-native.mjs builds from node-llama-cpp's
// bundled source; llama_internal_get_tensor_map is the one internal API used (tensor handles).
#include "llama.h"
#include "ggml.h"
#include "ggml-backend.h"
#include "gguf.h"
#include "imatrix-loader.h"
#include "build-info.h"
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>
#if !defined(_WIN32)
#include <unistd.h>
#endif

const std::vector<std::pair<std::string, ggml_tensor *>> & llama_internal_get_tensor_map(const llama_model * model);

using json = nlohmann::ordered_json;
using clk = std::chrono::steady_clock;

static double ms_since(clk::time_point t) { return std::chrono::duration<double, std::milli>(clk::now() - t).count(); }

static void emit(const json & j) {
    std::string s = j.dump();
    fwrite(s.data(), 1, s.size(), stdout);
    fputc('\n', stdout);
    fflush(stdout);
}

[[noreturn]] static void fatal(const std::string & code, const std::string & message, json extra = json::object()) {
    json j = {{"event", "error"}, {"code", code}, {"message", message}};
    for (auto & [k, v] : extra.items()) j[k] = v;
    emit(j);
    exit(2);
}

struct Options {
    std::string model, text, imatrix, proxy_imatrix;
    int ctx = 256, chunks = 12, ngl = 0, threads = 0, topk = 64, batch = 2048, device = -1;
    size_t max_memory = 0; // --max-memory: a cap below what the machine has (0: what it has)
    bool full = false;
};

static Options parse_args(int argc, char ** argv) {
    Options o;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) fatal("usage", "missing value after " + a);
            return argv[++i];
        };
        if (a == "-m") o.model = next();
        else if (a == "-f") o.text = next();
        else if (a == "--imatrix") o.imatrix = next();
        // Activation statistics that weight the weight-error proxy only (quantization stays without an
        // imatrix): the output error of a layer is Σ_j a_j² (w_j − q_j)², not the plain weight error.
        else if (a == "--proxy-imatrix") o.proxy_imatrix = next();
        else if (a == "-c") o.ctx = std::stoi(next());
        else if (a == "--chunks") o.chunks = std::stoi(next());
        else if (a == "-ngl") o.ngl = std::stoi(next());
        else if (a == "-t") o.threads = std::stoi(next());
        else if (a == "--top-k") o.topk = std::stoi(next());
        else if (a == "-b") o.batch = std::stoi(next());
        else if (a == "--full") o.full = true;
        else if (a == "--device") o.device = std::stoi(next()); // one GPU per engine (several engines share the probes)
        else if (a == "--max-memory") o.max_memory = std::stoull(next());
        else if (a == "--version") { llama_print_build_info(llama_version(), stdout); exit(0); }
        else fatal("usage", "unknown argument " + a);
    }
    if (o.model.empty() || o.text.empty()) fatal("usage", "usage: gguf-studio-probe -m BASE.gguf -f PROBE.txt [-c 256] [--chunks 12] [-ngl N] [-t N] [--imatrix F] [--proxy-imatrix F] [--top-k 64] [--full]");
    if (o.ctx < 16 || o.chunks < 1 || o.topk < 1) fatal("usage", "-c must be ≥ 16, --chunks ≥ 1, --top-k ≥ 1");
    if (o.threads <= 0) o.threads = std::max(1u, std::thread::hardware_concurrency());
    return o;
}

static std::string lower(std::string s) {
    for (auto & c : s) c = (char) tolower((unsigned char) c);
    return s;
}

static ggml_type type_by_name(const std::string & name) {
    const std::string want = lower(name);
    for (int t = 0; t < GGML_TYPE_COUNT; t++) {
        const char * n = ggml_type_name((ggml_type) t);
        if (!n || ggml_get_type_traits((ggml_type) t)->blck_size == 0) continue;
        if (lower(n) == want) return (ggml_type) t;
    }
    return GGML_TYPE_COUNT;
}

/** Available memory for the model, from the header: refuse before loading when it cannot fit. */
static void check_memory(const Options & o) {
    gguf_init_params gp = {/*no_alloc*/ true, /*ctx*/ nullptr};
    gguf_context * g = gguf_init_from_file(o.model.c_str(), gp);
    if (!g) fatal("bad-model", "cannot read the GGUF header of " + o.model);
    size_t tensor_bytes = 0;
    for (int64_t i = 0; i < gguf_get_n_tensors(g); i++) tensor_bytes += gguf_get_tensor_size(g, i);
    gguf_free(g);
    size_t need = tensor_bytes + tensor_bytes / 10 + (256ull << 20); // weights + compute/KV headroom
    if (o.ngl != 0) {
        size_t free_total = 0;
        for (size_t i = 0; i < ggml_backend_dev_count(); i++) {
            ggml_backend_dev_t d = ggml_backend_dev_get(i);
            if (ggml_backend_dev_type(d) != GGML_BACKEND_DEVICE_TYPE_GPU) continue;
            size_t fr = 0, tot = 0;
            ggml_backend_dev_memory(d, &fr, &tot);
            free_total += fr;
        }
        if (o.max_memory > 0) free_total = free_total > 0 ? std::min(free_total, o.max_memory) : o.max_memory;
        if (free_total > 0 && need > free_total) {
            fatal("insufficient-memory", "the model needs about " + std::to_string(need >> 20) + " MiB of GPU memory (weights from the header + headroom); " + std::to_string(free_total >> 20) + " MiB are free",
                  {{"needBytes", need}, {"availableBytes", free_total}, {"device", "gpu"}});
        }
        return;
    }
#if defined(__linux__)
    std::ifstream mi("/proc/meminfo");
    std::string key; size_t kb = 0; std::string unit;
    while (mi >> key >> kb >> unit) {
        if (key == "MemAvailable:") {
            size_t avail = kb * 1024;
            if (o.max_memory > 0) avail = std::min(avail, o.max_memory);
            if (need > avail) {
                fatal("insufficient-memory", "the model needs about " + std::to_string(need >> 20) + " MiB of RAM (weights from the header + headroom); " + std::to_string(avail >> 20) + " MiB are available",
                      {{"needBytes", need}, {"availableBytes", avail}, {"device", "cpu"}});
            }
            break;
        }
    }
#endif
}

struct BaseDist {
    // per scored token: top-k ids and log-probs, log of the residual mass, argmax
    std::vector<int32_t> ids;
    std::vector<float> lp;
    std::vector<float> log_rest;
    std::vector<float> full; // optional: n_tokens × n_vocab log-probs
};

struct Engine {
    Options o;
    llama_model * model = nullptr;
    llama_context * ctx = nullptr;
    const llama_vocab * vocab = nullptr;
    int n_vocab = 0, n_seq = 1, n_chunks = 0;
    std::vector<llama_token> tokens;
    BaseDist base;
    std::unordered_map<std::string, ggml_tensor *> tensors;
    std::unordered_map<std::string, std::vector<float>> imatrix;
    std::unordered_map<std::string, std::vector<float>> proxy_imatrix; // --proxy-imatrix: weights the proxy only
    int scored_per_chunk() const { return o.ctx - 1 - o.ctx / 2; }
    size_t n_scored() const { return (size_t) scored_per_chunk() * n_chunks; }

    /** Runs every chunk; calls fn(scored_index, logits) for each scored position. */
    template <typename F> void run_chunks(F fn) {
        const int first = o.ctx / 2;
        const bool add_bos = llama_vocab_get_add_bos(vocab);
        llama_batch batch = llama_batch_init(o.ctx * n_seq, 0, 1);
        for (int c = 0; c < n_chunks; c += n_seq) {
            const int ns = std::min(n_seq, n_chunks - c);
            llama_memory_clear(llama_get_memory(ctx), true);
            batch.n_tokens = 0;
            for (int s = 0; s < ns; s++) {
                for (int k = 0; k < o.ctx; k++) {
                    int i = batch.n_tokens++;
                    llama_token tok = tokens[(size_t) (c + s) * o.ctx + k];
                    if (k == 0 && add_bos) tok = llama_vocab_bos(vocab);
                    batch.token[i] = tok;
                    batch.pos[i] = k;
                    batch.n_seq_id[i] = 1;
                    batch.seq_id[i][0] = s;
                    batch.logits[i] = k >= first && k < o.ctx - 1;
                }
            }
            if (llama_decode(ctx, batch) != 0) fatal("decode-failed", "llama_decode failed on chunk " + std::to_string(c));
            for (int s = 0; s < ns; s++) {
                for (int k = first; k < o.ctx - 1; k++) {
                    const float * logits = llama_get_logits_ith(ctx, s * o.ctx + k);
                    fn((size_t) (c + s) * scored_per_chunk() + (k - first), logits);
                }
            }
        }
        llama_batch_free(batch);
    }

    static double log_sum_exp(const float * x, int n, float & mx, int & arg) {
        mx = -INFINITY; arg = 0;
        for (int i = 0; i < n; i++) if (x[i] > mx) { mx = x[i]; arg = i; }
        double s = 0;
        for (int i = 0; i < n; i++) s += std::exp((double) x[i] - mx);
        return mx + std::log(s);
    }

    void compute_base() {
        const size_t n = n_scored();
        const int k = std::min(o.topk, n_vocab);
        base.ids.assign(n * k, 0);
        base.lp.assign(n * k, 0);
        base.log_rest.assign(n, 0);
        if (o.full) base.full.assign(n * (size_t) n_vocab, 0);
        std::vector<int32_t> order(n_vocab);
        run_chunks([&](size_t t, const float * logits) {
            float mx; int arg;
            const double lse = log_sum_exp(logits, n_vocab, mx, arg);
            for (int i = 0; i < n_vocab; i++) order[i] = i;
            std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int a, int b) { return logits[a] > logits[b]; });
            double mass = 0;
            for (int j = 0; j < k; j++) {
                base.ids[t * k + j] = order[j];
                base.lp[t * k + j] = (float) (logits[order[j]] - lse);
                mass += std::exp((double) logits[order[j]] - lse);
            }
            base.log_rest[t] = (float) std::log(std::max(1e-30, 1.0 - mass));
            if (o.full) for (int i = 0; i < n_vocab; i++) base.full[t * n_vocab + i] = (float) (logits[i] - lse);
        });
    }

    json evaluate() {
        const size_t n = n_scored();
        const int k = std::min(o.topk, n_vocab);
        std::vector<double> kld_top(n, 0), kld_full(n, 0);
        size_t same = 0;
        run_chunks([&](size_t t, const float * logits) {
            float mx; int arg;
            const double lse = log_sum_exp(logits, n_vocab, mx, arg);
            double d = 0, q_top = 0;
            for (int j = 0; j < k; j++) {
                const double lp = base.lp[t * k + j];
                const double lq = logits[base.ids[t * k + j]] - lse;
                d += std::exp(lp) * (lp - lq);
                q_top += std::exp(lq);
            }
            const double lr = base.log_rest[t];
            const double lq_rest = std::log(std::max(1e-30, 1.0 - q_top));
            d += std::exp(lr) * (lr - lq_rest);
            kld_top[t] = std::max(0.0, d);
            if (arg == base.ids[t * k]) same++;
            if (o.full) {
                const float * lpf = &base.full[t * n_vocab];
                double f = 0;
                for (int i = 0; i < n_vocab; i++) f += std::exp((double) lpf[i]) * (lpf[i] - (logits[i] - lse));
                kld_full[t] = std::max(0.0, f);
            }
        });
        auto stats = [&](const std::vector<double> & v) {
            double s = 0, s2 = 0;
            for (double x : v) { s += x; s2 += x * x; }
            const double m = s / v.size();
            const double var = s2 / v.size() - m * m;
            std::vector<double> sorted = v;
            std::sort(sorted.begin(), sorted.end());
            const double p999 = sorted[std::min(sorted.size() - 1, (size_t) std::floor(0.999 * (sorted.size() - 1) + 0.5))];
            return json{{"mean", m}, {"se", var > 0 && v.size() > 10 ? std::sqrt(var / (v.size() - 1)) : 0.0}, {"p99_9", p999}};
        };
        json r = {{"tokens", n}, {"sameTop", (double) same / n}, {"topK", stats(kld_top)}};
        if (o.full) r["full"] = stats(kld_full);
        r["kld"] = o.full ? r["full"]["mean"] : r["topK"]["mean"];
        return r;
    }

    // ---- in-memory quantization ----
    static std::vector<float> to_f32(const ggml_tensor * t, const std::vector<uint8_t> & raw) {
        const int64_t n = ggml_nelements(t);
        std::vector<float> f(n);
        if (t->type == GGML_TYPE_F32) memcpy(f.data(), raw.data(), n * sizeof(float));
        else if (t->type == GGML_TYPE_F16) ggml_fp16_to_fp32_row((const ggml_fp16_t *) raw.data(), f.data(), n);
        else if (t->type == GGML_TYPE_BF16) ggml_bf16_to_fp32_row((const ggml_bf16_t *) raw.data(), f.data(), n);
        return f;
    }
    static void from_f32(const ggml_tensor * t, const std::vector<float> & f, std::vector<uint8_t> & raw) {
        const int64_t n = ggml_nelements(t);
        if (t->type == GGML_TYPE_F32) memcpy(raw.data(), f.data(), n * sizeof(float));
        else if (t->type == GGML_TYPE_F16) ggml_fp32_to_fp16_row(f.data(), (ggml_fp16_t *) raw.data(), n);
        else ggml_fp32_to_bf16_row(f.data(), (ggml_bf16_t *) raw.data(), n);
    }
    /** The activation weights of the weight-error proxy: --proxy-imatrix, else the quantization imatrix. */
    const float * proxy_weights_for(const std::string & name) const {
        auto it = proxy_imatrix.find(name);
        return it == proxy_imatrix.end() ? imatrix_for(name) : it->second.data();
    }
    const float * imatrix_for(const std::string & name) const {
        auto it = imatrix.find(name);
        return it == imatrix.end() ? nullptr : it->second.data();
    }

    /**
     * Quantizes rows [r0, r1) of `f` (n_per_row columns; rows_per_mat rows share one imatrix slice,
     * as experts do) to `type` and back, in place. Multi-threaded over row blocks.
     */
    void roundtrip(std::vector<float> & f, int64_t n_per_row, int64_t rows_per_mat, const float * im, ggml_type type, const std::vector<int64_t> & rows) {
        const auto * tr = ggml_get_type_traits(type);
        const size_t row_size = ggml_row_size(type, n_per_row);
        std::atomic<size_t> next{0};
        std::atomic<bool> invalid{false};
        auto work = [&]() {
            std::vector<uint8_t> q(row_size);
            for (size_t i; (i = next.fetch_add(1)) < rows.size();) {
                const int64_t r = rows[i];
                const float * imr = im ? im + (r / rows_per_mat) * n_per_row : nullptr;
                ggml_quantize_chunk(type, f.data() + r * n_per_row, q.data(), 0, 1, n_per_row, imr);
                if (!ggml_validate_row_data(type, q.data(), row_size)) invalid = true;
                tr->to_float(q.data(), f.data() + r * n_per_row, n_per_row);
            }
        };
        const int nt = (int) std::min<size_t>(o.threads, std::max<size_t>(1, rows.size() / 16));
        std::vector<std::thread> ws;
        for (int i = 1; i < nt; i++) ws.emplace_back(work);
        work();
        for (auto & w : ws) w.join();
        if (invalid) throw std::runtime_error("quantized data validation failed");
    }

    ggml_tensor * find(const std::string & name) {
        auto it = tensors.find(name);
        if (it == tensors.end()) throw std::runtime_error("no tensor named " + name + " in the model");
        return it->second;
    }

    /** Checks a (tensor, type) pair as llama-quantize would; returns an error text or "". */
    std::string check(const ggml_tensor * t, ggml_type type, const std::string & name, const std::string & tname) {
        if (type == GGML_TYPE_COUNT) return "unknown type " + tname;
        if (t->type != GGML_TYPE_F16 && t->type != GGML_TYPE_BF16 && t->type != GGML_TYPE_F32)
            return name + " is stored as " + ggml_type_name(t->type) + "; probes need an F32/F16/BF16 base model";
        if (t->ne[0] % ggml_blck_size(type) != 0)
            return name + " has rows of " + std::to_string(t->ne[0]) + " values, not a multiple of " + ggml_type_name(type) + "'s block of " + std::to_string(ggml_blck_size(type)) + " (llama-quantize falls back to another type; resolve the fallback first)";
        if (ggml_quantize_requires_imatrix(type) && !imatrix_for(name)) return ggml_type_name(type) + std::string(" needs imatrix data for ") + name;
        return "";
    }

    json handle_eval(const json & req) {
        const auto t0 = clk::now();
        std::vector<std::pair<ggml_tensor *, std::vector<uint8_t>>> saved;
        json fail;
        try {
            for (const auto & item : req.at("tensors")) {
                const std::string name = item.at("name"), tname = item.at("type");
                ggml_tensor * t = find(name);
                const ggml_type type = type_by_name(tname);
                std::string err = check(t, type, name, tname);
                if (!err.empty()) throw std::runtime_error(err);
                std::vector<uint8_t> raw(ggml_nbytes(t));
                ggml_backend_tensor_get(t, raw.data(), 0, raw.size());
                std::vector<float> f = to_f32(t, raw);
                const int64_t n_per_row = t->ne[0], rows_per_mat = t->ne[1], nrows = ggml_nrows(t);
                std::vector<int64_t> rows(nrows);
                for (int64_t r = 0; r < nrows; r++) rows[r] = r;
                roundtrip(f, n_per_row, rows_per_mat, imatrix_for(name), type, rows);
                std::vector<uint8_t> changed(raw.size());
                from_f32(t, f, changed);
                saved.emplace_back(t, std::move(raw));
                ggml_backend_tensor_set(t, changed.data(), 0, changed.size());
            }
        } catch (const std::exception & e) {
            fail = e.what();
        }
        const double quant_ms = ms_since(t0);
        json r;
        if (fail.is_null()) {
            const auto t1 = clk::now();
            r = evaluate();
            r["ms"] = {{"quantize", quant_ms}, {"eval", ms_since(t1)}};
        }
        for (auto & [t, raw] : saved) ggml_backend_tensor_set(t, raw.data(), 0, raw.size());
        if (!fail.is_null()) throw std::runtime_error(fail.get<std::string>());
        return r;
    }

    json handle_weight_error(const json & req) {
        const int64_t max_rows = req.value("maxRows", 256);
        json out = json::object();
        for (const auto & nm : req.at("tensors")) {
            const std::string name = nm;
            ggml_tensor * t = find(name);
            std::vector<uint8_t> raw(ggml_nbytes(t));
            ggml_backend_tensor_get(t, raw.data(), 0, raw.size());
            const std::vector<float> f0 = to_f32(t, raw);
            const int64_t n_per_row = t->ne[0], rows_per_mat = t->ne[1], nrows = ggml_nrows(t);
            // an even row sample across the whole tensor (all experts)
            std::vector<int64_t> rows;
            const int64_t step = std::max<int64_t>(1, nrows / std::max<int64_t>(1, max_rows));
            for (int64_t r = step / 2; r < nrows; r += step) rows.push_back(r);
            const float * im = imatrix_for(name);
            const float * pw = proxy_weights_for(name);
            double signal = 0;
            for (int64_t r : rows) {
                const float * w = pw ? pw + (r / rows_per_mat) * n_per_row : nullptr;
                for (int64_t j = 0; j < n_per_row; j++) signal += (w ? w[j] : 1.0) * (double) f0[r * n_per_row + j] * f0[r * n_per_row + j];
            }
            json per = json::object();
            for (const auto & tn : req.at("types")) {
                const std::string tname = tn;
                const ggml_type type = type_by_name(tname);
                std::string err = check(t, type, name, tname);
                if (!err.empty()) { per[tname] = nullptr; continue; }
                std::vector<float> f = f0;
                roundtrip(f, n_per_row, rows_per_mat, im, type, rows);
                double e = 0;
                for (int64_t r : rows) {
                    const float * w = pw ? pw + (r / rows_per_mat) * n_per_row : nullptr;
                    for (int64_t j = 0; j < n_per_row; j++) {
                        const double d = (double) f[r * n_per_row + j] - f0[r * n_per_row + j];
                        e += (w ? w[j] : 1.0) * d * d;
                    }
                }
                per[tname] = e / std::max(1e-30, signal);
            }
            out[name] = {{"rows", rows.size()}, {"relativeError", per}};
        }
        return {{"errors", out}};
    }
};

static void quiet_log(ggml_log_level level, const char * text, void *) {
    if (level == GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

int main(int argc, char ** argv) {
    Engine e;
    e.o = parse_args(argc, argv);
    llama_log_set(quiet_log, nullptr);
    llama_backend_init();
#if !defined(_WIN32)
    // End with the parent: a killed extension host or CLI must not leave a busy engine behind.
    const pid_t parent = getppid();
    std::thread([parent]() {
        for (;;) {
            std::this_thread::sleep_for(std::chrono::milliseconds(500));
            if (getppid() != parent) _exit(3);
        }
    }).detach();
#endif
    check_memory(e.o);
    const auto t_load = clk::now();
    llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = e.o.ngl;
    if (e.o.device >= 0) {
        mp.split_mode = LLAMA_SPLIT_MODE_NONE;
        mp.main_gpu = e.o.device;
    }
    mp.load_mode = LLAMA_LOAD_MODE_NONE; // weights in writable memory: probes write into them
    mp.lazy_mode = LLAMA_LAZY_MODE_OFF;
    mp.use_extra_bufts = false;          // no repacked layouts: tensors keep their file layout
    e.model = llama_model_load_from_file(e.o.model.c_str(), mp);
    if (!e.model) fatal("load-failed", "llama.cpp could not load " + e.o.model);
    e.vocab = llama_model_get_vocab(e.model);
    e.n_vocab = llama_vocab_n_tokens(e.vocab);
    for (const auto & [name, t] : llama_internal_get_tensor_map(e.model)) e.tensors[name] = t;
    const auto load_imatrix = [](const std::string & file, std::unordered_map<std::string, std::vector<float>> & into) {
        common_imatrix loaded;
        if (!common_imatrix_load(file, loaded)) fatal("bad-imatrix", "cannot read the imatrix " + file);
        for (const auto & [name, entry] : loaded.entries) {
            auto & v = into[name];
            v.resize(entry.sums.size());
            if (!loaded.is_legacy) {
                const int64_t nc = entry.counts.size(), ne0 = (int64_t) entry.sums.size() / std::max<int64_t>(1, nc);
                for (int64_t j = 0; j < nc; j++) for (int64_t i = 0; i < ne0; i++) v[j * ne0 + i] = entry.counts[j] > 0 ? entry.sums[j * ne0 + i] / (float) entry.counts[j] : 1.0f;
            } else {
                const int64_t ncall = entry.counts.empty() ? 0 : entry.counts[0];
                for (size_t i = 0; i < v.size(); i++) v[i] = ncall > 0 ? entry.sums[i] / ncall : entry.sums[i];
            }
        }
    };
    if (!e.o.imatrix.empty()) load_imatrix(e.o.imatrix, e.imatrix);
    if (!e.o.proxy_imatrix.empty()) load_imatrix(e.o.proxy_imatrix, e.proxy_imatrix);
    // Probe text → tokens, as llama-perplexity tokenizes it.
    std::ifstream in(e.o.text, std::ios::binary);
    if (!in) fatal("bad-text", "cannot read the probe text " + e.o.text);
    std::stringstream ss; ss << in.rdbuf();
    const std::string text = ss.str();
    int n = -llama_tokenize(e.vocab, text.data(), (int32_t) text.size(), nullptr, 0, true, false);
    e.tokens.resize(std::max(0, n));
    if (n > 0) llama_tokenize(e.vocab, text.data(), (int32_t) text.size(), e.tokens.data(), n, true, false);
    const size_t need = (size_t) e.o.ctx * e.o.chunks;
    if (e.tokens.size() < need) {
        fatal("text-too-short", "the probe text has " + std::to_string(e.tokens.size()) + " tokens; " + std::to_string(e.o.chunks) + " chunks of " + std::to_string(e.o.ctx) + " need " + std::to_string(need),
              {{"tokens", e.tokens.size()}, {"needTokens", need}});
    }
    e.n_chunks = e.o.chunks;
    e.n_seq = std::max(1, std::min(e.n_chunks, e.o.batch / e.o.ctx));
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = e.o.ctx * e.n_seq;
    cp.n_batch = cp.n_ctx;
    cp.n_ubatch = std::min<uint32_t>(cp.n_ctx, 512);
    cp.n_seq_max = e.n_seq;
    cp.n_threads = cp.n_threads_batch = e.o.threads;
    e.ctx = llama_init_from_model(e.model, cp);
    if (!e.ctx) fatal("context-failed", "llama.cpp could not create a context of " + std::to_string(cp.n_ctx) + " tokens");
    const double load_ms = ms_since(t_load);
    const auto t_base = clk::now();
    e.compute_base();
    emit({{"event", "ready"}, {"loadMs", load_ms}, {"baseMs", ms_since(t_base)}, {"tokens", e.n_scored()}, {"chunks", e.n_chunks},
          {"nVocab", e.n_vocab}, {"topK", std::min(e.o.topk, e.n_vocab)}, {"full", e.o.full}, {"tensors", e.tensors.size()},
          {"imatrixEntries", e.imatrix.size()}, {"proxyImatrixEntries", e.proxy_imatrix.size()}, {"gpuLayers", e.o.ngl}, {"system", llama_print_system_info()}});
    std::string line;
    while (std::getline(std::cin, line)) {
        if (line.empty()) continue;
        json req, reply;
        try {
            req = json::parse(line);
        } catch (const std::exception & ex) {
            emit({{"error", std::string("malformed request: ") + ex.what()}});
            continue;
        }
        const std::string op = req.value("op", "");
        if (op == "quit") break;
        try {
            if (op == "eval") reply = e.handle_eval(req);
            else if (op == "weight-error") reply = e.handle_weight_error(req);
            else if (op == "ping") reply = {{"pong", true}};
            else throw std::runtime_error("unknown op \"" + op + "\"");
        } catch (const std::exception & ex) {
            reply = {{"error", ex.what()}};
        }
        reply["id"] = req.value("id", json(nullptr));
        emit(reply);
    }
    llama_free(e.ctx);
    llama_model_free(e.model);
    llama_backend_free();
    return 0;
}
