// The error shown for a failed tool is the line that names the cause, picked from known patterns
// in the output tail — not the last line, which after an abort is gdb/libc chatter and after a
// refused input is the caller's summary.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pickToolErrorLine } from "../../../src/core/native/toolErrorLine";
import { runTool, ToolFailedError } from "../../../src/core/native/toolRunner";
import { realTools, TINY_LLAMA } from "../quant/quantTestSupport";

// Tails as the tools print them (paths and addresses vary); the last line of each is not the cause.
const ABORT_WITH_GDB = `llama_model_quantize_impl: model size  =    13.03 MiB
/work/.native/llama.cpp/ggml/src/ggml.c:1757: GGML_ASSERT(view_src == NULL || data_size == 0 || data_size + view_offs <= ggml_nbytes(view_src)) failed
[New LWP 48213]
[New LWP 48214]
[Thread debugging using libthread_db enabled]
Using host libthread_db library "/lib/x86_64-linux-gnu/libthread_db.so.1".
0x00007f5d2c2e2c17 in __GI___wait4 (pid=48215, stat_loc=0x0, options=0, usage=0x0) at ../sysdeps/unix/sysv/linux/wait4.c:30
30	../sysdeps/unix/sysv/linux/wait4.c: No such file or directory.
#0  0x00007f5d2c2e2c17 in __GI___wait4 (pid=48215, stat_loc=0x0, options=0, usage=0x0) at ../sysdeps/unix/sysv/linux/wait4.c:30
#1  0x000055d0c1a4b2d5 in ggml_print_backtrace ()
#2  0x000055d0c1a4b46e in ggml_abort ()
#3  0x000055d0c19e8f4b in main ()
[Inferior 1 (process 48212) detached]
../csu/libc-start.c: No such file or directory`;

const INVALID_DATA = `[  56/  57]                        output.weight - [  256,  4096,     1,     1], type =    f16, converting to q8_0 .. 
llama_model_quantize: failed to quantize: tensor 'output.weight' has invalid data
main: failed to quantize model from 'hostile-nan.gguf'`;

const INVALID_TYPE = `gguf_init_from_file_impl: tensor 'blk.0.attn_q.weight' has invalid ggml type 999. should be in [0, 39)
gguf_init_from_file_impl: failed to read tensor info
llama_model_load: error loading model: llama_model_loader: failed to load model from hostile-type.gguf
llama_model_quantize: failed to quantize: llama_model_loader: failed to load model from hostile-type.gguf
main: failed to quantize model from 'hostile-type.gguf'`;

const IMATRIX_TOO_SHORT = `compute_imatrix: tokenizing the input ..
compute_imatrix: tokenization took 0.063 ms
compute_imatrix: you need at least 256 tokens for a context of 128 tokens
compute_imatrix: the data file you provided tokenizes to only 12 tokens
main: failed to compute imatrix`;

const EXCEPTION = `terminate called after throwing an instance of 'std::runtime_error'
  what():  tensor 'token_embd.weight' data is not within the file bounds, model is corrupted or incomplete
Aborted (core dumped)`;

describe("tool error line", () => {
  it("an abort: the GGML_ASSERT, not gdb's last words", () => {
    assert.match(pickToolErrorLine(ABORT_WITH_GDB) ?? "", /GGML_ASSERT\(view_src == NULL/);
  });

  it("a refused input: the cause a few lines above 'failed to quantize model'", () => {
    assert.equal(pickToolErrorLine(INVALID_DATA), "llama_model_quantize: failed to quantize: tensor 'output.weight' has invalid data");
    assert.match(pickToolErrorLine(INVALID_TYPE) ?? "", /invalid ggml type 999/);
    assert.match(pickToolErrorLine(IMATRIX_TOO_SHORT) ?? "", /you need at least 256 tokens/);
    assert.match(pickToolErrorLine(EXCEPTION) ?? "", /what\(\):\s+tensor 'token_embd.weight' data is not within the file bounds/);
  });

  it("stderr first, then stdout; the last meaningful line when nothing matches; nothing for empty output", () => {
    assert.equal(pickToolErrorLine("", "main: error: unknown argument --foo"), "main: error: unknown argument --foo");
    assert.equal(pickToolErrorLine("step 1\nstep 2\n\n"), "step 2");
    assert.equal(pickToolErrorLine("", ""), undefined);
  });

  it("handles a hostile megabyte line (cut before matching, so no pattern backtracks over it)", () => {
    const line = `failed to read ${"a: ".repeat(400_000)}`;
    const picked = pickToolErrorLine(line);
    assert.ok(picked && picked.length <= 600, String(picked?.length));
  });

  it("real llama-quantize on a GGUF with an unknown tensor type: the error names the type, not the summary line", async function () {
    const tools = realTools();
    if (!tools) this.skip();
    this.timeout(60_000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gguf-errline-"));
    try {
      // The fixture with its first tensor's type id (u32 after the name and dims) set to 999.
      const bytes = fs.readFileSync(TINY_LLAMA);
      const name = Buffer.from("token_embd.weight");
      const at = bytes.indexOf(Buffer.concat([Buffer.from([name.length, 0, 0, 0, 0, 0, 0, 0]), name]));
      assert.ok(at > 0);
      const dimsAt = at + 8 + name.length;
      const nDims = bytes.readUInt32LE(dimsAt);
      bytes.writeUInt32LE(999, dimsAt + 4 + nDims * 8);
      const hostile = path.join(dir, "hostile-type.gguf");
      fs.writeFileSync(hostile, bytes);
      await assert.rejects(runTool({ executable: tools.quantize, args: [hostile, path.join(dir, "out.gguf"), "Q8_0"] }), (e: unknown) => {
        assert.ok(e instanceof ToolFailedError);
        assert.match(e.message, /type 999/, e.message);
        return true;
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
