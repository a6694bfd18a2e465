// The jinja2 engine, configured like transformers' apply_chat_template (sandboxed, trim_blocks,
// lstrip_blocks, loopcontrols, a `generation` tag, tojson with ensure_ascii=False by default,
// raise_exception, strftime_now). Run as `python3 -I -c JINJA2_WORKER_SCRIPT <memMiB> <timeoutMs>`,
// same line protocol as the other engines. RLIMIT_AS caps memory inside Python; a watchdog thread
// (plus PR_SET_PDEATHSIG on Linux) ends the process when its parent dies or a batch runs past
// 2x the time limit plus 11 s, as engineWatchdog.ts (selfDeadlineMs) does for the Node engines.
export const JINJA2_WORKER_SCRIPT = String.raw`
import sys, os, json, resource, signal, threading, time, traceback
from datetime import datetime
if len(sys.argv) > 1 and int(sys.argv[1]) > 0:
    cap = int(sys.argv[1]) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
TIMEOUT_MS = int(sys.argv[2]) if len(sys.argv) > 2 else 0
PARENT = os.getppid()
if sys.platform.startswith("linux"):
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass
if os.getppid() != PARENT:
    os._exit(1)
batch_started = [0.0]

def watchdog():
    deadline = (2 * TIMEOUT_MS + 11000) / 1000.0 if TIMEOUT_MS > 0 else 0
    while True:
        time.sleep(0.1)
        started = batch_started[0]
        if os.getppid() != PARENT or (deadline and started and time.monotonic() - started > deadline):
            os.kill(os.getpid(), signal.SIGKILL)

threading.Thread(target=watchdog, daemon=True).start()
import jinja2
from jinja2.ext import Extension
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2 import nodes

class AssistantTracker(Extension):
    tags = {"generation"}
    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.CallBlock(self.call_method("_render", []), [], [], body).set_lineno(lineno)
    def _render(self, caller):
        return caller()

def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)

def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

def strftime_now(format):
    return datetime.now().strftime(format)

env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[AssistantTracker, "jinja2.ext.loopcontrols"])
env.filters["tojson"] = tojson
env.globals["raise_exception"] = raise_exception
env.globals["strftime_now"] = strftime_now
MAX_OUTPUT = 1 << 20

def where(e):
    line = getattr(e, "lineno", None)
    if line is None:
        for frame in traceback.extract_tb(e.__traceback__):
            if frame.filename == "<template>":
                line = frame.lineno
    return "" if line is None else " (line %d)" % line

def render_batch(req):
    try:
        t = env.from_string(req["template"])
    except Exception as e:
        return [{"ok": False, "stage": "parse", "error": "%s: %s%s" % (type(e).__name__, e, where(e))} for _ in req["contexts"]]
    results = []
    for ctx in req["contexts"]:
        try:
            out = t.render(**ctx)
            results.append({"ok": True, "output": out} if len(out) <= MAX_OUTPUT else {"ok": False, "stage": "limit", "error": "output exceeds 1 MiB"})
        except MemoryError:
            results.append({"ok": False, "stage": "limit", "error": "render ran out of memory"})
        except RecursionError:
            results.append({"ok": False, "stage": "render", "error": "RecursionError: maximum recursion depth exceeded"})
        except Exception as e:
            results.append({"ok": False, "stage": "render", "error": "%s: %s%s" % (type(e).__name__, e, where(e))})
    return results

for line in sys.stdin:
    batch_started[0] = time.monotonic()
    try:
        req = json.loads(line)
        reply = {"id": req.get("id", 0), "results": render_batch(req)}
    except Exception as e:
        reply = {"id": 0, "error": str(e)}
    batch_started[0] = 0.0
    sys.stdout.write(json.dumps(reply) + "\n")
    sys.stdout.flush()
`;
