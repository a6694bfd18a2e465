"""Builds a plain-text training corpus from files already on this machine, in a deterministic order.

Usage: python3 build_corpus.py docs|c|python|man OUT.txt [--max-bytes N]

  docs    English documentation: /usr/share/doc README*/ *.txt (gzipped ones too) and
          /usr/share/common-licenses
  man     man pages (sections 1, 5, 8), roff macros stripped
  c       C headers under /usr/include
  python  Python standard-library source under /usr/lib/python3*

Files are ordered by a hash of their path (so the held-out tail mixes packages rather than taking
the last ones alphabetically), whole files are appended until --max-bytes, and files over 256 KB or
not valid UTF-8 are skipped. The same machine gives the same bytes.
"""
import argparse, glob, gzip, hashlib, os, re, sys

MAX_FILE = 256 * 1024


def files_for(kind):
    if kind == "docs":
        pats = ["/usr/share/doc/**/README*", "/usr/share/doc/**/*.txt", "/usr/share/doc/**/*.txt.gz",
                "/usr/share/common-licenses/*"]
    elif kind == "man":
        pats = [f"/usr/share/man/man{s}/*.gz" for s in (1, 5, 8)]
    elif kind == "c":
        pats = ["/usr/include/**/*.h"]
    elif kind == "python":
        pats = ["/usr/lib/python3*/**/*.py"]
    else:
        raise SystemExit(f"unknown corpus kind {kind!r} (docs, man, c, python)")
    found = set()
    for p in pats:
        for f in glob.glob(p, recursive=True):
            if os.path.isfile(f) and not os.path.islink(f):
                found.add(f)
    return sorted(found, key=lambda f: hashlib.sha1(f.encode()).hexdigest())


ROFF_ESCAPES = [(re.compile(r"\\f(\[[^\]]*\]|\(..|.)"), ""), (re.compile(r"\\s[+-]?\d"), ""),
                (re.compile(r"\\\(em|\\\(en"), "-"), (re.compile(r"\\\((lq|rq)"), '"'), (re.compile(r"\\\(aq"), "'"),
                (re.compile(r"\\\(.."), ""), (re.compile(r"\\\[[^\]]*\]"), ""), (re.compile(r"\\[&|^%]"), ""),
                (re.compile(r"\\-"), "-"), (re.compile(r"\\e"), "\\\\"), (re.compile(r"\\ "), " ")]


def strip_roff(text):
    out = []
    for line in text.splitlines():
        if line.startswith(('.\\"', "'\\\"", '\\"')):
            continue
        if line.startswith((".", "'")):
            # Keep the words of heading/paragraph macros (.SH NAME, .B word), drop the rest.
            m = re.match(r"^[.'](SH|SS|B|I|BI|BR|IR|RB|RI|IB|TP|IP)\s+(.*)$", line)
            if not m:
                continue
            line = m.group(2).replace('"', "")
        for pat, rep in ROFF_ESCAPES:
            line = pat.sub(rep, line)
        out.append(line)
    return "\n".join(out)


def read_text(path, kind):
    try:
        raw = gzip.open(path, "rb").read(MAX_FILE + 1) if path.endswith(".gz") else open(path, "rb").read(MAX_FILE + 1)
        if len(raw) > MAX_FILE:
            return None
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError, EOFError):
        return None
    if "\x00" in text:
        return None
    return strip_roff(text) if kind == "man" else text


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kind")
    ap.add_argument("out")
    ap.add_argument("--max-bytes", type=int, default=6_000_000)
    a = ap.parse_args()
    parts, size, used = [], 0, 0
    for f in files_for(a.kind):
        t = read_text(f, a.kind)
        if not t or not t.strip():
            continue
        b = len(t.encode("utf-8"))
        if size + b > a.max_bytes:
            continue
        parts.append(t.rstrip() + "\n\n")
        size += b + 2
        used += 1
        if size > a.max_bytes * 0.999:
            break
    if size < 1_000_000:
        raise SystemExit(f"{a.kind}: only {size} bytes of text found; need at least 1 MB")
    tmp = a.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write("".join(parts))
    os.replace(tmp, a.out)
    print(f"{a.out}: {used} files, {size} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
