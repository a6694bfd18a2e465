# Whole-process runner for gguf-py's GGUFReader (bundled llama.cpp source, via PYTHONPATH).
import json, resource, sys, time
t0 = time.perf_counter()
from gguf import GGUFReader
t1 = time.perf_counter()
r = GGUFReader(sys.argv[1])
t2 = time.perf_counter()
print(json.dumps({"loadMs": (t1 - t0) * 1000, "parseMs": (t2 - t1) * 1000, "tensors": len(r.tensors), "keys": len(r.fields),
                  "maxRssKB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
